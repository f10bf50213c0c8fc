"""A site's queue of one priority level, indexed for EASY backfill.

:class:`IndexedQueue` is the ``deque`` of tasks that :class:`~sim.scheduling.SchedPool`
keeps per priority level, plus one :class:`Bucket` per GPU count: the queued tasks asking
for that many GPUs, in queue order, each with a sequence number that orders all buckets
the way the deque is ordered (appends count up from 1, requeues at the head count down
from 0), and a min-tree over their remaining run times.  The EASY pass
(:func:`sim.backfill.schedule`) merges only the buckets that fit in the free GPUs, in
queue order, and in a bucket whose jobs may not use the head's "extra" GPUs it jumps
straight to the next job short enough to end by the reservation.  It takes the same
decisions as the scan over the whole queue, so every table is unchanged, but visits only
the jobs it could start (benchmarks/README.md, "EASY index").

Only pools with EASY backfill use it; FIFO and priority-only pools keep plain deques.
Every mutating method the pool and its helpers call (``append``, ``appendleft``,
``pop``, ``popleft``, ``remove``, ``extend``, ``extendleft``, ``clear``) keeps the
buckets in step; the others raise, so a new caller cannot desynchronise them silently.
"""

from __future__ import annotations

import math
import sys
from collections import deque
from collections.abc import Iterable
from typing import NoReturn

from sim.task import Task

__all__ = ["ANY_H", "Bucket", "IndexedQueue"]

_INF = math.inf
ANY_H = sys.float_info.max
"""The largest finite limit for :meth:`Bucket.first`: every queued task, never an empty leaf (``inf``)."""


class Bucket:
    """The queued tasks of one GPU count, in queue order, with a min-tree over their remaining run times.

    Slots ``0 … n-1`` hold the tasks in queue order (``None`` once a task has left); leaf
    ``cap + slot`` of :attr:`tree` holds its remaining run time (h) and every inner node
    the minimum of its two children.  A task that leaves only empties its slot: its
    leaf is set to ``inf`` when a search next meets it, so removal is O(1) and each
    stale leaf costs one O(log n) repair once.  Slots are compacted when they run out.

    Parameters
    ----------
    items : list of (int, Task)
        Sequence number and task, in queue order.
    """

    __slots__ = ("cap", "keys", "live", "n", "pos", "tasks", "tree")

    def __init__(self, items: list[tuple[int, Task]]) -> None:
        cap = 16
        while cap < 2 * len(items):
            cap *= 2
        self.cap = cap
        self.tree = tree = [_INF] * (2 * cap)
        self.tasks: list[Task | None] = [None] * cap
        self.keys = [0] * cap
        self.pos: dict[int, int] = {}  # job id -> slot
        for i, (key, task) in enumerate(items):
            tree[cap + i] = task.run_h - task.progress_h
            self.tasks[i] = task
            self.keys[i] = key
            self.pos[task.id] = i
        for i in range(cap - 1, 0, -1):
            left, right = tree[2 * i], tree[2 * i + 1]
            tree[i] = left if left <= right else right
        self.n = self.live = len(items)

    def items(self) -> list[tuple[int, Task]]:
        """(sequence number, task) of every queued task, in queue order."""
        keys = self.keys
        return [(keys[i], t) for i, t in enumerate(self.tasks[:self.n]) if t is not None]

    def add(self, key: int, task: Task) -> Bucket:
        """Queue ``task`` (sequence number ``key``, above every other) last; returns the bucket to keep.

        A new, compacted bucket when the slots have run out.
        """
        i = self.n
        if i == self.cap:
            items = self.items()
            items.append((key, task))
            return Bucket(items)
        self.n = i + 1
        self.live += 1
        self.tasks[i] = task
        self.keys[i] = key
        self.pos[task.id] = i
        value = task.run_h - task.progress_h
        tree = self.tree
        j = i + self.cap
        tree[j] = value
        while j > 1:  # a minimum only falls: stop at the first ancestor already at or below it
            j >>= 1
            if tree[j] <= value:
                break
            tree[j] = value
        return self

    def discard(self, task: Task) -> None:
        """Forget ``task`` (its leaf is repaired lazily by :meth:`first`)."""
        self.tasks[self.pos.pop(task.id)] = None
        self.live -= 1

    def first(self, start: int, limit_h: float) -> int:
        """The first slot ≥ ``start`` holding a task with remaining run time ≤ ``limit_h`` (h); -1 if none.

        ``limit_h`` must be finite (at most :data:`ANY_H`): empty leaves are ``inf``.
        """
        tree, cap, tasks = self.tree, self.cap, self.tasks
        while start < self.n:
            i = start + cap
            while tree[i] > limit_h:  # climb until a right neighbour's subtree has a small enough leaf
                while i & 1:
                    i >>= 1
                    if i <= 1:
                        return -1
                i += 1
            while i < cap:  # descend to the leftmost such leaf
                i <<= 1
                if tree[i] > limit_h:
                    i += 1
            slot = i - cap
            if tasks[slot] is not None:
                return slot
            tree[i] = _INF  # a task that has left: repair its leaf and ancestors, then search on
            while i > 1:
                i >>= 1
                left, right = tree[2 * i], tree[2 * i + 1]
                tree[i] = left if left <= right else right
            start = slot + 1
        return -1


