"""The DANT-KIF adoption model: who adopts AI, how fast, and how much work they ask for.

Per segment (demand region r × industry i) a fraction F of enterprises has adopted AI.
It follows the generalised Bass equation (time in years)::

    dF/dt = (p_eff + q_eff · F / m) · (m − F),   p_eff = p0 · R,   q_eff = q0 · R

with the **market potential** (ceiling) m in (0, 1], the share of the segment's
enterprises that will ever adopt (Bass 1969); m = 1 (the default) is the plain
generalised Bass equation dF/dt = (p_eff + q_eff · F) · (1 − F).  With G = F / m the
equation is the ordinary Bass equation dG/dt = (p_eff + q_eff · G) · (1 − G) with the
same rates (divide both sides by m), so F(t) = m · G(t) and p, q do not scale with m.

The **resonance** is R = (S_i · D_ri) ** resonance_elasticity, product of the supply side S_i
and the demand side D_ri of China Mobile Think Tank's DANT-KIF "S-D Dual
Four-Dimensional Resonance" model (seed 000_aaa66d71a32e02d9.txt)::

    S_i  = comparative_advantage · compatibility · observability / complexity
    D_ri = anticipated_benefits · social_impact · facilitating_conditions / expected_costs

Every factor is a dimensionless multiplier whose neutral value is 1; the two with a
negative effect on diffusion (complexity, expected costs) enter inversely.  A factor
of 1.2 speeds both the innovation (p) and the imitation (q) rate of its segments by
20 % (at elasticity 1).

Capacity enters through the demand side (:mod:`workloads.adoption_coupling`): the
expected costs and facilitating conditions of a segment are multiplied by factors
computed from the service its jobs met in the previous step.  Over one step p_eff and
q_eff are constant and F is advanced **exactly** by the closed form of the Riccati
equation (:func:`bass_step`), so the result does not depend on the step length.

This module is data and pure functions (numpy, vectorised over segments); the
simulator calls them from a low-frequency step process.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
from pydantic import Field, model_validator

from topology.plumbing import StrictModel

__all__ = [
    "DEMAND_FACTORS",
    "HOURS_PER_YEAR",
    "SUPPLY_FACTORS",
    "AdoptionConfig",
    "CapacityCoupling",
    "DemandFactors",
    "DemandGrowth",
    "IndustryConfig",
    "SegmentConfig",
    "Segments",
    "SupplyFactors",
    "bass_closed_form",
    "bass_step",
    "build_segments",
    "demand_resonance",
    "resonance",
    "supply_resonance",
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


SUPPLY_FACTORS = ("comparative_advantage", "complexity", "compatibility", "observability")
"""Supply-side factor names (per industry), as in shared/data ``adoption_model_factors``."""
DEMAND_FACTORS = ("anticipated_benefits", "expected_costs", "social_impact", "facilitating_conditions")
"""Demand-side factor names (per region × industry)."""


class SupplyFactors(StrictModel):
    """Supply-side factors of one industry (after Rogers' diffusion of innovations).

    All are dimensionless multipliers, neutral at 1 and > 0.

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

    comparative_advantage: float = Field(default=1.0, gt=0)
    complexity: float = Field(default=1.0, gt=0)
    compatibility: float = Field(default=1.0, gt=0)
    observability: float = Field(default=1.0, gt=0)


class DemandFactors(StrictModel):
    """Demand-side factors of a region or a segment (after UTAUT, Venkatesh and Davis).

    All are dimensionless multipliers, neutral at 1 and > 0.  The exogenous values set
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

    anticipated_benefits: float = Field(default=1.0, gt=0)
    expected_costs: float = Field(default=1.0, gt=0)
    social_impact: float = Field(default=1.0, gt=0)
    facilitating_conditions: float = Field(default=1.0, gt=0)


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

    enterprise_share_frac: float = Field(default=1.0, ge=0)
    jobs_per_adopter_per_h: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _non_negative_rates(self) -> Self:
        for name, rate in self.jobs_per_adopter_per_h.items():
            if not (rate >= 0 and math.isfinite(rate)):
                raise ValueError(f"jobs_per_adopter_per_h.{name}: must be a finite rate >= 0, got {rate}")
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
    enterprises: float | None = Field(default=None, ge=0)
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
    wait_scale_h: float = Field(default=24.0, gt=0)
    reference_price_cny_per_gpu_h: float | None = Field(default=None, gt=0)
    price_elasticity: float = Field(default=1.0, ge=0)
    served_elasticity: float = Field(default=1.0, ge=0)


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

    unit_cost_decline_per_yr: float = Field(default=DEFAULT_UNIT_COST_DECLINE_PER_YR, ge=0)
    cost_elasticity: float = Field(default=0.3, ge=0)

    def multiplier(self, t_yr: float | np.ndarray) -> float | np.ndarray:
        """Work per adopter at ``t_yr`` years relative to t = 0 (1 at t = 0)."""
        return np.exp(self.cost_elasticity * self.unit_cost_decline_per_yr * np.asarray(t_yr))


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
    """

    step_h: float = Field(default=HOURS_PER_YEAR / 12, gt=0)
    p0_per_yr: float = Field(default=0.03, ge=0)
    q0_per_yr: float = Field(default=0.38, ge=0)
    resonance_elasticity: float = Field(default=1.0, ge=0)
    initial_frac: float = Field(default=0.0, ge=0, le=1)
    ceiling_frac: float = Field(default=1.0, gt=0, le=1)
    enterprises_per_weight: float = Field(default=1000.0, ge=0)
    industries: dict[str, IndustryConfig] = Field(min_length=1)
    regions: dict[str, DemandFactors] = Field(default_factory=dict)
    segment: list[SegmentConfig] = Field(default_factory=list)
    coupling: CapacityCoupling = CapacityCoupling()
    growth: DemandGrowth = DemandGrowth()

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
        return self


# -- resonance ------------------------------------------------------------------------


def supply_resonance(f: SupplyFactors) -> float:
    """S = comparative_advantage · compatibility · observability / complexity (1 when neutral)."""
    return f.comparative_advantage * f.compatibility * f.observability / f.complexity


def demand_resonance(f: DemandFactors) -> float:
    """D = anticipated_benefits · social_impact · facilitating_conditions / expected_costs."""
    return f.anticipated_benefits * f.social_impact * f.facilitating_conditions / f.expected_costs


def resonance(supply: np.ndarray, demand: np.ndarray, elasticity: float = 1.0) -> np.ndarray:
    """R = (S · D) ** elasticity, element-wise (dimensionless, 1 when every factor is neutral)."""
    out: np.ndarray = np.power(np.asarray(supply, float) * np.asarray(demand, float), elasticity)
    return out


# -- Bass diffusion ---------------------------------------------------------------------


def bass_step(
    f0: np.ndarray | float,
    p: np.ndarray | float,
    q: np.ndarray | float,
    dt: np.ndarray | float,
    ceiling: np.ndarray | float | None = None,
) -> np.ndarray:
    """Advance dF/dt = (p + q·F/m)(m − F) exactly over ``dt`` with p, q and the ceiling m constant.

    With G = F / m this is dG/dt = (p + q·G)(1 − G), the ordinary Bass equation with the
    same p and q, so F is stepped as m times the flow of G below.  Without ``ceiling``
    (or with m = 1, bit for bit: x / 1 and 1 · x are exact) it is dF/dt = (p + q·F)(1 − F).

    The Riccati equation has the closed-form flow (E = exp(−(p + q)·dt))::

        F(t + dt) = ((p + q F) − p (1 − F) E) / ((p + q F) + q (1 − F) E)

    which has no division by p (p = 0 is the logistic curve) and maps [0, 1] into
    [0, 1].  It is evaluated as F + (1 − F)·(p + qF)(1 − E) / ((p + qF) + q(1 − F)E), with
    1 − E from ``expm1``, so that F never decreases and extra rate never lowers F, even
    in floating point.  When p = q = 0 F does not move.

    Parameters
    ----------
    f0 : array_like
        Adopted fractions at the start of the step, in [0, m].
    p, q : array_like
        Innovation and imitation rates per unit of time of ``dt`` (>= 0); broadcast with ``f0``.
    dt : array_like
        Step length (>= 0), in the time unit of p and q; broadcast with ``f0``.
    ceiling : array_like, optional
        Market potential m in (0, 1] (dimensionless); default 1.  Broadcast with ``f0``.

    Returns
    -------
    numpy.ndarray
        Adopted fractions at the end of the step (float64), in [f0, m].

    Examples
    --------
    >>> float(bass_step(0.0, 0.03, 0.38, 1.0).round(6))
    0.035758
    """
    if ceiling is not None:
        m = np.asarray(ceiling, float)
        # G = F / m, capped at 1 against a last-ulp excess of m · G / m; the flow of G is m-free.
        g_end = bass_step(np.minimum(np.asarray(f0, float) / m, 1.0), p, q, dt)
        scaled: np.ndarray = np.clip(m * g_end, 0.0, m)
        return scaled
    f = np.asarray(f0, float)
    p_arr = np.asarray(p, float)
    q_arr = np.asarray(q, float)
    x = -(p_arr + q_arr) * np.asarray(dt, float)
    one_minus_e = -np.expm1(x)  # 1 − E, accurate when (p + q)·dt is small
    e = np.exp(x)
    a = p_arr + q_arr * f
    den = a + q_arr * (1.0 - f) * e
    # Written as F + (1 − F)·a·(1 − E)/den, the same flow: every term is >= 0 and the fraction
    # is <= 1, so F never falls or passes 1 in floating point, and more rate never gives less.
    with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
        inc = np.where(den > 0, (1.0 - f) * a * one_minus_e / np.where(den > 0, den, 1.0), 0.0)
    out: np.ndarray = np.clip(f + inc, 0.0, 1.0)
    return out


def bass_closed_form(t: np.ndarray | float, p: float, q: float, ceiling: float = 1.0) -> np.ndarray:
    """The textbook Bass curve from F(0) = 0: m (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t}), p > 0.

    m is the market potential ``ceiling`` (default 1).  Used by the tests as the reference
    :func:`bass_step` must reproduce.
    """
    e = np.exp(-(p + q) * np.asarray(t, float))
    out: np.ndarray = ceiling * (1.0 - e) / (1.0 + (q / p) * e)
    return out


# -- segments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Segments:
    """The resolved segments of a scenario, as parallel arrays (one entry per segment).

    Attributes
    ----------
    region : tuple of str
        Demand region id of each segment.
    industry : tuple of str
        Industry of each segment.
    region_index : numpy.ndarray
        Index of the region in the network's region list (int64).
    enterprises : numpy.ndarray
        Enterprise count (float64, >= 0).
    initial_frac : numpy.ndarray
        Adopted fraction at t = 0.
    ceiling : numpy.ndarray
        Market potential m in (0, 1] (F tends to m).
    supply : numpy.ndarray
        S of the segment's industry.
    demand_exogenous : numpy.ndarray
        D from the configured factors, before capacity.
    expected_costs, facilitating_conditions : numpy.ndarray
        The configured (exogenous) values of these two factors; capacity multiplies them.
    jobs_per_adopter_per_h : numpy.ndarray
        Shape (segments, classes): jobs per adopter per hour of each workload class at t = 0.
    class_names : tuple of str
        Column order of ``jobs_per_adopter_per_h``.
    factors : dict of str to numpy.ndarray
        Each of the eight exogenous factors per segment (demand factors: region × segment).
    """

    region: tuple[str, ...]
    industry: tuple[str, ...]
    region_index: np.ndarray
    enterprises: np.ndarray
    initial_frac: np.ndarray
    ceiling: np.ndarray
    supply: np.ndarray
    demand_exogenous: np.ndarray
    expected_costs: np.ndarray
    facilitating_conditions: np.ndarray
    jobs_per_adopter_per_h: np.ndarray
    class_names: tuple[str, ...]
    factors: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.region)


