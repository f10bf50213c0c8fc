"""The arrival loop: the plain loop (no deferral, residency rows or input data) against the general one."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sim.model import Model
from sim.placement import POLICIES, REJECT, PlacementContext
from sim.run import run_replication
from sim.scenario import load_scenario
from sim.tables import build_table
from topology.graph import region_site_latency_ms

EW = "examples/east_west_nearest.toml"
SHORT = ["horizon_h=300", "metric_interval_h=24", "jobs_sample=1"]


def _tables(overrides: list[str], *, general: bool) -> dict[str, pa.Table]:
    import sim.run as run_module

    made: list[Model] = []
    original = run_module.Model

    def model(*args: object, **kwargs: object) -> Model:
        m = original(*args, **kwargs)  # type: ignore[arg-type]
        if general:
            m._on_arrival_bound = m._on_arrival  # the loop every model had before the plain one
        made.append(m)
        return m

    run_module.Model = model  # type: ignore[assignment,misc]
    try:
        result = run_replication(load_scenario(EW, [*SHORT, *overrides]))
    finally:
        run_module.Model = original  # type: ignore[misc]
    assert made and (made[0]._on_arrival_bound == made[0]._on_arrival) is general
    return {name: build_table(name, cols) for name, cols in result.columns.items() if name != "timings"}


@pytest.mark.parametrize("overrides", [
    [],  # nearest: most jobs take the policy's shortcut (Policy.fixed_site), larger ones call choose
    ["policy=least_loaded"],  # no shortcut: every job calls choose
    ["policy=least_loaded", "scheduler=easy"],  # scheduler pools
    ["workload.training.gpus.values=[64, 128, 2048]"],  # jobs no site can run (1,024 GPUs at most): rejected
])
def test_plain_arrival_loop_gives_the_tables_of_the_general_one(overrides):
    plain = _tables(overrides, general=False)
    general = _tables(overrides, general=True)
    assert plain.keys() == general.keys() and "jobs" in plain
    for name in plain:
        assert plain[name].equals(general[name], check_metadata=True), name
    runs = plain["runs"].to_pylist()[0]
    assert runs["jobs_arrived"] > 1000
    if overrides and overrides[0].startswith("workload.training"):
        assert runs["jobs_rejected"] > 0


def test_the_plain_loop_is_taken_only_where_it_applies():
    assert Model(load_scenario(EW, SHORT))._on_arrival_bound.__name__ == "_on_arrival_plain"
    # Input data to move: the general loop.
    moved = load_scenario("examples/edwc.toml", ["horizon_h=24", "warmup_h=0"])
    assert Model(moved)._on_arrival_bound.__name__ == "_on_arrival"


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_a_policy_shortcut_agrees_with_its_choice(policy):
    loaded = load_scenario(EW, SHORT)
    model = Model(loaded)
    latency = region_site_latency_ms(loaded.network)
    context = PlacementContext(loaded.network, model.pools, latency, tuple(loaded.scenario.workload.values()))
    chooser = POLICIES[policy](context)
    assert len(chooser.fixed_site) == len(chooser.fixed_gpus) == len(latency)
    biggest = max(p.total for p in model.pools)
    for origin in range(len(latency)):
        for gpus in (1, 2, 8, 64, chooser.fixed_gpus[origin], biggest, biggest + 1):
            if 1 <= gpus <= chooser.fixed_gpus[origin]:
                assert chooser.choose(origin, gpus, 0) == chooser.fixed_site[origin] != REJECT
    if policy == "nearest":
        assert all(g > 0 for g in chooser.fixed_gpus)  # the shortcut is on
