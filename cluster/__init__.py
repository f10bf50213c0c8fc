"""cpnsim.cluster: many scenarios — dataset store, command line (and, later, sweeps on Ray)."""

from cluster.store import read_manifest, read_table, write_dataset

__all__ = ["read_manifest", "read_table", "write_dataset"]
