"""Serial and Ray write the same rows in every table, not only runs and sites.

The sweep here switches on everything that adds a table or random streams: adoption
(`adoption`), WAN transfers (`links` with traffic), the jobs table, replications.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import RayExecutor, SerialExecutor
from cluster.sweeps.store import read_table

pytestmark = pytest.mark.slow

ADOPTION = Path(__file__).resolve().parents[3] / "examples" / "adoption.toml"

SPEC = f"""
base = "{ADOPTION.as_posix()}"
replications = 2
seed = 5

[[axis]]
key = "horizon_h"
grid = [2190.0]

[[axis]]
key = "jobs_sample"
grid = [0.05]

[[axis]]
key = "workload.training.input_gb"
grid = [{{ dist = "lognormal", median = 20000.0, sigma = 1.0 }}]

[[axis]]
key = "sites.cl_zhongwei.gpus"
grid = [200000, 416667]
"""


def _rows(table: pa.Table) -> list[dict[str, object]]:
    """Rows in a canonical order (parts arrive in completion order on Ray)."""
    sortable = [f.name for f in table.schema if not pa.types.is_null(f.type)]
    rows: list[dict[str, object]] = table.sort_by([(name, "ascending") for name in sortable]).to_pylist()
    return rows


def test_ray_and_serial_write_identical_rows_in_every_table(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC, encoding="utf-8")
    spec = load_sweep(path)
    run_sweep(spec, tmp_path / "serial", SerialExecutor())
    with RayExecutor(num_cpus=2) as ray:
        run_sweep(spec, tmp_path / "ray", ray, batch_size=1)
    for name in ("runs", "sites", "links", "adoption", "jobs"):
        serial, on_ray = read_table(tmp_path / "serial", name), read_table(tmp_path / "ray", name)
        assert serial.num_rows > 0, name
        assert _rows(serial) == _rows(on_ray), name
    runs = read_table(tmp_path / "serial", "runs").to_pylist()
    assert len(runs) == 4 and all(r["status"] == "ok" for r in runs)
    assert all(r["transfers_done"] > 0 for r in runs)  # the links table carries traffic
