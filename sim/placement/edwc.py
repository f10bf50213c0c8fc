"""``edwc``: "East Data, West Computing" — serve latency-bound work near, send the rest west.

Latency-sensitive work (its class has ``latency_budget_ms``) stays at sites whose round
trip ``2 × one-way latency`` fits the budget; latency-tolerant work goes to the western
site where it costs least, electricity, expected wait and moving its data together
(:func:`sim.placement.scoring.best_scored`), among those expected to start it before its
deadline, and east only when the whole west is past the deadline.  See
``docs/model.md`` (Placement) for the equations.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from sim.energy import carbon_kg_per_ref_gpu_h, energy_cny_per_ref_gpu_h
from sim.placement.base import REJECT, PlacementContext, Policy
from sim.placement.least_loaded import INDEX_MIN_CANDIDATES, least_loaded_among, least_loaded_of
from sim.placement.scoring import (
    WAIT_VALUE_CNY_PER_GPU_H,
    TransferCosts,
    best_delay_h,
    best_scored,
    best_scored_timed,
    class_means,
)
from sim.placement.west import is_western
from sim.signals import PRICE, SiteSignals

if TYPE_CHECKING:
    from sim.engine import Engine
    from sim.site import GpuPool

__all__ = ["DEFAULT_DEADLINE_H", "Edwc"]

DEFAULT_DEADLINE_H = 24.0
"""Start deadline (h after arrival) of latency-tolerant classes without ``deadline_h``."""


class Edwc(Policy):
    """Latency budget first; then the western site of least cost and wait before the deadline; then the east.

    * Class with ``latency_budget_ms`` *B*: among reachable sites with
      ``2 × latency ≤ B`` and enough GPUs, the least loaded (as ``least_loaded``);
      :data:`REJECT` (unmet, counted in ``jobs_rejected``) when there is none.
    * Otherwise, with deadline *D* (the class's ``deadline_h``, else
      :data:`DEFAULT_DEADLINE_H`): the western site with the lowest score
      ``E[work] × c_s + 10 CNY × g × wait_s + m_s`` (``m_s`` the expected CNY of moving the
      job's data there and its result back, :class:`~sim.placement.scoring.TransferCosts`)
      among those whose expected wait is at most *D*; else the non-western site scored the same way within *D*; else the
      lowest-scored reachable site of any kind.  Ties: lower ``c_s``, then lower carbon,
      then nearer.
    """

    name: ClassVar[str] = "edwc"
    wait_value = WAIT_VALUE_CNY_PER_GPU_H

    def __init__(self, context: PlacementContext) -> None:
        super().__init__(context)
        sites = context.network.sites
        self.cost = [energy_cny_per_ref_gpu_h(s) for s in sites]
        carbon = [carbon_kg_per_ref_gpu_h(s) for s in sites]
        west = [is_western(s) for s in sites]
        # by_latency is nearest first, so a stable sort leaves latency as the last tie-break.
        ranked = [sorted(order, key=lambda j: (self.cost[j], carbon[j])) for order in self.by_latency]
        self.ranked = ranked
        self.west = [[j for j in order if west[j]] for order in ranked]
        self.east = [[j for j in order if not west[j]] for order in ranked]
        self.budget_ms = [c.latency_budget_ms for c in context.classes]
        self.deadline_h = [c.deadline_h if c.deadline_h is not None else DEFAULT_DEADLINE_H for c in context.classes]
        self.work_gpu_h, self.run_ref_h = class_means(context.classes)
        costs = TransferCosts(context)
        self.transfer = costs if costs.active else None  # None: no per-job look-up
        self._within: dict[tuple[int, int], list[int]] = {}
        # within_budget's pools by class, then origin row, for least_loaded_among (None: not yet asked, or
        # a list long enough for the load index): two list reads per latency-bound job instead of a
        # tuple key, and no pools[j] per candidate.  National example: 12-18 % less time per
        # latency-bound choice (1.52-1.67 -> 1.33-1.36 us), 4 % fewer instructions in the run
        # (benchmarks/README.md, "Issue 20, sixth slice: the national path").
        self._near: list[list[list[GpuPool] | None]] = [[None] * len(context.latency_ms) for _ in context.classes]
        self.signals: SiteSignals | None = None
        self.engine: Engine | None = None
        self.defer = False

    def attach_signals(self, signals: SiteSignals, engine: Engine) -> None:
        """Score latency-tolerant work on the mean price of the hours it is expected to run (``[signals] time_aware``).

        With ``[signals] defer``, :meth:`deferral_h` holds deferrable work for cheaper hours.
        """
        self.signals = signals
        self.engine = engine
        self.defer = signals.config.defer

    def deferral_h(self, origin: int, gpus: int, cls: int, site: int) -> float:
        """Hours to hold a job of class ``cls`` placed at ``site`` (see :func:`~sim.placement.scoring.best_delay_h`).

        Only classes with a ``deadline_h`` and no latency budget are held; 0 without ``defer``.
        """
        if not self.defer or self.budget_ms[cls] is not None or self.context.classes[cls].deadline_h is None:
            return 0.0
        assert self.signals is not None and self.engine is not None
        return best_delay_h(self.pools[site], site, self.signals, PRICE, self.engine.now_h, gpus,
                            self.run_ref_h[cls], self.deadline_h[cls])

    def within_budget(self, origin: int, cls: int) -> list[int]:
        """Sites whose round trip from ``origin`` fits the budget of class ``cls``, nearest first (cached)."""
        key = (origin, cls)
        sites = self._within.get(key)
        if sites is None:
            budget = self.budget_ms[cls]
            row = self.context.latency_ms[origin]
            sites = [j for j in self.by_latency[origin] if budget is not None and 2.0 * row[j] <= budget]
            self._within[key] = sites
        return sites

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """See :meth:`Policy.choose`."""
        near = self._near[cls][origin]  # filled for latency-bound classes only: no budget test first
        if near is not None:
            return least_loaded_among(near, gpus)
        if self.budget_ms[cls] is not None:
            sites = self._within.get((origin, cls))  # within_budget's cache read inline: one frame fewer
            if sites is None:
                sites = self.within_budget(origin, cls)
            if len(sites) < INDEX_MIN_CANDIDATES:  # longer lists stay on least_loaded_of's load index
                near = self._near[cls][origin] = [self.pools[j] for j in sites]
                return least_loaded_among(near, gpus)
            return least_loaded_of(self.pools, sites, gpus)
        work, run_ref, value = self.work_gpu_h[cls], self.run_ref_h[cls], self.wait_value
        deadline = self.deadline_h[cls]
        extra = None if self.transfer is None else self.transfer.of(origin, cls)
        if self.signals is not None:
            return self._choose_timed(origin, gpus, work, run_ref, deadline, extra)
        for candidates in (self.west[origin], self.east[origin]):
            site = best_scored(self.pools, candidates, self.cost, gpus, work, run_ref, value, deadline, extra)
            if site != REJECT:
                return site
        return best_scored(self.pools, self.ranked[origin], self.cost, gpus, work, run_ref, value, math.inf, extra)

    def _choose_timed(self, origin: int, gpus: int, work: float, run_ref: float, deadline: float,
                      extra: list[float] | None) -> int:
        """As :meth:`choose` for latency-tolerant work, each site priced over the hours the job would run there."""
        assert self.signals is not None and self.engine is not None
        now, value = self.engine.now_h, self.wait_value
        for candidates in (self.west[origin], self.east[origin]):
            site = best_scored_timed(self.pools, candidates, self.signals, PRICE, now, gpus, work, run_ref, value,
                                     deadline, extra)
            if site != REJECT:
                return site
        return best_scored_timed(self.pools, self.ranked[origin], self.signals, PRICE, now, gpus, work, run_ref, value,
                                 extra=extra)
