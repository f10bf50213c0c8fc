"""``greenest``: the reachable site where a job emits least, its wait valued in CO2 at the social cost of carbon."""

from __future__ import annotations

from sim.energy import carbon_kg_per_ref_gpu_h
from sim.placement.scored import ScoredPolicy
from sim.placement.scoring import WAIT_VALUE_KG_CO2_PER_GPU_H
from sim.signals import CARBON
from topology.model import Site

__all__ = ["Greenest"]


class Greenest(ScoredPolicy):
    """Lowest ``E[work] × kg CO2 per reference GPU-h + 7.31 kg × GPUs × expected wait``."""

    name = "greenest"
    wait_value = WAIT_VALUE_KG_CO2_PER_GPU_H
    signal_row = CARBON

    @staticmethod
    def unit_score(site: Site) -> float:
        """kg CO2 per reference GPU-hour, see :func:`sim.energy.carbon_kg_per_ref_gpu_h`."""
        return carbon_kg_per_ref_gpu_h(site)
