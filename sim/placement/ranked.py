"""The base of policies that rank sites by a fixed score (``cheapest``, ``greenest``)."""

from __future__ import annotations

from sim.placement.base import REJECT, PlacementContext, Policy
from topology.model import Site

__all__ = ["RankedPolicy"]


class RankedPolicy(Policy):
    """The reachable site with the lowest :meth:`score` that has at least the job's GPUs.

    Ties go to the nearer site, then to the earlier site in the network file.  The
    score ignores load, so the choice depends only on (origin, GPUs) and is cached.
    """

    def __init__(self, context: PlacementContext) -> None:
        super().__init__(context)
        scores = [self.score(site) for site in context.network.sites]
        # by_latency is nearest first with ties by site order; a stable sort by score keeps that as the tie-break.
        self.ranked = [sorted(order, key=lambda j: scores[j]) for order in self.by_latency]
        self._cache: dict[tuple[int, int], int] = {}

    @staticmethod
    def score(site: Site) -> float:
        """Lower is better."""
        raise NotImplementedError

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """See :meth:`Policy.choose`."""
        key = (origin, gpus)
        site = self._cache.get(key)
        if site is None:
            site = next((j for j in self.ranked[origin] if self.pools[j].total >= gpus), REJECT)
            self._cache[key] = site
        return site
