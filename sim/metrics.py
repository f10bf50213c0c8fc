"""Per-interval metrics streamed into column buffers.

At each metric interval the sampler turns every pool's cumulative counters into one
row per site (differences since the last sample) and appends it to plain column
lists.  Nothing per job is kept beyond the current interval, so memory grows with the
output only, not with the number of jobs or the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.scheduling import SchedPool, Task
from sim.site import GpuPool
from sim.wait_histogram import WaitHistogram

__all__ = ["JOB_COLUMNS", "SITE_COLUMNS", "JobLog", "MetricBuffers", "RunTotals", "sampled"]

SITE_COLUMNS = (
    "site_id", "t_start_h", "t_end_h", "gpus_total", "gpus_busy_mean", "utilisation",
    "queue_len_mean", "queue_len_end", "running_end", "jobs_arrived", "jobs_started",
    "jobs_finished", "wait_mean_h", "wait_p50_h", "wait_p95_h", "wait_max_h", "gpu_h_busy",
    "energy_mwh", "cost_cny", "co2_t", "jobs_unmet", "gpu_h_lost", "down_h",
)

JOB_COLUMNS = (
    "job_id", "class", "origin", "site_id", "arrival_h", "start_h", "finish_h", "wait_h", "gpus", "work_gpu_h",
    "status", "restarts", "lost_gpu_h",
)

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
        self.columns: dict[str, list[object]] = {name: [] for name in JOB_COLUMNS}

    def record(self, task: Task, site: int, status: str, now: float) -> None:
        """Add ``task``'s row if it is sampled; ``status`` is done, failed, unmet, running or queued."""
        if self.fraction < 1.0 and not sampled(task.id, self.fraction):
            return
        start = task.first_start_h
        row = (
            task.id, self.class_names[task.cls], self.region_ids[task.origin], self.site_ids[site], task.arrival_h,
            start, now if status == "done" else None, None if start is None else start - task.arrival_h,
            task.gpus, task.work, status, task.restarts, task.lost_gpu_h,
        )
        for name, value in zip(JOB_COLUMNS, row, strict=True):
            self.columns[name].append(value)

    def close(self, pools: list[GpuPool], now: float) -> None:
        """At the horizon: add the jobs still running or queued at ``SchedPool`` sites, by job id."""
        rest: list[tuple[int, int, Task, str]] = []
        for pool in pools:
            if isinstance(pool, SchedPool):
                rest += [(t.id, pool.index, t, "running") for t in pool.tasks.values()]
                rest += [(t.id, pool.index, t, "queued") for t in pool.queued()]
        for _, site, task, status in sorted(rest, key=lambda r: r[0]):
            self.record(task, site, status, now)


@dataclass
class RunTotals:
    """Whole-run aggregates over the measurement window ``[warmup_h, horizon_h)``."""

    waits: WaitHistogram = field(default_factory=WaitHistogram)
    wait_sum_h: float = 0.0
    energy_mwh: float = 0.0
    cost_cny: float = 0.0
    co2_t: float = 0.0


@dataclass
class _Snapshot:
    arrived: int = 0
    started: int = 0
    finished: int = 0
    busy_area: float = 0.0
    queue_area: float = 0.0
    unmet: int = 0
    lost_gpu_h: float = 0.0
    down_h: float = 0.0


class MetricBuffers:
    """Column buffers of the ``sites`` table plus whole-run totals.

    Parameters
    ----------
    pools : list of GpuPool
        The sites, in network order.
    warmup_h : float
        Waits of jobs that start before this time are left out of the run totals.
    """

    def __init__(self, pools: list[GpuPool], warmup_h: float) -> None:
        self.pools = pools
        self.warmup_h = warmup_h
        self.columns: dict[str, list[object]] = {name: [] for name in SITE_COLUMNS}
        self.totals = RunTotals()
        self._last = [_Snapshot() for _ in pools]
        self._t_last = pools[0].t_last if pools else 0.0
        self._warm_marks: list[int] | None = None

    def mark_warmup(self) -> None:
        """Called at ``warmup_h``: waits recorded from here on count in the run totals."""
        self._warm_marks = [len(p.waits) for p in self.pools]

    def sample(self, now: float) -> None:
        """Close the interval ``(last sample, now]`` and append one row per site."""
        dt = now - self._t_last
        if dt <= 0:
            return
        cols = self.columns
        in_window = now > self.warmup_h
        for i, pool in enumerate(self.pools):
            pool.advance(now)
            outcome = pool.outcome(now)
            last = self._last[i]
            waits = np.asarray(pool.waits, dtype=np.float64)
            if in_window:
                counted = waits[self._warm_marks[i]:] if self._warm_marks is not None else waits
                self.totals.waits.add(counted)
                self.totals.wait_sum_h += float(counted.sum())
            busy_gpu_h = pool.busy_area - last.busy_area
            busy_mean = busy_gpu_h / dt
            site = pool.site
            it_mw = (busy_mean * site.gpu_busy_w + (pool.total - busy_mean) * site.gpu_idle_w) / 1e6
            energy_mwh = it_mw * site.pue * dt
            cost = energy_mwh * 1000.0 * site.price_cny_per_kwh
            co2 = energy_mwh * site.carbon_kg_per_kwh * (1.0 - site.renewable_frac)
            if now > self.warmup_h:
                share = min(1.0, (now - self.warmup_h) / dt)
                self.totals.energy_mwh += energy_mwh * share
                self.totals.cost_cny += cost * share
                self.totals.co2_t += co2 * share
            row = (
                site.id, self._t_last, now, pool.total, busy_mean, busy_mean / pool.total,
                (pool.queue_area - last.queue_area) / dt, pool.queue_length(), len(pool.running),
                pool.arrived - last.arrived, pool.started - last.started, pool.finished - last.finished,
                float(waits.mean()) if waits.size else math.nan,
                float(np.quantile(waits, 0.5)) if waits.size else math.nan,
                float(np.quantile(waits, 0.95)) if waits.size else math.nan,
                float(waits.max()) if waits.size else math.nan,
                busy_gpu_h, energy_mwh, cost, co2,
                outcome.unmet - last.unmet, outcome.lost_gpu_h - last.lost_gpu_h, outcome.down_h - last.down_h,
            )
            for name, value in zip(SITE_COLUMNS, row, strict=True):
                cols[name].append(value)
            pool.waits.clear()
            if self._warm_marks is not None:
                self._warm_marks[i] = 0
            self._last[i] = _Snapshot(pool.arrived, pool.started, pool.finished, pool.busy_area, pool.queue_area,
                                      outcome.unmet, outcome.lost_gpu_h, outcome.down_h)
        if in_window:
            self._warm_marks = None
        self._t_last = now
