"""cpnsim.cluster: many scenarios — sweeps on Ray or serially, the dataset store, search,
sensitivity, the HTML report and the ``cpnsim`` command line (:mod:`cluster.cli`).

The Python API is :func:`run` (one scenario) and :func:`sweep` (a sweep spec), both returning
``{table name: pyarrow.Table}`` (:mod:`cluster.api`)::

    import cluster
    tables = cluster.run("examples/edwc.toml", {"horizon_h": 2160}, seed=1)

The names below are imported on first use, so that ``import cluster.cli`` (every ``cpnsim``
command, and ``cpnsim --help``) does not load pyarrow and the simulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cluster.api import load, run, sweep
    from cluster.sweeps.manifest import read_manifest
    from cluster.sweeps.store import read_table, write_dataset

__all__ = ["load", "read_manifest", "read_table", "run", "sweep", "write_dataset"]

_WHERE = {"load": "cluster.api", "run": "cluster.api", "sweep": "cluster.api",
          "read_manifest": "cluster.sweeps.manifest", "read_table": "cluster.sweeps.store",
          "write_dataset": "cluster.sweeps.store"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'cluster' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_WHERE[name]), name)
