"""``cheapest``: the reachable site where a GPU-hour of work costs the least electricity."""

from __future__ import annotations

from sim.energy import energy_cny_per_ref_gpu_h
from sim.placement.ranked import RankedPolicy
from topology.model import Site

__all__ = ["Cheapest"]


class Cheapest(RankedPolicy):
    """Lowest electricity cost per reference GPU-hour (``price × PUE`` order for equal GPUs); ignores load."""

    name = "cheapest"

    @staticmethod
    def score(site: Site) -> float:
        """CNY per reference GPU-hour, see :func:`sim.energy.energy_cny_per_ref_gpu_h`."""
        return energy_cny_per_ref_gpu_h(site)
