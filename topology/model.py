"""The network as data: sites, demand regions and links.

Every model is frozen and rejects unknown keys, so a typo in a network file is an
error, not a silently ignored setting.  Units are in the field names.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from topology.chips import ChipCount
from topology.countries import check_country
from topology.limits import (
    MAX_BANDWIDTH_GBPS,
    MAX_CARBON_KG_PER_KWH,
    MAX_DEMAND_WEIGHT,
    MAX_DISTANCE_KM,
    MAX_FIBRE_US_PER_KM,
    MAX_GPU_W,
    MAX_HOP_MS,
    MAX_POWER_ENVELOPE_MW,
    MAX_PRICE_CNY_PER_GB,
    MAX_PRICE_CNY_PER_KWH,
    MAX_PUE,
    MAX_ROUTE_FACTOR,
    MAX_SITE_GPUS,
    MAX_SKU_SPEED,
)
from topology.plumbing import StrictModel

__all__ = ["ZONES", "CapacityStep", "Link", "Network", "Region", "Site", "SiteKind", "Zone", "check_timeline"]

SiteKind = Literal["hub", "cluster", "gpu_pool", "regional_pool"]

Zone = Literal["east", "west", "other", "abroad"]
"""Where a node lies in the "East Data, West Computing" (EDWC) plan.

