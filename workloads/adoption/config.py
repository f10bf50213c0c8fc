"""The ``[adoption]`` table of a scenario: the DANT-KIF factors, capacity coupling and demand growth.

Every factor is a dimensionless multiplier whose neutral value is 1; the supply side
belongs to an industry, the demand side to a region (and optionally a segment, region ×
industry).  Time in the model is in years; :data:`HOURS_PER_YEAR` converts the
simulator's hours.  The equations that use these values are in
:mod:`workloads.adoption.resonance`, :mod:`workloads.adoption.bass` and
:mod:`workloads.adoption.coupling`.
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
from pydantic import Field, model_validator

from topology.limits import MAX_FACTOR, MAX_HORIZON_H, MAX_RATE_PER_H, MAX_WEIGHT, MIN_STEP_H
from topology.plumbing import StrictModel

__all__ = [
    "DEFAULT_UNIT_COST_DECLINE_PER_YR",
    "DEMAND_FACTORS",
    "HOURS_PER_YEAR",
    "SUPPLY_FACTORS",
    "AdoptionConfig",
    "CapacityCoupling",
    "DemandFactors",
    "DemandGrowth",
    "IndustryConfig",
    "ParameterRange",
    "SegmentConfig",
    "SegmentGroup",
    "SupplyFactors",
]

HOURS_PER_YEAR = 8766.0
"""Hours in a Julian year (365.25 days): converts simulated hours to the model's years."""

TOKEN_PRICE_FROM_USD_PER_MTOK = 60.0
TOKEN_PRICE_TO_USD_PER_MTOK = 1.0
TOKEN_PRICE_SPAN_YR = 4.4
DEFAULT_UNIT_COST_DECLINE_PER_YR = (
    math.log(TOKEN_PRICE_FROM_USD_PER_MTOK / TOKEN_PRICE_TO_USD_PER_MTOK) / TOKEN_PRICE_SPAN_YR
)
"""Continuous rate (1/yr) at which the cost of a unit of AI work falls: ln(60 / 1) / 4.4 ≈ 0.93.

Seed 003_f99a4242a8dfaa66.txt: "the model cost has dropped from an average of $60 per
million [tokens] at the beginning of 2022 to less than $1" (article dated 2026-05-25,
so about 4.4 years); "less than $1" makes this a lower bound on the rate of decline.
"""


MIN_FACTOR = 1 / MAX_FACTOR
"""Smallest adoption factor (complexity and expected costs enter inversely)."""
MAX_ELASTICITY = 10.0
"""Largest exponent (resonance, price or served elasticity): R = (S * D) ** e stays finite."""
MAX_COEFFICIENT_PER_YR = 100.0
"""Largest Bass coefficient p0 or q0, per year (published fits are ~0.001-1)."""
MAX_DECLINE_PER_YR = 5.0
"""Largest continuous decline of unit cost, 1/yr (a 150-fold fall every year)."""
MAX_COST_ELASTICITY = 1.0
"""Largest elasticity of work per adopter to unit cost: with MAX_DECLINE_PER_YR the growth
over 100 years, exp(500), stays finite (the size check then judges the run)."""


SOURCE_PREFIXES = ("url:", "seed:", "seed ", "public knowledge:", "estimate:", "derived:")
"""How every source string of built-in data starts (shared/data README; ``seed <file>:`` too)."""


SUPPLY_FACTORS = ("comparative_advantage", "complexity", "compatibility", "observability")
"""Supply-side factor names (per industry), as in shared/data ``adoption_model_factors``."""
DEMAND_FACTORS = ("anticipated_benefits", "expected_costs", "social_impact", "facilitating_conditions")
"""Demand-side factor names (per region × industry)."""


class SupplyFactors(StrictModel):
    """Supply-side factors of one industry (after Rogers' diffusion of innovations).

    All are dimensionless multipliers, neutral at 1, in [0.001, 1000].

    Attributes
    ----------
    comparative_advantage : float
        How far AI surpasses the alternatives it replaces in the industry.
    complexity : float
        Difficulty of learning and adopting AI; enters **inversely** (2 halves the rates).
    compatibility : float
        How well AI fits the industry's existing systems, environments and experience.
    observability : float
        How visible AI's effects are to would-be adopters.
    """

    comparative_advantage: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    complexity: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    compatibility: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    observability: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)