def build_segments(
    config: AdoptionConfig,
    region_ids: Sequence[str],
    region_weights: Sequence[float],
    class_names: Sequence[str],
) -> Segments:
    """Resolve the segments: every region with weight > 0 (or named by a segment) × every industry.

    Parameters
    ----------
    config : AdoptionConfig
        The ``[adoption]`` table.
    region_ids, region_weights : sequence
        The network's demand regions and their ``demand_weight``.
    class_names : sequence of str
        Workload classes, in the model's order.

    Raises
    ------
    ValueError
        A region or workload class named in ``config`` that does not exist (message
        names the key path).
    """
    index = {rid: k for k, rid in enumerate(region_ids)}
    for rid in config.regions:
        if rid not in index:
            raise ValueError(f"regions.{rid}: no region {rid!r} in network")
    for k, seg in enumerate(config.segment):
        if seg.region not in index:
            raise ValueError(f"segment[{k}].region: no region {seg.region!r} in network")
    for name, ind in config.industries.items():
        for cls in ind.jobs_per_adopter_per_h:
            if cls not in class_names:
                raise ValueError(f"industries.{name}.jobs_per_adopter_per_h.{cls}: no workload class {cls!r}")
    overrides: Mapping[tuple[str, str], SegmentConfig] = {(s.region, s.industry): s for s in config.segment}
    neutral = DemandFactors()
    cols = {c: j for j, c in enumerate(class_names)}
    rows: list[tuple[str, str, float, float, float, float, float, float, np.ndarray]] = []
    ceilings: list[float] = []
    factor_rows: list[list[float]] = []
    for rid, weight in zip(region_ids, region_weights, strict=True):
        named = any(r == rid for r, _ in overrides)
        if weight <= 0 and not named:
            continue
        region_f = config.regions.get(rid, neutral)
        for name, ind in config.industries.items():
            seg_or_none = overrides.get((rid, name))
            seg_f: DemandFactors = seg_or_none if seg_or_none is not None else neutral
            enterprises = config.enterprises_per_weight * weight * ind.enterprise_share_frac
            if seg_or_none is not None and seg_or_none.enterprises is not None:
                enterprises = seg_or_none.enterprises
            f0 = config.initial_frac
            if seg_or_none is not None and seg_or_none.initial_frac is not None:
                f0 = seg_or_none.initial_frac
            ceiling = config.ceiling_frac
            if seg_or_none is not None and seg_or_none.ceiling_frac is not None:
                ceiling = seg_or_none.ceiling_frac
            ceilings.append(ceiling)
            rates = np.zeros(len(class_names))
            for cls, rate in ind.jobs_per_adopter_per_h.items():
                rates[cols[cls]] = rate
            ec = region_f.expected_costs * seg_f.expected_costs
            fc = region_f.facilitating_conditions * seg_f.facilitating_conditions
            d = demand_resonance(region_f) * demand_resonance(seg_f)
            rows.append((rid, name, enterprises, f0, supply_resonance(ind), d, ec, fc, rates))
            factor_rows.append([getattr(ind, f) for f in SUPPLY_FACTORS]
                               + [getattr(region_f, f) * getattr(seg_f, f) for f in DEMAND_FACTORS])
    n_cls = len(class_names)
    return Segments(
        region=tuple(r[0] for r in rows),
        industry=tuple(r[1] for r in rows),
        region_index=np.array([index[r[0]] for r in rows], np.int64),
        enterprises=np.array([r[2] for r in rows], float),
        initial_frac=np.array([r[3] for r in rows], float),
        ceiling=np.array(ceilings, float),
        supply=np.array([r[4] for r in rows], float),
        demand_exogenous=np.array([r[5] for r in rows], float),
        expected_costs=np.array([r[6] for r in rows], float),
        facilitating_conditions=np.array([r[7] for r in rows], float),
        jobs_per_adopter_per_h=np.array([r[8] for r in rows], float).reshape(len(rows), n_cls),
        class_names=tuple(class_names),
        factors={
            name: np.array([r[j] for r in factor_rows], float)
            for j, name in enumerate((*SUPPLY_FACTORS, *DEMAND_FACTORS))
        },
    )
