"""A site as a pool of GPUs with gang allocation and a FIFO queue.

A job asking for ``g`` GPUs starts only when ``g`` are free and every job ahead of it
has started (strict FIFO: the head of the queue blocks the rest).  Its run time is
``work_gpu_h / (g * sku_speed)`` hours.  The pool keeps cumulative counters and time
integrals; :mod:`sim.metrics` turns them into per-interval rows.

``submit`` and ``_finish`` are the hottest code in cpnsim: attribute lookups are
hoisted into locals and the time integrals are updated inline (see
``benchmarks/mmc.py`` for what that buys).  Priorities, backfill, maximum waits and
failures live in :class:`sim.scheduling.SchedPool`, used only where a scenario turns
one of them on, so this path pays nothing for them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection

from sim.engine import CALL, Engine, heappush, next_id
from sim.job_log import FifoColumns, sampled
from sim.pool import Outcome
from sim.task import Task
from topology.model import Site

__all__ = ["GpuPool", "Job", "LoggedGpuPool"]

_NO_FAILURES = "site {site!r}: a FIFO GpuPool has no failures (build_pools gives sites with failures a SchedPool)"

Job = tuple[int, int, float, float, int, int, float]
"""A job at a site: (job id, GPUs, run time h, arrival time h, class index, origin index, work GPU-h).

