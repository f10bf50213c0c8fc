"""DuckDB on a cpnsim dataset, without cpnsim: Arrow IPC through pyarrow, Parquet directly, units and provenance.

Usage::

    cpnsim run --out cpnsim-out/east-west                          # Arrow IPC (the default)
    cpnsim run --out cpnsim-out/east-west-pq --format parquet
    python examples/analysis/duckdb_recipes.py cpnsim-out/east-west cpnsim-out/east-west-pq

DuckDB reads Parquet files itself; Arrow IPC files it scans through a pyarrow dataset
named in the query.  Units and descriptions of every column are in ``schema.json``
beside the tables; the cpnsim version and scenario id are also in each file's key-value
metadata.  README.md ("Output") quotes these functions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pyarrow.dataset as ds


def site_utilisation_ipc(out: Path) -> list[tuple[str, float]]:
    """Mean utilisation per site from Arrow IPC files: DuckDB scans the pyarrow dataset ``sites``."""
    sites = ds.dataset(out / "sites", format="ipc")  # noqa: F841 - DuckDB finds it by its name
    query = "SELECT site_id, avg(utilisation) FROM sites GROUP BY site_id ORDER BY site_id"
    return [(str(a), float(b)) for a, b in duckdb.sql(query).fetchall()]


def site_utilisation_parquet(out: Path) -> list[tuple[str, float]]:
    """The same from ``--format parquet`` files, read by DuckDB alone (a glob covers every part)."""
    query = (f"SELECT site_id, avg(utilisation) FROM read_parquet('{out}/sites/*.parquet') "
             "GROUP BY site_id ORDER BY site_id")
    return [(str(a), float(b)) for a, b in duckdb.sql(query).fetchall()]


def units(out: Path, table: str) -> dict[str, str]:
    """Column -> unit of one table, from ``schema.json`` (any dataset format)."""
    query = (f"SELECT name, unit FROM (SELECT unnest(columns, recursive := true) "
             f"FROM read_json('{out}/schema.json')) WHERE \"table\" = ?")
    return {str(name): str(unit) for name, unit in duckdb.execute(query, [table]).fetchall()}


def provenance_parquet(out: Path) -> dict[str, str]:
    """``cpnsim.version`` and ``cpnsim.scenario_id`` from the key-value metadata of Parquet files."""
    query = (f"SELECT DISTINCT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata('{out}/runs/*.parquet') "
             "WHERE key::VARCHAR LIKE 'cpnsim.%'")
    return {str(k): str(v) for k, v in duckdb.sql(query).fetchall()}


def main(argv: list[str]) -> int:
    """Print per-site utilisation from an IPC and a Parquet dataset, the units and the provenance."""
    ipc_out = Path(argv[1] if len(argv) > 1 else "cpnsim-out/east-west")
    print(site_utilisation_ipc(ipc_out))
    print(units(ipc_out, "sites"))
    if len(argv) > 2:
        print(site_utilisation_parquet(Path(argv[2])))
        print(provenance_parquet(Path(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
