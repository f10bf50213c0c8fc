"""The load index of :func:`sim.placement.least_loaded.least_loaded_of` for long candidate lists.

Apart from :mod:`sim.placement.least_loaded` because it subclasses ``set``, which mypyc
cannot compile (``setup.py`` compiles that module); its work is in numpy anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.placement.base import REJECT
from sim.site import GpuPool

__all__ = ["LoadIndex"]

_MAX_LISTS = 1024
"""Most (candidate list, GPUs) pairs one index keeps arrays for; then all are dropped and rebuilt on demand."""


class LoadIndex(set[int]):
    """Committed loads of one run's pools as numpy arrays, for ``least_loaded_of`` on long lists.

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

    def __init__(self, pools: Sequence[GpuPool]) -> None:
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
        """:func:`~sim.placement.least_loaded.least_loaded_of` over ``candidates`` from the arrays."""
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