class DemandFactors(StrictModel):
    """Demand-side factors of a region or a segment (after UTAUT, Venkatesh and Davis).

    All are dimensionless multipliers, neutral at 1, in [0.001, 1000].  The exogenous values set
    here are multiplied by the capacity factors the simulation computes each step.

    Attributes
    ----------
    anticipated_benefits : float
        Gains enterprises expect from AI.
    expected_costs : float
        Cost of adoption, learning and risk; enters **inversely**.
    social_impact : float
        Influence of other organisations and people on the decision to adopt.
    facilitating_conditions : float
        Support available for adopting: funding, talent, infrastructure.
    """

    anticipated_benefits: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    expected_costs: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    social_impact: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    facilitating_conditions: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)


class IndustryConfig(SupplyFactors):
    """One industry: its supply-side factors, its share of enterprises and the work adopters ask for.

    Attributes
    ----------
    enterprise_share_frac : float
        Share of a region's enterprises in this industry (>= 0); segment counts are
        ``enterprises_per_weight × region demand_weight × enterprise_share_frac``.
    jobs_per_adopter_per_h : dict of str to float
        Simulated jobs of each workload class one adopting enterprise submits per hour at
        the start of the run (before the cost decline of :class:`DemandGrowth`).
        Classes not named get no adoption-driven arrivals from this industry.
    """

    enterprise_share_frac: float = Field(default=1.0, ge=0, le=MAX_WEIGHT)
    jobs_per_adopter_per_h: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _non_negative_rates(self) -> Self:
        for name, rate in self.jobs_per_adopter_per_h.items():
            if not 0 <= rate <= MAX_RATE_PER_H:
                raise ValueError(f"jobs_per_adopter_per_h.{name}: must be a rate >= 0 and <= {MAX_RATE_PER_H:g}, "
                                 f"got {rate}")
        return self


class SegmentConfig(DemandFactors):
    """Overrides for one segment (``[[adoption.segment]]``): region × industry.

    The demand factors here multiply the region's (``[adoption.regions.<id>]``).

    Attributes
    ----------
    region : str
        Demand region id of the network.
    industry : str
        Industry name (a key of ``[adoption.industries]``).
    enterprises : float, optional
        Enterprise count of the segment; replaces the count derived from the region's
        demand weight.
    initial_frac : float, optional
        Adopted fraction at t = 0; replaces ``adoption.initial_frac``.
    ceiling_frac : float, optional
        Market potential of the segment (share of its enterprises that will ever adopt,
        in (0, 1]); replaces ``adoption.ceiling_frac``.
    """

    region: str = Field(min_length=1)
    industry: str = Field(min_length=1)
    enterprises: float | None = Field(default=None, ge=0, le=MAX_WEIGHT)
    initial_frac: float | None = Field(default=None, ge=0, le=1)
    ceiling_frac: float | None = Field(default=None, gt=0, le=1)


class CapacityCoupling(StrictModel):
    """How the service a segment met changes its demand-side factors.

    With perfect service (no wait, everything served within its latency budget) both
    factors are exactly 1, whatever these parameters are.

    Attributes
    ----------
    enabled : bool
        ``false`` keeps R at its exogenous value (the simulation still reports service).
    wait_scale_h : float
        Mean wait (h) at which the wait part of expected costs doubles:
        ``expected_costs ×= 1 + wait / wait_scale_h``.
    reference_price_cny_per_gpu_h : float, optional
        Price per GPU-hour at which the price part of expected costs is 1; ``None``
        (default) leaves price out, since sites' electricity prices are exogenous.
    price_elasticity : float
        ``expected_costs ×= (price / reference_price) ** price_elasticity`` (>= 0).
    served_elasticity : float
        ``facilitating_conditions ×= served_share ** served_elasticity`` (>= 0), the
        served share being the GPU-hours started within the latency budget over the
        GPU-hours asked for.
    """

    enabled: bool = True
    wait_scale_h: float = Field(default=24.0, ge=MIN_STEP_H, le=MAX_HORIZON_H)
    reference_price_cny_per_gpu_h: float | None = Field(default=None, gt=0, le=MAX_WEIGHT)
    price_elasticity: float = Field(default=1.0, ge=0, le=MAX_ELASTICITY)
    served_elasticity: float = Field(default=1.0, ge=0, le=MAX_ELASTICITY)


