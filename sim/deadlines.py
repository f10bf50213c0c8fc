"""Start-deadline misses of the whole run, counted by the engine (``runs.deadline_misses``).

A job of a class with ``deadline_h`` misses its deadline when

* it first starts after ``hold + wait > deadline_h``, where ``hold`` (h) is the time a
  ``[signals] defer`` policy held it before submitting it (0 if never held) and ``wait``
  (h) is its wait at the site (the jobs table's ``wait_h``: from its arrival at the site,
  so an input transfer's time is not counted, as in ``wait_h``);
* it leaves unmet (its ``max_wait_h`` passed before it started);
* it is still queued, never started, at the horizon with ``hold + (horizon − arrival at
  the site) > deadline_h``.

Jobs still held or whose input is still moving at the horizon are not counted (they have
no site yet, and no jobs-table row).  ``deadline_misses_deferred`` counts the misses of
jobs that were held (hold > 0).  The definition is the jobs table's, so with
``jobs_sample = 1`` the count equals the one read from the table (tests/sim/test_deadlines.py).

The pools report a queued job's first start through their ``deadline_watch`` hook
(:meth:`DeadlineWatch.started`); a job that starts on arrival waits 0 h and, since a hold
never exceeds the deadline (``defer_max_frac`` ≤ 1), cannot miss, so the hot path of
starting on arrival pays nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.pool import Pool
from sim.scheduling import SchedPool

__all__ = ["DeadlineWatch"]


class DeadlineWatch:
    """Counts the start-deadline misses of a run (see the module docstring for the definition).

    Parameters
    ----------
    deadlines_h : sequence of (float or None)
        Each class's ``deadline_h`` (h after arrival), in class order; ``None``: no deadline.

    Attributes
    ----------
    misses, misses_deferred : int
        Misses so far, and those of jobs that were held by ``[signals] defer``.
    held : dict of int to float
        Hold (h) of each held job not yet started, by job id.
    """

    __slots__ = ("held", "limit_h", "misses", "misses_deferred")

    def __init__(self, deadlines_h: Sequence[float | None]) -> None:
        self.limit_h = [math.inf if d is None else d for d in deadlines_h]
        self.held: dict[int, float] = {}
        self.misses = 0
        self.misses_deferred = 0

    def started(self, job_id: int, cls: int, wait_h: float) -> None:
        """Job ``job_id`` of class index ``cls`` first started after ``wait_h`` h at its site (``inf``: unmet)."""
        limit = self.limit_h[cls]
        if limit == math.inf:
            return
        hold = self.held.pop(job_id, None) if self.held else None
        if (0.0 if hold is None else hold) + wait_h > limit:
            self.misses += 1
            if hold is not None:
                self.misses_deferred += 1

    def submitted(self, job_id: int, pool: Pool) -> None:
        """A held job was just submitted to ``pool``: forget its hold if it started at once (wait 0, no miss)."""
        if job_id in pool.running:
            del self.held[job_id]

    def close(self, pools: Sequence[Pool], horizon_h: float) -> None:
        """At the horizon: count the jobs queued and never started whose hold plus wait so far exceeds the deadline."""
        for pool in pools:
            if isinstance(pool, SchedPool):
                waiting = [(t.id, t.cls, t.arrival_h) for t in pool.queued() if t.first_start_h is None]
            else:
                waiting = [(job[0], job[4], job[3]) for job in getattr(pool, "queue", ())]
            for job_id, cls, arrival_h in waiting:
                self.started(job_id, cls, horizon_h - arrival_h)
