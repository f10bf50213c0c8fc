"""Gang allocation and strict FIFO on a hand-made schedule."""

import pytest

from sim.engine import Engine
from sim.site import GpuPool
from topology.model import Site


def _pool(gpus: int, speed: float = 1.0) -> tuple[Engine, GpuPool]:
    engine = Engine()
    return engine, GpuPool(0, Site(id="s", lat=0, lon=0, gpus=gpus, sku_speed=speed), engine)


def _submit_at(engine, pool, t, job_id, gpus, work):
    engine.call_later(t, lambda _: pool.submit(job_id, gpus, work, t, 0, 0), None)


def test_gang_fifo_schedule_matches_hand_computation():
    # 4 GPUs. Jobs (arrival, gpus, work GPU-h -> run time = work / gpus):
    #  0: t=0,   3 GPUs, 6 GPU-h -> runs 0..2
    #  1: t=0.5, 2 GPUs, 2 GPU-h -> needs 2, 1 free: waits; starts at 2, runs 2..3
    #  2: t=1,   1 GPU,  1 GPU-h -> 1 GPU free but job 1 is ahead: strict FIFO, starts at 2, runs 2..3
    #  3: t=1.5, 4 GPUs, 4 GPU-h -> starts when all 4 are free at 3, runs 3..4
    engine, pool = _pool(4)
    jobs = [(0.0, 3, 6.0), (0.5, 2, 2.0), (1.0, 1, 1.0), (1.5, 4, 4.0)]
    for job_id, (t, g, w) in enumerate(jobs):
        _submit_at(engine, pool, t, job_id, g, w)
    engine.run(until_h=10)
    # Waits are recorded in start order, which FIFO makes arrival order.
    starts = [arrival + wait for (arrival, _, _), wait in zip(jobs, pool.waits, strict=True)]
    assert starts == [0.0, 2.0, 2.0, 3.0]
    assert pool.finished == 4 and pool.free == 4
    # Busy GPU-hours: 3*2 + 2*1 + 1*1 + 4*1 = 13.
    pool.advance(10.0)
    assert pool.busy_area == 13.0
    # Waiting: job1 1.5 h, job2 1 h, job3 1.5 h -> 4 job-hours queued.
    assert pool.queue_area == 4.0


def test_run_time_scales_with_sku_speed():
    engine, pool = _pool(8, speed=2.0)
    _submit_at(engine, pool, 0.0, 0, 4, 16.0)  # 16 / (4 * 2) = 2 h
    engine.run(until_h=1.999)
    assert pool.finished == 0
    engine.run(until_h=2.001)
    assert pool.finished == 1
    assert pool.done_gpu_h == 8.0 and pool.done_work_gpu_h == 16.0


def test_running_gpu_hours_at_a_cut():
    engine, pool = _pool(8)
    _submit_at(engine, pool, 0.0, 0, 2, 20.0)  # runs 0..10
    _submit_at(engine, pool, 1.0, 1, 4, 8.0)  # runs 1..3
    engine.run(until_h=5.0)
    pool.advance(5.0)
    assert pool.running_gpu_h(5.0) == 10.0
    assert pool.busy_area == pool.done_gpu_h + pool.running_gpu_h(5.0)


def test_a_fifo_pool_has_no_task_records_and_no_failures():
    pool = GpuPool(0, Site(id="s", lat=0, lon=0, gpus=4), Engine())
    with pytest.raises(TypeError, match="'s': a FIFO GpuPool keeps no task records"):
        pool.unfinished_tasks()
    with pytest.raises(TypeError, match="'s': a FIFO GpuPool has no failures"):
        pool.set_down(True, 0.0)
    with pytest.raises(TypeError, match="'s': a FIFO GpuPool has no failures"):
        pool.interrupt_gpu(0.0, 0.0)


def test_logged_pool_rows_by_hand_with_a_capacity_step_and_jobs_left_at_the_horizon():
    # LoggedGpuPool: the start time rides on the finish call, and jobs still running at the horizon
    # are read back from the pending finish calls (in start order).  1 GPU, then 2 from DAY1 on
    # (a capacity step: sim.capacity_timeline -> GpuPool._admit, the third way a job starts):
    #  0: t=0,  1 GPU, 30 GPU-h -> runs 0..30
    #  1: t=1,  1 GPU, 2 GPU-h  -> waits; the added GPU starts it at DAY1 (24.02 h), runs to DAY1 + 2
    #  2: t=2,  1 GPU, 100 GPU-h -> waits; first in line when job 1 ends: starts at DAY1 + 2, running at 50
    #  3: t=3,  1 GPU, 1 GPU-h  -> waits; starts when job 0 ends at 30, runs to 31
    #  4: t=40, 1 GPU, 50 GPU-h -> starts at 40 on the free GPU, still running at 50
    #  5: t=45, 1 GPU, 1 GPU-h  -> both GPUs busy: queued at 50
    # Rows: finished jobs in the order they ended, then the rest by job id.
    from sim.capacity_timeline import install
    from sim.job_log import JobLog
    from sim.site import LoggedGpuPool

    day1 = 8766.0 / 365
    engine = Engine()
    site = Site(id="s", lat=0, lon=0, gpus=1,
                timeline=[{"date": "2025-01-01", "gpus": 1}, {"date": "2025-01-02", "gpus": 2}])
    log = JobLog(1.0, ["c"], ["r"], ["s"])
    pool = LoggedGpuPool(0, site, engine, log.fifo_columns())
    install([pool], engine, 2025, 50.0)
    for job_id, (t, work) in enumerate([(0.0, 30.0), (1.0, 2.0), (2.0, 100.0), (3.0, 1.0), (40.0, 50.0),
                                        (45.0, 1.0)]):
        _submit_at(engine, pool, t, job_id, 1, work)
    engine.run(until_h=50.0)
    log.close([pool], 50.0)
    cols = log.columns
    rows = list(zip(cols["job_id"], cols["status"], cols["start_h"], cols["finish_h"], strict=True))
    assert rows == [
        (1, "done", day1, day1 + 2.0),
        (0, "done", 0.0, 30.0),
        (3, "done", 30.0, 31.0),
        (2, "running", day1 + 2.0, None),
        (4, "running", 40.0, None),
        (5, "queued", None, None),
    ]
    assert cols["wait_h"][:5] == [day1 - 1.0, 0.0, 27.0, day1 + 2.0 - 2.0, 0.0]
    assert len(pool.running) == 2 and pool.finished == 3 and pool.started == 5
