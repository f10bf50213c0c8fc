"""Per-interval site metrics streamed into column buffers: the producer of the ``sites`` table.

At each metric interval the sampler turns every pool's cumulative counters into one
row per site (differences since the last sample) and appends it to plain column
lists (names from :mod:`sim.tables`; energy, cost and CO2 from :mod:`sim.energy`, or hour
by hour from :class:`sim.signals.HourlyMeter` with ``[signals]``).
Nothing per job is kept beyond the current interval, so memory grows with the
output only, not with the number of jobs or the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.energy import interval_energy
from sim.pool import Pool
from sim.signals import HourlyMeter
from sim.tables import append_row, empty_columns
from sim.wait_histogram import WaitHistogram

__all__ = ["MetricBuffers", "RunTotals"]

@dataclass
class RunTotals:
    """Whole-run aggregates over the measurement window ``[warmup_h, horizon_h)``."""

    waits: WaitHistogram = field(default_factory=WaitHistogram)
    wait_sum_h: float = 0.0
    energy_mwh: float = 0.0
    cost_cny: float = 0.0
    co2_t: float = 0.0
    renewable_mwh: float = 0.0


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
    cap_area: float = 0.0


_QUANTILES = np.array([0.5, 0.95])


class MetricBuffers:
    """Column buffers of the ``sites`` table plus whole-run totals.

    Parameters
    ----------
    pools : sequence of Pool
        The sites, in network order.
    warmup_h : float
        Waits of jobs that start before this time are left out of the run totals.
    meter : HourlyMeter, optional
        With ``[signals]``: energy, cost, CO2 and renewables integrated hour by hour
        (:mod:`sim.signals`); ``None``: each interval at the sites' annual figures.
    """

    def __init__(self, pools: Sequence[Pool], warmup_h: float, meter: HourlyMeter | None = None) -> None:
        self.pools = pools
        self.warmup_h = warmup_h
        self.columns = empty_columns("sites")
        self.totals = RunTotals()
        self._last = [_Snapshot() for _ in pools]
        self._t_last = pools[0].t_last if pools else 0.0
        self._warm_marks: list[int] | None = None
        self.meter = meter
        self._meter_last = meter.totals() if meter is not None else None

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
        hourly = None
        if self.meter is not None and self._meter_last is not None:
            self.meter.advance(now)  # the interval's last partial hour
            cumulative = self.meter.totals()
            hourly = (cumulative - self._meter_last).tolist()
            self._meter_last = cumulative
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
            cap_gpu_h = pool.capacity_gpu_h(now)
            # GPUs in force: the mean of the capacity timeline where it changed in the interval
            # (sim.capacity_timeline), and at least the busy GPUs (retired GPUs count until their job ends).
            gpus_mean = max((cap_gpu_h - last.cap_area) / dt if pool.cap_t > self._t_last else pool.total, busy_mean)
            utilisation = busy_mean / gpus_mean if gpus_mean > 0 else 0.0
            if hourly is None:
                energy_mwh, cost, co2 = interval_energy(site, busy_mean, dt, gpus_mean)
                renewable_mwh = energy_mwh * site.renewable_frac
                price, carbon = site.price_cny_per_kwh, site.carbon_kg_per_kwh
            else:
                energy_mwh, cost, co2, renewable_mwh, grid_co2 = (hourly[k][i] for k in range(5))
                # Energy-weighted means of the interval's hours (the annual figure when no energy was used).
                price = cost / (energy_mwh * 1000.0) if energy_mwh > 0 else site.price_cny_per_kwh
                carbon = grid_co2 / energy_mwh if energy_mwh > 0 else site.carbon_kg_per_kwh
            if now > self.warmup_h:
                share = min(1.0, (now - self.warmup_h) / dt)
                self.totals.energy_mwh += energy_mwh * share
                self.totals.cost_cny += cost * share
                self.totals.co2_t += co2 * share
                self.totals.renewable_mwh += renewable_mwh * share
            # Both quantiles from one call: half the fixed cost of np.quantile, which
            # dominated the metric rows of a tiny scenario (benchmarks/sweep.py, "overhead").
            p50, p95 = np.quantile(waits, _QUANTILES).tolist() if waits.size else (math.nan, math.nan)
            append_row(cols, {
                "site_id": site.id, "t_start_h": self._t_last, "t_end_h": now, "gpus_total": pool.total,
                "gpus_busy_mean": busy_mean, "utilisation": utilisation,
                "queue_len_mean": (pool.queue_area - last.queue_area) / dt, "queue_len_end": pool.queue_length(),
                "running_end": len(pool.running), "jobs_arrived": pool.arrived - last.arrived,
                "jobs_started": pool.started - last.started, "jobs_finished": pool.finished - last.finished,
                "wait_mean_h": float(waits.mean()) if waits.size else math.nan,
                "wait_p50_h": p50, "wait_p95_h": p95,
                "wait_max_h": float(waits.max()) if waits.size else math.nan,
                "gpu_h_busy": busy_gpu_h, "energy_mwh": energy_mwh, "cost_cny": cost, "co2_t": co2,
                "jobs_unmet": outcome.unmet - last.unmet, "gpu_h_lost": outcome.lost_gpu_h - last.lost_gpu_h,
                "down_h": outcome.down_h - last.down_h,
                "price_cny_per_kwh": price, "carbon_kg_per_kwh": carbon, "renewable_mwh": renewable_mwh,
                "renewable_share": (math.nan if energy_mwh <= 0 else
                                    site.renewable_frac if hourly is None else renewable_mwh / energy_mwh),
            })
            pool.waits.clear()
            if self._warm_marks is not None:
                self._warm_marks[i] = 0
            self._last[i] = _Snapshot(pool.arrived, pool.started, pool.finished, pool.busy_area, pool.queue_area,
                                      outcome.unmet, outcome.lost_gpu_h, outcome.down_h, cap_gpu_h)
        if in_window:
            self._warm_marks = None
        self._t_last = now
