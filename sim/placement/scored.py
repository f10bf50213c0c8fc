"""The base of the load-aware policies that pick the lowest-scored reachable site (``cheapest``, ``greenest``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.placement.base import PlacementContext, Policy
from sim.placement.scoring import TransferCosts, best_delay_h, best_scored, best_scored_timed, class_means
from sim.signals import PRICE, SiteSignals
from topology.model import Site

if TYPE_CHECKING:
    from sim.engine import Engine

__all__ = ["ScoredPolicy"]


class ScoredPolicy(Policy):
    """The reachable site, large enough for the job, with the lowest :func:`~sim.placement.scoring.best_scored` score.

    Subclasses give :meth:`unit_score` (what a reference GPU-hour costs at a site, >= 0)
    and :attr:`wait_value` (what a GPU-hour of waiting costs, in the same unit); with
    :attr:`weighs_transfer` (a unit in CNY) the score adds the expected price of moving
    the job's data (:class:`~sim.placement.scoring.TransferCosts`).  Ties go to the lower
    unit score, then the nearer site, then the earlier site in the network file.
    """

    wait_value = 0.0
    """Value of one GPU-hour of waiting, in the unit of :meth:`unit_score`."""
    weighs_transfer = False
    """Add the expected CNY of moving the job's data to the score (policies whose unit is CNY)."""
    signal_row = PRICE
    """Which hourly signal the unit follows under ``[signals] time_aware`` (:data:`sim.signals.PRICE` or ``CARBON``)."""

    def __init__(self, context: PlacementContext) -> None:
        super().__init__(context)
        self.unit = [self.unit_score(site) for site in context.network.sites]
        # by_latency is nearest first with ties by site order; a stable sort by unit keeps that as the tie-break.
        self.ranked = [sorted(order, key=lambda j: self.unit[j]) for order in self.by_latency]
        self.work_gpu_h, self.run_ref_h = class_means(context.classes)
        costs = TransferCosts(context) if self.weighs_transfer else None
        self.transfer = costs if costs is not None and costs.active else None  # None: no per-job look-up
        self.signals: SiteSignals | None = None
        self.engine: Engine | None = None

    def attach_signals(self, signals: SiteSignals, engine: Engine) -> None:
        """Score each site on the hours the job is expected to run there (``[signals] time_aware``)."""
        self.signals = signals
        self.engine = engine

    def deferral_h(self, origin: int, gpus: int, cls: int, site: int) -> float:
        """Hours to hold a job with a ``deadline_h`` and no latency budget for better hours (``[signals] defer``)."""
        job_class = self.context.classes[cls]
        if (self.signals is None or self.engine is None or not self.signals.config.defer
                or job_class.deadline_h is None or job_class.latency_budget_ms is not None):
            return 0.0
        return best_delay_h(self.pools[site], site, self.signals, self.signal_row, self.engine.now_h, gpus,
                            self.run_ref_h[cls], job_class.deadline_h)

    @staticmethod
    def unit_score(site: Site) -> float:
        """Cost of one reference GPU-hour at ``site`` (lower is better), >= 0."""
        raise NotImplementedError

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """See :meth:`Policy.choose`."""
        extra = None if self.transfer is None else self.transfer.of(origin, cls)
        if self.signals is not None and self.engine is not None:
            return best_scored_timed(self.pools, self.ranked[origin], self.signals, self.signal_row, self.engine.now_h,
                                     gpus, self.work_gpu_h[cls], self.run_ref_h[cls], self.wait_value, extra=extra)
        return best_scored(self.pools, self.ranked[origin], self.unit, gpus, self.work_gpu_h[cls],
                           self.run_ref_h[cls], self.wait_value, extra=extra)
