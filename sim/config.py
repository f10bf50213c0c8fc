"""The scenario's configuration: every model of a scenario file, validated and frozen.

A scenario on disk is TOML (``examples/*.toml``); :mod:`sim.scenario` reads it, applies
overrides and resolves the network; this module only says what a valid scenario is:
:class:`Scenario` and its parts (:class:`EngineOptions`, :class:`SiteOverride`, and the
``[failures]`` table :class:`Failures`, :class:`FailureSpec`, :class:`SiteFailures`).
Times are in hours.
"""

from __future__ import annotations

import math
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from sim.placement import POLICIES
from sim.wan_options import WanOptions
from topology.capacity import CapacityLevel
from topology.limits import (
    MAX_CARBON_KG_PER_KWH,
    MAX_COUNT,
    MAX_HORIZON_H,
    MAX_POWER_ENVELOPE_MW,
    MAX_PRICE_CNY_PER_KWH,
    MAX_PUE,
    MAX_SITE_GPUS,
    MAX_SKU_SPEED,
    MIN_STEP_H,
)
from topology.model import CapacityStep
from topology.plumbing import StrictModel, nearest
from topology.residency import ResidencyConfig
from topology.signals import SignalsConfig
from workloads.adoption import AdoptionConfig
from workloads.job_class import JobClass

__all__ = ["EngineOptions", "FailureSpec", "Failures", "Scenario", "SiteFailures", "SiteOverride"]

# Bounds beyond which a value cannot run or turns outputs into inf (docs/model.md, "Bounds").
MAX_SEED = 2**63 - 1
"""Seeds are written to int64 columns."""
MAX_REPLICATIONS = 10_000
MAX_GPU_FAILURES_PER_GPU_H = 1.0
"""One failure per busy GPU-hour: a failure rate far above any published (Meta's Llama 3
run saw about 419 interruptions in 54 days on 16,384 GPUs, ~2e-5 per GPU-h)."""
MIN_WEIBULL_SHAPE, MAX_WEIBULL_SHAPE = 0.1, 20.0
"""Fitted failure data give k ~0.5-1.5; Gamma(1 + 1/k) overflows near k = 0.006, k = 20 is nearly periodic."""
DEFAULT_MAX_EVENTS = 500_000_000
"""Default ``engine.max_events``: 15 min to 2 h of simulation (2-12 µs per estimated event measured)."""



class FailureSpec(StrictModel):
    """Failure figures of one site.

    Attributes
    ----------
    outage_mtbf_h : float, optional
        Mean time between outages: mean up time, h; ``None`` (default) or ``inf``: no outages.
    outage_mttr_h : float
        Mean time to repair: mean length of an outage, h.
    outage_dist : {"exponential", "weibull"}
        Distribution of up and down times (each with its own mean).
    weibull_shape : float
        Shape k of the Weibull distribution (k < 1: early failures, k = 1: exponential).
    gpu_failures_per_gpu_h : float
        Failures per busy GPU-hour, each interrupting the job on that GPU.
    max_restarts : int, optional
        A job interrupted more than this many times fails; ``None``: always restarts.
    """

    outage_mtbf_h: float | None = Field(default=None, gt=0)
    outage_mttr_h: float = Field(default=4.0, gt=0, le=MAX_HORIZON_H)
    outage_dist: Literal["exponential", "weibull"] = "exponential"
    weibull_shape: float = Field(default=1.0, ge=MIN_WEIBULL_SHAPE, le=MAX_WEIBULL_SHAPE)
    gpu_failures_per_gpu_h: float = Field(default=0.0, ge=0, le=MAX_GPU_FAILURES_PER_GPU_H)
    max_restarts: int | None = Field(default=None, ge=0, le=MAX_COUNT)

    @property
    def active(self) -> bool:
        """Whether any failure happens at all."""
        return self.has_outages or self.gpu_failures_per_gpu_h > 0

    @property
    def has_outages(self) -> bool:
        """Whether the site has outages (a finite ``outage_mtbf_h``)."""
        return self.outage_mtbf_h is not None and math.isfinite(self.outage_mtbf_h)


