"""Failures at a :class:`~sim.scheduling.SchedPool`: interrupted jobs, GPU failures and outages.

Functions of the pool (called through its methods ``interrupt``, ``interrupt_gpu`` and
``set_down``), kept apart from the pool's bookkeeping so that each module has one job.
The failure actors (:mod:`sim.failures`) call them; ``docs/model.md`` (Failures) has the
rules.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.backfill import schedule
from sim.task import Task

if TYPE_CHECKING:
    from sim.scheduling import SchedPool

__all__ = ["interrupt", "interrupt_gpu", "set_down"]


def interrupt(pool: SchedPool, task: Task, now: float) -> None:
    """Stop running ``task`` at ``now`` (h): account lost work, requeue it at the head or fail it.

    The work since its last checkpoint is lost; its checkpointed progress is kept.
    """
    pool.advance(now)
    gpus = task.gpus
    ran = now - task.start_h
    total = task.progress_h + ran
    interval = pool.rules.checkpoint_h[task.cls]
    saved = math.floor(total / interval) * interval if interval is not None else 0.0
    saved = max(task.progress_h, min(saved, total))
    lost = gpus * (total - saved)
    pool.free += gpus
    if pool.load_watch is not None:  # a drop when the job fails (a requeue keeps the load)
        pool.load_watch.add(pool.index)
    del pool.running[task.id]
    del pool.tasks[task.id]
    pool.interrupted_gpu_h += gpus * ran
    pool.interruptions += 1
    task.progress_h = saved
    task.lost_gpu_h += lost
    pool.lost_gpu_h += lost
    pool._resv = None
    again = task.requeued()
    again.restarts += 1
    if pool.max_restarts is not None and again.restarts > pool.max_restarts:
        # Given up: its checkpointed progress is wasted too.
        wasted = gpus * again.progress_h
        again.lost_gpu_h += wasted
        pool.lost_gpu_h += wasted
        again.progress_h = 0.0
        pool.failed += 1
        pool.failed_real += pool.rules.scale[again.cls]
        if pool.log is not None:
            pool.log.record(again, pool.index, "failed", now)
        return
    pool.levels[again.level].appendleft(again)
    pool.nqueued += 1
    pool.queued_gpus += gpus


def interrupt_gpu(pool: SchedPool, gpu: float, now: float) -> bool:
    """A GPU failure: interrupt the running job holding busy GPU number ``gpu`` (0 ≤ gpu < busy).

    Running jobs are laid end to end in start order; returns False (nothing
    interrupted) when ``gpu`` is not below the busy GPU count or the site is down
    (an outage has interrupted every job already).
    """
    if pool.down:
        return False
    for task in pool.tasks.values():
        if gpu < task.gpus:
            interrupt(pool, task, now)
            schedule(pool, now)
            return True
        gpu -= task.gpus
    return False


def set_down(pool: SchedPool, down: bool, now: float) -> None:
    """Start (``down=True``) or end an outage at ``now`` (h).

    An outage interrupts every running job (they requeue at the head of their
    queues in their start order) and starts nothing until it ends.
    """
    if down == pool.down:
        return
    pool.advance(now)
    if down:
        pool.down, pool.down_since = True, now
        # Latest-started first, each to the head: the earliest-started ends up first.
        for task in sorted(pool.tasks.values(), key=lambda t: (t.start_h, t.id), reverse=True):
            interrupt(pool, task, now)
    else:
        pool.down = False
        pool.down_h += now - pool.down_since
        pool._resv = None
        schedule(pool, now)
