"""The installed cpnsim version, readable without importing the simulator (``cpnsim --version``)."""

from __future__ import annotations

__all__ = ["package_version"]


def package_version() -> str:
    """The installed cpnsim version (``0+unknown`` when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cpnsim")
    except PackageNotFoundError:
        return "0+unknown"