``east``: a province of the four eastern (demand-side) hubs (Beijing, Tianjin, Hebei;
Shanghai, Jiangsu, Zhejiang, Anhui; Guangdong; Sichuan, Chongqing).  ``west``: a province
of the four western hubs (Inner Mongolia, Guizhou, Gansu, Ningxia), the "compute in the
west".  ``other``: elsewhere in China (e.g. Heilongjiang, Hubei, Xinjiang, or a demand
region that spans zones).  ``abroad``: outside China."""

ZONES: tuple[Zone, ...] = ("east", "west", "other", "abroad")
"""Every :data:`Zone`, in that order."""


def _unset(value: object) -> bool:
    """Whether an optional key is unset: keys added to the format later are dumped only when set.

    So the dump of a network without them, and with it the scenario id (a digest of the
    dump), stays what it was.
    """
    return value is None


def _country(value: str | None) -> str | None:
    return None if value is None else check_country(value)


class CapacityStep(StrictModel):
    """One dated level of a site's capacity: ``gpus`` GPUs in force from ``date`` on.

    The level takes effect at 00:00 of ``date`` on the scenario's calendar
    (:mod:`sim.capacity_timeline`): GPUs added are usable at once; GPUs retired leave
    as they become free (no running job is killed).

    Attributes
    ----------
    date : datetime.date
        The day the level is in force from (``"2025-12-31"`` or a TOML date).
    gpus : int
        GPUs in force from that day (>= 0).
    source : str
        Where the figure comes from.
    """

    date: date
    gpus: int = Field(ge=0, le=MAX_SITE_GPUS)
    source: str = ""


def check_timeline(timeline: tuple[CapacityStep, ...]) -> str | None:
    """Why ``timeline`` is not a valid capacity timeline, or ``None``: dates must strictly increase.

    The message starts with the offending key (``timeline[2].date: ...``).

    Examples
    --------
    >>> check_timeline((CapacityStep(date="2026-01-01", gpus=1), CapacityStep(date="2026-01-01", gpus=2)))
    'timeline[1].date: duplicate date: 2026-01-01 after 2026-01-01'
    """
    for k in range(1, len(timeline)):
        day, before = timeline[k].date, timeline[k - 1].date
        if day <= before:
            what = "duplicate date" if day == before else "dates out of order"
            return f"timeline[{k}].date: {what}: {day} after {before}"
    return None


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
    gpus_low, gpus_high : int or None
        The low and high ends of the site's capacity, in GPUs (``gpus`` is the central
        estimate): ``gpus_low <= gpus <= gpus_high``.  The scenario key ``capacity``
        (``low``, ``central``, ``high``) picks which one a run uses
        (:func:`topology.capacity.with_capacity`); ``None``: that end equals ``gpus``.
    capacity_method : str or None
        How the capacity was arrived at: installed vs planned, site vs province (or
        platform), and whether the source states the precision (``docs/model.md``,
        "Capacity ranges").
    board_power_w, server_overhead_w : float or None
        The two parts of ``gpu_busy_w`` when the network gives them: the accelerator's
        board power and the per-accelerator share of the server's CPU, memory, network
        and storage power, in watts; ``board_power_w + server_overhead_w == gpu_busy_w``.
        Informational (the energy model reads ``gpu_busy_w``); ``None``: not split.
    pue : float
        Power usage effectiveness (facility power / IT power), >= 1: the measured PUE
        where one is published, else an estimate (the built-in networks say which in ``source``).
    pue_target : float or None
        The policy PUE target (ceiling) for the site, kept apart from ``pue`` so that a
        target is not read as a measurement; informational.
    power_envelope_mw : float or None
        Facility power the site may draw, MW: at most ``floor(power_envelope_mw × 10⁶ /
        (gpu_busy_w × pue))`` GPUs are in force (:func:`sim.capacity_timeline.envelope_gpus`);
        GPUs beyond that are dark (no idle power, not in ``gpus_total``).  ``None``: no cap.
    zone : Zone or None
        EDWC zone (:data:`Zone`); ``None`` when the network does not say (then
        :func:`sim.placement.west.is_western` falls back to the ``region`` label).
    country : str or None
        ISO 3166-1 alpha-2 code of the country the site is in; ``None``: China when
        ``zone`` is ``east``, ``west`` or ``other``, else unknown
        (:func:`topology.residency.country_of`).  Residency rules read it.
    chips : tuple of ChipCount or None
        The site's chip mix: accelerators per SKU (:mod:`topology.chips`), summing to
        ``gpus``.  A loaded network holds no mixes: the loader turns a site with a mix
        into one partition per SKU (:mod:`topology.chip_partitions`), which takes its
        ``sku``, ``sku_speed``, ``board_power_w`` and ``gpu_busy_w`` from the SKU, so a
        site with ``chips`` does not set those four.  ``None``: one SKU, as given.
    parent : str or None
        Set by the loader on a partition of a mixed site: the id of the site it was
        split from (``None``: not a partition).
    """

    id: str = Field(min_length=1)
    name: str = ""
    kind: SiteKind = "cluster"
    region: str | None = None
    zone: Zone | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    gpus: int = Field(gt=0, le=MAX_SITE_GPUS)
    gpus_low: int | None = Field(default=None, gt=0, le=MAX_SITE_GPUS, exclude_if=_unset)
    gpus_high: int | None = Field(default=None, gt=0, le=MAX_SITE_GPUS, exclude_if=_unset)
    capacity_method: str | None = Field(default=None, min_length=1, exclude_if=_unset)
    sku: str = "reference"
    sku_speed: float = Field(default=1.0, gt=0, le=MAX_SKU_SPEED)
    gpu_busy_w: float = Field(default=400.0, ge=0, le=MAX_GPU_W)
    gpu_idle_w: float = Field(default=80.0, ge=0, le=MAX_GPU_W)
    board_power_w: float | None = Field(default=None, ge=0, le=MAX_GPU_W, exclude_if=_unset)
    server_overhead_w: float | None = Field(default=None, ge=0, le=MAX_GPU_W, exclude_if=_unset)
    pue: float = Field(default=1.3, ge=1.0, le=MAX_PUE)
    pue_target: float | None = Field(default=None, ge=1.0, le=MAX_PUE, exclude_if=_unset)
    power_envelope_mw: float | None = Field(default=None, gt=0, le=MAX_POWER_ENVELOPE_MW, exclude_if=_unset)
    price_cny_per_kwh: float = Field(default=0.5, ge=0, le=MAX_PRICE_CNY_PER_KWH)
    carbon_kg_per_kwh: float = Field(default=0.55, ge=0, le=MAX_CARBON_KG_PER_KWH)
    renewable_frac: float = Field(default=0.0, ge=0, le=1)
    residency: str | None = None
    country: str | None = Field(default=None, exclude_if=_unset)
    source: str = ""
    timeline: tuple[CapacityStep, ...] | None = Field(default=None, exclude_if=_unset)
    chips: tuple[ChipCount, ...] | None = Field(default=None, min_length=1, exclude_if=_unset)
    parent: str | None = Field(default=None, min_length=1, exclude_if=_unset)

    _check_country = field_validator("country")(_country)

    @field_validator("gpus_low")
    @classmethod
    def _low_at_most_central(cls, low: int | None, info: ValidationInfo) -> int | None:
        gpus = info.data.get("gpus")
        if low is not None and gpus is not None and low > gpus:
            raise ValueError(f"must be <= gpus (the central estimate, = {gpus}), got {low}")
        return low

    @field_validator("gpus_high")
    @classmethod
    def _high_at_least_central(cls, high: int | None, info: ValidationInfo) -> int | None:
        gpus = info.data.get("gpus")
        if high is not None and gpus is not None and high < gpus:
            raise ValueError(f"must be >= gpus (the central estimate, = {gpus}), got {high}")
        return high

    @field_validator("server_overhead_w")
    @classmethod
    def _parts_sum_to_busy(cls, overhead: float | None, info: ValidationInfo) -> float | None:
        board, busy = info.data.get("board_power_w"), info.data.get("gpu_busy_w")
        if overhead is not None and board is not None and busy is not None and abs(board + overhead - busy) > 1e-6:
            raise ValueError(f"board_power_w + server_overhead_w (= {board + overhead:g} W) must equal "
                             f"gpu_busy_w (= {busy:g} W)")
        return overhead

    def capacity(self, level: str) -> int:
        """GPUs at capacity ``level`` (``low``, ``central``, ``high``); an unset end is ``gpus``."""
        value = {"low": self.gpus_low, "central": self.gpus, "high": self.gpus_high}[level]
        return self.gpus if value is None else value

    @model_validator(mode="after")
    def _timeline_in_order(self) -> Site:
        problem = check_timeline(self.timeline) if self.timeline else None
        if problem is not None:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _mix_sums_to_gpus(self) -> Site:
        if self.chips is None:
            return self
        total = sum(c.gpus for c in self.chips)
        if total != self.gpus:
            raise ValueError(f"chips: the mix holds {total:,} GPUs "
                             f"({' + '.join(f'{c.gpus:,} {c.sku}' for c in self.chips)}), the site's gpus is "
                             f"{self.gpus:,}; they must be equal")
        seen: set[str] = set()
        for i, chip in enumerate(self.chips):
            if chip.sku in seen:
                raise ValueError(f"chips[{i}].sku: {chip.sku!r} appears twice in the mix")
            seen.add(chip.sku)
        clash = [k for k in ("sku", "sku_speed", "board_power_w", "gpu_busy_w") if k in self.model_fields_set]
        if clash:
            raise ValueError(f"{clash[0]}: set by each SKU of chips; drop it (give server_overhead_w for the "
                             "server's share of power)")
        if self.timeline:
            raise ValueError("timeline: a site with a chip mix cannot have a capacity timeline yet; "
                             "split the site by SKU instead")
        return self


