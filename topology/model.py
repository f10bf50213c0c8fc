"""The network as data: sites, demand regions and links.

Every model is frozen and rejects unknown keys, so a typo in a network file is an
error, not a silently ignored setting.  Units are in the field names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from topology.plumbing import StrictModel

__all__ = ["Link", "Network", "Region", "Site", "SiteKind"]

SiteKind = Literal["hub", "cluster", "gpu_pool", "regional_pool"]


class Site(StrictModel):
    """Where compute lives: a pool of identical GPUs with its power and grid figures.

    Attributes
    ----------
    gpus : int
        GPUs in the pool (> 0).
    sku_speed : float
        Throughput of one GPU relative to the reference GPU in which job work is
        measured (reference GPU-hours); a job of ``w`` GPU-hours on ``g`` GPUs runs
        ``w / (g * sku_speed)`` hours.
    gpu_busy_w, gpu_idle_w : float
        Board power of one GPU when busy / idle, in watts.
    pue : float
        Power usage effectiveness (facility power / IT power), >= 1.
    """

    id: str = Field(min_length=1)
    name: str = ""
    kind: SiteKind = "cluster"
    region: str | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    gpus: int = Field(gt=0)
    sku: str = "reference"
    sku_speed: float = Field(default=1.0, gt=0)
    gpu_busy_w: float = Field(default=400.0, ge=0)
    gpu_idle_w: float = Field(default=80.0, ge=0)
    pue: float = Field(default=1.3, ge=1.0)
    price_cny_per_kwh: float = Field(default=0.5, ge=0)
    carbon_kg_per_kwh: float = Field(default=0.55, ge=0)
    renewable_frac: float = Field(default=0.0, ge=0, le=1)
    residency: str | None = None
    source: str = ""


class Region(StrictModel):
    """Where demand originates: a province group, metro area or country.

    Attributes
    ----------
    demand_weight : float
        Share of every job class's arrivals that originate here, before
        normalisation over all regions (>= 0).
    """

    id: str = Field(min_length=1)
    name: str = ""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    demand_weight: float = Field(default=1.0, ge=0)
    source: str = ""


class Link(StrictModel):
    """A fibre or submarine route between two nodes (sites or regions).

    Attributes
    ----------
    distance_km : float or None
        Route length in km; when absent it is the great-circle distance between the
        endpoints times ``route_factor``.
    hop_ms : float
        Fixed one-way cost of the hop (equipment, IP overhead) in milliseconds.
    bandwidth_gbps : float
        Capacity in Gbit/s.
    """

    id: str = Field(min_length=1)
    a: str = Field(min_length=1)
    b: str = Field(min_length=1)
    distance_km: float | None = Field(default=None, ge=0)
    route_factor: float = Field(default=1.5, ge=1.0)
    hop_ms: float = Field(default=0.0, ge=0)
    bandwidth_gbps: float = Field(default=100.0, gt=0)
    source: str = ""


class Network(StrictModel):
    """A whole network: the file format of ``network = ...`` in a scenario.

    Tables are ``[[site]]``, ``[[region]]`` and ``[[link]]``; see ``docs/model.md``.
    """

    name: str = "network"
    description: str = ""
    fibre_us_per_km: float = Field(default=5.0, gt=0)
    site: tuple[Site, ...] = Field(min_length=1)
    region: tuple[Region, ...] = Field(min_length=1)
    link: tuple[Link, ...] = ()
    include: tuple[str, ...] = ()
    """Networks merged in before this file's tables (built-in names or relative paths).

    Resolved by :func:`topology.load.load_network`, which validates the merged tables;
    a loaded network always has ``include == ()``."""

    @property
    def sites(self) -> tuple[Site, ...]:
        """The sites, in file order."""
        return self.site

    @property
    def regions(self) -> tuple[Region, ...]:
        """The demand regions, in file order."""
        return self.region

    @property
    def links(self) -> tuple[Link, ...]:
        """The links, in file order."""
        return self.link
