"""The ``cpnsim`` command line: one registry of commands, options shared once, lazy imports.

:mod:`cluster.cli.main` builds the parser from :mod:`cluster.cli.registry` and runs the
chosen command's module (``run``, ``sweep``, ``validate``, ``topology``, ``calibrate``,
``report``, ``analyze``, ``search``); options several commands share are in
:mod:`cluster.cli.options`.  ``cpnsim`` and ``python -m cluster`` both call :func:`main`.
"""

from cluster.cli.main import main

__all__ = ["main"]
