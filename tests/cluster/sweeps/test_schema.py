"""One schema per sweep: pyarrow.dataset, polars and DuckDB read every column of every part without cpnsim."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.schema import conform, sweep_schema
from cluster.sweeps.store import read_table
from sim.run import run_scenario

BASE = Path(__file__).resolve().parents[3] / "examples" / "east_west_nearest.toml"
SPEC = f"""
base = "{BASE}"
replications = 1
[[axis]]
key = "horizon_h"
grid = [24.0]
[[axis]]
key = "workload.batch.work_gpu_h"
grid = [{{ dist = "exponential", mean = 3.0 }}, {{ dist = "lognormal", median = 3.0, sigma = 1.0 }}]
[[axis]]
key = "policy"
grid = ["nearest", "least_loaded"]
"""
MEAN, SIGMA = "param.workload.batch.work_gpu_h.mean", "param.workload.batch.work_gpu_h.sigma"


@pytest.mark.parametrize("fmt", ["arrow", "parquet"])
def test_every_part_carries_the_sweep_schema(tmp_path, fmt):
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(SPEC)
    spec = load_sweep(spec_path)
    bad = spec.ids[3]

    def runner(loaded):  # one failed row too: its param columns follow the same schema
        if loaded.scenario_id == bad:
            raise RuntimeError("boom")
        return run_scenario(loaded)

    out = tmp_path / "out"
    run_sweep(spec, out, SerialExecutor(runner), fmt, batch_size=1)
    parts = sorted((out / "runs").iterdir())
    assert len(parts) == 4
    read = (lambda p: ipc.open_file(pa.memory_map(str(p))).schema) if fmt == "arrow" else pq.read_schema
    schemas = [read(p) for p in parts]
    assert all(s.equals(schemas[0]) for s in schemas), "every part has one schema"
    assert {MEAN, SIGMA} <= set(schemas[0].names)

    # Read as plain files, without cpnsim's helpers.
    table = pads.dataset(str(out / "runs"), format="ipc" if fmt == "arrow" else "parquet").to_table()
    rows = {r["scenario_id"]: r for r in table.to_pylist()}
    assert len(rows) == 4 and rows[bad]["status"] == "failed"
    exponential = [r for r in rows.values() if r["param.workload.batch.work_gpu_h.dist"] == "exponential"]
    lognormal = [r for r in rows.values() if r["param.workload.batch.work_gpu_h.dist"] == "lognormal"]
    assert len(exponential) == len(lognormal) == 2
    assert all(r[MEAN] == 3.0 and r[SIGMA] is None for r in exponential)
    assert all(r[MEAN] is None and r[SIGMA] == 1.0 for r in lognormal)
    scan = pl.scan_ipc if fmt == "arrow" else pl.scan_parquet
    frame = scan(str(out / "runs" / f"*.{fmt}")).select(pl.col(SIGMA).count(), pl.len()).collect()
    assert frame.row(0) == (2, 4)
    if fmt == "parquet":  # DuckDB reads Parquet natively (its Arrow IPC reader is an extension)
        sql = f'SELECT count("{SIGMA}"), count(*) FROM read_parquet(\'{out / "runs"}/*.parquet\')'
        assert duckdb.sql(sql).fetchall() == [(2, 4)]
    assert read_table(out, "runs").schema.equals(schemas[0])


def test_conform_fills_nulls_promotes_and_keeps_a_runners_own_columns():
    spec = pa.schema([pa.field("a", pa.float64()), pa.field("b", pa.string())])
    got = conform(pa.table({"a": pa.array([1, 2], pa.int64())}), spec)
    assert got.schema.equals(spec) and got.column("a").to_pylist() == [1.0, 2.0] and got.column("b").null_count == 2
    own = conform(pa.table({"c": [7], "a": [0.5]}), spec)
    assert own.column_names == ["a", "b", "c"] and own.column("c").to_pylist() == [7]
    assert sweep_schema([]).names[0] == "scenario_id"