class DemandGrowth(StrictModel):
    """Growth of the work one adopter asks for as the cost of AI work falls.

    ``jobs per adopter(t) = jobs_per_adopter_per_h × exp(cost_elasticity × unit_cost_decline_per_yr × t)``,
    t in years since the start of the run.

    Attributes
    ----------
    unit_cost_decline_per_yr : float
        Continuous rate (1/yr) at which the cost per unit of AI work falls; default
        ln(60/1)/4.4 ≈ 0.93 from the token price falling from $60 to under $1 per
        million tokens between early 2022 and mid-2026 (seed 003_f99a4242a8dfaa66.txt).
    cost_elasticity : float
        Elasticity of work per adopter to its unit cost (>= 0); 0 keeps work per adopter
        constant.  Default 0.3 is an estimate (not published).
    """

    unit_cost_decline_per_yr: float = Field(default=DEFAULT_UNIT_COST_DECLINE_PER_YR, ge=0, le=MAX_DECLINE_PER_YR)
    cost_elasticity: float = Field(default=0.3, ge=0, le=MAX_COST_ELASTICITY)

    # The adoption channel of the price of AI work (issue 14): the same unit cost lowers expected costs.
    expected_costs_elasticity: float = Field(default=0.0, ge=0, le=MAX_ELASTICITY)
    """Elasticity of every segment's expected costs to the unit cost of AI work (>= 0): expected costs
    ``×= unit_cost(t) ** expected_costs_elasticity``; 0 (default) leaves the price of AI work out of
    adoption.  An estimate (documented range 0–0.3 in docs/model.md), not published."""
    unit_cost_at_start: float = Field(default=1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    """Unit cost of AI work at t = 0 relative to the reference trajectory (1): 0.5 halves the price
    of AI work throughout the run (work per adopter ``× 0.5 ** -cost_elasticity``, expected costs
    ``× 0.5 ** expected_costs_elasticity``)."""

    def multiplier(self, t_yr: float | np.ndarray) -> float | np.ndarray:
        """Work per adopter at ``t_yr`` years relative to t = 0 (1 at t = 0)."""
        return np.exp(self.cost_elasticity * self.unit_cost_decline_per_yr * np.asarray(t_yr))

    def unit_cost(self, t_yr: float | np.ndarray) -> float | np.ndarray:
        """Unit cost of AI work at ``t_yr`` years: ``unit_cost_at_start × exp(−unit_cost_decline_per_yr × t)``."""
        return self.unit_cost_at_start * np.exp(-self.unit_cost_decline_per_yr * np.asarray(t_yr))

    def work_scale(self) -> float:
        """Work per adopter from the start price: ``unit_cost_at_start ** −cost_elasticity`` (1 at the reference)."""
        return float(self.unit_cost_at_start ** -self.cost_elasticity)

    def expected_costs_multiplier(self, t_yr: float | np.ndarray) -> float | np.ndarray:
        """Expected costs from the price of AI work: ``unit_cost(t) ** expected_costs_elasticity`` (1 when it is 0)."""
        return np.power(self.unit_cost(t_yr), self.expected_costs_elasticity)


class ParameterRange(StrictModel):
    """The documented range of one estimated parameter of ``[adoption]`` (``[[adoption.range]]``).

    The range is data for uncertainty studies (a sweep samples between ``low`` and ``high``); it
    does not change a run.  ``central`` is the value the scenario ships with.

    Attributes
    ----------
    key : str
        Dotted path of a number inside ``[adoption]``, e.g. ``coupling.wait_scale_h`` or
        ``industries.retail.enterprise_share_frac``.
    low, central, high : float
        The range, in the parameter's own unit; ``low <= central <= high``.
    source : str
        Where the range comes from, starting with one of the five source prefixes
        (``url:``, ``seed``, ``public knowledge:``, ``estimate:``, ``derived:``).
    """

    key: str = Field(min_length=1)
    low: float = Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)  # any parameter's unit; bounded like weights
    central: float = Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)  # any parameter's unit; bounded like weights
    high: float = Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)  # any parameter's unit; bounded like weights
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"low: {self.low} is above high {self.high}")
        if not self.low <= self.central <= self.high:
            raise ValueError(f"central: {self.central} is outside [low, high] = [{self.low}, {self.high}]")
        if not self.source.startswith(SOURCE_PREFIXES):
            raise ValueError(f"source: must start with one of {', '.join(repr(p) for p in SOURCE_PREFIXES)}, "
                             f"got {self.source[:40]!r}")
        return self


