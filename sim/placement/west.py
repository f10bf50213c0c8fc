"""Which sites count as western in the "East Data, West Computing" plan (``edwc`` placement, ``cpnsim search``)."""

from __future__ import annotations

from topology.model import Site

__all__ = ["WESTERN_HUB_PROVINCES", "is_western"]

WESTERN_HUB_PROVINCES = frozenset({"inner mongolia", "guizhou", "gansu", "ningxia"})
"""Provinces of the four western national hub nodes of the EDWC plan (lower case)."""


def is_western(site: Site) -> bool:
    """Whether ``site`` is in the west of the EDWC plan ("compute in the west").

    A site is western when its ``zone`` attribute (if the network model has one) is
    ``"west"``; otherwise when its ``region`` label is ``west`` or one of the provinces
    of the four western hubs (Inner Mongolia, Guizhou, Gansu, Ningxia), case-insensitive.
    """
    zone = getattr(site, "zone", None)
    if zone is not None:
        return str(zone).lower() == "west"
    label = (site.region or "").strip().lower()
    return label == "west" or label in WESTERN_HUB_PROVINCES
