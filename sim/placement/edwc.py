"""``edwc``: "East Data, West Computing" — serve latency-bound work near, send the rest west.

Latency-sensitive work (its class has ``latency_budget_ms``) stays at sites whose round
trip ``2 × one-way latency`` fits the budget; latency-tolerant work goes to the
cheapest western site expected to start it before its deadline, and east only when the
west is saturated.  See ``docs/model.md`` (Placement) for the equations.
"""

from __future__ import annotations

from sim.energy import carbon_kg_per_ref_gpu_h, energy_cny_per_ref_gpu_h
from sim.placement.base import REJECT, PlacementContext, Policy
from sim.placement.least_loaded import least_loaded_of
from sim.placement.west import is_western
from sim.pool import Pool

__all__ = ["DEFAULT_DEADLINE_H", "Edwc", "estimated_wait_h"]

DEFAULT_DEADLINE_H = 24.0
"""Start deadline (h after arrival) of latency-tolerant classes without ``deadline_h``."""


def estimated_wait_h(pool: Pool, gpus: int, run_h: float) -> float:
    """A fluid estimate of how long a job of ``gpus`` GPUs would wait at ``pool``, hours.

    Zero when the GPUs busy, the GPUs asked for by queued jobs and this job's together fit
    in the pool; otherwise the overflow, in pool-fulls, times ``run_h`` (the time one
    pool-full of work takes to drain, taken as the job class's mean run time there):
    ``max(0, busy + queued_gpus + gpus − total) / total × run_h``.
    """
    overflow = pool.total - pool.free + pool.queued_gpus + gpus - pool.total
    if overflow <= 0:
        return 0.0
    return overflow / pool.total * run_h


class Edwc(Policy):
    """Latency budget first; then cheap western power before its deadline; then the east.

    * Class with ``latency_budget_ms`` *B*: among reachable sites with
      ``2 × latency ≤ B`` and enough GPUs, the least loaded (as ``least_loaded``);
      :data:`REJECT` (unmet, counted in ``jobs_rejected``) when there is none.
    * Otherwise, with deadline *D* (the class's ``deadline_h``, else
      :data:`DEFAULT_DEADLINE_H`): the first western site, by energy cost per
      reference GPU-hour (then carbon, then latency), whose :func:`estimated_wait_h`
      is at most *D*; else the nearest non-western site whose estimate is at most *D*;
      else the least loaded non-western site; else the least loaded western site.
    """

    name = "edwc"

    def __init__(self, context: PlacementContext) -> None:
        super().__init__(context)
        sites = context.network.sites
        cost = [energy_cny_per_ref_gpu_h(s) for s in sites]
        carbon = [carbon_kg_per_ref_gpu_h(s) for s in sites]
        west = [is_western(s) for s in sites]
        # by_latency is nearest first, so a stable sort leaves latency as the last tie-break.
        self.west = [
            sorted((j for j in order if west[j]), key=lambda j: (cost[j], carbon[j])) for order in self.by_latency
        ]
        self.east = [[j for j in order if not west[j]] for order in self.by_latency]
        self.budget_ms = [c.latency_budget_ms for c in context.classes]
        self.deadline_h = [c.deadline_h if c.deadline_h is not None else DEFAULT_DEADLINE_H for c in context.classes]
        # Mean run time of a class on one reference GPU-hour per GPU: E[work] / E[gpus] (h at sku_speed 1).
        self.run_ref_h = [c.work_gpu_h.expected() / max(c.gpus.expected(), 1.0) for c in context.classes]
        self._within: dict[tuple[int, int], list[int]] = {}

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
        if self.budget_ms[cls] is not None:
            return least_loaded_of(self.pools, self.within_budget(origin, cls), gpus)
        deadline, run_ref = self.deadline_h[cls], self.run_ref_h[cls]
        for candidates in (self.west[origin], self.east[origin]):
            for j in candidates:
                pool = self.pools[j]
                if pool.total >= gpus and estimated_wait_h(pool, gpus, run_ref / pool.speed) <= deadline:
                    return j
        site = least_loaded_of(self.pools, self.east[origin], gpus)
        return site if site != REJECT else least_loaded_of(self.pools, self.west[origin], gpus)
