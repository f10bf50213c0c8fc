"""The DANT-KIF / Bass adoption model: exact stepping, bounds, resonance and segments."""

import math
import tomllib

import numpy as np
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workloads.adoption import (
    HOURS_PER_YEAR,
    AdoptionConfig,
    DemandFactors,
    SupplyFactors,
    bass_closed_form,
    bass_step,
    build_segments,
    demand_resonance,
    resonance,
    supply_resonance,
)

PQ = [(0.03, 0.38), (0.001, 0.9), (0.2, 0.05), (0.01, 2.5), (0.5, 0.5)]


@pytest.mark.parametrize(("p", "q"), PQ)
def test_r_equal_one_matches_closed_form_over_many_steps(p, q):
    dt = 1 / 12
    f = np.zeros(1)
    worst = 0.0
    for k in range(1, 12 * 30 + 1):  # 30 years of monthly steps
        f = bass_step(f, p, q, dt)
        worst = max(worst, abs(float(f[0]) - float(bass_closed_form(k * dt, p, q))))
    assert worst < 1e-9


def test_closed_form_hand_value():
    # (1 - e^-0.41) / (1 + (0.38/0.03) e^-0.41), computed by hand with math.exp
    e = math.exp(-0.41)
    expected = (1 - e) / (1 + 0.38 / 0.03 * e)
    assert float(bass_step(0.0, 0.03, 0.38, 1.0)) == pytest.approx(expected, abs=1e-15)


def test_p_zero_is_the_logistic_curve_and_stays_at_zero_from_zero():
    q, f0, t = 0.7, 0.1, 3.0
    logistic = f0 / (f0 + (1 - f0) * math.exp(-q * t))
    assert float(bass_step(f0, 0.0, q, t)) == pytest.approx(logistic, abs=1e-14)
    assert float(bass_step(0.0, 0.0, q, t)) == 0.0
    # p = q = 0: nothing moves (0/0 in the closed form, handled).
    assert float(bass_step(0.4, 0.0, 0.0, t)) == 0.4
    assert float(bass_step(1.0, 0.3, 0.2, t)) == 1.0


def test_tiny_p_approaches_logistic_continuously():
    q, f0, t = 0.7, 0.1, 3.0
    a = float(bass_step(f0, 1e-12, q, t))
    b = float(bass_step(f0, 0.0, q, t))
    assert abs(a - b) < 1e-10


@pytest.mark.parametrize(("p", "q"), PQ)
def test_twelve_monthly_steps_equal_one_yearly_step(p, q):
    f0 = np.array([0.0, 0.05, 0.5, 0.97])
    f = f0.copy()
    for _ in range(12):
        f = bass_step(f, p, q, 1 / 12)
    np.testing.assert_allclose(f, bass_step(f0, p, q, 1.0), rtol=0, atol=1e-13)


def test_vectorised_over_segments_equals_scalar_calls():
    rng = np.random.default_rng(3)
    f, p, q = rng.uniform(0, 1, 50), rng.uniform(0, 0.2, 50), rng.uniform(0, 2, 50)
    vec = bass_step(f, p, q, 0.25)
    scalar = [float(bass_step(f[k], p[k], q[k], 0.25)) for k in range(50)]
    np.testing.assert_array_equal(vec, scalar)


@settings(max_examples=300, deadline=None)
@given(
    f0=st.floats(0, 1),
    p=st.floats(0, 50),
    q=st.floats(0, 50),
    dt=st.floats(0, 100),
    enterprises=st.floats(0, 1e7),
)
def test_fraction_stays_in_unit_interval_and_adopters_within_enterprises(f0, p, q, dt, enterprises):
    f1 = float(bass_step(f0, p, q, dt))
    assert 0.0 <= f1 <= 1.0
    assert f1 >= f0 - 1e-12  # adoption never falls
    assert enterprises * f1 <= enterprises


@settings(max_examples=200, deadline=None)
@given(f0=st.floats(0, 1), p=st.floats(0, 5), q=st.floats(0, 5), dp=st.floats(0, 5), dq=st.floats(0, 5),
       dt=st.floats(0, 10))
def test_higher_rates_never_lower_adoption(f0, p, q, dp, dq, dt):
    assert float(bass_step(f0, p + dp, q + dq, dt)) >= float(bass_step(f0, p, q, dt)) - 1e-12