class SegmentGroup(StrictModel):
    """A group of demand regions with its own Bass coefficients and initial fraction (``[adoption.groups.<name>]``).

    Chinese enterprises and Belt-and-Road countries, say, need not share p0, q0 and the
    fraction adopted at t = 0.  A key left out takes the value of ``[adoption]``; a segment's
    own ``initial_frac`` still wins over the group's.

    Attributes
    ----------
    regions : list of str
        Demand region ids of the network in the group (a region in at most one group).
    p0_per_yr, q0_per_yr : float, optional
        Innovation and imitation coefficients of the group, per year.
    initial_frac : float, optional
        Adopted fraction of the group's segments at t = 0.
    calibrated : bool
        ``true`` when the values were fitted with ``cpnsim calibrate`` to observed points of
        this group; ``false`` flags values taken from elsewhere (no observed points).
    source : str
        Where the values come from, with one of the five source prefixes (the fit's command
        when calibrated; why not, when not).
    """

    regions: list[str] = Field(min_length=1)
    p0_per_yr: float | None = Field(default=None, ge=0, le=MAX_COEFFICIENT_PER_YR)
    q0_per_yr: float | None = Field(default=None, ge=0, le=MAX_COEFFICIENT_PER_YR)
    initial_frac: float | None = Field(default=None, ge=0, le=1)
    calibrated: bool
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _sourced(self) -> Self:
        if not self.source.startswith(SOURCE_PREFIXES):
            raise ValueError(f"source: must start with one of {', '.join(repr(p) for p in SOURCE_PREFIXES)}, "
                             f"got {self.source[:40]!r}")
        return self


def _numeric_at(data: object, key: str) -> bool:
    """Whether the dotted ``key`` names a number in ``data`` (a model dump)."""
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, int | float) and not isinstance(node, bool)


