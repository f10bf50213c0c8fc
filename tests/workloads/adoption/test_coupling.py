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
