"""Placement policies, one small class each, picked by name from :data:`POLICIES`.

Add a policy with :func:`register_policy` (see :mod:`sim.placement.registry`).
"""

from sim.placement.base import REJECT, PlacementContext, Policy
from sim.placement.cheapest import Cheapest
from sim.placement.edwc import Edwc
from sim.placement.greenest import Greenest
from sim.placement.least_loaded import LeastLoaded
from sim.placement.nearest import Nearest
from sim.placement.registry import POLICIES, register_policy, unregister_policy

__all__ = [
    "POLICIES", "REJECT", "Cheapest", "Edwc", "Greenest", "LeastLoaded", "Nearest", "PlacementContext", "Policy",
    "register_policy", "unregister_policy",
]

for _cls in (Nearest, LeastLoaded, Cheapest, Greenest, Edwc):
    register_policy(_cls.name, _cls)
