"""The code a sweep runs: shipped to a Ray cluster's workers, and checked to be the driver's.

``cpnsim sweep --address`` joins a cluster whose nodes may have no cpnsim, or another
one.  The driver hands Ray a runtime environment with the project's four packages as
``py_modules`` (:func:`runtime_env`): Ray uploads them once to the cluster's own storage
(no internet: the GCS holds them) and every worker imports them first.  Each batch then
checks that its worker imports the same code as the driver (:func:`code_identity`: the
package version and a digest of the packages' source); a mismatch is one line
(:class:`CodeMismatch`), never a traceback from deep inside a simulation.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from cluster.sweeps.store import package_version

__all__ = ["PACKAGES", "CodeMismatch", "check_code", "code_digest", "code_identity", "package_dirs", "runtime_env"]

PACKAGES = ("topology", "workloads", "sim", "cluster")
"""The importable packages of cpnsim, in dependency order."""
_SOURCE = ("*.py", "*.toml")


def package_dirs() -> list[Path]:
    """The directories of the four packages as this process imports them."""
    import importlib

    return [Path(importlib.import_module(name).__file__ or "").resolve().parent for name in PACKAGES]


@functools.cache
def code_digest() -> str:
    """SHA-256 (first 12 hex digits) of every ``.py`` and ``.toml`` file of the imported packages.

    Computed once per process (~150 files, a few ms).
    """
    digest = hashlib.sha256()
    for folder in package_dirs():
        files = sorted(p for pattern in _SOURCE for p in folder.rglob(pattern) if "__pycache__" not in p.parts)
        for path in files:
            digest.update(f"{folder.name}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:12]


def code_identity() -> str:
    """``cpnsim <version> (source <digest>)``: what a driver and its workers must agree on.

    Examples
    --------
    >>> code_identity().startswith("cpnsim ") and "(source " in code_identity()
    True
    """
    return f"cpnsim {package_version()} (source {code_digest()})"


class CodeMismatch(RuntimeError):  # noqa: N818 - reads as what it is
    """A worker imports other cpnsim code than the driver (raised in the worker, reported by the driver)."""


def check_code(expected: str) -> None:
    """Raise :class:`CodeMismatch` when this process's :func:`code_identity` is not ``expected``.

    Raises
    ------
    CodeMismatch
        Naming both identities and this process (pid, host).
    """
    mine = code_identity()
    if mine != expected:
        import os
        import socket

        raise CodeMismatch(f"a worker (pid {os.getpid()} on {socket.gethostname()}) runs {mine}, the driver "
                           f"{expected}")


def runtime_env() -> dict[str, Any]:
    """The Ray runtime environment that ships the four packages to every worker (``py_modules``).

    Bytecode caches are left out; a package installed as a zip or egg cannot be shipped
    this way (:func:`package_dirs` then names a file, and Ray's own error says so).
    """
    return {"py_modules": [str(d) for d in package_dirs()], "excludes": ["__pycache__", "*.pyc"]}