class SiteFailures(StrictModel):
    """Changes to the failure figures of one site (``[failures.sites.<site id>]``); unset keys inherit.

    ``outage_mtbf_h = inf`` switches outages off at the site.
    """

    outage_mtbf_h: float | None = Field(default=None, gt=0)
    outage_mttr_h: float | None = Field(default=None, gt=0, le=MAX_HORIZON_H)
    outage_dist: Literal["exponential", "weibull"] | None = None
    weibull_shape: float | None = Field(default=None, ge=MIN_WEIBULL_SHAPE, le=MAX_WEIBULL_SHAPE)
    gpu_failures_per_gpu_h: float | None = Field(default=None, ge=0, le=MAX_GPU_FAILURES_PER_GPU_H)
    max_restarts: int | None = Field(default=None, ge=0, le=MAX_COUNT)


class Failures(FailureSpec):
    """The ``[failures]`` table: figures for every site, and per-site changes under ``sites``."""

    sites: dict[str, SiteFailures] = Field(default_factory=dict)

    def for_site(self, site_id: str) -> FailureSpec:
        """The figures of ``site_id``: the table's, with that site's changes applied."""
        base = self.model_dump(exclude={"sites"})
        change = self.sites.get(site_id)
        if change is not None:
            base.update(change.model_dump(exclude_none=True))
        return FailureSpec(**base)


class EngineOptions(StrictModel):
    """Engine settings that trade memory for speed; results do not depend on them
    beyond the random draws they order.

    Attributes
    ----------
    arrival_step_h : float
        Arrivals are drawn in one vectorised batch per step of this many hours.
    max_events : int
        Refuse, before running, a scenario expected to simulate more logical events than
        this over all its replications (see ``sim.size``); raise it to run one anyway.
    max_memory_gb : float, optional
        Refuse a scenario whose estimated peak memory (GB, 10^9 bytes) is above this;
        ``None`` (default): half the physical memory of the machine.
    """

    arrival_step_h: float = Field(default=24.0, ge=MIN_STEP_H, le=MAX_HORIZON_H)
    max_events: int = Field(default=DEFAULT_MAX_EVENTS, gt=0, le=MAX_COUNT)
    max_memory_gb: float | None = Field(default=None, gt=0, le=1e9)


class SiteOverride(StrictModel):
    """Changes to one site of the network, keyed by site id under ``[sites.<id>]``."""

    gpus: int | None = Field(default=None, gt=0, le=MAX_SITE_GPUS)
    sku_speed: float | None = Field(default=None, gt=0, le=MAX_SKU_SPEED)
    pue: float | None = Field(default=None, ge=1.0, le=MAX_PUE)
    # Caps the GPUs in force at floor(MW x 1e6 / (gpu_busy_w x pue)) (sim.capacity_timeline.envelope_gpus).
    # Dumped only when set: scenario ids of scenarios without it stay as they were.
    power_envelope_mw: float | None = Field(default=None, gt=0, le=MAX_POWER_ENVELOPE_MW,
                                            exclude_if=lambda value: value is None)
    price_cny_per_kwh: float | None = Field(default=None, ge=0, le=MAX_PRICE_CNY_PER_KWH)
    carbon_kg_per_kwh: float | None = Field(default=None, ge=0, le=MAX_CARBON_KG_PER_KWH)
    renewable_frac: float | None = Field(default=None, ge=0, le=1)
    scheduler: Literal["fifo", "easy"] | None = None  # not a site figure: read by sim.site_pools.build_pools
    # Replaces the network's capacity timeline of the site (sim.capacity_timeline); [] removes it.
    timeline: tuple[CapacityStep, ...] | None = None


