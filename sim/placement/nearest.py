"""``nearest``: the reachable site with the lowest latency from the job's origin."""

from __future__ import annotations

from sim.placement.base import REJECT, PlacementContext, Policy

__all__ = ["Nearest"]


class Nearest(Policy):
    """Send every job to the closest site (by one-way latency) large enough to run it.

    The choice depends only on (origin, GPUs): the nearest site and its size are kept
    per origin, so the usual job costs two list lookups; larger jobs go through a
    per-(origin, GPUs) cache.
    """

    name = "nearest"

    def __init__(self, context: PlacementContext) -> None:
        super().__init__(context)
        # Each row's nearest site and its GPUs: a job that fits goes there.  Also the policy's shortcut
        # (Policy.fixed_site), so the usual job needs no call: sim.model's arrival loop reads these.  Lean
        # M/M/10 run, 100,000 customers: 0.167 -> 0.158 CPU s (benchmarks/README.md, "Issue 20, fifth
        # slice: the per-job path").
        self.fixed_site = [order[0] if order else REJECT for order in self.by_latency]
        self.fixed_gpus = [self.pools[order[0]].total if order else 0 for order in self.by_latency]
        self._cache: dict[tuple[int, int], int] = {}

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """See :meth:`Policy.choose`."""
        if gpus <= self.fixed_gpus[origin]:
            return self.fixed_site[origin]
        key = (origin, gpus)
        site = self._cache.get(key)
        if site is None:
            site = next((j for j in self.by_latency[origin] if self.pools[j].total >= gpus), REJECT)
            self._cache[key] = site
        return site
