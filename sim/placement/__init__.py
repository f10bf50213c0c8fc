"""Placement policies, one small class each, picked by name from :data:`POLICIES`."""

from sim.placement.base import REJECT, PlacementContext, Policy
from sim.placement.least_loaded import LeastLoaded
from sim.placement.nearest import Nearest

__all__ = ["POLICIES", "REJECT", "LeastLoaded", "Nearest", "PlacementContext", "Policy"]

POLICIES: dict[str, type[Policy]] = {cls.name: cls for cls in (Nearest, LeastLoaded)}
"""Every policy by the name a scenario uses (``policy = "nearest"``)."""