class Scenario(StrictModel):
    """One simulation: a network, its workload, a placement policy and the clock.

    Attributes
    ----------
    network : str
        A built-in network name (``topology.builtin_names()``) or a path to a network
        TOML file, relative to the scenario file.
    policy : str
        Placement policy name (see ``sim.placement.POLICIES``).
    horizon_h : float
        Simulated time in hours.
    warmup_h : float
        Leading hours left out of the whole-run statistics in ``runs``.
    metric_interval_h : float
        Length of one row of the ``sites`` table, in hours.
    seed : int
        Root of every random stream.
    start_year : int, optional
        Calendar year whose 1 January is t = 0; lets ``cpnsim search capacity --by YEAR``
        turn a year into a horizon.  ``None``: the scenario has no calendar.
    replications : int
        Independent replications (each with its own streams).
    scheduler : {"fifo", "easy"}
        Site queue discipline: strict FIFO by priority, or with EASY backfill;
        ``[sites.<id>] scheduler`` overrides it per site.
    failures : Failures
        Site outages and GPU failures (``[failures]``; none by default).
    jobs_sample : float
        Share of jobs written to the ``jobs`` table, sampled by job id; 0 (default): no table.
    adoption : AdoptionConfig, optional
        The DANT-KIF adoption model (``[adoption]``, ``workloads.adoption``); ``None``: off.
    signals : SignalsConfig, optional
        Hourly price, carbon and renewables per site (``[signals]``, :mod:`topology.signals`);
        ``None``: the annual figures every hour (and left out of the dump, so the scenario id stays).
    residency : ResidencyConfig, optional
        Changes to the data-residency rules (``[residency]``, :mod:`topology.residency`);
        ``None``: the built-in rules (which bind only classes with a ``data_kind``).
    wan : WanOptions, optional
        WAN transfer options (``[wan]``: ``tcp_window_mb``); ``None``: none.
    capacity : {"low", "central", "high"}, optional
        Which end of every site's capacity range the run uses (``gpus_low``, ``gpus``,
        ``gpus_high``; :func:`topology.capacity.with_capacity`); ``None``: central, and left
        out of the dump so the scenario id stays.
    """

    name: str = "scenario"
    description: str = ""
    network: str = "default"
    policy: str = "least_loaded"
    horizon_h: float = Field(default=720.0, gt=0, le=MAX_HORIZON_H)
    warmup_h: float = Field(default=0.0, ge=0)
    metric_interval_h: float = Field(default=24.0, ge=MIN_STEP_H, le=MAX_HORIZON_H)
    seed: int = Field(default=1, ge=0, le=MAX_SEED)
    start_year: int | None = Field(default=None, ge=1900, le=3000)
    replications: int = Field(default=1, ge=1, le=MAX_REPLICATIONS)
    engine: EngineOptions = EngineOptions()
    scheduler: Literal["fifo", "easy"] = "fifo"
    failures: Failures = Failures()
    jobs_sample: float = Field(default=0.0, ge=0, le=1)
    adoption: AdoptionConfig | None = None
    signals: SignalsConfig | None = Field(default=None, exclude_if=lambda value: value is None)
    sites: dict[str, SiteOverride] = Field(default_factory=dict)
    workload: dict[str, JobClass] = Field(min_length=1)
    # [residency] and [wan] came later: dumped only when given, so the scenario id and param.* columns stay.
    residency: ResidencyConfig | None = Field(default=None, exclude_if=lambda value: value is None)
    wan: WanOptions | None = Field(default=None, exclude_if=lambda value: value is None)
    capacity: CapacityLevel | None = Field(default=None, exclude_if=lambda value: value is None)

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        if value not in POLICIES:
            hint = nearest(value, POLICIES)
            tail = f"did you mean '{hint}'?" if hint else f"choose one of {', '.join(sorted(POLICIES))}"
            raise ValueError(f"unknown policy {value!r} ({tail})")
        return value

    @model_validator(mode="after")
    def _warmup_inside(self) -> Self:
        if self.warmup_h >= self.horizon_h:
            raise ValueError(f"warmup_h: must be < horizon_h (={self.horizon_h:g} h), got {self.warmup_h:g}")
        return self
