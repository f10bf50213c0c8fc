"""``greenest``: the reachable site where a GPU-hour of work emits the least CO2."""

from __future__ import annotations

from sim.energy import carbon_kg_per_ref_gpu_h
from sim.placement.ranked import RankedPolicy
from topology.model import Site

__all__ = ["Greenest"]


class Greenest(RankedPolicy):
    """Lowest emissions per reference GPU-hour; ignores load."""

    name = "greenest"

    @staticmethod
    def score(site: Site) -> float:
        """kg CO2 per reference GPU-hour, see :func:`sim.energy.carbon_kg_per_ref_gpu_h`."""
        return carbon_kg_per_ref_gpu_h(site)
