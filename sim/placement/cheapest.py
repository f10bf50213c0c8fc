"""``cheapest``: the reachable site where a job costs least, electricity, waiting and moving its data together."""

from __future__ import annotations

from sim.energy import energy_cny_per_ref_gpu_h
from sim.placement.scored import ScoredPolicy
from sim.placement.scoring import WAIT_VALUE_CNY_PER_GPU_H
from topology.model import Site

__all__ = ["Cheapest"]


class Cheapest(ScoredPolicy):
    """Lowest ``E[work] × electricity CNY per reference GPU-h + 10 CNY × GPUs × expected wait + transfer CNY``.

    The transfer term is the class's mean input and result GB times the route's price per GB
    (:class:`~sim.placement.scoring.TransferCosts`); 0 on a network without prices.
    """

    name = "cheapest"
    wait_value = WAIT_VALUE_CNY_PER_GPU_H
    weighs_transfer = True

    @staticmethod
    def unit_score(site: Site) -> float:
        """CNY per reference GPU-hour, see :func:`sim.energy.energy_cny_per_ref_gpu_h`."""
        return energy_cny_per_ref_gpu_h(site)
