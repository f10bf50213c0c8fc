"""Capacity coupling: neutral under perfect service, monotone in service, arrival rates by region."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workloads.adoption.config import DEFAULT_UNIT_COST_DECLINE_PER_YR, HOURS_PER_YEAR, AdoptionConfig, CapacityCoupling
from workloads.adoption.coupling import advance, class_rates_by_region, expected_costs_factor, facilitating_factor
from workloads.adoption.segments import build_segments

PRICED = CapacityCoupling(reference_price_cny_per_gpu_h=2.0, price_elasticity=0.5, served_elasticity=2.0)


def _setup(**coupling):
    config = AdoptionConfig.model_validate({
        "p0_per_yr": 0.05, "q0_per_yr": 0.6, "initial_frac": 0.02, "enterprises_per_weight": 10.0,
        "industries": {
            "a": {"comparative_advantage": 1.3, "jobs_per_adopter_per_h": {"x": 2.0}},
            "b": {"complexity": 1.5, "jobs_per_adopter_per_h": {"x": 1.0, "y": 0.5}},
        },
        "regions": {"r1": {"expected_costs": 1.4, "facilitating_conditions": 0.8}},
        "coupling": coupling,
    })
    return config, build_segments(config, ["r0", "r1"], [1.0, 3.0], ["x", "y"])


def test_perfect_service_gives_factors_of_exactly_one():
    for coupling in (CapacityCoupling(), PRICED):
        assert np.all(expected_costs_factor(np.zeros(4), np.full(4, 2.0), coupling) == 1.0)
        assert np.all(facilitating_factor(np.ones(4), coupling) == 1.0)
        # Nothing asked for, nothing started: no information, neutral.
        assert np.all(facilitating_factor(np.full(2, np.nan), coupling) == 1.0)
        assert np.all(expected_costs_factor(np.full(2, np.nan), np.full(2, np.nan), coupling) == 1.0)


def test_perfect_service_step_equals_exogenous_step():
    config, seg = _setup()
    f = seg.initial_frac
    exo = advance(f, seg, config, 730.5)
    coupled = advance(f, seg, config, 730.5, expected_costs_factor(np.zeros(len(seg)), None, config.coupling),
                      facilitating_factor(np.ones(len(seg)), config.coupling))
    np.testing.assert_array_equal(exo.frac_end, coupled.frac_end)
    np.testing.assert_array_equal(exo.resonance, coupled.resonance)


def test_factor_values_by_hand():
    assert float(expected_costs_factor(np.array([12.0]), None, CapacityCoupling())[0]) == 1.5  # 1 + 12/24
    got = float(expected_costs_factor(np.array([24.0]), np.array([8.0]), PRICED)[0])
    assert got == pytest.approx(2.0 * math.sqrt(4.0))
    assert float(facilitating_factor(np.array([0.5]), PRICED)[0]) == 0.25


def test_step_by_hand():
    config, seg = _setup()
    # Segment (r1, a): S = 1.3, D = 0.8 / 1.4, then capacity: EC x 2, FC x 0.5.
    k = seg.region.index("r1")
    step = advance(seg.initial_frac, seg, config, HOURS_PER_YEAR, np.full(len(seg), 2.0), np.full(len(seg), 0.5))
    r = 1.3 * 0.8 * 0.5 / (1.4 * 2.0)
    assert step.resonance[k] == pytest.approx(r)
    assert step.p_eff_per_yr[k] == pytest.approx(0.05 * r)
    assert step.q_eff_per_yr[k] == pytest.approx(0.6 * r)
    assert step.expected_costs[k] == pytest.approx(2.8)
    assert step.facilitating_conditions[k] == pytest.approx(0.4)
    p, q, f0 = 0.05 * r, 0.6 * r, 0.02
    e = math.exp(-(p + q))
    assert step.frac_end[k] == pytest.approx(((p + q * f0) - p * (1 - f0) * e) / ((p + q * f0) + q * (1 - f0) * e))


def test_disabled_coupling_ignores_capacity():
    config, seg = _setup(enabled=False)
    bad = advance(seg.initial_frac, seg, config, 730.5, np.full(len(seg), 9.0), np.zeros(len(seg)))
    np.testing.assert_array_equal(bad.frac_end, advance(seg.initial_frac, seg, config, 730.5).frac_end)


@settings(max_examples=200, deadline=None)
@given(
    wait=st.floats(0, 1e4), dwait=st.floats(0, 1e4),
    share=st.floats(0, 1), dshare=st.floats(0, 1),
    price=st.floats(0.01, 100), dprice=st.floats(0, 100),
    f0=st.floats(0, 1), dt_h=st.floats(0, 5e4),
)
def test_worse_service_never_raises_adoption(wait, dwait, share, dshare, price, dprice, f0, dt_h):
    config, seg = _setup(reference_price_cny_per_gpu_h=2.0, price_elasticity=0.7)
    n = len(seg)
    f = np.full(n, f0)
    c = config.coupling

    def end(w, s, pr):
        ec = expected_costs_factor(np.full(n, w), np.full(n, pr), c)
        fc = facilitating_factor(np.full(n, s), c)
        return advance(f, seg, config, dt_h, ec, fc).frac_end

    good = end(wait, min(1.0, share + dshare), price)
    worse = end(wait + dwait, share, price + dprice)
    assert np.all(worse <= good + 1e-12)


def test_class_rates_by_region_by_hand():
    config, seg = _setup()
    # r0: 10 enterprises per industry; r1: 30.  F = 0.02 everywhere.
    rates = class_rates_by_region(seg.initial_frac, seg, config, 0.0, 3)
    np.testing.assert_allclose(rates[0], [10 * 0.02 * 3.0, 30 * 0.02 * 3.0, 0.0])  # x: a 2.0 + b 1.0
    np.testing.assert_allclose(rates[1], [10 * 0.02 * 0.5, 30 * 0.02 * 0.5, 0.0])
    later = class_rates_by_region(seg.initial_frac, seg, config, 2 * HOURS_PER_YEAR, 3)
    growth = math.exp(0.3 * DEFAULT_UNIT_COST_DECLINE_PER_YR * 2)
    np.testing.assert_allclose(later, rates * growth)


# -- the price of AI work: both channels ----------------------------------------------------


def _priced(expected_costs_elasticity, unit_cost_at_start=1.0, cost_elasticity=0.3):
    config, seg = _setup()
    growth = config.growth.model_copy(update={"expected_costs_elasticity": expected_costs_elasticity,
                                              "unit_cost_at_start": unit_cost_at_start,
                                              "cost_elasticity": cost_elasticity})
    return config.model_copy(update={"growth": growth}), seg


def test_the_price_of_ai_work_by_hand():
    config, _ = _priced(0.5, unit_cost_at_start=0.5)
    g = config.growth
    # Seed 003: $60 -> $1 per million tokens over 4.4 years, so after 4.4 years the unit cost is 0.5 / 60.
    assert float(g.unit_cost(4.4)) == pytest.approx(0.5 / 60)
    assert float(g.expected_costs_multiplier(4.4)) == pytest.approx((0.5 / 60) ** 0.5)
    assert g.work_scale() == pytest.approx(2 ** 0.3)  # half the price: 2 ** 0.3 = 1.231 x the work per adopter
    default = AdoptionConfig.model_validate({"industries": {"a": {}}}).growth
    assert float(default.expected_costs_multiplier(3.0)) == 1.0 and default.work_scale() == 1.0


def test_cheaper_ai_work_lowers_expected_costs_in_the_step():
    config, seg = _priced(0.5)
    t_h = 2 * HOURS_PER_YEAR
    step = advance(seg.initial_frac, seg, config, 730.5, t_h=t_h)
    plain = advance(seg.initial_frac, seg, config, 730.5)  # t = 0: unit cost 1
    m = math.exp(-0.5 * DEFAULT_UNIT_COST_DECLINE_PER_YR * 2)  # (e^(-0.93 x 2)) ** 0.5 = 0.394
    np.testing.assert_allclose(step.expected_costs, plain.expected_costs * m, rtol=1e-14)
    np.testing.assert_allclose(step.demand, plain.demand / m, rtol=1e-14)
    assert np.all(step.frac_end > plain.frac_end)
    # Exogenous: also with the capacity coupling off.
    off = config.model_copy(update={"coupling": CapacityCoupling(enabled=False)})
    np.testing.assert_allclose(advance(seg.initial_frac, seg, off, 730.5, t_h=t_h).demand, step.demand, rtol=1e-14)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.05, 1.0), st.floats(0.0, 5.0),
       st.floats(0.0, 0.9), st.floats(1.0, 8766.0))
def test_halving_the_price_of_ai_work_never_lowers_the_step(eps_a, eps_w, price, t_yr, f0, dt_h):
    """Adoption channel: a lower unit cost never lowers F; work channel: it never lowers the rates."""
    config, seg = _priced(eps_a, price, eps_w)
    half, _ = _priced(eps_a, price / 2, eps_w)
    frac = np.full(len(seg), f0)
    t_h = t_yr * HOURS_PER_YEAR
    cheap, dear = advance(frac, seg, half, dt_h, t_h=t_h), advance(frac, seg, config, dt_h, t_h=t_h)
    # Monotone up to rounding: with an elasticity of ~1e-16 the two resonances differ by less than
    # one ulp and the closed-form step may round either way (hypothesis found eps_a = 2.2e-16).
    # Two ulps of F is far below any effect the property is about.
    assert np.all(cheap.frac_end >= dear.frac_end - 2 * np.spacing(dear.frac_end))
    assert np.all(class_rates_by_region(frac, seg, half, t_h, 2) >= class_rates_by_region(frac, seg, config, t_h, 2))
