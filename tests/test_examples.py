"""Every scenario in examples/ runs (over a short horizon), and the analysis recipe works."""

import runpy
from pathlib import Path

import pytest

from sim.run import run_scenario
from sim.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_scenario_runs(path):
    loaded = load_scenario(path, ["horizon_h=200", "warmup_h=0", "metric_interval_h=50", "replications=1"])
    result = run_scenario(loaded)
    assert result.runs.column("jobs_done").to_pylist()[0] > 0


def test_analysis_recipe_reads_a_dataset_four_ways(run_cli, tmp_path, capsys):
    out = tmp_path / "ds"
    assert run_cli("run", "--out", str(out), "--set", "horizon_h=48").returncode == 0
    module = runpy.run_path(str(EXAMPLES / "analysis" / "load_dataset.py"))
    a = module["with_pyarrow"](out)
    b = module["with_pandas"](out)
    c = module["with_polars"](out)
    d = module["with_duckdb"](out)
    expected = dict(zip(b["site_id"], b["utilisation"], strict=True))
    for frame in (a, d):
        got = dict(zip(frame["site_id"], frame["utilisation"], strict=True))
        assert got == pytest.approx(expected)
    assert dict(zip(c["site_id"].to_list(), c["utilisation"].to_list(), strict=True)) == pytest.approx(expected)
    assert len(expected) == 5
