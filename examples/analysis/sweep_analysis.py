"""Analyse a sweep dataset: mean wait by axis value, with pandas, polars and DuckDB.

Usage::

    cpnsim sweep examples/sweeps/small-grid.toml --out cpnsim-out/small-grid
    python examples/analysis/sweep_analysis.py cpnsim-out/small-grid

A sweep writes one part file per finished batch (``runs/part-00000.arrow``, ...), and
``manifest.json`` lists the parts that belong to the dataset (a part left by a killed
driver does not).  Parts may differ in their ``param.*`` columns (a part of failed
scenarios only has null metrics, say), so each reader unifies them.  Only ``status =
"ok"`` rows are averaged: a failed scenario has no metrics.  Every function reads the
Arrow IPC files themselves; the three answers agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds

METRIC = "wait_mean_h"


def part_files(out: Path, table: str = "runs") -> list[Path]:
    """The part files of ``table`` that the manifest lists."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [out / table / part for part in manifest["tables"][table]["parts"]]


def axis_columns(out: Path) -> list[str]:
    """The ``runs`` columns of the sweep's axes: ``param.<key>`` for each ``[[axis]]``."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [f"param.{axis['key']}" for axis in manifest["spec"].get("axis", [])]


def with_pandas(out: Path, column: str) -> pd.DataFrame:
    """pandas reads each Arrow IPC part with ``read_feather`` (Feather v2 is Arrow IPC)."""
    runs = pd.concat([pd.read_feather(p) for p in part_files(out)], ignore_index=True)
    ok = runs[runs["status"] == "ok"]
    return ok.groupby(column, as_index=False)[METRIC].mean().sort_values(column, ignore_index=True)


def with_polars(out: Path, column: str) -> pl.DataFrame:
    """polars reads each part with ``read_ipc``; ``diagonal_relaxed`` unifies columns and types."""
    runs = pl.concat([pl.read_ipc(p) for p in part_files(out)], how="diagonal_relaxed")
    return runs.filter(pl.col("status") == "ok").group_by(column).agg(pl.col(METRIC).mean()).sort(column)


def with_duckdb(out: Path, column: str) -> pd.DataFrame:
    """DuckDB runs SQL over the Arrow files, scanned lazily through a pyarrow dataset."""
    files = [str(p) for p in part_files(out)]
    schema = pa.unify_schemas([ds.dataset(f, format="ipc").schema for f in files], promote_options="permissive")
    runs = ds.dataset(files, format="ipc", schema=schema)  # noqa: F841 - DuckDB finds it by name
    quoted = '"' + column.replace('"', '""') + '"'  # the column names contain dots
    return duckdb.sql(
        f"SELECT {quoted}, avg({METRIC}) AS {METRIC} FROM runs WHERE status = 'ok' GROUP BY 1 ORDER BY 1"
    ).df()


def main(argv: list[str]) -> int:
    """Print the mean wait per value of every axis, three ways."""
    out = Path(argv[1] if len(argv) > 1 else "cpnsim-out/small-grid")
    for column in axis_columns(out):
        print(f"== mean {METRIC} by {column}")
        print(with_pandas(out, column).to_string(index=False))
        print(with_polars(out, column))
        print(with_duckdb(out, column).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
