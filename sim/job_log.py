"""The optional ``jobs`` table: one row per sampled job, written when it ends or at the horizon."""

from __future__ import annotations

from collections.abc import Sequence
from operator import getitem, itemgetter
from typing import Any, NamedTuple

from sim.pool import Pool
from sim.tables import empty_columns
from sim.task import Task

__all__ = ["FIFO_FIELDS", "FifoColumns", "JobLog", "sampled"]

FIFO_FIELDS = ("job_id", "gpus", "arrival_h", "cls", "origin", "work_gpu_h", "site", "start_h", "finish_h", "wait_h")
"""The column lists of finished FIFO jobs, in :attr:`FifoColumns.lists` order (indices for class, origin, site)."""


class FifoColumns(NamedTuple):
    """What a :class:`~sim.site.LoggedGpuPool` records finished jobs into (see :meth:`JobLog.fifo_columns`)."""

    lists: tuple[list[Any], ...]
    keep_all: bool
    fraction: float


_REJECT_REASON = {"rejected": "residency"}
"""``reject_reason`` by status (``None`` for any other status)."""

_MASK64 = (1 << 64) - 1


def _one_value(values: Sequence[Any]) -> tuple[bool, Any]:
    """``(True, v)`` when every item of ``values`` is ``v`` (at least one item), else ``(False, None)``."""
    distinct = set(values)
    return (True, distinct.pop()) if len(distinct) == 1 else (False, None)


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
        # Columns of finished FIFO jobs whose every row has the same value, by what the network and the
        # classes allow (one class, region or site; one country): built as [value] * n, not one lookup
        # per row (benchmarks/README.md, "Issue 20, sixth slice: every job recorded").
        region_country = _one_value(list(self._country_of_region.values()))
        site_country = _one_value([self._country_of_site[s] for s in site_ids])
        crossed = (region_country[0] and site_country[0],
                   None if region_country[1] is None or site_country[1] is None
                   else region_country[1] != site_country[1])
        # The same lookups by index, for the FIFO rows (class, origin and site kept as indices).
        self._region_country_at = [self._country_of_region[r] for r in region_ids]
        self._site_country_at = [self._country_of_site[s] for s in site_ids]
        self._crossed_at = [[self._crossed[r][s] for s in site_ids] for r in region_ids]
        self._fifo_constant: dict[str, tuple[bool, Any]] = {
            "class": _one_value(class_names), "origin": _one_value(region_ids), "site_id": _one_value(site_ids),
            "origin_country": region_country, "site_country": site_country, "crossed_border": crossed,
        }
        self._fifo: tuple[list[Any], ...] = tuple([] for _ in FIFO_FIELDS)
        self._keep_all = fraction >= 1.0
        # After close() the recorded lists are final: the first read of columns then extends them in place
        # (no copy) and keeps what it built for the reads after it.
        self._closed = False
        self._final: dict[str, list[Any]] | None = None

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
        """The rows recorded so far as the ``jobs`` table's value columns.

        Built on each read until :meth:`close`; after it, built once (from the recorded lists
        themselves, not copies: 7 of the 18 columns of an every-job M/M/10 run) and the same
        lists handed out on every later read, in a new dict.
        """
        if self._final is not None:
            return dict(self._final)
        rows = self._with_countries(self._task_columns())
        n_fifo = len(self._fifo[0])
        # Positions never decrease: when the first task row comes after every FIFO row, all do (a FIFO
        # site's run: task rows only for the jobs left at the horizon), and each column is built once at
        # its full length with the task rows at its end.
        positions = [r[-1] for r in self._rows]
        after = not positions or positions[0] == n_fifo
        fifo = self._fifo_columns(rows if after else None, own=self._closed)
        for built in (fifo, rows):
            if list(built) != list(empty_columns("jobs")):
                raise KeyError(f"job log columns {list(built)} are not the jobs table's {list(empty_columns('jobs'))}")
        if after or not n_fifo:
            return self._keep(fifo if n_fifo or not positions else rows)
        # Interleave: task row k goes after the first positions[k] FIFO rows.
        out: dict[str, list[Any]] = {}
        for name, f_values in fifo.items():
            t_values, merged, done = rows[name], [], 0
            for k, at in enumerate(positions):
                merged += f_values[done:at]
                merged.append(t_values[k])
                done = at
            merged += f_values[done:]
            out[name] = merged
        return self._keep(out)

    def _keep(self, columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """``columns``, kept for later reads once the log is closed."""
        if self._closed:
            self._final = columns
            return dict(columns)
        return columns

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

    def _fifo_columns(self, tail: dict[str, list[Any]] | None, *, own: bool = False) -> dict[str, list[Any]]:
        """The columns of the finished FIFO jobs (status ``done``), each followed by ``tail``'s when given.

        ``own``: the recorded lists are final (the log is closed) and become columns
        themselves, extended in place, instead of being copied.

        Each column is built once at its full length (sixth slice; ``benchmarks/README.md``,
        "Issue 20, sixth slice: every job recorded"): the recorded lists are copied once with the
        tail added (``+``), a column the network makes constant (one class, region, site or
        country: :attr:`_fifo_constant`) is ``[value] * length`` with the tail assigned over its
        end, and only the others are looked up per row, by ``map`` (a C loop).  Before, each
        list was copied, then extended (a second copy), and ``wait_h`` was subtracted per row
        (now the pool's own wait is recorded).  ``JobLog.columns`` of an every-job M/M/10 run,
        200,000 customers, read once after the run as ``sim.run`` does: 54-58 ms at the
        session's start, 6-7 ms with this and the closed log's own lists (best of 4 runs, the
        collector off; ``benchmarks/README.md``, "Issue 20, sixth slice: every job recorded").
        """
        ids, gpus, arrivals, cls, origins, work, site_of, starts, finishes, waits = self._fifo
        n = len(ids)
        empty: dict[str, list[Any]] = {}
        rest = tail if tail is not None else empty

        def copied(name: str, values: list[Any]) -> list[Any]:
            if own:
                values += rest.get(name, [])
                return values
            return values + rest.get(name, [])

        def filled(name: str, value: Any) -> list[Any]:
            more = rest.get(name, [])
            column = [value] * (n + len(more))
            column[n:] = more
            return column

        def looked_up(name: str, lookup: Any, *index: Any) -> list[Any]:
            same, value = self._fifo_constant.get(name, (False, None))
            if same:
                return filled(name, value)
            column = list(map(lookup, *index))
            column += rest.get(name, [])
            return column

        cny = self._transfer_cny
        # Before "job_id" below, which (own) extends ids in place with the task rows' ids.
        transfer = looked_up("transfer_cny", cny.get, ids, [0.0] * n) if cny else filled("transfer_cny", 0.0)
        return {
            "job_id": copied("job_id", ids),
            "class": looked_up("class", self.class_names.__getitem__, cls),
            "origin": looked_up("origin", self.region_ids.__getitem__, origins),
            "site_id": looked_up("site_id", self.site_ids.__getitem__, site_of),
            "arrival_h": copied("arrival_h", arrivals),
            "start_h": copied("start_h", starts),
            "finish_h": copied("finish_h", finishes),
            "wait_h": copied("wait_h", waits),
            "gpus": copied("gpus", gpus),
            "work_gpu_h": copied("work_gpu_h", work),
            "status": filled("status", "done"),
            "restarts": filled("restarts", 0),
            "lost_gpu_h": filled("lost_gpu_h", 0.0),
            "origin_country": looked_up("origin_country", self._region_country_at.__getitem__, origins),
            "site_country": looked_up("site_country", self._site_country_at.__getitem__, site_of),
            "crossed_border": looked_up("crossed_border", getitem, map(self._crossed_at.__getitem__, origins), site_of),
            "reject_reason": filled("reject_reason", None),
            "transfer_cny": transfer,
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
        self._closed = True  # nothing is recorded after the horizon (see columns)

