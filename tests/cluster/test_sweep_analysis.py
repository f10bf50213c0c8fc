"""examples/analysis/sweep_analysis.py: pandas, polars and DuckDB agree with a hand computation,
over a sweep whose parts differ in schema (one holds a failed scenario only)."""

import runpy
from collections import defaultdict
from pathlib import Path

import pytest

from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.store import read_table
from sim.run import run_scenario

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "analysis" / "sweep_analysis.py"
SPEC = f"""
base = "{REPO / 'examples' / 'east_west_nearest.toml'}"
seed = 9
replications = 2
[[axis]]
key = "horizon_h"
grid = [72.0]
[[axis]]
key = "policy"
grid = ["nearest", "least_loaded"]
[[axis]]
key = "sites.cl_zhongwei.gpus"
grid = [64, 128, 4096]
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("analysis")
    (root / "spec.toml").write_text(SPEC, encoding="utf-8")
    spec = load_sweep(root / "spec.toml")
    bad = spec.ids[-1]

    def runner(loaded):
        if loaded.scenario_id == bad:
            raise RuntimeError("boom")
        return run_scenario(loaded)

    run_sweep(spec, root / "out", SerialExecutor(runner), batch_size=1)
    return root / "out"


def _expected(out: Path, column: str) -> dict:
    """Mean wait of the ok rows per axis value, by hand from pyarrow rows."""
    sums: dict = defaultdict(float)
    counts: dict = defaultdict(int)
    for row in read_table(out, "runs").to_pylist():
        if row["status"] == "ok":
            sums[row[column]] += row["wait_mean_h"]
            counts[row[column]] += 1
    return {k: sums[k] / counts[k] for k in sums}


@pytest.mark.parametrize("column", ["param.policy", "param.sites.cl_zhongwei.gpus"])
def test_three_readers_agree_with_a_hand_computation(dataset, column):
    module = runpy.run_path(str(SCRIPT))
    assert column in module["axis_columns"](dataset)
    expected = _expected(dataset, column)
    assert len(expected) in (2, 3) and any(v > 0 for v in expected.values())  # some waiting, or the test is weak
    a = module["with_pandas"](dataset, column)
    b = module["with_polars"](dataset, column)
    c = module["with_duckdb"](dataset, column)
    for keys, values in ((a[column].tolist(), a["wait_mean_h"].tolist()),
                         (b[column].to_list(), b["wait_mean_h"].to_list()),
                         (c[column].tolist(), c["wait_mean_h"].tolist())):
        assert dict(zip(keys, values, strict=True)) == pytest.approx(expected, rel=1e-12)


def test_the_script_prints_every_axis(dataset, capsys):
    module = runpy.run_path(str(SCRIPT))
    assert module["main"](["sweep_analysis.py", str(dataset)]) == 0
    text = capsys.readouterr().out
    for column in ("param.horizon_h", "param.policy", "param.sites.cl_zhongwei.gpus"):
        assert text.count(f"== mean wait_mean_h by {column}") == 1
