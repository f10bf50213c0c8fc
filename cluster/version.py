"""The installed cpnsim version, readable without importing the simulator (``cpnsim --version``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["build_description", "package_version"]


def package_version() -> str:
    """The installed cpnsim version (``0+unknown`` when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cpnsim")
    except PackageNotFoundError:
        return "0+unknown"


def build_description() -> str:
    """Which build of the hot modules runs: ``compiled: N modules (mypyc X)`` or ``pure Python (why)``.

    Read from :mod:`sim.compiled`, loaded by its file so that the simulator (numpy, pydantic)
    is not imported; the answer is the one :func:`sim.compiled.activate` gives a run in this
    environment.
    """
    if "sim.compiled" in sys.modules:
        return str(sys.modules["sim.compiled"].describe(sys.modules["sim.compiled"].ACTIVE))
    spec = importlib.util.find_spec("sim")
    if spec is None or not spec.submodule_search_locations:
        return "unknown (sim not found)"
    path = Path(next(iter(spec.submodule_search_locations))) / "compiled.py"
    loaded = importlib.util.spec_from_file_location("_cpnsim_build", path)
    if loaded is None or loaded.loader is None:
        return f"unknown ({path} not found)"
    module = importlib.util.module_from_spec(loaded)
    sys.modules[loaded.name] = module  # its dataclass looks itself up there
    try:
        loaded.loader.exec_module(module)  # its activate() only touches the import system for sim's modules
    finally:
        del sys.modules[loaded.name]
    return str(module.describe())
