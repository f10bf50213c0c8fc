"""Interruptions, checkpoints, outages and the failure injectors, against hand-computed truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config import Failures, FailureSpec
from sim.engine import Engine
from sim.failures import start_failures
from sim.job_log import JobLog
from sim.model import stream_seed
from sim.scenario import load_scenario
from sim.scheduling import SchedPool
from sim.task import ClassRules
from topology.model import Site
from topology.plumbing import ConfigError


def _pool(gpus: int, checkpoint_h: float | None = None, max_restarts: int | None = None,
          ) -> tuple[Engine, SchedPool, JobLog]:
    engine = Engine()
    rules = ClassRules(level=[0], max_wait_h=[None], checkpoint_h=[checkpoint_h], scale=[1.0])
    log = JobLog(1.0, ["c"], ["r"], ["s"])
    pool = SchedPool(0, Site(id="s", lat=0, lon=0, gpus=gpus), engine, rules, max_restarts=max_restarts, log=log)
    return engine, pool, log


def _at(engine: Engine, t: float, action) -> None:  # type: ignore[no-untyped-def]
    engine.call_later(t - engine.now, lambda _: action(), None)


def _rows(log: JobLog) -> dict[int, dict[str, object]]:
    return {int(j): {k: v[i] for k, v in log.columns.items()}  # type: ignore[call-overload]
            for i, j in enumerate(log.columns["job_id"])}


@pytest.mark.parametrize(
    ("checkpoint_h", "lost", "finish"),
    [
        # Interrupted at 2.5 h into a 5 h run: checkpoints at 1 and 2 h -> 0.5 h x 4 GPUs lost,
        # restarts at once with 3 h left -> finishes at 5.5.
        (1.0, 2.0, 5.5),
        # No checkpoints: all 2.5 h x 4 GPUs lost, the whole 5 h again -> 7.5.
        (None, 10.0, 7.5),
        # Checkpoint every 3 h: none reached yet at 2.5 h -> same as no checkpoints.
        (3.0, 10.0, 7.5),
    ],
)
def test_gpu_failure_restarts_from_the_last_checkpoint(checkpoint_h, lost, finish):
    engine, pool, log = _pool(8, checkpoint_h)
    _at(engine, 0.0, lambda: pool.submit(0, 4, 20.0, 0.0, 0, 0))  # 4 GPUs x 5 h
    _at(engine, 2.5, lambda: pool.interrupt_gpu(3.5, engine.now))  # busy GPUs 0..4: hits job 0
    engine.run(until_h=20.0)
    row = _rows(log)[0]
    assert row["status"] == "done" and row["restarts"] == 1
    assert row["start_h"] == 0.0 and row["finish_h"] == finish
    assert row["lost_gpu_h"] == lost == pool.lost_gpu_h
    pool.advance(20.0)
    # GPU-hours served = useful (the job's 20 GPU-h of work) + lost.
    assert pool.busy_area == 20.0 + lost
    assert pool.outcome(20.0).useful_gpu_h == 20.0


def test_a_gpu_failure_on_an_idle_gpu_interrupts_nothing():
    engine, pool, _ = _pool(8)
    _at(engine, 0.0, lambda: pool.submit(0, 4, 20.0, 0.0, 0, 0))
    _at(engine, 1.0, lambda: pool.interrupt_gpu(4.0, engine.now))  # GPU 4 is idle
    engine.run(until_h=20.0)
    assert pool.interruptions == 0 and pool.finished == 1


def test_outage_interrupts_everything_requeues_in_start_order_and_starts_nothing():
    # 4 GPUs, no checkpoints.  A: t=0, 2 GPUs x 4 h; B: t=1, 2 GPUs x 4 h; C: t=1.5, 4 GPUs x 1 h (waits).
    # Outage 2..3: A loses 2 h x 2, B 1 h x 2 = 6 GPU-h; both requeue ahead of C, in start order.
    # At 3: A and B restart from zero (end 7); C starts at 7, ends 8.
    engine, pool, log = _pool(4)
    _at(engine, 0.0, lambda: pool.submit(0, 2, 8.0, 0.0, 0, 0))
    _at(engine, 1.0, lambda: pool.submit(1, 2, 8.0, 1.0, 0, 0))
    _at(engine, 1.5, lambda: pool.submit(2, 4, 4.0, 1.5, 0, 0))
    _at(engine, 2.0, lambda: pool.set_down(True, engine.now))
    _at(engine, 2.5, lambda: pool.submit(3, 1, 1.0, 2.5, 0, 0))  # arrives during the outage: queued
    _at(engine, 2.6, lambda: seen.append((pool.free, pool.queue_length())))
    _at(engine, 3.0, lambda: pool.set_down(False, engine.now))
    seen: list[tuple[int, int]] = []
    engine.run(until_h=20.0)
    assert seen == [(4, 4)]  # all GPUs free, four jobs waiting, nothing started
    rows = _rows(log)
    assert [rows[j]["finish_h"] for j in range(4)] == [7.0, 7.0, 8.0, 9.0]
    assert [rows[j]["restarts"] for j in range(4)] == [1, 1, 0, 0]
    assert pool.lost_gpu_h == 6.0 and pool.interruptions == 2
    assert pool.outcome(20.0).down_h == 1.0
    pool.advance(20.0)
    assert pool.busy_area == 8.0 + 8.0 + 4.0 + 1.0 + 6.0


def test_a_job_interrupted_more_than_max_restarts_fails_and_all_its_work_is_lost():
    # Checkpoint every 1 h; interrupted at 2.5 h (2 h saved, 0.5 h lost) with max_restarts = 0:
    # it fails, and the 2 checkpointed hours are wasted as well -> 4 GPUs x 2.5 h lost.
    engine, pool, log = _pool(8, checkpoint_h=1.0, max_restarts=0)
    _at(engine, 0.0, lambda: pool.submit(0, 4, 20.0, 0.0, 0, 0))
    _at(engine, 2.5, lambda: pool.interrupt_gpu(0.0, engine.now))
    engine.run(until_h=20.0)
    row = _rows(log)[0]
    assert row["status"] == "failed" and row["restarts"] == 1 and row["finish_h"] is None
    assert pool.failed == 1 and pool.lost_gpu_h == 10.0 and pool.finished == 0
    pool.advance(20.0)
    assert pool.busy_area == 10.0 and pool.outcome(20.0).useful_gpu_h == 0.0


def _stream(seed: int):  # type: ignore[no-untyped-def]
    return lambda name: np.random.default_rng(stream_seed(seed, 0, name))


@pytest.mark.parametrize("dist", ["exponential", "weibull"])
def test_outage_share_matches_mttr_over_mtbf_plus_mttr(dist):
    # Alternating renewal process: long-run down share = MTTR / (MTBF + MTTR) = 10 / 100.
    # 10,000 cycles: the share's standard deviation is about 0.0013 (exponential); allow 0.005.
    engine, pool, _ = _pool(8)
    failures = Failures(outage_mtbf_h=90.0, outage_mttr_h=10.0, outage_dist=dist, weibull_shape=0.7)
    horizon = 1_000_000.0
    start_failures(engine, [pool], failures, _stream(1), horizon)
    engine.run(until_h=horizon)
    share = pool.outcome(horizon).down_h / horizon
    assert share == pytest.approx(0.1, abs=0.005)


def test_gpu_failure_count_matches_rate_times_busy_gpu_hours():
    # One job holds all 10 GPUs for 10,000 h (checkpoint every 0.1 h so it barely moves):
    # failures ~ Poisson(1e-3 x 10 x 10,000 = 100) -> within 4 sigma (40) of 100.
    engine, pool, _ = _pool(10, checkpoint_h=0.1)
    pool.submit(0, 10, 1e9, 0.0, 0, 0)
    start_failures(engine, [pool], Failures(gpu_failures_per_gpu_h=1e-3), _stream(2), 10_000.0)
    engine.run(until_h=10_000.0)
    assert 60 <= pool.interruptions <= 140
    # Each interruption loses under one checkpoint interval of 10 GPUs.
    assert pool.lost_gpu_h < pool.interruptions * 10 * 0.1


def test_per_site_failures_inherit_and_override():
    failures = Failures.model_validate(
        {"outage_mtbf_h": 500.0, "gpu_failures_per_gpu_h": 1e-5,
         "sites": {"a": {"outage_mttr_h": 2.0}, "b": {"outage_mtbf_h": math.inf}}})
    a, b, c = failures.for_site("a"), failures.for_site("b"), failures.for_site("c")
    assert (a.outage_mtbf_h, a.outage_mttr_h, a.gpu_failures_per_gpu_h) == (500.0, 2.0, 1e-5)
    assert not b.has_outages and b.active
    assert c == FailureSpec(outage_mtbf_h=500.0, gpu_failures_per_gpu_h=1e-5)
    assert not Failures().active


def test_failures_of_an_unknown_site_are_a_one_line_error():
    with pytest.raises(ConfigError, match=r"failures\.sites\.cl_wuhux: no site 'cl_wuhux' .*did you mean 'cl_wuhu'"):
        load_scenario(None, ["failures.sites.cl_wuhux.outage_mtbf_h=100"])


def test_failures_change_no_other_random_stream():
    # Arrivals are drawn from their own streams: the same jobs arrive with and without failures.
    from sim.run import run_replication

    base = ["horizon_h=96", "metric_interval_h=24"]
    plain = run_replication(load_scenario(None, base)).runs_row
    failing = run_replication(load_scenario(None, [*base, "failures.outage_mtbf_h=50",
                                                   "failures.gpu_failures_per_gpu_h=1e-4"])).runs_row
    assert plain["jobs_arrived"] == failing["jobs_arrived"]
    assert failing["interruptions"] > 0 and failing["site_down_h"] > 0 and failing["gpu_h_lost"] > 0
