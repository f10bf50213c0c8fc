"""``least_loaded``: the reachable site whose GPUs are least committed.

:func:`least_loaded_of` scans short candidate lists (:func:`least_loaded_among`, over the
candidates' pools, which the policies keep per origin row); long ones (many sites within
reach) go through a load index shared by the pools of one run
(:class:`~sim.placement.load_index.LoadIndex`): numpy
arrays of the sites' committed loads, kept current by the pools, so a choice is a few
vectorised operations instead of a Python loop, with the same answer as the scan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar, Final

from sim.placement.base import REJECT, PlacementContext, Policy
from sim.placement.load_index import LoadIndex
from sim.site import GpuPool

__all__ = ["LeastLoaded", "least_loaded_among", "least_loaded_of"]

INDEX_MIN_CANDIDATES: Final = 64
"""From this many candidates on, :func:`least_loaded_of` uses the load index instead of a scan.

A choice over 32 sites costs 2.0 µs by scan and 2.1 µs by index, over 64 sites 3.7 and
2.1 µs, over 256 sites 14.6 and 2.5 µs (benchmarks/README.md, "Least-loaded placement");
the national network's 27 sites
(28 partitions: Gui'an is split per chip) stay on the scan."""

def least_loaded_of(pools: Sequence[GpuPool], candidates: list[int], gpus: int) -> int:
    """The candidate site with the lowest committed load after adding a job of ``gpus`` GPUs.

    Load is (GPUs busy + GPUs asked for by queued jobs + ``gpus``) / total GPUs; sites
    smaller than the job are skipped; ties go to the earlier candidate.  :data:`REJECT`
    when no candidate is large enough.

    Lists of :data:`INDEX_MIN_CANDIDATES` or more sites are answered from a load index
    kept on the pools (same answer, vectorised); such a list must not be changed in place
    afterwards (the policies pass lists they cache).
    """
    if len(candidates) >= INDEX_MIN_CANDIDATES:
        index = pools[candidates[0]].load_watch
        if not isinstance(index, LoadIndex) or index.pools is not pools:
            index = LoadIndex(pools)
        return index.least_loaded(candidates, gpus)
    return least_loaded_among([pools[j] for j in candidates], gpus)


def least_loaded_among(candidates: Sequence[GpuPool], gpus: int) -> int:
    """:func:`least_loaded_of` by scan over the candidates' pools themselves: the index of the chosen pool.

    Callers that choose among the same short list many times keep its pools in a list
    (:class:`LeastLoaded`, :class:`~sim.placement.edwc.Edwc`): each candidate then costs no
    ``pools[j]`` look-up, and the loop has no ``continue`` branch.  A choice over the
    national network's 14-20 candidates took 1.11 µs against 1.30 µs for the scan over site
    indices (benchmarks/README.md, "Issue 20, sixth slice: the national path").
    """
    best: GpuPool | None = None
    best_load = math.inf
    for pool in candidates:
        total = pool.total  # read once: two attribute loads fewer per candidate
        if total >= gpus:
            load = (total - pool.free + pool.queued_gpus + gpus) / total
            if load < best_load:  # strict: ties go to the earlier candidate
                best, best_load = pool, load
    return REJECT if best is None else best.index


class LeastLoaded(Policy):
    """Send each job to the site with the lowest committed load after adding it.

    Load is (GPUs busy + GPUs asked for by queued jobs + this job's GPUs) / total GPUs,
    over reachable sites large enough for the job; ties go to the nearer site.
    """

    name: ClassVar[str] = "least_loaded"

    def __init__(self, context: PlacementContext) -> None:
        super().__init__(context)
        # Each row's reachable pools, nearest first, for the scan (least_loaded_among); None where the
        # list is long enough for the load index (least_loaded_of).
        self.near_pools: list[list[GpuPool] | None] = [
            None if len(order) >= INDEX_MIN_CANDIDATES else [self.pools[j] for j in order] for order in self.by_latency
        ]

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """See :meth:`Policy.choose`."""
        near = self.near_pools[origin]
        if near is None:
            return least_loaded_of(self.pools, self.by_latency[origin], gpus)
        return least_loaded_among(near, gpus)
