"""The optional ``jobs`` table: one row per sampled job, written when it ends or at the horizon."""

from __future__ import annotations

from collections.abc import Sequence
from operator import getitem, itemgetter, sub
from typing import Any, NamedTuple

from sim.pool import Pool
from sim.tables import empty_columns
from sim.task import Task

__all__ = ["FIFO_FIELDS", "FifoColumns", "JobLog", "sampled"]

FIFO_FIELDS = ("job_id", "gpus", "arrival_h", "cls", "origin", "work_gpu_h", "site", "start_h", "finish_h")
"""The column lists of finished FIFO jobs, in :attr:`FifoColumns.lists` order (indices for class, origin, site)."""


class FifoColumns(NamedTuple):
    """What a :class:`~sim.site.LoggedGpuPool` records finished jobs into (see :meth:`JobLog.fifo_columns`)."""

    lists: tuple[list[Any], ...]
    keep_all: bool
    fraction: float


_REJECT_REASON = {"rejected": "residency"}
"""``reject_reason`` by status (``None`` for any other status)."""

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

    Rows are kept compact and turned into columns only when :attr:`columns` is read
    (``benchmarks/mmc.py``, contestant "cpnsim, every job recorded": one tuple or a few
    list appends per job instead of a dict and thirteen list appends):

    * a job ending at a :class:`~sim.scheduling.SchedPool` is kept as one tuple of
      its row's values (class, origin and site as indices) and ``position``;
    * a job finishing at a :class:`~sim.site.LoggedGpuPool` is appended to the
      column lists of :data:`FIFO_FIELDS`; ``position`` above is their length when
      the task row came, so the table keeps the order in which the jobs ended.

    Parameters
    ----------
    fraction : float
        Share of jobs kept, in (0, 1]; a job is kept when :func:`sampled` says so.
    class_names, region_ids, site_ids : list of str
        Names for the class, origin and site indices.
    region_countries, site_countries : list of (str or None), optional
        ISO country code of each region and site (``None``: unknown), for the
        ``origin_country``, ``site_country`` and ``crossed_border`` columns.
    """

    def __init__(self, fraction: float, class_names: list[str], region_ids: list[str], site_ids: list[str],
                 region_countries: list[str | None] | None = None,
                 site_countries: list[str | None] | None = None) -> None:
        self.fraction = fraction
        self.class_names = class_names
        self.region_ids = region_ids
        # A job rejected before placement has the site index len(site_ids): its site_id is null.
        self.site_ids: list[str | None] = [*site_ids, None]
        self._country_of_region = dict(zip(region_ids, region_countries or [None] * len(region_ids), strict=True))
        self._country_of_site: dict[str | None, str | None] = dict(
            zip(site_ids, site_countries or [None] * len(site_ids), strict=True))
        self._country_of_site[None] = None  # a rejected job's site
        # crossed_border by origin region, then site id (None where either country is unknown), so the
        # column is looked up in C (map) instead of a Python expression per row.
        self._crossed: dict[str, dict[str | None, bool | None]] = {
            r: {s: None if o is None or c is None else o != c for s, c in self._country_of_site.items()}
            for r, o in self._country_of_region.items()}
        self._transfer_cny: dict[int, float] = {}  # sampled jobs whose input moved over priced links
        self._rows: list[tuple[Any, ...]] = []  # see _TASK_FIELDS
        self._fifo: tuple[list[Any], ...] = tuple([] for _ in FIFO_FIELDS)
        self._keep_all = fraction >= 1.0

    def record(self, task: Task, site: int, status: str, now: float) -> None:
        """Add ``task``'s row if it is sampled; ``status`` is done, failed, unmet, running or queued."""
        if self._keep_all or sampled(task.id, self.fraction):
            self._rows.append((
                task.id, task.cls, task.origin, site, task.arrival_h, task.first_start_h,
                now if status == "done" else None, task.gpus, task.work, status, task.restarts, task.lost_gpu_h,
                len(self._fifo[0]),
            ))

    def record_rejected(self, job_id: int, cls: int, origin: int, gpus: int, work: float, now: float) -> None:
        """Add the row of a job rejected at arrival for residency (status ``rejected``), if it is sampled."""
        if self._keep_all or sampled(job_id, self.fraction):
            self._rows.append((job_id, cls, origin, len(self.site_ids) - 1, now, None, None, gpus, work, "rejected",
                               0, 0.0, len(self._fifo[0])))

    def note_transfer(self, job_id: int, cny: float) -> None:
        """Add ``cny`` to what moving job ``job_id``'s data (input, result) cost, if sampled (``transfer_cny``)."""
        if cny and (self._keep_all or sampled(job_id, self.fraction)):
            self._transfer_cny[job_id] = self._transfer_cny.get(job_id, 0.0) + cny

    def fifo_columns(self) -> FifoColumns:
        """The column lists a :class:`~sim.site.LoggedGpuPool` appends a finished job to, and the sampling.

        The pool appends to the lists itself (no call, no row object per job: floats
        and small ints only, which the cyclic garbage collector never visits); it keeps
        a job when ``keep_all`` or :func:`sampled` says so.
        """
        return FifoColumns(self._fifo, self._keep_all, self.fraction)

    @property
    def columns(self) -> dict[str, list[Any]]:
        """The rows recorded so far as the ``jobs`` table's value columns (built on each read)."""
        fifo, rows = self._with_countries(self._fifo_columns()), self._with_countries(self._task_columns())
        for built in (fifo, rows):
            if list(built) != list(empty_columns("jobs")):
                raise KeyError(f"job log columns {list(built)} are not the jobs table's {list(empty_columns('jobs'))}")
        if not rows["job_id"]:
            return fifo
        if not fifo["job_id"]:
            return rows
        # Interleave: task row k goes after the first positions[k] FIFO rows.
        positions = [r[-1] for r in self._rows]
        if positions[0] == len(fifo["job_id"]):
            # Positions never decrease, so every task row comes after all FIFO rows (a FIFO site's run:
            # task rows only for the jobs left at the horizon): extend the FIFO columns, fresh lists,
            # in place instead of copying them slice by slice (5 % of an every-job M/M/10 replication;
            # benchmarks/mmc.py, "cpnsim-jobs").
            for name, f_values in fifo.items():
                f_values += rows[name]
            return fifo
        out: dict[str, list[Any]] = {}
        for name, f_values in fifo.items():
            t_values, merged, done = rows[name], [], 0
            for k, at in enumerate(positions):
                merged += f_values[done:at]
                merged.append(t_values[k])
                done = at
            merged += f_values[done:]
            out[name] = merged
        return out

    def _with_countries(self, cols: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """``cols`` with the country columns and ``reject_reason``, read from origin, site and status."""
        # Every column by map over dict lookups (C loops) instead of a Python expression per row, and
        # no lookup per row when no transfer was priced: the jobs columns of an every-job M/M/10 run
        # (100,000 customers) 0.027 -> 0.022 CPU s (benchmarks/mmc.py, "cpnsim-jobs";
        # benchmarks/README.md, "Issue 20, fifth slice: the per-job path").
        cols["origin_country"] = list(map(self._country_of_region.__getitem__, cols["origin"]))
        cols["site_country"] = list(map(self._country_of_site.__getitem__, cols["site_id"]))
        cols["crossed_border"] = list(map(getitem, map(self._crossed.__getitem__, cols["origin"]), cols["site_id"]))
        cols["reject_reason"] = list(map(_REJECT_REASON.get, cols["status"]))
        n = len(cols["job_id"])
        cny = self._transfer_cny
        cols["transfer_cny"] = list(map(cny.get, cols["job_id"], [0.0] * n)) if cny else [0.0] * n
        return cols

    def _task_columns(self) -> dict[str, list[Any]]:
        rows = self._rows

        def column(k: int) -> list[Any]:
            return list(map(itemgetter(k), rows))

        starts, arrivals = column(5), column(4)
        return {
            "job_id": column(0),
            "class": list(map(self.class_names.__getitem__, map(itemgetter(1), rows))),
            "origin": list(map(self.region_ids.__getitem__, map(itemgetter(2), rows))),
            "site_id": list(map(self.site_ids.__getitem__, map(itemgetter(3), rows))),
            "arrival_h": arrivals,
            "start_h": starts,
            "finish_h": column(6),
            "wait_h": [None if s is None else s - a for s, a in zip(starts, arrivals, strict=True)],
            "gpus": column(7),
            "work_gpu_h": column(8),
            "status": column(9),
            "restarts": column(10),
            "lost_gpu_h": column(11),
        }

    def _fifo_columns(self) -> dict[str, list[Any]]:
        # Names by index with map (a C loop, no Python frame per row; benchmarks/mmc.py,
        # "cpnsim, every job recorded").  The rows are finished jobs: all "done".
        ids, gpus, arrivals, cls, origins, work, site_of, starts, finishes = self._fifo
        n = len(ids)
        return {
            "job_id": list(ids),
            "class": list(map(self.class_names.__getitem__, cls)),
            "origin": list(map(self.region_ids.__getitem__, origins)),
            "site_id": list(map(self.site_ids.__getitem__, site_of)),
            "arrival_h": list(arrivals),
            "start_h": list(starts),
            "finish_h": list(finishes),
            "wait_h": list(map(sub, starts, arrivals)),
            "gpus": list(gpus),
            "work_gpu_h": list(work),
            "status": ["done"] * n,
            "restarts": [0] * n,
            "lost_gpu_h": [0.0] * n,
        }

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

