"""Every sweep spec in examples/sweeps/ expands, and its scenarios run (over a short horizon)."""

from pathlib import Path

import pytest

from cluster.sweeps import load_sweep
from sim.run import run_scenario

SWEEPS = sorted((Path(__file__).resolve().parents[2] / "examples" / "sweeps").glob("*.toml"))


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_example_sweep_expands_and_runs(path):
    spec = load_sweep(path)
    # Every shipped sweep has several points and runs each at least twice (scenarios × replications).
    assert len(spec.scenarios) == len(set(spec.ids)) >= 3
    assert sum(s.scenario.replications for s in spec.scenarios) >= 6
    first = spec.scenarios[0]
    short = first.scenario.model_copy(update={"horizon_h": 48.0, "warmup_h": 0.0, "metric_interval_h": 24.0,
                                              "replications": 1})
    result = run_scenario(type(first)(short, first.network, first.source))
    assert result.runs.column("status").to_pylist() == ["ok"]


def test_national_sweep_is_capacity_by_policy():
    spec = load_sweep(next(p for p in SWEEPS if p.name == "national-capacity-policy.toml"))
    assert len(spec.scenarios) == 9
    wuhan = {(s.scenario.policy, next(x.gpus for x in s.network.sites if x.id == "gpu_cm_wuhan"))
             for s in spec.scenarios}
    assert wuhan == {(p, g) for p in ("edwc", "least_loaded", "nearest") for g in (4808, 19232, 76928)}
