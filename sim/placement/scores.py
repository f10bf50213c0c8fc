"""Per-site figures the energy-aware policies rank by, and which sites count as western.

Both scores are per **reference GPU-hour** (one hour of work of the reference GPU,
``sku_speed = 1``) on a busy GPU, so a faster or more frugal SKU ranks better:

* energy cost = ``price_cny_per_kwh × pue × gpu_busy_w / 1000 / sku_speed``  (CNY per reference GPU-h)
* carbon      = ``carbon_kg_per_kwh × (1 − renewable_frac) × pue × gpu_busy_w / 1000 / sku_speed``
  (kg CO2 per reference GPU-h)

Between sites with the same GPU (power and speed), the cost order is the order of
``price × pue``.
"""

from __future__ import annotations

from topology.model import Site

__all__ = ["WESTERN_HUB_PROVINCES", "carbon_kg_per_ref_gpu_h", "energy_cny_per_ref_gpu_h", "is_western"]

WESTERN_HUB_PROVINCES = frozenset({"inner mongolia", "guizhou", "gansu", "ningxia"})
"""Provinces of the four western national hub nodes of the EDWC plan (lower case)."""


def energy_cny_per_ref_gpu_h(site: Site) -> float:
    """Electricity cost of one reference GPU-hour of work at ``site``, CNY (facility energy, PUE included)."""
    return site.price_cny_per_kwh * site.pue * site.gpu_busy_w / 1000.0 / site.sku_speed


def carbon_kg_per_ref_gpu_h(site: Site) -> float:
    """Emissions of one reference GPU-hour of work at ``site``, kg CO2 (non-renewable share only)."""
    return site.carbon_kg_per_kwh * (1.0 - site.renewable_frac) * site.pue * site.gpu_busy_w / 1000.0 / site.sku_speed


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
