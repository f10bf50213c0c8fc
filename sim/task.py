"""A job at a scheduling site (:class:`Task`) and the per-class rules a site schedules by (:class:`ClassRules`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ClassRules", "Task"]


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
    """A job at a :class:`~sim.scheduling.SchedPool`: mutable, since it may wait, run, be interrupted and run again.

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
