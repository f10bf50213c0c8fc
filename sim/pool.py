"""What the rest of the simulation needs from a site's pool of GPUs: the :class:`Pool` protocol.

Two classes implement it: the lean FIFO :class:`sim.site.GpuPool` and
:class:`sim.scheduling.SchedPool` (priorities, backfill, maximum waits, failures).
Metrics, the job log, the adoption driver and the failure actors are written against
this protocol, so none of them needs to know which class a site got
(:func:`sim.site_pools.build_pools` decides).  Placement (:mod:`sim.placement`) types
pools as their common base :class:`sim.site.GpuPool` instead: compiled (``setup.py``),
a field of a protocol-typed object is a generic attribute look-up, of a ``GpuPool`` a
struct read (benchmarks/README.md, "Issue 20: typed for the compiled build").  Capabilities only a ``SchedPool`` has
(task records, failures) raise :class:`TypeError` on a ``GpuPool``: ``build_pools``
gives every site that needs them a ``SchedPool``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from sim.task import Task
from topology.model import Site

__all__ = ["JobRecorder", "Outcome", "Pool"]


@dataclass(frozen=True)
class Outcome:
    """What became of the jobs of one site over the whole run, up to some time.

    Attributes
    ----------
    unmet : int
        Jobs that left the queue after waiting their class's ``max_wait_h``.
    unmet_work_gpu_h : float
        Their work, reference GPU-h.
    failed : int
        Jobs given up after more than ``max_restarts`` interruptions.
    interruptions : int
        Running jobs interrupted (by outages and GPU failures).
    lost_gpu_h : float
        GPU-h run since the last checkpoint of interrupted jobs, plus all the work of
        failed jobs (GPU-h).
    useful_gpu_h : float
        GPU-h that count towards a job's completion: finished jobs' run time, running
        jobs' progress and the checkpointed progress of requeued jobs (GPU-h).
    down_h : float
        Hours the site was down (outages).
    arrived_real, done_real, unmet_real, failed_real : float
        Jobs in real units: each simulated job counts ``scale`` of its class.
    done_work_real_gpu_h, unmet_work_real_gpu_h : float
        Work of finished and unmet jobs in real units, reference GPU-h × ``scale``.
    """

    unmet: int = 0
    unmet_work_gpu_h: float = 0.0
    failed: int = 0
    interruptions: int = 0
    lost_gpu_h: float = 0.0
    useful_gpu_h: float = 0.0
    down_h: float = 0.0
    arrived_real: float = 0.0
    done_real: float = 0.0
    unmet_real: float = 0.0
    failed_real: float = 0.0
    done_work_real_gpu_h: float = 0.0
    unmet_work_real_gpu_h: float = 0.0


class JobRecorder(Protocol):
    """Receives a row for each job that ends at a :class:`~sim.scheduling.SchedPool` (the ``jobs`` table, adoption)."""

    def record(self, task: Task, site: int, status: str, now: float) -> None:
        """``task`` at site index ``site`` ended (or is still open) at ``now`` (h) with ``status``.

        ``status`` is ``done``, ``failed``, ``unmet``, or at the horizon ``running`` or ``queued``.
        """


class Pool(Protocol):
    """The GPUs of one site, as metrics, placement, the job log, adoption and failures see them.

    Attributes
    ----------
    index : int
        Position of the site in the network's site list.
    site : Site
        The site's figures (capacity, speed, power, price).
    total, free : int
        GPUs in force at the site now (its capacity timeline's current value,
        :mod:`sim.capacity_timeline`) and GPUs free now.  ``free`` is negative while
        retired GPUs still run jobs (they leave as the jobs end); ``total - free`` is
        always the busy GPUs.
    cap_t : float
        Time (h) of the last capacity change (0 without a timeline).
    queued_gpus : int
        GPUs asked for by the jobs waiting now.
    speed : float
        ``sku_speed`` of the site's GPUs.
    running : dict of int to float
        Running jobs by id: GPUs × start time (GPU-h).
    arrived, started, finished : int
        Jobs since t = 0.
    busy_area : float
        GPU-hours busy since t = 0, up to :attr:`t_last`.
    queue_area : float
        Job-hours spent waiting since t = 0, up to :attr:`t_last`.
    t_last : float
        Time (h) the integrals were last brought up to.
    done_work_gpu_h : float
        Reference GPU-hours of finished jobs.
    waits : list of float
        Waits (h) of jobs started since the metric sampler last emptied the list.
    load_watch : set of int or None
        When set (by :func:`sim.placement.least_loaded.least_loaded_of`'s index), the pool
        adds :attr:`index` to it whenever its committed load ``total - free +
        queued_gpus`` may have changed (a job arrived, finished, left the queue or failed).
    """

    index: int
    site: Site
    total: int
    free: int
    cap_t: float
    queued_gpus: int
    speed: float
    running: dict[int, float]
    arrived: int
    started: int
    finished: int
    busy_area: float
    queue_area: float
    t_last: float
    done_work_gpu_h: float
    waits: list[float]
    load_watch: set[int] | None

    def submit(self, job_id: int, gpus: int, work_gpu_h: float, now: float, cls: int, origin: int) -> None:
        """A job of ``gpus`` GPUs and ``work_gpu_h`` reference GPU-h arrives at ``now`` (h)."""

    def advance(self, now: float) -> None:
        """Bring the time integrals up to ``now`` (h)."""

    def set_capacity(self, gpus: int, now: float) -> None:
        """``gpus`` GPUs are in force from ``now`` (h): additions usable at once, retirements drain."""

    def capacity_gpu_h(self, now: float) -> float:
        """GPU-hours in force (the integral of :attr:`total`) from t = 0 up to ``now`` (h)."""
        ...

    def queue_length(self) -> int:
        """Jobs waiting now."""
        ...

    def running_gpu_h(self, now: float) -> float:
        """GPU-hours the running jobs have consumed up to ``now`` (h)."""
        ...

    def outcome(self, now: float) -> Outcome:
        """Whole-run outcome counters up to ``now`` (h)."""
        ...

    def unfinished_tasks(self) -> tuple[Collection[Task], list[Task]]:
        """(running, queued) tasks now, in start order and queue order.

        Raises
        ------
        TypeError
            The pool keeps no task records (a FIFO :class:`~sim.site.GpuPool`).
        """
        ...

    def set_down(self, down: bool, now: float) -> None:
        """Start (``down=True``) or end an outage at ``now`` (h).

        Raises
        ------
        TypeError
            The pool has no failures (a FIFO :class:`~sim.site.GpuPool`).
        """

    def interrupt_gpu(self, gpu: float, now: float) -> bool:
        """A GPU failure at ``now`` (h) on busy GPU number ``gpu``; whether a job was interrupted.

        Raises
        ------
        TypeError
            The pool has no failures (a FIFO :class:`~sim.site.GpuPool`).
        """
        ...
