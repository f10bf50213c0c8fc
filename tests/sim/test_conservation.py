"""Conservation of jobs and GPU-hours with every scheduling feature on, against the runs and sites tables."""

from __future__ import annotations

import pytest

from sim.engine import Engine
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.scheduling import SchedPool
from sim.task import ClassRules
from topology.model import Site

EVERYTHING = [
    "horizon_h=240", "metric_interval_h=24", "jobs_sample=1",
    "failures.outage_mtbf_h=150", "failures.outage_mttr_h=5", "failures.outage_dist=weibull",
    "failures.weibull_shape=0.8", "failures.gpu_failures_per_gpu_h=2e-4", "failures.max_restarts=2",
    "workload.training.checkpoint_interval_h=2.0", "workload.finetune.checkpoint_interval_h=0.5",
    "workload.batch.priority=-1", "workload.batch.max_wait_h=6.0", "workload.batch.scale=10",
    "sites.cl_zhongwei.scheduler=easy",
]


@pytest.fixture(scope="module", params=["fifo", "easy"])
def result(request):  # type: ignore[no-untyped-def]
    return run_scenario(load_scenario(None, [*EVERYTHING, f"scheduler={request.param}"], seed=11))


def test_the_run_exercises_every_outcome(result):
    row = result.runs.to_pylist()[0]
    assert row["jobs_unmet"] > 0 and row["jobs_failed"] > 0 and row["interruptions"] > 0
    assert row["gpu_h_lost"] > 0 and row["site_down_h"] > 0


def test_jobs_in_equal_jobs_out(result):
    row = result.runs.to_pylist()[0]
    assert row["jobs_arrived"] == (
        row["jobs_done"] + row["jobs_failed"] + row["jobs_unmet"] + row["jobs_rejected"]
        + row["jobs_queued_end"] + row["jobs_running_end"] + row["jobs_in_transfer_end"]
    )


def test_gpu_hours_served_equal_useful_plus_lost(result):
    # Served: the time integral of busy GPUs.  Useful and lost: from the jobs' own records.
    row = result.runs.to_pylist()[0]
    assert row["gpu_h_served"] == pytest.approx(row["gpu_h_useful"] + row["gpu_h_lost"], rel=1e-9)
    # With no warm-up the window is the whole run.
    assert row["gpu_h_served"] == pytest.approx(row["gpu_h_busy"], rel=1e-12)
    assert row["gpu_h_served"] == pytest.approx(sum(result.sites.column("gpu_h_busy").to_pylist()), rel=1e-12)


def test_jobs_table_agrees_with_runs(result):
    row = result.runs.to_pylist()[0]
    jobs = result.table("jobs").to_pandas()
    status = jobs["status"].value_counts().to_dict()
    assert status.get("done", 0) == row["jobs_done"]
    assert status.get("unmet", 0) == row["jobs_unmet"]
    assert status.get("failed", 0) == row["jobs_failed"]
    assert status.get("running", 0) == row["jobs_running_end"]
    assert status.get("queued", 0) == row["jobs_queued_end"]
    assert len(jobs) == row["jobs_arrived"] - row["jobs_rejected"] - row["jobs_in_transfer_end"]
    assert jobs["job_id"].is_unique
    assert jobs["lost_gpu_h"].sum() == pytest.approx(row["gpu_h_lost"], rel=1e-9)
    assert jobs["restarts"].sum() == row["interruptions"]
    assert (jobs.loc[jobs.status == "failed", "restarts"] == 3).all()  # max_restarts = 2
    started = jobs.dropna(subset=["start_h"])
    assert len(started) == row["jobs_started"]
    assert ((started.start_h - started.arrival_h) == started.wait_h).all()
    unmet_classes = set(jobs.loc[jobs.status == "unmet", "class"])
    assert unmet_classes == {"batch", "inference"}  # the classes with a max_wait_h