class Region(StrictModel):
    """Where demand originates: a province group, metro area or country.

    Attributes
    ----------
    demand_weight : float
        Share of every job class's arrivals that originate here, before
        normalisation over all regions (>= 0).
    zone : Zone or None
        EDWC zone (:data:`Zone`); ``None`` when the network does not say.
    country : str or None
        ISO 3166-1 alpha-2 code of the region's country (as for :class:`Site`).
    """

    id: str = Field(min_length=1)
    name: str = ""
    zone: Zone | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    demand_weight: float = Field(default=1.0, ge=0, le=MAX_DEMAND_WEIGHT)
    country: str | None = Field(default=None, exclude_if=_unset)
    source: str = ""

    _check_country = field_validator("country")(_country)


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
    price_cny_per_gb : float or None
        What moving one GB (10^9 bytes) over the link costs, CNY; ``None``: free (0).
        Counted in the ``links`` and ``runs`` tables (``cost_cny``, ``transfer_cost_cny``).
    """

    id: str = Field(min_length=1)
    a: str = Field(min_length=1)
    b: str = Field(min_length=1)
    distance_km: float | None = Field(default=None, ge=0, le=MAX_DISTANCE_KM)
    route_factor: float = Field(default=1.5, ge=1.0, le=MAX_ROUTE_FACTOR)
    hop_ms: float = Field(default=0.0, ge=0, le=MAX_HOP_MS)
    bandwidth_gbps: float = Field(default=100.0, gt=0, le=MAX_BANDWIDTH_GBPS)
    price_cny_per_gb: float | None = Field(default=None, ge=0, le=MAX_PRICE_CNY_PER_GB, exclude_if=_unset)
    source: str = ""


class Network(StrictModel):
    """A whole network: the file format of ``network = ...`` in a scenario.

    Tables are ``[[site]]``, ``[[region]]`` and ``[[link]]``; see ``docs/model.md``.
    """

    name: str = "network"
    description: str = ""
    fibre_us_per_km: float = Field(default=5.0, gt=0, le=MAX_FIBRE_US_PER_KM)
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
