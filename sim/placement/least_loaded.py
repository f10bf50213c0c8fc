"""``least_loaded``: the reachable site whose GPUs are least committed."""

from __future__ import annotations

from collections.abc import Sequence

from sim.placement.base import REJECT, Policy
from sim.pool import Pool

__all__ = ["LeastLoaded", "least_loaded_of"]


def least_loaded_of(pools: Sequence[Pool], candidates: list[int], gpus: int) -> int:
    """The candidate site with the lowest committed load after adding a job of ``gpus`` GPUs.

    Load is (GPUs busy + GPUs asked for by queued jobs + ``gpus``) / total GPUs; sites
    smaller than the job are skipped; ties go to the earlier candidate.  :data:`REJECT`
    when no candidate is large enough.
    """
    best, best_load = REJECT, float("inf")
    for j in candidates:
        pool = pools[j]
        if pool.total < gpus:
            continue
        load = (pool.total - pool.free + pool.queued_gpus + gpus) / pool.total
        if load < best_load:
            best, best_load = j, load
    return best


class LeastLoaded(Policy):
    """Send each job to the site with the lowest committed load after adding it.

    Load is (GPUs busy + GPUs asked for by queued jobs + this job's GPUs) / total GPUs,
    over reachable sites large enough for the job; ties go to the nearer site.
    """

    name = "least_loaded"

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """See :meth:`Policy.choose`."""
        return least_loaded_of(self.pools, self.by_latency[origin], gpus)
