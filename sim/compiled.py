"""Which build of the hot modules runs: mypyc-compiled or pure Python.

``setup.py`` compiles the modules of :data:`MODULES` with mypyc when it can (mypyc and a
C compiler present, compiling succeeds) and writes :data:`MANIFEST` beside them: the
SHA-256 of each module's source as compiled.  Importing :mod:`sim` imports this module
first, and :func:`activate` decides, before any hot module is imported, which build the
process runs:

* ``CPNSIM_PURE_PYTHON=1`` in the environment: the ``.py`` sources, whatever is built;
* no build (no manifest, or a module's extension missing): the sources;
* a *stale* build (a module's source on disk differs from the one compiled, e.g. after
  editing a source in an editable install): the sources, with one line on stderr saying
  which file changed, rather than running old code;
* else the compiled extensions.

The sources are forced by a meta-path finder placed before the default ones, which
loads each module of :data:`MODULES` from its ``.py`` file, so the extension modules (and
mypyc's shared library) are never imported.  Both builds give the same tables
(``tests/sim/test_compiled.py``).

This module uses the standard library only and imports nothing from :mod:`sim`:
``cpnsim --version`` loads it by file (:func:`cluster.version.build_description`)
without importing the simulator, and ``setup.py`` reads :data:`MODULES` from it.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = ["ENV_PURE", "MANIFEST", "MODULES", "BuildStatus", "activate", "describe", "status"]

ENV_PURE = "CPNSIM_PURE_PYTHON"
"""Set to ``1`` to run the pure-Python sources even when a compiled build is present."""

MODULES: tuple[str, ...] = (
    "sim.engine",
    "sim.model",
    "sim.site",
    "sim.pool",
    "sim.task",
    "sim.scheduling",
    "sim.backfill",
    "sim.interruptions",
    "sim.flows",
    "sim.maxmin",
    "sim.transfers",
    "sim.placement.least_loaded",
    "sim.placement.edwc",
    "sim.placement.scoring",
)
"""The modules ``setup.py`` compiles: the ones a national run spends its time in (benchmarks/README.md,
"Compiled build")."""

MANIFEST = "_compiled.json"
"""Written by ``setup.py`` into the ``sim`` package beside the extensions:
``{"modules": {name: sha256 of its source}, "mypy": version}``."""

_ROOT = Path(__file__).resolve().parent.parent
"""The directory holding the ``sim`` package."""


@dataclass(frozen=True)
class BuildStatus:
    """What :func:`status` found.

    Attributes
    ----------
    compiled : bool
        Whether the compiled extensions are (to be) used.
    reason : str
        Why not, when ``compiled`` is false (one phrase); the mypy version that compiled them otherwise.
    stale : str or None
        The first source that differs from its compiled version, relative to the package root, if any.
    """

    compiled: bool
    reason: str
    stale: str | None = None


def _source(module: str, root: Path = _ROOT) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def _extension(module: str, root: Path = _ROOT) -> Path | None:
    """The module's built extension file, if there is one."""
    source = _source(module, root)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def source_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex (what the manifest records per module)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def status(environ: dict[str, str] | os._Environ[str] | None = None, root: Path = _ROOT) -> BuildStatus:
    """Decide which build runs, from the environment and the files (imports nothing).

    Parameters
    ----------
    environ : mapping, optional
        The environment to read :data:`ENV_PURE` from; default ``os.environ``.
    root : Path
        The directory holding the ``sim`` package.
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_PURE, "") not in ("", "0"):
        return BuildStatus(False, f"{ENV_PURE}={env[ENV_PURE]}")
    manifest = root / "sim" / MANIFEST
    if not manifest.exists():
        return BuildStatus(False, "no compiled build installed")
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
        digests: dict[str, str] = recorded["modules"]
        built_by = str(recorded.get("mypy", "?"))
    except (OSError, ValueError, KeyError, TypeError) as err:
        return BuildStatus(False, f"unreadable build manifest {manifest.name} ({err})")
    if set(digests) != set(MODULES):
        return BuildStatus(False, "stale build (compiled for another module list)", stale=MANIFEST)
    for module in MODULES:
        if _extension(module, root) is None:
            return BuildStatus(False, f"{module} has no compiled extension")
        source = _source(module, root)
        if not source.exists() or source_digest(source) != digests[module]:
            return BuildStatus(False, "stale build", stale=str(source.relative_to(root)))
    return BuildStatus(True, f"mypyc {built_by}")


def describe(current: BuildStatus | None = None) -> str:
    """One line naming the build: ``compiled with mypyc 1.19.0: 14 modules`` or ``pure Python: <why>``."""
    found = status() if current is None else current
    if found.compiled:
        return f"compiled with {found.reason}: {len(MODULES)} modules"
    if found.stale is not None:
        return f"pure Python: {found.reason}, {found.stale} changed since it was compiled"
    return f"pure Python: {found.reason}"


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Loads the modules of :data:`MODULES` from their ``.py`` files, ahead of any extension module."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, _source(fullname, self.root))


ACTIVE: BuildStatus | None = None
"""The build this process runs, decided by :func:`activate` when :mod:`sim` was first imported."""


def activate() -> BuildStatus:
    """Decide the build once per process; unless it is the compiled one, load the hot modules from source.

    Must run before any module of :data:`MODULES` is imported (``sim/__init__.py`` imports
    this module first).  A stale build is reported on stderr, once.
    """
    global ACTIVE  # one decision per process, made at import
    if ACTIVE is not None:
        return ACTIVE
    ACTIVE = status()
    if not ACTIVE.compiled:
        if not any(isinstance(finder, _SourceFinder) for finder in sys.meta_path):
            sys.meta_path.insert(0, _SourceFinder(_ROOT))
        if ACTIVE.stale is not None:
            sys.stderr.write(f"cpnsim: {describe(ACTIVE)}; rebuild with `make build` "
                             f"(or `pip install -e .`) to compile again\n")
    return ACTIVE


if __name__ == "sim.compiled":  # not when loaded by file (cluster.version, setup.py): no side effects there
    activate()