class IndexedQueue(deque[Task]):
    """A FIFO of tasks (a ``deque``) with the tasks also bucketed by GPU count.

    Attributes
    ----------
    buckets : dict of int to Bucket
        GPU count -> the queued tasks of that count.  Sequence numbers increase along
        the queue across every bucket.  A bucket may be empty.

    Examples
    --------
    >>> q = IndexedQueue()
    >>> for i, g in enumerate([8, 1, 8]):
    ...     q.append(Task(i, g, 1.0, 0.0, 0, 0, float(g), 0))
    >>> [(key, t.id) for key, t in q.buckets[8].items()]
    [(1, 0), (3, 2)]
    >>> q.popleft().id, [t.id for _, t in q.buckets[8].items()]
    (0, [2])
    """

    __slots__ = ("_hi", "_lo", "buckets")

    def __init__(self, tasks: Iterable[Task] = ()) -> None:
        super().__init__()
        self.buckets: dict[int, Bucket] = {}
        self._hi = 0  # last sequence number given at the tail
        self._lo = 1  # last sequence number given at the head
        for task in tasks:
            self.append(task)

    def append(self, task: Task) -> None:
        """Queue ``task`` at the tail."""
        super().append(task)
        self._hi += 1
        bucket = self.buckets.get(task.gpus)
        if bucket is None:
            self.buckets[task.gpus] = Bucket([(self._hi, task)])
        else:
            grown = bucket.add(self._hi, task)
            if grown is not bucket:
                self.buckets[task.gpus] = grown

    def appendleft(self, task: Task) -> None:
        """Queue ``task`` at the head (an interrupted job's requeue).

        Costs the length of its bucket (the bucket is rebuilt with ``task`` first); a
        requeue is rare next to arrivals and starts.
        """
        super().appendleft(task)
        self._lo -= 1
        old = self.buckets.get(task.gpus)
        self.buckets[task.gpus] = Bucket([(self._lo, task), *(old.items() if old is not None else ())])

    def pop(self) -> Task:  # type: ignore[override]  # deque.pop takes no index
        """Remove and return the tail."""
        task = super().pop()
        self.buckets[task.gpus].discard(task)
        return task

    def popleft(self) -> Task:
        """Remove and return the head."""
        task = super().popleft()
        self.buckets[task.gpus].discard(task)
        return task

    def remove(self, task: Task) -> None:
        """Remove ``task`` (identity: tasks do not define equality)."""
        super().remove(task)
        self.buckets[task.gpus].discard(task)

    def extend(self, tasks: Iterable[Task]) -> None:
        """Queue ``tasks`` at the tail, in order."""
        for task in tasks:
            self.append(task)

    def extendleft(self, tasks: Iterable[Task]) -> None:
        """Queue each of ``tasks`` at the head in turn (so they end up reversed), as ``deque.extendleft``."""
        for task in tasks:
            self.appendleft(task)

    def clear(self) -> None:
        """Empty the queue."""
        super().clear()
        self.buckets.clear()

    def _unsupported(self, *_: object) -> NoReturn:
        raise NotImplementedError("IndexedQueue supports append/appendleft/pop/popleft/remove/extend/clear only")

    insert = _unsupported
    rotate = _unsupported
    reverse = _unsupported
    __setitem__ = _unsupported
    __delitem__ = _unsupported
    __iadd__ = _unsupported