def test_real_units_weight_each_job_by_its_class_scale(result):
    row = result.runs.to_pylist()[0]
    jobs = result.table("jobs").to_pandas()
    done = jobs[jobs.status == "done"]
    weight = done["class"].map(lambda c: 10.0 if c == "batch" else 1.0)
    assert row["jobs_done_real"] == pytest.approx(weight.sum())
    assert row["work_gpu_h_done_real"] == pytest.approx((done.work_gpu_h * weight).sum())
    unmet = jobs[jobs.status == "unmet"]
    unmet_weight = unmet["class"].map(lambda c: 10.0 if c == "batch" else 1.0)
    assert row["jobs_unmet_real"] == pytest.approx(unmet_weight.sum())
    assert row["jobs_unmet_real"] > row["jobs_unmet"]
    assert row["work_gpu_h_unmet_real"] == pytest.approx((unmet.work_gpu_h * unmet_weight).sum())
    assert row["work_gpu_h_unmet"] == pytest.approx(unmet.work_gpu_h.sum())
    batch = (jobs["class"] == "batch").sum()
    assert row["jobs_arrived_real"] == pytest.approx(10.0 * batch + (len(jobs) - batch))


def test_starts_and_arrivals_add_up_over_sites_rows(result):
    row = result.runs.to_pylist()[0]
    sites = result.sites.to_pydict()
    assert sum(sites["jobs_started"]) == row["jobs_started"]
    assert sum(sites["jobs_finished"]) == row["jobs_done"]
    assert sum(sites["jobs_arrived"]) == row["jobs_arrived"] - row["jobs_rejected"] - row["jobs_in_transfer_end"]
    assert sum(sites["jobs_unmet"]) == row["jobs_unmet"]
    assert sum(sites["gpu_h_lost"]) == pytest.approx(row["gpu_h_lost"], rel=1e-9)
    assert sum(sites["down_h"]) == pytest.approx(row["site_down_h"], rel=1e-9)
    assert all(0.0 <= d <= 24.0 for d in sites["down_h"])


def test_same_scenario_same_tables_with_failures():
    loaded = load_scenario(None, [*EVERYTHING, "horizon_h=72", "scheduler=easy"], seed=3)
    a, b = run_scenario(loaded), run_scenario(loaded)
    assert a.runs.equals(b.runs) and a.sites.equals(b.sites) and a.table("jobs").equals(b.table("jobs"))


def test_when_every_job_finishes_served_is_work_over_speed_plus_lost():
    # A pool-level check with no open jobs left: GPU-h served = sum of work / speed + lost,
    # exactly, whatever the interruptions did.
    engine = Engine()
    rules = ClassRules(level=[0, 1], max_wait_h=[None, None], checkpoint_h=[0.5, None], scale=[1.0, 1.0])
    pool = SchedPool(0, Site(id="s", lat=0, lon=0, gpus=16, sku_speed=2.0), engine, rules, easy=True)
    works = []
    for k in range(60):
        t, g, w, c = k * 0.37, 1 + (k * 7) % 9, 3.0 + (k * 13) % 17, k % 2
        works.append(w)
        engine.call_later(t, lambda _, j=k, t=t, g=g, w=w, c=c: pool.submit(j, g, w, t, c, 0), None)
    for k in range(25):  # interruptions at fixed times, on fixed busy-GPU positions
        engine.call_later(1.0 + k * 1.3, lambda _, u=k: pool.interrupt_gpu(float(u % 16), engine.now), None)
    engine.call_later(9.0, lambda _: pool.set_down(True, engine.now), None)
    engine.call_later(11.0, lambda _: pool.set_down(False, engine.now), None)
    engine.run(until_h=10_000.0)
    assert pool.finished == 60 and pool.interruptions > 5 and pool.lost_gpu_h > 0
    pool.advance(10_000.0)
    assert pool.busy_area == pytest.approx(sum(works) / 2.0 + pool.lost_gpu_h, rel=1e-12)