def test_resonance_is_neutral_and_multiplicative():
    assert supply_resonance(SupplyFactors()) == 1.0
    assert demand_resonance(DemandFactors()) == 1.0
    s = supply_resonance(SupplyFactors(comparative_advantage=2.0, complexity=4.0, compatibility=1.5, observability=2.0))
    assert s == pytest.approx(2.0 * 1.5 * 2.0 / 4.0)
    d = demand_resonance(DemandFactors(anticipated_benefits=1.2, expected_costs=2.0, social_impact=1.1,
                                       facilitating_conditions=0.5))
    assert d == pytest.approx(1.2 * 1.1 * 0.5 / 2.0)
    assert float(resonance(np.array(1.5), np.array(2.0), 0.5)) == pytest.approx(math.sqrt(3.0))
    assert float(resonance(np.array(1.5), np.array(2.0), 0.0)) == 1.0


CONFIG_TOML = """
p0_per_yr = 0.02
q0_per_yr = 0.5
initial_frac = 0.01
enterprises_per_weight = 100.0

[industries.manufacturing]
enterprise_share_frac = 0.6
comparative_advantage = 1.2
jobs_per_adopter_per_h = { inference = 0.5 }

[industries.finance]
enterprise_share_frac = 0.4
complexity = 2.0
jobs_per_adopter_per_h = { inference = 0.1, training = 0.01 }

[regions.east]
anticipated_benefits = 1.5

[[segment]]
region = "west"
industry = "finance"
enterprises = 7.0
initial_frac = 0.2
expected_costs = 2.0
"""


def _config() -> AdoptionConfig:
    return AdoptionConfig.model_validate(tomllib.loads(CONFIG_TOML))


def test_segments_from_config():
    seg = build_segments(_config(), ["east", "west", "gateway"], [2.0, 1.0, 0.0], ["training", "inference"])
    assert len(seg) == 4  # the zero-weight gateway has no segments
    assert seg.region == ("east", "east", "west", "west")
    assert seg.industry == ("manufacturing", "finance", "manufacturing", "finance")
    np.testing.assert_allclose(seg.enterprises, [120.0, 80.0, 60.0, 7.0])
    np.testing.assert_allclose(seg.initial_frac, [0.01, 0.01, 0.01, 0.2])
    np.testing.assert_allclose(seg.supply, [1.2, 0.5, 1.2, 0.5])
    np.testing.assert_allclose(seg.demand_exogenous, [1.5, 1.5, 1.0, 0.5])
    np.testing.assert_allclose(seg.expected_costs, [1.0, 1.0, 1.0, 2.0])
    np.testing.assert_allclose(seg.jobs_per_adopter_per_h, [[0, 0.5], [0.01, 0.1], [0, 0.5], [0.01, 0.1]])
    np.testing.assert_array_equal(seg.region_index, [0, 0, 1, 1])


