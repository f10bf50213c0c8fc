"""The exact Bass step with a market potential: closed form, bounds, monotonicity."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workloads.adoption.bass import bass_closed_form, bass_step

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
