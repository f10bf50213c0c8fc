"""The arrival loop: the plain loop (no deferral, residency rows or input data) against the general one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from sim.model import Model
from sim.placement import POLICIES, REJECT, PlacementContext
from sim.run import run_replication
from sim.scenario import LoadedScenario, load_scenario, scenario_from_dict
from sim.tables import build_table
from topology.graph import region_site_latency_ms
from workloads.arrivals import ArrivalBatch

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


# -- the arrival loops drain the events due before their next arrival (sixth slice) -------------------------------

def _one_site(scheduler: str = "fifo", jobs_sample: float = 1.0, gpus: int = 4, step_h: float = 8.0) -> LoadedScenario:
    """A site of ``gpus`` GPUs, one region, integer times everywhere: arrivals, finishes, steps and samples tie."""
    from topology.model import Link, Network, Region, Site

    data = {"name": "ties", "network": "default", "policy": "nearest", "horizon_h": 60.0, "warmup_h": 6.0,
            "metric_interval_h": 4.0, "seed": 3, "scheduler": scheduler, "jobs_sample": jobs_sample,
            "engine": {"arrival_step_h": step_h},
            "workload": {"w": {"arrival_rate_per_h": 1.0, "gpus": {"dist": "constant", "value": 1},
                               "work_gpu_h": {"dist": "constant", "value": 3.0}}}}
    network = Network(name="one", site=(Site(id="s", lat=30, lon=110, gpus=gpus),),
                      region=(Region(id="r", lat=30, lon=110),),
                      link=(Link(id="l", a="r", b="s", bandwidth_gbps=100.0),))
    return LoadedScenario(scenario_from_dict(data, "ties"), network, "ties")


def _trace(times: list[float], gpus: list[int] | None = None) -> ArrivalBatch:
    n = len(times)
    return ArrivalBatch(np.array(times, float), np.zeros(n, np.int64), np.array(gpus or [1] * n, np.int64),
                        np.full(n, 3.0), np.zeros(n, np.int64))


def _run_logged(loaded: LoadedScenario, trace: ArrivalBatch, *, drain: bool, general: bool = False,
                ) -> tuple[list[tuple[float, str, int]], dict[str, pa.Table], int]:
    """Run with the drain on or off; the sequence of (time, arrival/finish, job id), the tables, the last event id."""
    import sim.run as run_module

    seen: list[tuple[float, str, int]] = []
    made: list[Model] = []
    original = run_module.Model

    def model(*args: object, **kwargs: object) -> Model:
        m = original(*args, **kwargs)  # type: ignore[arg-type]
        m._drain = drain
        if general:
            m._on_arrival_bound = m._on_arrival
        for k, pool in enumerate(m.pools):
            finish, submit = pool._on_finish, m._submit[k]

            def on_finish(value: Any, finish: Any = finish) -> None:
                job = value[0] if isinstance(value, tuple) and isinstance(value[0], tuple) else value
                seen.append((m.engine.now_h, "finish", job[0] if isinstance(job, tuple) else job.id))
                finish(value)

            def on_submit(job_id: int, *rest: Any, submit: Any = submit) -> None:
                seen.append((m.engine.now_h, "arrival", job_id))
                submit(job_id, *rest)

            pool._on_finish = on_finish
            m._submit[k] = on_submit
        made.append(m)
        return m

    run_module.Model = model  # type: ignore[assignment,misc]
    try:
        result = run_replication(loaded, arrivals=trace)
    finally:
        run_module.Model = original  # type: ignore[misc]
    tables = {name: build_table(name, cols) for name, cols in result.columns.items() if name != "timings"}
    return seen, tables, next(made[0].engine.eid)


TIES = [float(t) for t in (0, 1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8, 8, 9, 11, 12, 12, 12, 12, 15, 16, 16, 17, 20, 24,
                           24, 25, 27, 27, 30, 31, 32, 32, 33, 36, 40, 41, 44, 47, 48, 48, 50, 52, 55, 56, 56, 59)]


@pytest.mark.parametrize(("scheduler", "general", "sample"), [
    ("fifo", False, 1.0),  # the plain loop, LoggedGpuPool
    ("fifo", True, 1.0),  # the general loop (_drain_before)
    ("fifo", False, 0.0),  # the lean GpuPool
    ("easy", False, 1.0),  # SchedPool
])
def test_draining_before_the_next_arrival_keeps_every_event_in_place(scheduler, general, sample):
    # Arrivals tie with finishes (3 h jobs on whole hours), step boundaries (8 h) and metric samples (4 h), and
    # the site is often full: every tie must resolve as when the next arrival was pushed on the heap.
    loaded = _one_site(scheduler, sample)
    drained = _run_logged(loaded, _trace(TIES), drain=True, general=general)
    pushed = _run_logged(loaded, _trace(TIES), drain=False, general=general)
    assert drained[0] == pushed[0]
    assert drained[2] == pushed[2]  # even the event ids: the drained key took its id where the push did
    assert drained[1].keys() == pushed[1].keys()
    for name in drained[1]:
        assert drained[1][name].equals(pushed[1][name], check_metadata=True), name
    # Independent truth for the first ties: 4 GPUs, 3 h jobs.  Jobs 0-2 start at 0, 1, 1; job 3 (t=2) starts at
    # once (4th GPU); job 0 finishes at 3, when jobs 4-6 arrive.  Heap order puts job 0's finish (pushed at 0)
    # before the arrival at 3 (its key is taken after job 3's arrival at 2).
    events = drained[0]
    assert events[:6] == [(0.0, "arrival", 0), (1.0, "arrival", 1), (1.0, "arrival", 2), (2.0, "arrival", 3),
                          (3.0, "finish", 0), (3.0, "arrival", 4)]
    assert len([e for e in events if e[1] == "arrival"]) == len(TIES)


def test_two_arrival_chains_due_together_take_turns_in_heap_order():
    # Two chains pending at once (a step's chain running past the next step's start): the draining loop must
    # hand back to Engine.run rather than run the other chain inside itself.
    from sim.model import _Chain

    sequences = []
    for drain in (True, False):
        model = Model(_one_site(gpus=2), 0)
        model._drain = drain
        seen: list[tuple[float, int]] = []
        for k, submit in enumerate(list(model._submit)):

            def on_submit(job_id: int, *rest: Any, submit: Any = submit, seen: Any = seen, model: Any = model) -> None:
                seen.append((model.engine.now_h, job_id))
                submit(job_id, *rest)

            model._submit[k] = on_submit
        model.engine.until_h = 100.0
        model.engine.call_at(0.0, model._on_arrival_bound, _Chain(_trace([0.0, 2.0, 4.0, 6.0, 8.0]), 0))
        model.engine.call_at(1.0, model._on_arrival_bound, _Chain(_trace([1.0, 2.0, 5.0, 6.5]), 100))
        model.engine.run(100.0)
        sequences.append(seen)
    assert sequences[0] == sequences[1]
    assert [job for _, job in sequences[0]] == [0, 100, 1, 101, 2, 102, 3, 103, 4]


@pytest.mark.parametrize("general", [False, True])
def test_an_arrival_goes_before_a_finish_scheduled_later_for_the_same_time(general):
    # One GPU, 3 h jobs arriving at 0, 1, 2, then 9, in one arrival step: the arrival at 9 took its place (event
    # id) at time 2, when the loop stopped for the finish due at 3; job 2's finish at 9 was scheduled at 6, after
    # it.  So the arrival goes first, as it did when it was pushed on the heap; ties by time alone would swap them.
    trace = _trace([0.0, 1.0, 2.0, 9.0, 10.0])
    drained = _run_logged(_one_site(gpus=1, step_h=60.0), trace, drain=True, general=general)[0]
    pushed = _run_logged(_one_site(gpus=1, step_h=60.0), trace, drain=False, general=general)[0]
    assert drained == pushed
    assert drained[:8] == [(0.0, "arrival", 0), (1.0, "arrival", 1), (2.0, "arrival", 2), (3.0, "finish", 0),
                           (6.0, "finish", 1), (9.0, "arrival", 3), (9.0, "finish", 2), (10.0, "arrival", 4)]
