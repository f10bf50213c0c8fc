"""``least_loaded``: the reachable site whose GPUs are least committed.

:func:`least_loaded_of` scans short candidate lists (:func:`least_loaded_among`, over the
candidates' pools, which the policies keep per origin row); long ones (many sites within
reach) go through a load index shared by the pools of one run (:class:`_LoadIndex`): numpy
arrays of the sites' committed loads, kept current by the pools, so a choice is a few
vectorised operations instead of a Python loop, with the same answer as the scan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.placement.base import REJECT, PlacementContext, Policy
from sim.pool import Pool

__all__ = ["LeastLoaded", "least_loaded_among", "least_loaded_of"]

INDEX_MIN_CANDIDATES = 64
"""From this many candidates on, :func:`least_loaded_of` uses the load index instead of a scan.

A choice over 32 sites costs 2.0 µs by scan and 2.1 µs by index, over 64 sites 3.7 and
2.1 µs, over 256 sites 14.6 and 2.5 µs (benchmarks/README.md, "Least-loaded placement");
the national network's 24 sites stay on the scan."""

_MAX_LISTS = 1024
"""Most (candidate list, GPUs) pairs one index keeps arrays for; then all are dropped and rebuilt on demand."""


def least_loaded_of(pools: Sequence[Pool], candidates: list[int], gpus: int) -> int:
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
        if not isinstance(index, _LoadIndex) or index.pools is not pools:
            index = _LoadIndex(pools)
        return index.least_loaded(candidates, gpus)
    return least_loaded_among([pools[j] for j in candidates], gpus)


def least_loaded_among(candidates: Sequence[Pool], gpus: int) -> int:
    """:func:`least_loaded_of` by scan over the candidates' pools themselves: the index of the chosen pool.

    Callers that choose among the same short list many times keep its pools in a list
    (:class:`LeastLoaded`, :class:`~sim.placement.edwc.Edwc`): each candidate then costs no
    ``pools[j]`` look-up, and the loop has no ``continue`` branch.  A choice over the
    national network's 14-20 candidates took 1.11 µs against 1.30 µs for the scan over site
    indices (benchmarks/README.md, "Issue 20, sixth slice: the national path").
    """
    best: Pool | None = None
    best_load = math.inf
    for pool in candidates:
        total = pool.total  # read once: two attribute loads fewer per candidate
        if total >= gpus:
            load = (total - pool.free + pool.queued_gpus + gpus) / total
            if load < best_load:  # strict: ties go to the earlier candidate
                best, best_load = pool, load
    return REJECT if best is None else best.index


class _LoadIndex(set[int]):
    """Committed loads of one run's pools as numpy arrays, for :func:`least_loaded_of` on long lists.

    The set itself is what every pool's ``load_watch`` points to: a pool adds its index
    whenever its committed load (``total - free + queued_gpus``) changes (a C
    ``set.add``, the only cost on the pools' hot path), and a choice first copies the
    loads of those sites into :attr:`committed`.  A choice is then a gather, a division
    and an ``argmin`` in numpy: the per-candidate cost is a few nanoseconds instead of a
    Python iteration (benchmarks/scaling.py, sites sweep).  Same answer as the scan, bit
    for bit: integers below 2**53 are exact in float64 and one IEEE division rounds as
    Python's ``int / int`` does; ``argmin`` keeps the first of equal minima, the
    earlier candidate, as the scan's strict ``<`` does.
    """

    __slots__ = ("committed", "lists", "pools", "total")

    def __init__(self, pools: Sequence[Pool]) -> None:
        super().__init__()
        self.pools = pools
        self.total = np.array([pool.total for pool in pools], dtype=np.float64)
        self.committed = np.array([pool.total - pool.free + pool.queued_gpus for pool in pools], dtype=np.float64)
        # id(candidates), GPUs -> (the list, kept so its id stays unique; its sites; their totals, +inf
        # added where the job does not fit).
        self.lists: dict[tuple[int, int], tuple[list[int], np.ndarray, np.ndarray, np.ndarray]] = {}
        for pool in pools:
            pool.load_watch = self

    def capacity_changed(self, site: int) -> None:
        """Site ``site``'s GPU count changed (a capacity timeline step): refresh it and the cached lists."""
        self.total[site] = self.pools[site].total
        self.lists.clear()

    def least_loaded(self, candidates: list[int], gpus: int) -> int:
        """:func:`least_loaded_of` over ``candidates`` from the arrays."""
        if self:
            committed, pools = self.committed, self.pools
            for site in self:
                pool = pools[site]
                committed[site] = pool.total - pool.free + pool.queued_gpus
            self.clear()
        key = (id(candidates), gpus)
        known = self.lists.get(key)
        if known is None or known[0] is not candidates:
            if len(self.lists) >= _MAX_LISTS:
                self.lists.clear()
            sites = np.array(candidates, dtype=np.intp)
            total = self.total[sites]
            known = self.lists[key] = (candidates, sites, total, np.where(total >= gpus, 0.0, np.inf))
        _, sites, total, misfit = known
        load = (self.committed[sites] + gpus) / total + misfit  # x + 0.0 is x: fitting loads unchanged
        best = int(load.argmin())
        return candidates[best] if load[best] < np.inf else REJECT


class LeastLoaded(Policy):
    """Send each job to the site with the lowest committed load after adding it.

    Load is (GPUs busy + GPUs asked for by queued jobs + this job's GPUs) / total GPUs,
    over reachable sites large enough for the job; ties go to the nearer site.
    """

    name = "least_loaded"

    def __init__(self, context: PlacementContext) -> None:
        super().__init__(context)
        # Each row's reachable pools, nearest first, for the scan (least_loaded_among); None where the
        # list is long enough for the load index (least_loaded_of).
        self.near_pools: list[list[Pool] | None] = [
            None if len(order) >= INDEX_MIN_CANDIDATES else [self.pools[j] for j in order] for order in self.by_latency
        ]

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """See :meth:`Policy.choose`."""
        near = self.near_pools[origin]
        if near is None:
            return least_loaded_of(self.pools, self.by_latency[origin], gpus)
        return least_loaded_among(near, gpus)
