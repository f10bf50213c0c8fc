"""Capacity coupling of the adoption model: service met → demand-side factors → adoption → work.

Pure functions over arrays (one entry per segment).  The simulator measures, per
segment and step, the GPU-hours asked for, the GPU-hours started within the class's
latency budget, the mean wait and the mean price per GPU-hour met; these functions
turn them into the two capacity factors, step the adopted fraction and give the job
arrival rates of the next step.

Perfect service (every job started at once within its budget) makes both factors
exactly 1, so with unconstrained capacity R keeps its exogenous value.  Worse
service (longer wait, smaller served share, higher price) never raises a factor, R or
the adopted fraction (monotone; tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workloads.adoption.bass import bass_step
from workloads.adoption.config import HOURS_PER_YEAR, AdoptionConfig, CapacityCoupling
from workloads.adoption.resonance import resonance
from workloads.adoption.segments import Segments

__all__ = [
    "AdoptionStep",
    "advance",
    "class_rates_by_region",
    "expected_costs_factor",
    "facilitating_factor",
]


def expected_costs_factor(
    mean_wait_h: np.ndarray,
    price_cny_per_gpu_h: np.ndarray | None,
    coupling: CapacityCoupling,
) -> np.ndarray:
    """Multiplier (>= 1 at zero price premium) of a segment's expected costs from the service it met.

    ``(1 + wait / wait_scale_h) × (price / reference_price) ** price_elasticity``; the
    price part is 1 when ``reference_price_cny_per_gpu_h`` is unset.  A NaN wait (no
    job started) counts as no wait: the unserved share is :func:`facilitating_factor`'s.

    Parameters
    ----------
    mean_wait_h : numpy.ndarray
        Mean wait (h) of the segment's jobs that started.
    price_cny_per_gpu_h : numpy.ndarray, optional
        Mean price per GPU-hour (CNY) the segment's started jobs met; NaN → reference.
    coupling : CapacityCoupling
        Parameters.
    """
    wait = np.nan_to_num(np.asarray(mean_wait_h, float), nan=0.0)
    factor = 1.0 + np.maximum(wait, 0.0) / coupling.wait_scale_h
    ref = coupling.reference_price_cny_per_gpu_h
    if ref is not None and price_cny_per_gpu_h is not None and coupling.price_elasticity > 0:
        price = np.nan_to_num(np.asarray(price_cny_per_gpu_h, float), nan=ref)
        factor = factor * np.power(np.maximum(price, 0.0) / ref, coupling.price_elasticity)
    out: np.ndarray = factor
    return out


def facilitating_factor(served_share: np.ndarray, coupling: CapacityCoupling) -> np.ndarray:
    """Multiplier (<= 1) of facilitating conditions: served_share ** served_elasticity.

    ``served_share`` is GPU-hours started within the latency budget over GPU-hours asked
    for, in [0, 1]; NaN (nothing asked for) is neutral.
    """
    share = np.clip(np.nan_to_num(np.asarray(served_share, float), nan=1.0), 0.0, 1.0)
    out: np.ndarray = np.power(share, coupling.served_elasticity)
    return out


@dataclass(frozen=True)
class AdoptionStep:
    """The state of every segment over one step (arrays, one entry per segment).

    Attributes
    ----------
    frac_start, frac_end : numpy.ndarray
        Adopted fraction at the start and end of the step.
    p_eff_per_yr, q_eff_per_yr : numpy.ndarray
        Effective innovation and imitation rates over the step (1/yr).
    resonance : numpy.ndarray
        R over the step.
    expected_costs, facilitating_conditions : numpy.ndarray
        The two coupled demand-side factors (exogenous value × capacity factor).
    demand : numpy.ndarray
        D over the step (exogenous factors and capacity).
    """

    frac_start: np.ndarray
    frac_end: np.ndarray
    p_eff_per_yr: np.ndarray
    q_eff_per_yr: np.ndarray
    resonance: np.ndarray
    expected_costs: np.ndarray
    facilitating_conditions: np.ndarray
    demand: np.ndarray


def advance(
    frac: np.ndarray,
    segments: Segments,
    config: AdoptionConfig,
    dt_h: float,
    ec_factor: np.ndarray | None = None,
    fc_factor: np.ndarray | None = None,
    t_h: float = 0.0,
) -> AdoptionStep:
    """Step every segment's adopted fraction over ``dt_h`` hours with the given capacity factors.

    Parameters
    ----------
    frac : numpy.ndarray
        Adopted fraction at the start of the step.
    segments : Segments
        Exogenous factors.
    config : AdoptionConfig
        The resonance elasticity and whether coupling is enabled (p0, q0 and the ceilings
        are per segment, in ``segments``).
    dt_h : float
        Step length in hours.
    ec_factor, fc_factor : numpy.ndarray, optional
        Capacity factors of expected costs and facilitating conditions (default 1; ignored
        when ``config.coupling.enabled`` is false).
    t_h : float
        Start of the step, h since t = 0: expected costs also follow the price of AI work
        then, ``config.growth.expected_costs_multiplier`` (exogenous, so applied with or
        without coupling; 1 at the default elasticity 0).
    """
    n = len(segments)
    ones = np.ones(n)
    if not config.coupling.enabled or ec_factor is None:
        ec_factor = ones
    if not config.coupling.enabled or fc_factor is None:
        fc_factor = ones
    # The price of AI work at the step's start: an exogenous multiplier of expected costs.
    ec_factor = ec_factor * float(config.growth.expected_costs_multiplier(t_h / HOURS_PER_YEAR))
    # D_exo already holds the exogenous EC and FC; the capacity factors multiply them.
    demand = segments.demand_exogenous * fc_factor / ec_factor
    r = resonance(segments.supply, demand, config.resonance_elasticity)
    p = segments.p0_per_yr * r  # per segment: its group's coefficients, else [adoption]'s
    q = segments.q0_per_yr * r
    end = bass_step(frac, p, q, dt_h / HOURS_PER_YEAR, segments.ceiling)
    return AdoptionStep(
        frac_start=np.asarray(frac, float),
        frac_end=end,
        p_eff_per_yr=p,
        q_eff_per_yr=q,
        resonance=r,
        expected_costs=segments.expected_costs * ec_factor,
        facilitating_conditions=segments.facilitating_conditions * fc_factor,
        demand=demand,
    )


def class_rates_by_region(
    frac: np.ndarray,
    segments: Segments,
    config: AdoptionConfig,
    t_h: float,
    n_regions: int,
) -> np.ndarray:
    """Adoption-driven arrival rates (jobs/h), shape (classes, regions), for adopted fractions ``frac``.

    rate[c, r] = Σ over segments s of region r: enterprises_s · frac_s · jobs_per_adopter_per_h[s, c]
    · growth multiplier at ``t_h`` · ``growth.work_scale()`` (the start price of AI work).
    """
    adopters = segments.enterprises * np.asarray(frac, float)
    mult = float(config.growth.multiplier(t_h / HOURS_PER_YEAR)) * config.growth.work_scale()
    per_seg = adopters[:, None] * segments.jobs_per_adopter_per_h * mult  # (segments, classes)
    out = np.zeros((segments.jobs_per_adopter_per_h.shape[1], n_regions))
    for c in range(out.shape[0]):
        out[c] = np.bincount(segments.region_index, weights=per_seg[:, c], minlength=n_regions)
    return out
