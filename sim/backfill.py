"""The scheduling pass of a :class:`~sim.scheduling.SchedPool`: heads in priority order, then EASY backfill.

Functions of the pool (called by it as ``head_of(pool)`` and ``schedule(pool, now)``; ``reservation``
through its method ``_reservation``), kept apart from the pool's bookkeeping so that each module has one job.  See
:class:`~sim.scheduling.SchedPool` for the rules and ``docs/model.md`` (Sites) for the
equations.
"""

from __future__ import annotations

import math
from heapq import heapify, heapreplace
from typing import TYPE_CHECKING

from sim.engine import CALL, heappop, heappush, next_id
from sim.queue_index import ANY_H, Bucket, IndexedQueue
from sim.task import Task

if TYPE_CHECKING:
    from sim.scheduling import SchedPool

__all__ = ["head_of", "reservation", "schedule"]


def head_of(pool: SchedPool) -> Task | None:
    """The head of the highest non-empty priority queue."""
    for q in pool.levels:
        if q:
            return q[0]
    return None


def reservation(pool: SchedPool, head: Task, now: float) -> tuple[float, int]:
    """(time h, extra GPUs): when ``head`` can start, from the running jobs' finish times.

    Extra GPUs are those free at that time beyond what the head needs.
    """
    cached = pool._resv
    if cached is not None and cached[0] is head:
        return cached[1], cached[2]
    avail = pool.free
    shadow, extra = math.inf, 0
    if head.gpus <= avail:
        shadow, extra = now, avail - head.gpus
    else:
        for end, gpus in sorted((t.end_h, t.gpus) for t in pool.tasks.values()):
            avail += gpus
            if avail >= head.gpus:
                shadow, extra = end, avail - head.gpus
                break
    pool._resv = (head, shadow, extra)
    return shadow, extra


def schedule(pool: SchedPool, now: float) -> None:
    """Start what can start: heads in priority order, then (EASY) backfill around the blocked head."""
    if pool.down:
        return
    head = None
    free = pool.free
    for q in pool.levels:
        if q and q[0].gpus <= free:
            # _dequeued and _start inlined for the heads the freed GPUs let in: most
            # starts at high load come through here (benchmarks/mmc.py, "cpnsim, every
            # job recorded").
            pool._resv = None
            running, tasks, waits, heap, eid, on_finish = (
                pool.running, pool.tasks, pool.waits, pool._heap, pool._eid, pool._on_finish)
            while q and q[0].gpus <= free:
                task = q.popleft()
                gpus = task.gpus
                pool.nqueued -= 1
                pool.queued_gpus -= gpus
                free -= gpus
                if task.first_start_h is None:
                    task.first_start_h = now
                    task.deadline_h = None
                    pool.started += 1
                    waits.append(now - task.arrival_h)
                    if pool.deadline_watch is not None:
                        pool.deadline_watch(task.id, task.cls, now - task.arrival_h)
                task.start_h = now
                task.end_h = end = now + (task.run_h - task.progress_h)
                job_id = task.id
                running[job_id] = gpus * now
                tasks[job_id] = task
                heappush(heap, (end, CALL, next_id(eid), (on_finish, task)))  # call_at inlined (sim.engine)
            pool.free = free
        if q:
            head = q[0]
            break
    if head is None or not pool.easy or not pool.free:
        return
    shadow, extra = pool._reservation(head, now)
    free = pool.free
    for q in pool.levels:
        if not free:
            break
        if isinstance(q, IndexedQueue):
            free, extra = _backfill_indexed(pool, q, head, now, free, shadow, extra)
            continue
        go: list[Task] = []
        scanned = 0
        for task in q:
            scanned += 1
            gpus = task.gpus
            if gpus > free or task is head:
                continue
            if now + (task.run_h - task.progress_h) > shadow:
                if gpus > extra:
                    continue
                extra -= gpus  # runs past the reservation: only on GPUs the head will not need
            go.append(task)
            free -= gpus
            if not free:
                break  # nothing more fits (every job asks for at least one GPU)
        if go:
            # Rebuild only the scanned prefix of the queue, not the whole queue: with the
            # early stop above, a backfill costs the jobs looked at, not the queue length
            # (benchmarks/README.md, "EASY backfill and queue length").
            ids = {t.id for t in go}
            prefix = [q.popleft() for _ in range(scanned)]
            q.extendleft(reversed([t for t in prefix if t.id not in ids]))
            for task in go:
                pool._dequeued(task)
                pool._start(task, now)
    pool._resv = (head, shadow, extra)


def _backfill_indexed(pool: SchedPool, q: IndexedQueue, head: Task, now: float, free: int, shadow: float,
                      extra: int) -> tuple[int, int]:
    """The EASY pass over one level through its GPU-count buckets; returns ``(free, extra)`` after it.

    Visits, in queue order, only tasks the scan in :func:`schedule` could start: none of
    a bucket that does not fit in the GPUs still free (``free`` only falls during a pass,
    so a bucket that stops fitting is dropped for good), and in a bucket too large for
    the extra GPUs only tasks whose remaining run ends by the reservation, found through
    the bucket's min-tree.  The decisions are the scan's, tested exactly on each task
    visited.  Cost: the tasks started plus O(log queue) each, not the queue length
    (benchmarks/README.md, "EASY index": the overloaded 64-GPU site).
    """
    # The tree holds run_h - progress_h; the scan tests now + that > shadow.  A margin far
    # above float rounding keeps the tree a superset filter; the exact test decides.
    short_h = min(shadow - now + 1e-9 * (abs(shadow) + abs(now) + 1.0), ANY_H)
    merge: list[tuple[int, int, int, Bucket]] = []
    for gpus, bucket in q.buckets.items():
        if gpus <= free and bucket.live:
            slot = bucket.first(0, ANY_H if gpus <= extra else short_h)
            if slot >= 0:
                merge.append((bucket.keys[slot], gpus, slot, bucket))  # keys are unique: buckets never compared
    heapify(merge)
    go: list[Task] = []
    while merge:
        _, gpus, slot, bucket = merge[0]
        if gpus > free:
            heappop(merge)
            continue
        task = bucket.tasks[slot]
        assert task is not None  # first() returns occupied slots, and nothing leaves during the pass
        if task is not head:
            if now + (task.run_h - task.progress_h) > shadow:
                take = gpus <= extra
                if take:
                    extra -= gpus  # runs past the reservation: only on GPUs the head will not need
            else:
                take = True
            if take:
                go.append(task)
                free -= gpus
                if not free:
                    break  # nothing more fits (every job asks for at least one GPU)
        slot = bucket.first(slot + 1, ANY_H if gpus <= extra else short_h)
        if slot < 0:
            heappop(merge)
        else:
            heapreplace(merge, (bucket.keys[slot], gpus, slot, bucket))
    for task in go:  # after the pass: the buckets are not changed while they are searched
        q.remove(task)
        pool._dequeued(task)
        pool._start(task, now)
    return free, extra
