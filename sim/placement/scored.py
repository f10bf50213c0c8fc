"""The base of the load-aware policies that pick the lowest-scored reachable site (``cheapest``, ``greenest``)."""

from __future__ import annotations

from sim.placement.base import PlacementContext, Policy
from sim.placement.scoring import best_scored, class_means
from topology.model import Site

__all__ = ["ScoredPolicy"]


class ScoredPolicy(Policy):
    """The reachable site, large enough for the job, with the lowest :func:`~sim.placement.scoring.best_scored` score.

    Subclasses give :meth:`unit_score` (what a reference GPU-hour costs at a site, >= 0)
    and :attr:`wait_value` (what a GPU-hour of waiting costs, in the same unit).  Ties
    go to the lower unit score, then the nearer site, then the earlier site in the
    network file.
    """

    wait_value = 0.0
    """Value of one GPU-hour of waiting, in the unit of :meth:`unit_score`."""

    def __init__(self, context: PlacementContext) -> None:
        super().__init__(context)
        self.unit = [self.unit_score(site) for site in context.network.sites]
        # by_latency is nearest first with ties by site order; a stable sort by unit keeps that as the tie-break.
        self.ranked = [sorted(order, key=lambda j: self.unit[j]) for order in self.by_latency]
        self.work_gpu_h, self.run_ref_h = class_means(context.classes)

    @staticmethod
    def unit_score(site: Site) -> float:
        """Cost of one reference GPU-hour at ``site`` (lower is better), >= 0."""
        raise NotImplementedError

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """See :meth:`Policy.choose`."""
        return best_scored(self.pools, self.ranked[origin], self.unit, gpus, self.work_gpu_h[cls],
                           self.run_ref_h[cls], self.wait_value)
