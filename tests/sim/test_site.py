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