@pytest.mark.parametrize(
    ("regions", "classes", "message"),
    [
        (["east"], ["training", "inference"], "segment[0].region: no region 'west'"),
        (["east", "west"], ["inference"], "industries.finance.jobs_per_adopter_per_h.training: no workload class"),
    ],
)
def test_segments_name_what_is_unknown(regions, classes, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build_segments(_config(), regions, [1.0] * len(regions), classes)


def test_config_rejects_unknown_keys_and_bad_factors():
    with pytest.raises(pydantic.ValidationError, match="comparative_advantag"):
        AdoptionConfig.model_validate({"industries": {"x": {"comparative_advantag": 1.0}}})
    with pytest.raises(pydantic.ValidationError, match="greater than 0"):
        AdoptionConfig.model_validate({"industries": {"x": {"complexity": 0.0}}})
    with pytest.raises(pydantic.ValidationError, match="unknown industry"):
        AdoptionConfig.model_validate({"industries": {"x": {}}, "segment": [{"region": "a", "industry": "y"}]})
    with pytest.raises(pydantic.ValidationError, match="given twice"):
        AdoptionConfig.model_validate({"industries": {"x": {}}, "segment": [{"region": "a", "industry": "x"}] * 2})


def test_default_step_is_a_month():
    assert AdoptionConfig.model_validate({"industries": {"all": {}}}).step_h * 12 == HOURS_PER_YEAR


# -- the ceiling (market potential) m ---------------------------------------------------------

M_VALUES = [0.9, 0.44, 0.1]


@pytest.mark.parametrize("m", M_VALUES)
@pytest.mark.parametrize(("p", "q"), PQ)
def test_ceiling_matches_m_times_the_closed_form_over_many_steps(p, q, m):
    dt = 1 / 12
    f = np.zeros(1)
    worst = 0.0
    for k in range(1, 12 * 30 + 1):
        f = bass_step(f, p, q, dt, m)
        worst = max(worst, abs(float(f[0]) - float(bass_closed_form(k * dt, p, q, m))))
    assert worst < 1e-9


@pytest.mark.parametrize("m", M_VALUES)
def test_ceiling_solves_the_bass_equation_with_market_potential(m):
    """Integrate dF/dt = (p + q F/m)(m − F) numerically: the closed form is its solution, p and q unscaled."""
    from scipy.integrate import solve_ivp

    p, q, f0 = 0.02, 1.7, 0.01 * m
    t = np.linspace(0.0, 8.0, 33)
    sol = solve_ivp(lambda _t, f: (p + q * f / m) * (m - f), (0.0, 8.0), [f0], t_eval=t, rtol=1e-12, atol=1e-15)
    stepped = [float(bass_step(f0, p, q, tk, m)) for tk in t]
    np.testing.assert_allclose(stepped, sol.y[0], rtol=0, atol=1e-10)
    # The tempting alternative (p + q F)(m − F) is a different curve whenever m < 1.
    if m < 1:
        other = solve_ivp(lambda _t, f: (p + q * f) * (m - f), (0.0, 8.0), [f0], t_eval=t, rtol=1e-12, atol=1e-15)
        assert np.max(np.abs(other.y[0] - sol.y[0])) > 1e-3


def test_ceiling_one_is_bit_identical_to_no_ceiling():
    rng = np.random.default_rng(7)
    f, p, q = rng.uniform(0, 1, 500), rng.uniform(0, 0.5, 500), rng.uniform(0, 4, 500)
    dt = rng.uniform(0, 3, 500)
    plain = bass_step(f, p, q, dt)
    np.testing.assert_array_equal(bass_step(f, p, q, dt, 1.0), plain)
    np.testing.assert_array_equal(bass_step(f, p, q, dt, np.ones(500)), plain)


@settings(max_examples=300, deadline=None)
@given(m=st.floats(1e-3, 1), g0=st.floats(0, 1), p=st.floats(0, 50), q=st.floats(0, 50), dt=st.floats(0, 100),
       dp=st.floats(0, 5))
def test_with_a_ceiling_fraction_stays_in_zero_to_m_never_falls_and_more_rate_never_lowers_it(m, g0, p, q, dt, dp):
    f0 = g0 * m
    f1 = float(bass_step(f0, p, q, dt, m))
    assert 0.0 <= f1 <= m
    assert f1 >= f0 - 1e-12
    assert float(bass_step(f0, p + dp, q + dp, dt, m)) >= f1 - 1e-12


def test_ceiling_keys_resolve_per_segment_and_reject_an_initial_fraction_above_them():
    data = tomllib.loads(CONFIG_TOML)
    data["ceiling_frac"] = 0.8
    data["segment"][0]["ceiling_frac"] = 0.5
    seg = build_segments(AdoptionConfig.model_validate(data), ["east", "west"], [2.0, 1.0], ["training", "inference"])
    np.testing.assert_array_equal(seg.ceiling, [0.8, 0.8, 0.8, 0.5])
    assert _config().ceiling_frac == 1.0
    data["segment"][0]["ceiling_frac"] = 0.1  # below the segment's initial_frac 0.2
    with pytest.raises(pydantic.ValidationError, match=r"segment\[0\]\.initial_frac: 0.2 is above"):
        AdoptionConfig.model_validate(data)
    with pytest.raises(pydantic.ValidationError, match=r"initial_frac: 0\.5 is above ceiling_frac 0\.4"):
        AdoptionConfig.model_validate({"industries": {"x": {}}, "initial_frac": 0.5, "ceiling_frac": 0.4})
    for bad in (0.0, 1.5):
        with pytest.raises(pydantic.ValidationError, match="ceiling_frac"):
            AdoptionConfig.model_validate({"industries": {"x": {}}, "ceiling_frac": bad})
