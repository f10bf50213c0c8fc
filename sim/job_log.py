"""The optional ``jobs`` table: one row per sampled job, written when it ends or at the horizon."""

from __future__ import annotations

from collections.abc import Sequence

from sim.pool import Pool
from sim.tables import append_row, empty_columns
from sim.task import Task

__all__ = ["JobLog", "sampled"]

_MASK64 = (1 << 64) - 1


def sampled(job_id: int, fraction: float) -> bool:
    """Whether job ``job_id`` is in a ``fraction`` sample: a hash of the id, the same on every executor.

    The hash is SplitMix64's finaliser, so consecutive ids are sampled independently.

    Examples
    --------
    >>> sampled(7, 1.0), sampled(7, 0.0)
    (True, False)
    >>> sum(sampled(i, 0.1) for i in range(10_000))
    999
    """
    z = (job_id + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return z < fraction * 2.0**64


class JobLog:
    """Rows of the optional ``jobs`` table: one per sampled job, written when it ends or at the horizon.

    Parameters
    ----------
    fraction : float
        Share of jobs kept, in (0, 1]; a job is kept when :func:`sampled` says so.
    class_names, region_ids, site_ids : list of str
        Names for the class, origin and site indices.
    """

    def __init__(self, fraction: float, class_names: list[str], region_ids: list[str], site_ids: list[str]) -> None:
        self.fraction = fraction
        self.class_names = class_names
        self.region_ids = region_ids
        self.site_ids = site_ids
        self.columns = empty_columns("jobs")

    def record(self, task: Task, site: int, status: str, now: float) -> None:
        """Add ``task``'s row if it is sampled; ``status`` is done, failed, unmet, running or queued."""
        if self.fraction < 1.0 and not sampled(task.id, self.fraction):
            return
        start = task.first_start_h
        append_row(self.columns, {
            "job_id": task.id, "class": self.class_names[task.cls], "origin": self.region_ids[task.origin],
            "site_id": self.site_ids[site], "arrival_h": task.arrival_h, "start_h": start,
            "finish_h": now if status == "done" else None,
            "wait_h": None if start is None else start - task.arrival_h, "gpus": task.gpus, "work_gpu_h": task.work,
            "status": status, "restarts": task.restarts, "lost_gpu_h": task.lost_gpu_h,
        })

    def close(self, pools: Sequence[Pool], now: float) -> None:
        """At the horizon: add the jobs still running or queued, by job id.

        Raises
        ------
        TypeError
            A pool keeps no task records (:func:`sim.site_pools.build_pools` gives every
            site a ``SchedPool`` when the ``jobs`` table is on).
        """
        rest: list[tuple[int, int, Task, str]] = []
        for pool in pools:
            running, queued = pool.unfinished_tasks()
            rest += [(t.id, pool.index, t, "running") for t in running]
            rest += [(t.id, pool.index, t, "queued") for t in queued]
        for _, site, task, status in sorted(rest, key=lambda r: r[0]):
            self.record(task, site, status, now)
