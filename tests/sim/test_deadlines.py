"""Start-deadline misses counted by the engine (sim/deadlines.py): by hand, and against the jobs table."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from sim.deadlines import DeadlineWatch
from sim.engine import Engine
from sim.job_log import JobLog
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.scheduling import SchedPool
from sim.site import GpuPool, LoggedGpuPool
from sim.task import ClassRules
from topology.model import Site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "edwc_hourly.toml"
SITE = Site(id="s", lat=0, lon=0, gpus=1)
# (class, hold h) of six 1-GPU, 1-GPU-h jobs all submitted at t = 0 to one GPU: job k starts at k h.
JOBS = [(0, None), (0, 1.0), (0, 1.0), (1, None), (0, None), (0, None)]


def _pool(kind: str, engine: Engine) -> GpuPool:
    if kind == "fifo":
        return GpuPool(0, SITE, engine)
    if kind == "logged":
        return LoggedGpuPool(0, SITE, engine, JobLog(1.0, ["a", "b"], ["r"], ["s"]).fifo_columns())
    max_wait: list[float | None] = [3.5 if kind == "max_wait" else None, None]
    return SchedPool(0, SITE, engine, ClassRules(level=[0, 0], max_wait_h=max_wait, checkpoint_h=[None, None],
                                                 scale=[1.0, 1.0]))


@pytest.mark.parametrize("kind", ["fifo", "logged", "sched", "max_wait"])
def test_misses_by_hand(kind: str) -> None:
    # Class 0 has deadline_h = 2.5, class 1 none; horizon 4.5 h.
    #   job 0: waits 0                     -> met
    #   job 1: held 1 h + waits 1 h = 2    -> met
    #   job 2: held 1 h + waits 2 h = 3    -> missed, a deferred job's miss
    #   job 3: class 1, no deadline
    #   job 4: waits 4 h (or unmet at its 3.5 h maximum wait) -> missed
    #   job 5: still queued at 4.5 h (or unmet at 3.5 h)      -> missed
    engine = Engine()
    pool = _pool(kind, engine)
    watch = DeadlineWatch([2.5, None])
    pool.deadline_watch = watch.started
    for job_id, (cls, hold) in enumerate(JOBS):
        if hold is not None:
            watch.held[job_id] = hold
        pool.submit(job_id, 1, 1.0, 0.0, cls, 0)
        if hold is not None:
            watch.submitted(job_id, pool)
    engine.run(until_h=4.5)
    watch.close([pool], 4.5)
    assert (watch.misses, watch.misses_deferred) == (3, 1)
    assert watch.held == {}


def test_a_held_job_started_at_once_is_forgotten() -> None:
    engine = Engine()
    pool = GpuPool(0, SITE, engine)
    watch = DeadlineWatch([2.0])
    pool.deadline_watch = watch.started
    watch.held[7] = 1.5
    pool.submit(7, 1, 1.0, 0.0, 0, 0)
    watch.submitted(7, pool)
    assert watch.held == {} and watch.misses == 0


def test_unmet_counts_even_before_the_deadline() -> None:
    watch = DeadlineWatch([10.0])
    watch.started(1, 0, math.inf)
    assert (watch.misses, watch.misses_deferred) == (1, 0)


def _misses_from_jobs(result: Any) -> tuple[int, int]:
    """The jobs table's count (benchmarks/signals.py before the column): hold + wait > deadline_h."""
    model = result.replications[0].model
    deadline = {name: c.deadline_h for name, c in model.scenario.workload.items()}
    jobs = result.table("jobs").to_pandas()
    horizon = model.scenario.horizon_h
    misses = deferred = 0
    for job_id, cls, arrival, wait, status in zip(jobs.job_id, jobs["class"], jobs.arrival_h, jobs.wait_h,
                                                  jobs.status, strict=True):
        limit = deadline[cls]
        if limit is None:
            continue
        hold = model.deferred_h.get(int(job_id), 0.0)
        if status == "unmet":
            missed = True
        elif wait is not None and not math.isnan(wait):
            missed = hold + wait > limit
        else:
            missed = status == "queued" and hold + (horizon - arrival) > limit
        misses += missed
        deferred += missed and int(job_id) in model.deferred_h
    return misses, deferred


@pytest.mark.parametrize("variant", [
    ["signals.defer_max_frac=1.0"],  # deferral up to the whole slack: misses, all of held jobs
    ["policy=nearest", "signals.time_aware=false", "signals.defer=false"],  # queues: misses, none deferred
])
def test_the_column_equals_the_jobs_table_count_and_ignores_the_sample(variant: list[str]) -> None:
    # Six times the example's rates for 4 days.
    rates = {name: c.arrival_rate_per_h for name, c in load_scenario(EXAMPLE).scenario.workload.items()}
    overrides = ["replications=1", "horizon_h=96", "warmup_h=0", *variant,
                 *[f"workload.{c}.arrival_rate_per_h={6 * r!r}" for c, r in rates.items()]]
    full = run_scenario(load_scenario(EXAMPLE, [*overrides, "jobs_sample=1"]))
    row = full.runs.to_pylist()[0]
    expected = _misses_from_jobs(full)
    assert (row["deadline_misses"], row["deadline_misses_deferred"]) == expected
    assert expected[0] > 10
    assert expected[1] == (expected[0] if row["jobs_deferred"] else 0)
    # Without the jobs table (other pools, no per-job rows): the same counts, the same run.
    bare = run_scenario(load_scenario(EXAMPLE, overrides)).runs.to_pylist()[0]
    assert (bare["deadline_misses"], bare["deadline_misses_deferred"]) == expected
    assert bare["jobs_started"] == row["jobs_started"]


def test_no_deadline_no_misses() -> None:
    row = run_scenario(load_scenario(None, ["horizon_h=50", "warmup_h=0"])).runs.to_pylist()[0]
    assert (row["deadline_misses"], row["deadline_misses_deferred"]) == (0, 0)
