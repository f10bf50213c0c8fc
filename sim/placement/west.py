"""Which sites count as western in the "East Data, West Computing" plan: the one definition.

The ``edwc`` placement, ``cpnsim search --vary west_gpus`` and the calibration table's western
utilisation all ask :func:`is_western`.
"""

from __future__ import annotations

from topology.model import Site

__all__ = ["WESTERN_HUB_PROVINCES", "is_western"]

WESTERN_HUB_PROVINCES = frozenset({"inner mongolia", "guizhou", "gansu", "ningxia"})
"""Provinces of the four western national hub nodes of the EDWC plan (lower case)."""


def is_western(site: Site) -> bool:
    """Whether ``site`` is in the west of the EDWC plan ("compute in the west").

    A site is western when its ``zone`` is ``"west"`` (every built-in network sets the zone
    of every site).  A site without a zone (a user's network that does not set it) is
    western when its ``region`` label is ``west`` or one of the provinces of the four
    western hubs (Inner Mongolia, Guizhou, Gansu, Ningxia), case-insensitive.

    Examples
    --------
    >>> is_western(Site(id="a", lat=37.5, lon=105.2, gpus=8, zone="west"))
    True
    >>> is_western(Site(id="b", lat=37.5, lon=105.2, gpus=8, region="west", zone="other"))
    False
    >>> is_western(Site(id="c", lat=26.4, lon=106.4, gpus=8, region="Guizhou"))
    True
    """
    if site.zone is not None:
        return site.zone == "west"
    label = (site.region or "").strip().lower()
    return label == "west" or label in WESTERN_HUB_PROVINCES
