"""Load a cpnsim dataset with pyarrow, pandas, polars and DuckDB.

Usage::

    cpnsim run --out cpnsim-out/east-west
    python examples/analysis/load_dataset.py cpnsim-out/east-west

Each library reads the same Arrow IPC files; the script prints the mean utilisation and
wait per site four ways, and they agree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds


def with_pyarrow(out: Path) -> pd.DataFrame:
    """pyarrow.dataset reads every part of a table (one directory per table)."""
    sites = ds.dataset(out / "sites", format="ipc").to_table()
    means = sites.group_by("site_id").aggregate([("utilisation", "mean")])
    return means.rename_columns(["site_id", "utilisation"]).to_pandas().sort_values("site_id")


def with_pandas(out: Path) -> pd.DataFrame:
    """pandas via pyarrow: the usual way to get a DataFrame."""
    sites = ds.dataset(out / "sites", format="ipc").to_table().to_pandas()
    return sites.groupby("site_id", as_index=False)["utilisation"].mean()


def with_polars(out: Path) -> pl.DataFrame:
    """polars reads Arrow IPC files directly (a glob covers every part)."""
    sites = pl.read_ipc(str(out / "sites" / "*.arrow"))
    return sites.group_by("site_id").agg(pl.col("utilisation").mean()).sort("site_id")


def with_duckdb(out: Path) -> pd.DataFrame:
    """DuckDB runs SQL over a pyarrow dataset without copying it."""
    sites = ds.dataset(out / "sites", format="ipc")  # noqa: F841 - referenced by name in the SQL
    return duckdb.sql(
        "SELECT site_id, avg(utilisation) AS utilisation FROM sites GROUP BY site_id ORDER BY site_id"
    ).df()


def main(argv: list[str]) -> int:
    """Print per-site mean utilisation read four ways."""
    out = Path(argv[1] if len(argv) > 1 else "cpnsim-out/east-west")
    print(with_pyarrow(out).to_string(index=False))
    print(with_pandas(out).to_string(index=False))
    print(with_polars(out))
    print(with_duckdb(out).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
