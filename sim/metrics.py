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

from sim.site import GpuPool
from sim.wait_histogram import WaitHistogram

__all__ = ["SITE_COLUMNS", "MetricBuffers", "RunTotals"]

SITE_COLUMNS = (
    "site_id", "t_start_h", "t_end_h", "gpus_total", "gpus_busy_mean", "utilisation",
    "queue_len_mean", "queue_len_end", "running_end", "jobs_arrived", "jobs_started",
    "jobs_finished", "wait_mean_h", "wait_p50_h", "wait_p95_h", "wait_max_h", "gpu_h_busy",
    "energy_mwh", "cost_cny", "co2_t",
)


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
                (pool.queue_area - last.queue_area) / dt, len(pool.queue), len(pool.running),
                pool.arrived - last.arrived, pool.started - last.started, pool.finished - last.finished,
                float(waits.mean()) if waits.size else math.nan,
                float(np.quantile(waits, 0.5)) if waits.size else math.nan,
                float(np.quantile(waits, 0.95)) if waits.size else math.nan,
                float(waits.max()) if waits.size else math.nan,
                busy_gpu_h, energy_mwh, cost, co2,
            )
            for name, value in zip(SITE_COLUMNS, row, strict=True):
                cols[name].append(value)
            pool.waits.clear()
            if self._warm_marks is not None:
                self._warm_marks[i] = 0
            self._last[i] = _Snapshot(pool.arrived, pool.started, pool.finished, pool.busy_area, pool.queue_area)
        if in_window:
            self._warm_marks = None
        self._t_last = now
