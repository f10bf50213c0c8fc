"""The adoption model inside a run: a monthly step process coupling capacity to AI adoption.

When a scenario has ``[adoption]``, :class:`AdoptionDriver` (one per replication)

1. at every step boundary T_k = k · step_h advances each segment's adopted fraction
   exactly over the step (:func:`workloads.adoption.coupling.advance`), with the
   capacity factors measured on the previous step's jobs;
2. turns adopters into Poisson arrivals of each workload class from the segment's
   region for the step (merged into the engine's arrival batches; one random stream
   ``adoption/<class>/<region>`` each, time-changed so that runs differing in capacity
   share their jobs, :mod:`workloads.adoption.arrivals`);
3. measures, per (class, region), what became of the jobs that arrived in each step:
   the GPU-hours asked for, the GPU-hours started at a site within the class's latency
   budget, the mean wait met and the mean price per GPU-hour; jobs still queued at the
   step's end count their wait so far and as not served.

Accounting is cheap: arrival batches are counted vectorised; each job that ends
reaches :meth:`AdoptionDriver.on_end` once through the pools' job recorder (so every site
uses :class:`~sim.scheduling.SchedPool`, whose FIFO schedule equals the plain pool's); the
running and queued jobs are scanned once per step.  Per-segment figures split the
per-(class, region) measurements by each segment's expected share of the region's
adoption-driven work in the class.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from typing import Any

import numpy as np
from simpy.events import Event

from sim.energy import busy_gpu_cost_cny_per_gpu_h
from sim.engine import Engine
from sim.pool import JobRecorder, Pool
from sim.tables import empty_columns
from sim.task import Task
from topology.model import Network
from workloads.adoption import (
    AdoptionConfig,
    AdoptionStep,
    Segments,
    TimeChangedStream,
    advance,
    build_segments,
    class_rates_by_region,
    expected_costs_factor,
    facilitating_factor,
)
from workloads.arrivals import ArrivalBatch, merge_batches
from workloads.job_class import JobClass

__all__ = ["AdoptionDriver", "AdoptionLog"]

# Per (class, region) accumulators of one step's arrivals, in this order.
_DEMAND, _SERVED, _WAIT_SUM, _WAITED, _PRICE_WORK, _STARTED_WORK, _ADOPT_DEMAND = range(7)
_N_ACC = 7
QUANTA_PER_GPU_H = 1024.0
"""Work is accounted in whole 1/1024 GPU-h: integer-valued float sums are exact and independent of
the order jobs are added in, so "everything served" gives a served share of exactly 1."""


class AdoptionLog:
    """The pools' job recorder when adoption is on: tells the driver about every job that ends, then ``inner``.

    Parameters
    ----------
    driver : AdoptionDriver
        Accounts each job that ends.
    inner : JobRecorder, optional
        The ``jobs`` table's log, if on.
    """

    def __init__(self, driver: AdoptionDriver, inner: JobRecorder | None) -> None:
        self.driver = driver
        self.inner = inner

    def record(self, task: Task, site: int, status: str, now: float) -> None:
        """Account ``task`` (ended with ``status``) for adoption and pass it on to the ``jobs`` table."""
        if status != "running" and status != "queued":
            self.driver.on_end(task, site, status, now)
        if self.inner is not None:
            self.inner.record(task, site, status, now)


class AdoptionDriver:
    """Adoption state of one replication and the step process that advances it.

    Parameters
    ----------
    config : AdoptionConfig
        The scenario's ``[adoption]`` table.
    network : Network
        Regions (segments' origins) and sites (prices).
    classes : dict of str to JobClass
        The workload, in the model's class order.
    latency_ms : numpy.ndarray
        One-way latency, shape (regions, sites).
    rng_for : callable
        Returns the random generator of a named stream of this replication.
    horizon_h : float
        End of the run.

    Raises
    ------
    ValueError
        A region or class named by ``config`` that does not exist.
    """

    def __init__(
        self,
        config: AdoptionConfig,
        network: Network,
        classes: dict[str, JobClass],
        latency_ms: np.ndarray,
        rng_for: Callable[[str], np.random.Generator],
        horizon_h: float,
    ) -> None:
        self.config = config
        self.class_names = list(classes)
        self.classes = list(classes.values())
        self.n_regions = len(network.regions)
        self.segments: Segments = build_segments(
            config, [r.id for r in network.regions], [r.demand_weight for r in network.regions], self.class_names
        )
        self.horizon_h = horizon_h
        self.step_h = config.step_h
        # within[c, r, s]: a job of class c from region r served at site s meets its latency budget (round trip).
        budget = np.array([math.inf if c.latency_budget_ms is None else c.latency_budget_ms for c in self.classes])
        self.within = 2.0 * latency_ms[None, :, :] <= budget[:, None, None]
        self.price = np.array([busy_gpu_cost_cny_per_gpu_h(s) for s in network.sites])
        self.region_ids = [r.id for r in network.regions]
        self.rng_for = rng_for
        # One stream per (class, region) with adoption-driven work, created when its rate first turns positive.
        self.streams: dict[tuple[int, int], TimeChangedStream] = {}
        self.frac = self.segments.initial_frac.copy()
        self.rates = np.zeros((len(self.classes), self.n_regions))  # jobs/h, (class, region), this step
        self.acc: dict[int, np.ndarray] = {}  # step index -> accumulators (_N_ACC, classes, regions)
        self.current: AdoptionStep | None = None
        self.k = 0
        self.t_start = 0.0
        self.columns = empty_columns("adoption")

    # -- the step process ---------------------------------------------------------------
    def step_end(self, k: int) -> float:
        """End of step ``k`` (h), the horizon for the last one."""
        return min((k + 1) * self.step_h, self.horizon_h)

    def _begin(self, ec: np.ndarray | None, fc: np.ndarray | None) -> None:
        """Start step ``self.k`` at ``self.t_start``: fix p_eff, q_eff and the arrival rates over it."""
        dt = self.step_end(self.k) - self.t_start
        self.current = advance(self.frac, self.segments, self.config, dt, ec, fc, self.t_start)
        self.rates = class_rates_by_region(self.frac, self.segments, self.config, self.t_start, self.n_regions)

    def process(self, engine: Engine, pools: Sequence[Pool]) -> Generator[Event, Any, None]:
        """The low-frequency actor: one wake-up per step boundary before the horizon.

        ``pools`` are the sites, whose running and queued jobs each step's end measures.
        """
        self._begin(None, None)  # no service measured yet: neutral capacity factors
        while self.step_end(self.k) < self.horizon_h:
            yield engine.timeout(self.step_end(self.k) - engine.now)
            engine.events += 1
            ec, fc = self._finish(engine.now, pools)
            self.k += 1
            self.t_start = engine.now
            self._begin(ec, fc)

    def close(self, now: float, pools: Sequence[Pool]) -> None:
        """At the horizon: measure and write the last step (``pools`` as for :meth:`process`)."""
        self._finish(now, pools)

    # -- arrivals -----------------------------------------------------------------------
    def extend(self, batch: ArrivalBatch, t0: float, t1: float) -> ArrivalBatch:
        """Add the adoption-driven arrivals in ``[t0, t1)`` to ``batch`` and count the step's demand.

        The rates are those of the step in force at ``t0`` (an arrival step that straddles an
        adoption boundary keeps them until its end).
        """
        extra = []
        for c, r in zip(*np.nonzero(self.rates), strict=True):
            stream = self.streams.get((int(c), int(r)))
            if stream is None:
                name = f"adoption/{self.class_names[c]}/{self.region_ids[r]}"
                stream = TimeChangedStream(self.classes[c], int(c), int(r), self.rng_for(name))
                self.streams[int(c), int(r)] = stream
            extra.append(stream.arrivals(float(self.rates[c, r]), t0, t1))
        # A stream whose rate is 0 this step has no arrivals, but its clock must not jump.
        for (c, r), stream in self.streams.items():
            if self.rates[c, r] == 0:
                stream.arrivals(0.0, t0, t1)
        adoption = merge_batches(extra) if extra else None
        self._count(batch, _DEMAND)
        if adoption is not None and len(adoption):
            self._count(adoption, _DEMAND)
            self._count(adoption, _ADOPT_DEMAND)
            return merge_batches([batch, adoption])
        return batch

    def _count(self, batch: ArrivalBatch, row: int) -> None:
        if not len(batch):
            return
        bucket = (batch.t_h // self.step_h).astype(np.int64)
        n_c, n_r = len(self.classes), self.n_regions
        for k in np.unique(bucket):
            mask = bucket == k
            flat = batch.cls[mask] * n_r + batch.origin[mask]
            quanta = np.round(batch.work_gpu_h[mask] * QUANTA_PER_GPU_H)
            work = np.bincount(flat, weights=quanta, minlength=n_c * n_r).reshape(n_c, n_r)
            self._acc(int(k))[row] += work

    def _acc(self, k: int) -> np.ndarray:
        acc = self.acc.get(k)
        if acc is None:
            acc = self.acc[k] = np.zeros((_N_ACC, len(self.classes), self.n_regions))
        return acc

    # -- job outcomes -------------------------------------------------------------------
    def on_end(self, task: Task, site: int, status: str, now: float) -> None:
        """A job ended (``done``, ``failed`` or ``unmet``): account it in its arrival step, if still open."""
        k = int(task.arrival_h // self.step_h)
        if k < self.k:
            return  # its step has been measured already
        self._account(task, site, now, served=status == "done")

    def _account(self, task: Task, site: int, now: float, served: bool) -> None:
        acc = self._acc(int(task.arrival_h // self.step_h))
        c, r = task.cls, task.origin
        start = task.first_start_h
        acc[_WAIT_SUM, c, r] += (now if start is None else start) - task.arrival_h
        acc[_WAITED, c, r] += 1.0
        if start is not None and served:
            quanta = round(task.work * QUANTA_PER_GPU_H)
            acc[_STARTED_WORK, c, r] += quanta
            acc[_PRICE_WORK, c, r] += self.price[site] * quanta
            if self.within[c, r, site]:
                acc[_SERVED, c, r] += quanta

    def _finish(self, now: float, pools: Sequence[Pool]) -> tuple[np.ndarray, np.ndarray]:
        """Measure step ``self.k`` at ``now``, write its rows, advance F; return the capacity factors.

        Raises
        ------
        TypeError
            A pool keeps no task records (pass an :class:`AdoptionLog` to ``build_pools``).
        """
        k = self.k
        for pool in pools:
            running, queued = pool.unfinished_tasks()
            for task in running:
                if int(task.arrival_h // self.step_h) == k:
                    self._account(task, pool.index, now, served=True)
            for task in queued:
                if int(task.arrival_h // self.step_h) == k:
                    self._account(task, pool.index, now, served=False)
        acc = self.acc.pop(k, None)
        if acc is None:
            acc = np.zeros((_N_ACC, len(self.classes), self.n_regions))
        seg = self.segments
        reg = seg.region_index
        with np.errstate(invalid="ignore", divide="ignore"):
            share_cr = acc[_SERVED] / acc[_DEMAND]  # NaN where nothing was asked
            wait_cr = acc[_WAIT_SUM] / acc[_WAITED]
            price_cr = acc[_PRICE_WORK] / acc[_STARTED_WORK]
            # Each segment's expected share of its region's adoption-driven work in each class.
            expect = (seg.enterprises * self.frac)[:, None] * seg.jobs_per_adopter_per_h  # (segments, classes)
            region_total = np.zeros((self.n_regions, len(self.classes)))
            np.add.at(region_total, reg, expect)
            weight = np.where(region_total[reg] > 0, expect / region_total[reg], 0.0)
        demand_sc = weight * acc[_ADOPT_DEMAND].T[reg] / QUANTA_PER_GPU_H  # (segments, classes) GPU-h
        demand = demand_sc.sum(axis=1)
        served = np.nansum(demand_sc * share_cr.T[reg], axis=1)

        def mean(per_cr: np.ndarray) -> np.ndarray:
            values = per_cr.T[reg]
            w = np.where(np.isnan(values), 0.0, demand_sc)
            with np.errstate(invalid="ignore", divide="ignore"):
                out: np.ndarray = np.nansum(w * np.nan_to_num(values), axis=1) / w.sum(axis=1)
            return out

        wait = mean(wait_cr)
        price = mean(price_cr)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(demand > 0, served / np.where(demand > 0, demand, 1.0), math.nan)
        self._write(k, now, demand, served, share, wait, price)
        coupling = self.config.coupling
        self.frac = self.current.frac_end if self.current is not None else self.frac
        return expected_costs_factor(wait, price, coupling), facilitating_factor(share, coupling)

    def _write(self, k: int, now: float, demand: np.ndarray, served: np.ndarray, share: np.ndarray,
               wait: np.ndarray, price: np.ndarray) -> None:
        step = self.current
        assert step is not None
        seg = self.segments
        n = len(seg)
        cols = self.columns
        cols["step"] += [k] * n
        cols["t_start_h"] += [self.t_start] * n
        cols["t_end_h"] += [now] * n
        cols["region"] += list(seg.region)
        cols["industry"] += list(seg.industry)
        cols["enterprises"] += seg.enterprises.tolist()
        cols["adopted_frac_start"] += step.frac_start.tolist()
        cols["adopted_frac"] += step.frac_end.tolist()
        cols["adopters"] += (seg.enterprises * step.frac_end).tolist()
        cols["p_eff_per_yr"] += step.p_eff_per_yr.tolist()
        cols["q_eff_per_yr"] += step.q_eff_per_yr.tolist()
        cols["resonance"] += step.resonance.tolist()
        for name in ("comparative_advantage", "complexity", "compatibility", "observability",
                     "anticipated_benefits", "social_impact"):
            cols[name] += seg.factors[name].tolist()
        cols["expected_costs"] += step.expected_costs.tolist()
        cols["facilitating_conditions"] += step.facilitating_conditions.tolist()
        cols["demand_gpu_h"] += demand.tolist()
        cols["served_gpu_h"] += served.tolist()
        cols["unmet_gpu_h"] += (demand - served).tolist()
        cols["served_share"] += share.tolist()
        cols["wait_mean_h"] += wait.tolist()
        cols["price_cny_per_gpu_h"] += price.tolist()

    # -- summary ------------------------------------------------------------------------
    def at_horizon(self) -> tuple[float, float]:
        """(enterprise-weighted adopted fraction, adopters) over all segments at the horizon."""
        enterprises = self.segments.enterprises
        adopters = float((enterprises * self.frac).sum())
        total = float(enterprises.sum())
        return (adopters / total if total > 0 else math.nan), adopters
