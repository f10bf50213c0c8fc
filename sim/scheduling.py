"""Scheduling at a site beyond strict FIFO: priority queues, EASY backfill, a maximum wait, failures.

:class:`SchedPool` extends the lean FIFO :class:`sim.site.GpuPool` and is used only
for sites where one of these features is on (:func:`build_pools` decides), so the FIFO
hot path pays nothing for them.  It is still callback-driven: no process per job, one
finish call per run of a job, and a single pending timer per site for the maximum wait.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from heapq import heappop, heappush
from typing import TYPE_CHECKING

from simpy.events import NORMAL

from sim.engine import Engine
from sim.site import GpuPool, Outcome
from topology.model import Site

if TYPE_CHECKING:
    from sim.metrics import JobLog
    from sim.scenario import Scenario
    from topology.model import Network

__all__ = ["ClassRules", "SchedPool", "Task", "build_pools", "class_rules"]


@dataclass(frozen=True)
class ClassRules:
    """How a site's scheduler treats each job class (lists indexed by class).

    Attributes
    ----------
    level : list of int
        Queue of each class: 0 is the highest priority; classes of equal priority
        share one FIFO queue.
    max_wait_h : list of float or None
        Longest wait before a job leaves unmet (h); ``None``: no limit.
    checkpoint_h : list of float or None
        Run time between checkpoints (h); ``None``: an interrupted job restarts from zero.
    scale : list of float
        Real jobs per simulated job.
    """

    level: list[int]
    max_wait_h: list[float | None]
    checkpoint_h: list[float | None]
    scale: list[float]

    @property
    def levels(self) -> int:
        """Number of priority queues."""
        return max(self.level) + 1 if self.level else 1


class Task:
    """A job at a :class:`SchedPool`: mutable, since it may wait, run, be interrupted and run again.

    Times are on the simulation clock (h); ``run_h`` is the job's whole run time at
    this site and ``progress_h`` the part of it saved by checkpoints.
    """

    __slots__ = (
        "arrival_h", "cls", "dead", "deadline_h", "end_h", "first_start_h", "gpus", "id", "level",
        "lost_gpu_h", "origin", "progress_h", "restarts", "run_h", "start_h", "work",
    )

    def __init__(self, job_id: int, gpus: int, run_h: float, arrival_h: float, cls: int, origin: int,
                 work: float, level: int) -> None:
        self.id = job_id
        self.gpus = gpus
        self.run_h = run_h
        self.arrival_h = arrival_h
        self.cls = cls
        self.origin = origin
        self.work = work
        self.level = level
        self.progress_h = 0.0
        self.start_h = math.nan
        self.end_h = math.nan
        self.first_start_h: float | None = None
        self.deadline_h: float | None = None  # set while queued before the first start
        self.restarts = 0
        self.lost_gpu_h = 0.0
        self.dead = False  # an interrupted incarnation: its pending finish event is ignored

    def requeued(self) -> Task:
        """A fresh incarnation of this task (after an interruption): same job, same progress."""
        t = Task(self.id, self.gpus, self.run_h, self.arrival_h, self.cls, self.origin, self.work, self.level)
        t.progress_h, t.first_start_h, t.restarts, t.lost_gpu_h = (
            self.progress_h, self.first_start_h, self.restarts, self.lost_gpu_h)
        self.dead = True
        return t


class SchedPool(GpuPool):
    """A GPU pool with priority queues, optional EASY backfill, a maximum wait and failures.

    Used for a site whenever any of these features is on (see :func:`build_pools`);
    with all of them off it gives the same schedule as :class:`GpuPool`, which stays
    the lean hot path.

    * **Priorities**: one FIFO queue per priority level; the head of the highest
      non-empty level blocks every lower level (non-preemptive).
    * **EASY backfill** (``easy``): the blocked head gets a reservation at the
      earliest time enough GPUs free up, from the running jobs' finish times (known
      exactly: run times are not estimates).  A later job starts now if it fits in the
      free GPUs and either finishes by the reservation or uses only GPUs the head will
      not need then ("extra" GPUs).
    * **Maximum wait**: a job not started within its class's ``max_wait_h`` leaves
      unmet.  One heap of deadlines and a single pending timer at the earliest one.
    * **Interruptions**: :meth:`interrupt` and :meth:`set_down` (outages) stop running
      jobs, account the work since their last checkpoint as lost and requeue them at
      the head of their queue.

    Parameters
    ----------
    index, site, engine
        As for :class:`GpuPool`.
    rules : ClassRules
        Per-class queue, maximum wait, checkpoint interval and scale.
    easy : bool
        EASY backfill on.
    max_restarts : int, optional
        A job interrupted more often than this fails; ``None``: it always restarts.
    log : JobLog, optional
        Receives a row for each job that ends (done, failed, unmet).
    """

    __slots__ = (
        "_expiry", "_resv", "_timer_at", "done_full_gpu_h", "down", "down_h", "down_since", "easy", "failed",
        "failed_real", "interrupted_gpu_h", "interruptions", "levels", "log", "lost_gpu_h", "max_restarts", "nqueued",
        "rules", "tasks", "totals_real", "unmet", "unmet_work_gpu_h",
    )

    def __init__(self, index: int, site: Site, engine: Engine, rules: ClassRules, *, easy: bool = False,
                 max_restarts: int | None = None, log: JobLog | None = None) -> None:
        super().__init__(index, site, engine)
        self.rules = rules
        self.easy = easy
        self.max_restarts = max_restarts
        self.log = log
        self.levels: list[deque[Task]] = [deque() for _ in range(rules.levels)]
        self.nqueued = 0
        self.tasks: dict[int, Task] = {}  # running, by job id
        self.down = False
        self.down_since = 0.0
        self.down_h = 0.0
        self.unmet = 0
        self.unmet_work_gpu_h = 0.0
        self.failed = 0
        self.failed_real = 0.0
        self.interruptions = 0
        self.lost_gpu_h = 0.0
        self.interrupted_gpu_h = 0.0  # GPU-h of run segments ended by an interruption
        self.done_full_gpu_h = 0.0  # whole run time x GPUs of finished jobs (all their segments)
        # Real-unit sums: arrived, done, unmet jobs; done and unmet work (reference GPU-h).
        self.totals_real = [0.0, 0.0, 0.0, 0.0, 0.0]
        self._expiry: list[tuple[float, int, Task]] = []  # (deadline h, job id, task), lazily pruned
        self._timer_at = math.inf  # time of the earliest pending expiry timer
        self._resv: tuple[Task, float, int] | None = None  # cached (head, reservation h, extra GPUs)

    # -- state --------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Bring the time integrals up to ``now`` (hours)."""
        dt = now - self.t_last
        if dt:
            self.busy_area += (self.total - self.free) * dt
            self.queue_area += self.nqueued * dt
            self.t_last = now

    def queue_length(self) -> int:
        """Jobs waiting now (interrupted jobs waiting to restart included)."""
        return self.nqueued

    def running_gpu_h(self, now: float) -> float:
        """GPU-hours the running jobs' current run segments have consumed up to ``now``."""
        return sum(t.gpus * (now - t.start_h) for t in self.tasks.values())

    def queued(self) -> list[Task]:
        """Every waiting task, highest priority first, in queue order."""
        return [t for q in self.levels for t in q]

    def outcome(self, now: float) -> Outcome:
        """Whole-run outcome counters up to ``now`` (h)."""
        running = sum(t.gpus * (t.progress_h + now - t.start_h) for t in self.tasks.values())
        saved = sum(t.gpus * t.progress_h for t in self.queued())
        r = self.totals_real
        down_h = self.down_h + (now - self.down_since if self.down else 0.0)
        return Outcome(
            unmet=self.unmet, unmet_work_gpu_h=self.unmet_work_gpu_h, failed=self.failed,
            interruptions=self.interruptions, lost_gpu_h=self.lost_gpu_h,
            useful_gpu_h=self.done_full_gpu_h + running + saved, down_h=down_h, arrived_real=r[0], done_real=r[1],
            unmet_real=r[2], failed_real=self.failed_real, done_work_real_gpu_h=r[3], unmet_work_real_gpu_h=r[4],
        )

    # -- arrivals, starts, finishes ---------------------------------------------------------
    def submit(self, job_id: int, gpus: int, work_gpu_h: float, now: float, cls: int, origin: int) -> None:
        """A job arrives at time ``now`` (h): start it, backfill it, or queue it."""
        dt = now - self.t_last
        if dt:  # advance() inlined: this is the hot path
            self.busy_area += (self.total - self.free) * dt
            self.queue_area += self.nqueued * dt
            self.t_last = now
        self.arrived += 1
        rules = self.rules
        self.totals_real[0] += rules.scale[cls]
        level = rules.level[cls]
        run_h = work_gpu_h / (gpus * self.speed)
        task = Task(job_id, gpus, run_h, now, cls, origin, work_gpu_h, level)
        levels = self.levels
        # nqueued == 0 means every queue is empty: the common case skips the scan of the levels.
        if not self.down and gpus <= self.free and (not self.nqueued or not any(levels[k] for k in range(level + 1))):
            # _start inlined for a new task (first start, no progress, waited 0 h): most jobs start on arrival.
            self.free -= gpus
            task.first_start_h = task.start_h = now
            self.started += 1
            self.waits.append(0.0)
            task.end_h = end = now + run_h
            self.running[job_id] = gpus * now
            self.tasks[job_id] = task
            heappush(self._heap, (end, NORMAL, next(self._eid), (self._on_finish, task)))
            self._resv = None
            return
        levels[level].append(task)
        self.nqueued += 1
        self.queued_gpus += gpus
        max_wait = rules.max_wait_h[cls]
        if max_wait is not None:
            task.deadline_h = now + max_wait
            heappush(self._expiry, (task.deadline_h, job_id, task))
            if task.deadline_h < self._timer_at:
                self._timer_at = task.deadline_h
                self.engine.call_later(max_wait, self._expire, None)
        if self.easy and not self.down and gpus <= self.free:
            head = self._head()
            if head is not task and head is not None:
                shadow, extra = self._reservation(head, now)
                end = now + task.run_h
                if end <= shadow or gpus <= extra:
                    levels[level].pop()  # it is the tail of its queue
                    self._dequeued(task)
                    self._start(task, now)
                    self._resv = (head, shadow, extra if end <= shadow else extra - gpus)

    def _dequeued(self, task: Task) -> None:
        self.nqueued -= 1
        self.queued_gpus -= task.gpus

    def _start(self, task: Task, now: float) -> None:
        gpus = task.gpus
        self.free -= gpus
        if task.first_start_h is None:
            task.first_start_h = now
            task.deadline_h = None
            self.started += 1
            self.waits.append(now - task.arrival_h)
        task.start_h = now
        task.end_h = end = now + (task.run_h - task.progress_h)
        self.running[task.id] = gpus * now
        self.tasks[task.id] = task
        heappush(self._heap, (end, NORMAL, next(self._eid), (self._on_finish, task)))

    def _finish(self, task: Task) -> None:  # type: ignore[override]
        if task.dead:
            return  # an interrupted run's finish event
        now = self.env._now
        gpus = task.gpus
        dt = now - self.t_last
        if dt:  # advance() inlined
            self.busy_area += (self.total - self.free) * dt
            self.queue_area += self.nqueued * dt
            self.t_last = now
        self.free += gpus
        job_id = task.id
        del self.running[job_id]
        del self.tasks[job_id]
        self.finished += 1
        self.done_gpu_h += gpus * (now - task.start_h)
        self.done_full_gpu_h += gpus * task.run_h
        work = task.work
        self.done_work_gpu_h += work
        scale = self.rules.scale[task.cls]
        totals = self.totals_real
        totals[1] += scale
        totals[3] += work * scale
        if self.log is not None:
            self.log.record(task, self.index, "done", now)
        self._resv = None
        if self.nqueued:
            self._schedule(now)

    # -- the scheduling pass --------------------------------------------------------------
    def _head(self) -> Task | None:
        """The head of the highest non-empty priority queue."""
        for q in self.levels:
            if q:
                return q[0]
        return None

    def _reservation(self, head: Task, now: float) -> tuple[float, int]:
        """(time h, extra GPUs): when ``head`` can start, from the running jobs' finish times.

        Extra GPUs are those free at that time beyond what the head needs.
        """
        cached = self._resv
        if cached is not None and cached[0] is head:
            return cached[1], cached[2]
        avail = self.free
        shadow, extra = math.inf, 0
        if head.gpus <= avail:
            shadow, extra = now, avail - head.gpus
        else:
            for end, gpus in sorted((t.end_h, t.gpus) for t in self.tasks.values()):
                avail += gpus
                if avail >= head.gpus:
                    shadow, extra = end, avail - head.gpus
                    break
        self._resv = (head, shadow, extra)
        return shadow, extra

    def _schedule(self, now: float) -> None:
        """Start what can start: heads in priority order, then (EASY) backfill around the blocked head."""
        if self.down:
            return
        head = None
        for q in self.levels:
            while q and q[0].gpus <= self.free:
                task = q.popleft()
                self._dequeued(task)
                self._start(task, now)
                self._resv = None
            if q:
                head = q[0]
                break
        if head is None or not self.easy or not self.free:
            return
        shadow, extra = self._reservation(head, now)
        free = self.free
        for k, q in enumerate(self.levels):
            if not free:
                break
            go: list[Task] = []
            for task in q:
                gpus = task.gpus
                if gpus > free or task is head:
                    continue
                if now + (task.run_h - task.progress_h) > shadow:
                    if gpus > extra:
                        continue
                    extra -= gpus  # runs past the reservation: only on GPUs the head will not need
                go.append(task)
                free -= gpus
            if go:
                ids = {t.id for t in go}
                self.levels[k] = deque(t for t in q if t.id not in ids)
                for task in go:
                    self._dequeued(task)
                    self._start(task, now)
        self._resv = (head, shadow, extra)

    # -- maximum wait ---------------------------------------------------------------------------
    def _expire(self, _: None) -> None:
        """Timer: jobs whose maximum wait has passed leave unmet; then rearm for the next deadline."""
        now = self.env._now
        self.engine.events += 1
        if now >= self._timer_at:
            self._timer_at = math.inf
        expiry = self._expiry
        left = False
        while expiry and expiry[0][0] <= now:
            deadline, _job_id, task = heappop(expiry)
            if task.deadline_h != deadline or task.dead:
                continue  # started (or requeued) since
            if not left:
                self.advance(now)
                left = True
            self.levels[task.level].remove(task)
            self._dequeued(task)
            task.deadline_h = None
            self.unmet += 1
            self.unmet_work_gpu_h += task.work
            scale = self.rules.scale[task.cls]
            self.totals_real[2] += scale
            self.totals_real[4] += task.work * scale
            if self.log is not None:
                self.log.record(task, self.index, "unmet", now)
        while expiry and expiry[0][2].deadline_h != expiry[0][0]:
            heappop(expiry)  # drop entries of tasks that started
        if expiry and expiry[0][0] < self._timer_at:
            self._timer_at = expiry[0][0]
            self.engine.call_later(self._timer_at - now, self._expire, None)
        if left:
            self._resv = None
            self._schedule(now)

    # -- failures -------------------------------------------------------------------------------
    def interrupt(self, task: Task, now: float) -> None:
        """Stop running ``task`` at ``now`` (h): account lost work, requeue it at the head or fail it.

        The work since its last checkpoint is lost; its checkpointed progress is kept.
        """
        self.advance(now)
        gpus = task.gpus
        ran = now - task.start_h
        total = task.progress_h + ran
        interval = self.rules.checkpoint_h[task.cls]
        saved = math.floor(total / interval) * interval if interval is not None else 0.0
        saved = max(task.progress_h, min(saved, total))
        lost = gpus * (total - saved)
        self.free += gpus
        del self.running[task.id]
        del self.tasks[task.id]
        self.interrupted_gpu_h += gpus * ran
        self.interruptions += 1
        task.progress_h = saved
        task.lost_gpu_h += lost
        self.lost_gpu_h += lost
        self._resv = None
        again = task.requeued()
        again.restarts += 1
        if self.max_restarts is not None and again.restarts > self.max_restarts:
            # Given up: its checkpointed progress is wasted too.
            wasted = gpus * again.progress_h
            again.lost_gpu_h += wasted
            self.lost_gpu_h += wasted
            again.progress_h = 0.0
            self.failed += 1
            self.failed_real += self.rules.scale[again.cls]
            if self.log is not None:
                self.log.record(again, self.index, "failed", now)
            return
        self.levels[again.level].appendleft(again)
        self.nqueued += 1
        self.queued_gpus += gpus

    def interrupt_gpu(self, gpu: float, now: float) -> bool:
        """A GPU failure: interrupt the running job holding busy GPU number ``gpu`` (0 ≤ gpu < busy).

        Running jobs are laid end to end in start order; returns False (nothing
        interrupted) when ``gpu`` is not below the busy GPU count.
        """
        for task in self.tasks.values():
            if gpu < task.gpus:
                self.interrupt(task, now)
                self._schedule(now)
                return True
            gpu -= task.gpus
        return False

    def set_down(self, down: bool, now: float) -> None:
        """Start (``down=True``) or end an outage at ``now`` (h).

        An outage interrupts every running job (they requeue at the head of their
        queues in their start order) and starts nothing until it ends.
        """
        if down == self.down:
            return
        self.advance(now)
        if down:
            self.down, self.down_since = True, now
            # Latest-started first, each to the head: the earliest-started ends up first.
            for task in sorted(self.tasks.values(), key=lambda t: (t.start_h, t.id), reverse=True):
                self.interrupt(task, now)
        else:
            self.down = False
            self.down_h += now - self.down_since
            self._resv = None
            self._schedule(now)


