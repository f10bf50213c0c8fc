"""Placement policies, one small class each, picked by name from :data:`POLICIES`."""

from sim.placement.base import REJECT, PlacementContext, Policy
from sim.placement.cheapest import Cheapest
from sim.placement.edwc import Edwc
from sim.placement.greenest import Greenest
from sim.placement.least_loaded import LeastLoaded
from sim.placement.nearest import Nearest

__all__ = [
    "POLICIES", "REJECT", "Cheapest", "Edwc", "Greenest", "LeastLoaded", "Nearest", "PlacementContext", "Policy",
]

POLICIES: dict[str, type[Policy]] = {cls.name: cls for cls in (Nearest, LeastLoaded, Cheapest, Greenest, Edwc)}
"""Every policy by the name a scenario uses (``policy = "nearest"``)."""
