"""Scheduling at a site beyond strict FIFO: priority queues, EASY backfill, a maximum wait, failures.

:class:`SchedPool` extends the lean FIFO :class:`sim.site.GpuPool` and is used only
for sites where one of these features is on (:func:`sim.site_pools.build_pools` decides), so the FIFO
hot path pays nothing for them.  It is still callback-driven: no process per job, one
finish call per run of a job, and a single pending timer per site for the maximum wait.
The scheduling pass (heads in priority order, EASY backfill) is in :mod:`sim.backfill`
and failures in :mod:`sim.interruptions`; both are bound here as the pool's methods.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection

from sim.backfill import head_of, reservation, schedule
from sim.engine import CALL, Engine, heappop, heappush, next_id
from sim.interruptions import interrupt, interrupt_gpu, set_down
from sim.pool import JobRecorder, Outcome
from sim.queue_index import IndexedQueue
from sim.site import GpuPool
from sim.task import ClassRules, Task
from topology.model import Site

__all__ = ["SchedPool"]


class SchedPool(GpuPool):
    """A GPU pool with priority queues, optional EASY backfill, a maximum wait and failures.

    Used for a site whenever any of these features is on (see :func:`sim.site_pools.build_pools`);
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
    log : JobRecorder, optional
        Receives a row for each job that ends (done, failed, unmet).
    """

    __slots__ = (
        "_expiry", "_resv", "_timer_at", "done_full_gpu_h", "down", "down_h", "down_since", "easy", "failed",
        "failed_real", "interrupted_gpu_h", "interruptions", "levels", "log", "lost_gpu_h", "max_restarts", "nqueued",
        "rules", "tasks", "totals_real", "unmet", "unmet_work_gpu_h",
    )

    def __init__(self, index: int, site: Site, engine: Engine, rules: ClassRules, *, easy: bool = False,
                 max_restarts: int | None = None, log: JobRecorder | None = None) -> None:
        super().__init__(index, site, engine)
        self.rules = rules
        self.easy = easy
        self.max_restarts = max_restarts
        self.log = log
        # EASY pools index their queues by GPU count (sim.queue_index), so a backfill pass visits
        # only jobs that fit; the others keep plain deques (no bookkeeping per append).
        self.levels: list[deque[Task]] = [IndexedQueue() if easy else deque() for _ in range(rules.levels)]
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

    def unfinished_tasks(self) -> tuple[Collection[Task], list[Task]]:
        """(running, queued) tasks now: running in start order, queued as :meth:`queued`."""
        return self.tasks.values(), self.queued()

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
        if self.load_watch is not None:
            self.load_watch.add(self.index)
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
            # call_at's entry pushed inline (sim.engine's contract): one Python frame fewer per job
            # (benchmarks/README.md, "Issue 20, fifth slice: the per-job path").
            heappush(self._heap, (end, CALL, next_id(self._eid), (self._on_finish, task)))
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
            head = head_of(self)
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
            if self.deadline_watch is not None:
                self.deadline_watch(task.id, task.cls, now - task.arrival_h)
        task.start_h = now
        task.end_h = end = now + (task.run_h - task.progress_h)
        self.running[task.id] = gpus * now
        self.tasks[task.id] = task
        heappush(self._heap, (end, CALL, next_id(self._eid), (self._on_finish, task)))  # call_at inlined

    def _finish(self, task: Task) -> None:  # type: ignore[override]
        if task.dead:
            return  # an interrupted run's finish event
        now = self.engine.now_h
        gpus = task.gpus
        dt = now - self.t_last
        if dt:  # advance() inlined
            self.busy_area += (self.total - self.free) * dt
            self.queue_area += self.nqueued * dt
            self.t_last = now
        self.free += gpus
        if self.load_watch is not None:
            self.load_watch.add(self.index)
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
            schedule(self, now)

    # -- maximum wait ---------------------------------------------------------------------------
    def _expire(self, _: None) -> None:
        """Timer: jobs whose maximum wait has passed leave unmet; then rearm for the next deadline."""
        now = self.engine.now_h
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
            if self.deadline_watch is not None:
                self.deadline_watch(task.id, task.cls, math.inf)  # never started: a miss if the class has a deadline
        while expiry and expiry[0][2].deadline_h != expiry[0][0]:
            heappop(expiry)  # drop entries of tasks that started
        if expiry and expiry[0][0] < self._timer_at:
            self._timer_at = expiry[0][0]
            self.engine.call_later(self._timer_at - now, self._expire, None)
        if left:
            if self.load_watch is not None:
                self.load_watch.add(self.index)
            self._resv = None
            schedule(self, now)

    # -- capacity timeline (sim.capacity_timeline) -------------------------------------------
    def _admit(self, now: float) -> None:
        """After a capacity change: drop the cached reservation and run a scheduling pass."""
        self._resv = None
        if self.nqueued:
            schedule(self, now)

    # -- the scheduling pass (sim.backfill) and failures (sim.interruptions) ----------------
    # Methods that call the functions rather than class attributes bound to them: a compiled (mypyc)
    # function is no descriptor, so it would not bind ``self`` (setup.py).  The hot callers call the
    # functions directly (``schedule(self, now)``, ``head_of(self)``), which in pure Python is no
    # slower than the bound method was.
    def _reservation(self, head: Task, now: float) -> tuple[float, int]:
        """:func:`sim.backfill.reservation` of this pool (a method, so that a test can watch it)."""
        return reservation(self, head, now)

    def interrupt(self, task: Task, now: float) -> None:
        """:func:`sim.interruptions.interrupt` of this pool."""
        interrupt(self, task, now)

    def interrupt_gpu(self, gpu: float, now: float) -> bool:
        """:func:`sim.interruptions.interrupt_gpu` of this pool."""
        return interrupt_gpu(self, gpu, now)

    def set_down(self, down: bool, now: float) -> None:
        """:func:`sim.interruptions.set_down` of this pool."""
        set_down(self, down, now)