def class_rules(scenario: Scenario) -> ClassRules:
    """The per-class scheduling rules of ``scenario``'s workload (classes in file order)."""
    classes = list(scenario.workload.values())
    priorities = sorted({c.priority for c in classes}, reverse=True)
    return ClassRules(
        level=[priorities.index(c.priority) for c in classes],
        max_wait_h=[c.max_wait_h for c in classes],
        checkpoint_h=[c.checkpoint_interval_h for c in classes],
        scale=[c.scale for c in classes],
    )


def build_pools(scenario: Scenario, network: Network, engine: Engine, log: JobLog | None = None) -> list[GpuPool]:
    """One pool per site: the lean FIFO :class:`GpuPool`, or a :class:`SchedPool` where a feature needs it.

    A site gets a ``SchedPool`` when it backfills (``scheduler = "easy"``), has
    failures, or the workload has more than one priority, a maximum wait or a scale
    other than 1, or the ``jobs`` table is on; otherwise the FIFO pool, whose schedule
    is the same.
    """
    rules = class_rules(scenario)
    workload_needs = (
        rules.levels > 1 or any(w is not None for w in rules.max_wait_h) or any(x != 1.0 for x in rules.scale)
        or log is not None
    )
    pools: list[GpuPool] = []
    for i, site in enumerate(network.sites):
        override = scenario.sites.get(site.id)
        scheduler = (override.scheduler if override is not None else None) or scenario.scheduler
        failures = scenario.failures.for_site(site.id)
        if workload_needs or scheduler == "easy" or failures.active:
            pools.append(SchedPool(i, site, engine, rules, easy=scheduler == "easy",
                                   max_restarts=failures.max_restarts, log=log))
        else:
            pools.append(GpuPool(i, site, engine))
    return pools