A plain tuple rather than an object: it is created once per job on the hot path.
"""


class GpuPool:
    """The GPUs of one site and the jobs queued and running on them.

    Parameters
    ----------
    index : int
        Position of the site in the network's site list.
    site : Site
        Capacity, speed and power figures.
    engine : Engine
        The event core the pool schedules its finish events on.
    """

    __slots__ = (
        "_call_at",
        "_eid",
        "_heap",
        "_on_finish",
        "arrived",
        "busy_area",
        "cap_area",
        "cap_t",
        "deadline_watch",
        "done_gpu_h",
        "done_work_gpu_h",
        "engine",
        "finished",
        "free",
        "index",
        "load_watch",
        "queue",
        "queue_area",
        "queued_gpus",
        "running",
        "site",
        "speed",
        "started",
        "t_last",
        "total",
        "waits",
    )

    def __init__(self, index: int, site: Site, engine: Engine) -> None:
        self.index = index
        self.site = site
        self.engine = engine
        self.total = site.gpus
        self.free = site.gpus
        self.speed = site.sku_speed
        self.queue: deque[Job] = deque()
        self.queued_gpus = 0
        # Running jobs: id -> GPUs x start time (GPU-h), enough to integrate their use.
        self.running: dict[int, float] = {}
        # Cumulative since t = 0.
        self.arrived = 0
        self.started = 0
        self.finished = 0
        self.busy_area = 0.0  # GPU-hours busy
        self.queue_area = 0.0  # job-hours spent waiting
        self.t_last = engine.now
        self.done_gpu_h = 0.0  # GPU-hours of finished jobs
        self.done_work_gpu_h = 0.0  # reference GPU-hours of finished jobs
        # Waits (h) of jobs started since the metric sampler last emptied the list.
        self.waits: list[float] = []
        self._call_at = engine.call_at  # the engine's fast path (see sim.engine), bound once
        self._heap, self._eid = engine.heap, engine.eid  # for pushing finish entries inline (sim.engine)
        self._on_finish = self._finish  # bound once: a bound method is an allocation per access
        # Set by sim.placement.least_loaded's index: where to report that this site's committed
        # load (busy + queued GPUs) changed; None (no index) costs one test per submit and finish.
        self.load_watch: set[int] | None = None
        # GPU-hours in force up to cap_t, the time of the last capacity change (a timeline step,
        # sim.capacity_timeline): the capacity is constant since, so the hot path keeps no integral of it.
        self.cap_area = 0.0
        self.cap_t = self.t_last
        # Set by sim.model when a class has deadline_h (sim.deadlines): called at a queued job's first
        # start with (job id, class, wait h); None costs one test per queued start.
        self.deadline_watch: Callable[[int, int, float], None] | None = None

    def capacity_gpu_h(self, now: float) -> float:
        """GPU-hours in force (the integral of :attr:`total`) from t = 0 up to ``now`` (h)."""
        return self.cap_area + self.total * (now - self.cap_t)

    def set_capacity(self, gpus: int, now: float) -> None:
        """The site has ``gpus`` GPUs in force from ``now`` (h) on (a step of its capacity timeline).

        Added GPUs are free at once and queued jobs that now fit start.  Retired GPUs
        are taken from the free ones first; the rest leave as running jobs end:
        :attr:`free` goes negative by the GPUs still owed, so no job starts until they
        have drained, and busy GPUs (``total - free``) stay counted.  No job is killed.
        """
        self.advance(now)
        self.cap_area += self.total * (now - self.cap_t)
        self.cap_t = now
        self.free += gpus - self.total
        self.total = gpus
        if self.load_watch is not None:
            self.load_watch.add(self.index)
        if gpus > 0:
            self._admit(now)

    def _admit(self, now: float) -> None:
        """Start the queued jobs that fit now, in FIFO order (after a capacity change)."""
        queue = self.queue
        while queue and queue[0][1] <= self.free:
            head = queue.popleft()
            self.queued_gpus -= head[1]
            self.free -= head[1]
            self.started += 1
            self.waits.append(now - head[3])
            if self.deadline_watch is not None:
                self.deadline_watch(head[0], head[4], now - head[3])
            self.running[head[0]] = head[1] * now
            self._call_at(now + head[2], self._on_finish, self._finish_value(head, now))

    def _finish_value(self, job: Job, now: float) -> object:
        """What :meth:`_admit` schedules :meth:`_finish` with for ``job`` started at ``now`` (h): the job itself."""
        return job

    def advance(self, now: float) -> None:
        """Bring the time integrals up to ``now`` (hours)."""
        dt = now - self.t_last
        if dt:
            self.busy_area += (self.total - self.free) * dt
            self.queue_area += len(self.queue) * dt
            self.t_last = now

    def submit(self, job_id: int, gpus: int, work_gpu_h: float, now: float, cls: int, origin: int) -> None:
        """A job arrives at time ``now`` (h): start it if it is first in line and fits, else queue it."""
        self.arrived += 1
        if self.load_watch is not None:
            self.load_watch.add(self.index)
        job: Job = (job_id, gpus, work_gpu_h / (gpus * self.speed), now, cls, origin, work_gpu_h)
        queue = self.queue
        free = self.free
        dt = now - self.t_last
        if dt:
            self.busy_area += (self.total - free) * dt
            if queue:
                self.queue_area += len(queue) * dt
            self.t_last = now
        if gpus <= free and not queue:
            # _start inlined: most jobs start on arrival.
            self.free = free - gpus
            self.started += 1
            self.waits.append(0.0)
            self.running[job_id] = gpus * now
            # call_at's entry pushed inline: one Python frame fewer per job (sim.engine's contract).  With
            # the plain arrival loop (sim.model): lean M/M/10 run, 100,000 customers, 0.179 -> 0.167 CPU s
            # (benchmarks/README.md, "Issue 20, fifth slice: the per-job path").
            heappush(self._heap, (now + job[2], CALL, next_id(self._eid), (self._on_finish, job)))
        else:
            queue.append(job)
            self.queued_gpus += gpus

    def _finish(self, job: Job) -> None:
        now = self.engine.now_h
        queue = self.queue
        dt = now - self.t_last
        if dt:
            self.busy_area += (self.total - self.free) * dt
            if queue:
                self.queue_area += len(queue) * dt
            self.t_last = now
        gpus = job[1]
        self.free += gpus
        if self.load_watch is not None:
            self.load_watch.add(self.index)
        del self.running[job[0]]
        self.finished += 1
        self.done_gpu_h += gpus * job[2]
        self.done_work_gpu_h += job[6]
        if queue and queue[0][1] <= self.free:
            # _start inlined for the jobs the freed GPUs let in (most starts at high load).
            free, started, waits, running = self.free, self.started, self.waits, self.running
            heap, eid, on_finish, watch = self._heap, self._eid, self._on_finish, self.deadline_watch
            while queue and queue[0][1] <= free:
                head = queue.popleft()
                head_gpus = head[1]
                self.queued_gpus -= head_gpus
                free -= head_gpus
                started += 1
                waits.append(now - head[3])
                if watch is not None:
                    watch(head[0], head[4], now - head[3])
                running[head[0]] = head_gpus * now
                heappush(heap, (now + head[2], CALL, next_id(eid), (on_finish, head)))
            self.free, self.started = free, started

    def running_gpu_h(self, now: float) -> float:
        """GPU-hours the running jobs have consumed up to ``now``.

        Σ g·(now − start) = now·Σ g − Σ g·start: the second sum from the running-job
        records, the first from the allocated GPUs.
        """
        return now * (self.total - self.free) - sum(self.running.values())

    def queue_length(self) -> int:
        """Jobs waiting now."""
        return len(self.queue)

    def outcome(self, now: float) -> Outcome:
        """Whole-run outcome counters up to ``now`` (h); a FIFO pool has no unmet, failed or lost work."""
        return Outcome(
            arrived_real=float(self.arrived), done_real=float(self.finished), done_work_real_gpu_h=self.done_work_gpu_h,
            useful_gpu_h=self.done_gpu_h + self.running_gpu_h(now),
        )

    def unfinished_tasks(self) -> tuple[Collection[Task], list[Task]]:
        """A FIFO pool keeps no task records.

        Raises
        ------
        TypeError
            Always: :func:`sim.site_pools.build_pools` gives a site a ``SchedPool`` when the
            job log or adoption needs task records.
        """
        raise TypeError(f"site {self.site.id!r}: a FIFO GpuPool keeps no task records (build_pools gives a "
                        "SchedPool where the jobs table or adoption needs them)")

    def set_down(self, down: bool, now: float) -> None:
        """A FIFO pool has no outages.

        Raises
        ------
        TypeError
            Always: :func:`sim.site_pools.build_pools` gives sites with failures a ``SchedPool``.
        """
        raise TypeError(_NO_FAILURES.format(site=self.site.id))

    def interrupt_gpu(self, gpu: float, now: float) -> bool:
        """A FIFO pool has no GPU failures.

        Raises
        ------
        TypeError
            Always: :func:`sim.site_pools.build_pools` gives sites with failures a ``SchedPool``.
        """
        raise TypeError(_NO_FAILURES.format(site=self.site.id))


class LoggedGpuPool(GpuPool):
    """A FIFO :class:`GpuPool` that also records every finished job for the ``jobs`` table.

    The same schedule as :class:`GpuPool`, which it copies with one addition per
    job: a started job's finish event carries ``(job, start h, wait h)`` instead of
    the bare job, and when the job finishes its row is appended to the job log's
    column lists (:meth:`sim.job_log.JobLog.fifo_columns`).  There is no second dict of running
    jobs: the jobs still running at the horizon are read back from their pending
    finish events.
    It replaces a :class:`~sim.scheduling.SchedPool` (a task object per job) where the
    jobs table is the only feature a FIFO site needs (``benchmarks/mmc.py``,
    contestant "cpnsim, every job recorded").

    Parameters
    ----------
    index, site, engine
        As for :class:`GpuPool`.
    columns : FifoColumns
        Where finished jobs go, and which are kept.
    """

    __slots__ = ("_lists", "_sample")

    def __init__(self, index: int, site: Site, engine: Engine, columns: FifoColumns) -> None:
        super().__init__(index, site, engine)
        self._lists = columns.lists
        self._sample = None if columns.keep_all else columns.fraction  # None: every job is kept

    def submit(self, job_id: int, gpus: int, work_gpu_h: float, now: float, cls: int, origin: int) -> None:
        """A job arrives at time ``now`` (h): start it if it is first in line and fits, else queue it."""
        # GpuPool.submit and _finish written out again with (job, start h) as the finish event's value,
        # rather than a hook the lean pool would call per job: a hook costs the lean M/M/c path a
        # call per job (benchmarks/mmc.py, contestants "cpnsim" and "cpnsim-jobs").
        # tests/sim/test_job_log.py checks it gives the rows and schedule a SchedPool gives.
        self.arrived += 1
        if self.load_watch is not None:
            self.load_watch.add(self.index)
        job: Job = (job_id, gpus, work_gpu_h / (gpus * self.speed), now, cls, origin, work_gpu_h)
        queue = self.queue
        free = self.free
        dt = now - self.t_last
        if dt:
            self.busy_area += (self.total - free) * dt
            if queue:
                self.queue_area += len(queue) * dt
            self.t_last = now
        if gpus <= free and not queue:
            self.free = free - gpus
            self.started += 1
            self.waits.append(0.0)
            self.running[job_id] = gpus * now
            heappush(self._heap, (now + job[2], CALL, next_id(self._eid), (self._on_finish, (job, now, 0.0))))
        else:
            queue.append(job)
            self.queued_gpus += gpus

    def _finish(self, job_start: tuple[Job, float, float]) -> None:  # type: ignore[override]
        # The start time rides on the finish event instead of a second dict of running jobs (a set
        # and a pop per job): M/M/10 with every job recorded, 100,000 customers, the run alone
        # 0.235 -> 0.207 CPU s.  The row goes to column lists of numbers: keeping one tuple per row
        # instead (one append) ran at 0.233-0.244 s, an array of doubles at 0.24-0.25 s, one flat
        # list extended by the row at the same speed with slower columns (benchmarks/README.md,
        # "Issue 20, fifth slice: the per-job path").  The wait rides along too (sixth slice): it is the
        # float the start computed for the metrics, so the jobs table copies it instead of subtracting
        # again per row (JobLog.columns of an every-job M/M/10 run, 200,000 customers: 12 of its 48 ms).
        job, start, wait = job_start
        now = self.engine.now_h
        queue = self.queue
        dt = now - self.t_last
        if dt:
            self.busy_area += (self.total - self.free) * dt
            if queue:
                self.queue_area += len(queue) * dt
            self.t_last = now
        gpus = job[1]
        self.free += gpus
        if self.load_watch is not None:
            self.load_watch.add(self.index)
        del self.running[job[0]]
        if self._sample is None or sampled(job[0], self._sample):
            ids, gpus_of, arrivals, cls, origins, work, sites, starts, finishes, waits_of = self._lists
            ids.append(job[0])
            gpus_of.append(gpus)
            arrivals.append(job[3])
            cls.append(job[4])
            origins.append(job[5])
            work.append(job[6])
            sites.append(self.index)
            starts.append(start)
            finishes.append(now)
            waits_of.append(wait)
        self.finished += 1
        self.done_gpu_h += gpus * job[2]
        self.done_work_gpu_h += job[6]
        if queue and queue[0][1] <= self.free:
            free, started, waits, running = self.free, self.started, self.waits, self.running
            heap, eid, on_finish, watch = self._heap, self._eid, self._on_finish, self.deadline_watch
            while queue and queue[0][1] <= free:
                head = queue.popleft()
                head_gpus = head[1]
                self.queued_gpus -= head_gpus
                free -= head_gpus
                started += 1
                head_wait = now - head[3]
                waits.append(head_wait)
                if watch is not None:
                    watch(head[0], head[4], head_wait)
                running[head[0]] = head_gpus * now
                heappush(heap, (now + head[2], CALL, next_id(eid), (on_finish, (head, now, head_wait))))
            self.free, self.started = free, started

    def _finish_value(self, job: Job, now: float) -> object:
        return (job, now, now - job[3])

    def unfinished_tasks(self) -> tuple[Collection[Task], list[Task]]:
        """(running, queued) jobs now as tasks: running in start order, queued in queue order.

        The running ones are the records of this pool's pending finish events, in the
        order they were scheduled (the heap entries' sequence numbers): their start order.
        """
        on_finish = self._on_finish
        pending = sorted((entry[2], entry[3][1]) for entry in self._heap
                         if entry[3].__class__ is tuple and entry[3][0] == on_finish)
        running = []
        for _, (job, start_h, _wait_h) in pending:
            task = _task(job)
            task.first_start_h = task.start_h = start_h
            task.end_h = start_h + task.run_h
            running.append(task)
        return running, [_task(job) for job in self.queue]


def _task(job: Job) -> Task:
    """The :class:`Task` of a FIFO job (one priority level: level 0)."""
    job_id, gpus, run_h, arrival_h, cls, origin, work = job
    return Task(job_id, gpus, run_h, arrival_h, cls, origin, work, 0)