class AdoptionConfig(StrictModel):
    """The ``[adoption]`` table of a scenario.

    Attributes
    ----------
    step_h : float
        Hours between adoption steps (default a month, 8766 / 12 = 730.5 h).
    p0_per_yr : float
        Innovation coefficient before resonance, per year.  Default 0.03 and ``q0_per_yr``
        0.38 are the mean coefficients of Sultan, Farley and Lehmann's (1990)
        meta-analysis of Bass fits (public knowledge); ``cpnsim calibrate`` replaces them.
    q0_per_yr : float
        Imitation coefficient before resonance, per year.
    resonance_elasticity : float
        Exponent of S·D in R (>= 0); 0 switches resonance off, 1 is the plain product.
    initial_frac : float
        Adopted fraction of every segment at t = 0 unless a segment overrides it.
    ceiling_frac : float
        Market potential m in (0, 1]: the share of a segment's enterprises that will ever
        adopt (F tends to m, not 1); 1 (default) is the model without a ceiling.  A
        segment can override it.  Must be >= the initial fraction of every segment.
    enterprises_per_weight : float
        Enterprises per unit of a region's ``demand_weight`` (for the built-in networks the
        weight is the population in millions).
    industries : dict of str to IndustryConfig
        The industries; every demand region with ``demand_weight > 0`` gets one segment
        per industry.
    regions : dict of str to DemandFactors
        Demand-side factors per region id (default neutral).
    segment : list of SegmentConfig
        Per-segment overrides.
    coupling : CapacityCoupling
        How service feeds back into the demand side.
    growth : DemandGrowth
        How work per adopter grows as the cost of AI work falls.
    range : list of ParameterRange
        Documented ranges of estimated parameters (data for uncertainty studies; no effect on a run).
    groups : dict of str to SegmentGroup
        Groups of regions with their own p0, q0 and initial fraction (default: none).
    regional_factors : bool
        ``true`` multiplies every region's demand factors by those derived from regional
        indicators (``workloads/data/regional_factors.toml``, :mod:`workloads.adoption.regional`);
        ``false`` (default) leaves them at ``regions`` alone.
    """

    step_h: float = Field(default=HOURS_PER_YEAR / 12, ge=MIN_STEP_H, le=MAX_HORIZON_H)
    p0_per_yr: float = Field(default=0.03, ge=0, le=MAX_COEFFICIENT_PER_YR)
    q0_per_yr: float = Field(default=0.38, ge=0, le=MAX_COEFFICIENT_PER_YR)
    resonance_elasticity: float = Field(default=1.0, ge=0, le=MAX_ELASTICITY)
    initial_frac: float = Field(default=0.0, ge=0, le=1)
    ceiling_frac: float = Field(default=1.0, gt=0, le=1)
    enterprises_per_weight: float = Field(default=1000.0, ge=0, le=MAX_WEIGHT)
    industries: dict[str, IndustryConfig] = Field(min_length=1)
    regions: dict[str, DemandFactors] = Field(default_factory=dict)
    segment: list[SegmentConfig] = Field(default_factory=list)
    coupling: CapacityCoupling = CapacityCoupling()
    growth: DemandGrowth = DemandGrowth()
    # Excluded from dumps: ranges change no run, so they stay out of the scenario id and of the runs table's
    # param.* columns (a sweep's manifest still records them in its spec).
    range: list[ParameterRange] = Field(default_factory=list, exclude=True)
    regional_factors: bool = False
    groups: dict[str, SegmentGroup] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _segments_name_industries(self) -> Self:
        seen: set[tuple[str, str]] = set()
        for k, seg in enumerate(self.segment):
            if seg.industry not in self.industries:
                raise ValueError(f"segment[{k}].industry: unknown industry {seg.industry!r}")
            key = (seg.region, seg.industry)
            if key in seen:
                raise ValueError(f"segment[{k}]: region {seg.region!r} × industry {seg.industry!r} given twice")
            seen.add(key)
        # F starts at or below its ceiling: above it the Bass flow would make F fall.
        if self.initial_frac > self.ceiling_frac:
            raise ValueError(f"initial_frac: {self.initial_frac} is above ceiling_frac {self.ceiling_frac}")
        for k, seg in enumerate(self.segment):
            f0 = self.initial_frac if seg.initial_frac is None else seg.initial_frac
            m = self.ceiling_frac if seg.ceiling_frac is None else seg.ceiling_frac
            if f0 > m:
                raise ValueError(f"segment[{k}].initial_frac: {f0} is above the segment's ceiling_frac {m}")
        grouped: dict[str, str] = {}
        for name, group in self.groups.items():
            for k, rid in enumerate(group.regions):
                if rid in grouped:
                    raise ValueError(f"groups.{name}.regions[{k}]: region {rid!r} is already in group "
                                     f"{grouped[rid]!r}")
                grouped[rid] = name
            if group.initial_frac is not None and group.initial_frac > self.ceiling_frac:
                raise ValueError(f"groups.{name}.initial_frac: {group.initial_frac} is above ceiling_frac "
                                 f"{self.ceiling_frac}")
        if self.range:
            dumped = self.model_dump(exclude={"range"})
            seen_keys: set[str] = set()
            for k, r in enumerate(self.range):
                if r.key in seen_keys:
                    raise ValueError(f"range[{k}].key: {r.key!r} given twice")
                seen_keys.add(r.key)
                if not _numeric_at(dumped, r.key):
                    raise ValueError(f"range[{k}].key: {r.key!r} names no number in [adoption]")
        return self
