"""Calibration of p0, q0 (the resonance elasticity, ceilings): round trips, shipped points, bounds."""

import math

import numpy as np
import pytest

from topology.plumbing import ConfigError
from workloads.adoption.bass import bass_closed_form
from workloads.adoption.fit import fit_adoption, model_fracs
from workloads.adoption.fragment import fragment_toml
from workloads.adoption.points import (
    CalibrationPoint,
    CalibrationSegment,
    load_points,
    select_segments,
    shipped_points_path,
)

P0, Q0, KAPPA = 0.03, 0.6, 0.8
YEARS = np.arange(1.0, 11.0)  # ten yearly observations after the start
SIGMA = 0.01


def _segment(values, resonance=1.0, sid="s", start=2020.0):
    points = [CalibrationPoint(year=start + t, frac=float(v), uncertainty_frac=SIGMA, source="synthetic")
              for t, v in zip(YEARS, values, strict=True)]
    return CalibrationSegment(id=sid, start_year=start, start_source="synthetic", resonance=resonance, point=points)


def _noisy(truth, rng):
    return np.clip(truth + rng.normal(0.0, SIGMA, truth.shape), 0.0, 1.0)


def test_model_fracs_is_the_closed_form():
    seg = _segment(np.zeros(YEARS.size))
    np.testing.assert_allclose(model_fracs([P0, Q0], [seg]), bass_closed_form(YEARS, P0, Q0), rtol=0, atol=1e-12)


def test_exact_data_is_recovered_exactly():
    seg = _segment(bass_closed_form(YEARS, P0, Q0))
    result = fit_adoption([seg])
    assert result.value("p0_per_yr") == pytest.approx(P0, rel=1e-7)
    assert result.value("q0_per_yr") == pytest.approx(Q0, rel=1e-7)
    assert result.chi2 < 1e-12
    assert result.dof == YEARS.size - 2


def test_synthetic_round_trip_coverage_of_two_standard_errors():
    truth = bass_closed_form(YEARS, P0, Q0)
    seeds = range(40)
    covered = {"p0_per_yr": 0, "q0_per_yr": 0}
    estimates, ses = [], []
    for seed in seeds:
        result = fit_adoption([_segment(_noisy(truth, np.random.default_rng(seed)))])
        for name, true in (("p0_per_yr", P0), ("q0_per_yr", Q0)):
            covered[name] += abs(result.value(name) - true) <= 2 * result.std_error(name)
        estimates.append(result.values)
        ses.append(result.std_errors)
    # Nominal coverage of +/- 2 SE is 95.4 %: 38.2 of 40 expected; fewer than 34 has probability < 1 %.
    assert covered["p0_per_yr"] >= 34, covered
    assert covered["q0_per_yr"] >= 34, covered
    # The Jacobian standard errors agree with the spread of the estimates across seeds.
    spread = np.std(np.array(estimates), axis=0, ddof=1)
    mean_se = np.mean(np.array(ses), axis=0)
    np.testing.assert_allclose(spread, mean_se, rtol=0.3)


def test_resonance_elasticity_round_trip():
    segs = []
    for k, r in enumerate((0.5, 1.0, 2.0)):
        eff = r**KAPPA
        segs.append(_segment(bass_closed_form(YEARS, P0 * eff, Q0 * eff), resonance=r, sid=f"s{k}"))
    result = fit_adoption(segs, fit_resonance=True)
    assert result.names == ("p0_per_yr", "q0_per_yr", "resonance_elasticity")
    np.testing.assert_allclose(result.values, (P0, Q0, KAPPA), rtol=1e-6)


def test_resonance_fit_needs_two_resonances():
    seg = _segment(bass_closed_form(YEARS, P0, Q0))
    with pytest.raises(ConfigError, match="two or more different 'resonance'"):
        fit_adoption([seg], fit_resonance=True)


def test_too_few_points():
    seg = CalibrationSegment(id="s", start_year=2020, start_source="x",
                             point=[CalibrationPoint(year=2021, frac=0.1, uncertainty_frac=0.01, source="x")])
    with pytest.raises(ConfigError, match="1 point"):
        fit_adoption([seg])


# -- the shipped points -------------------------------------------------------------------

def test_shipped_world_enterprise_points():
    """Gartner < 5 % (2023), BCG 26 % (2024), Gartner > 80 % by 2026 (taken as [0.80, 0.90]).

    The bounds are met as hard constraints: the least-squares optimum with flat-bottomed
    bounds would cross both, so the fit is redone with them as constraints.  It reproduces
    all three points; p0, q0 sit on the edges of both bounds (F = 0.05 in 2023, 0.90 at
    the end of 2026), so the points confine them to a region and the standard errors are
    reported as not determined.
    """
    points = load_points(shipped_points_path())
    result = fit_adoption(select_segments(points, ["world_enterprise_genai"], "shipped"))
    assert result.bounds_met
    assert [r.within for r in result.residuals] == [True, True, True]
    assert result.value("p0_per_yr") == pytest.approx(0.028992, abs=1e-5)
    assert result.value("q0_per_yr") == pytest.approx(1.47629, abs=1e-4)
    fitted = [r.fitted for r in result.residuals]
    assert fitted[0] == pytest.approx(0.05, abs=1e-9) and fitted[2] == pytest.approx(0.90, abs=1e-9)
    assert result.residuals[1].residual == pytest.approx(-0.0265, abs=5e-4)
    assert result.on_edge == (True, False, True)
    assert result.determined == (False, False)
    assert all(math.isinf(se) for se in result.std_errors)


def test_shipped_cn_population_points_need_the_ceiling():
    """CNNIC 17.7 % (Dec 2024), 36.5 % (Jun 2025), 42.8 % (Dec 2025).

    With ceiling 1 (the model before the ceiling) the first two points are missed by 1.6 and
    2.3 times their uncertainty.  The shipped segment fits its ceiling: three parameters for
    three points, an exact fit (chi2 = 0, no degree of freedom) that reproduces them by
    construction, m = 0.44 ± 0.03.  The standard errors are the stated uncertainties
    propagated through the fit (defined: J is square and not singular).
    """
    points = load_points(shipped_points_path())
    segs = select_segments(points, ["cn_population_genai"], "shipped")
    assert segs[0].fit_ceiling
    no_ceiling = fit_adoption([segs[0].model_copy(update={"fit_ceiling": False})])
    assert [r.within for r in no_ceiling.residuals] == [False, False, True]
    np.testing.assert_allclose([r.residual for r in no_ceiling.residuals], [0.0314, -0.0465, 0.0199], atol=5e-4)

    result = fit_adoption(segs)
    assert result.names == ("p0_per_yr", "q0_per_yr", "ceiling_frac.cn_population_genai")
    assert result.dof == 0 and result.exact
    assert [r.within for r in result.residuals] == [True, True, True]
    assert max(abs(r.residual) for r in result.residuals) < 1e-9
    assert result.value("ceiling_frac.cn_population_genai") == pytest.approx(0.4402, abs=1e-3)
    assert result.value("q0_per_yr") == pytest.approx(3.951, abs=1e-2)
    assert all(result.determined) and all(math.isfinite(se) for se in result.std_errors)
    assert result.std_error("ceiling_frac.cn_population_genai") == pytest.approx(0.0307, abs=1e-3)


def test_shipped_world_points_with_the_ceiling_fitted_determine_nothing():
    """One value and two bounds cannot fix three parameters: all met, none determined (inf, not NaN)."""
    points = load_points(shipped_points_path())
    result = fit_adoption(select_segments(points, ["world_enterprise_genai"], "shipped"), fit_ceiling=True)
    assert result.names == ("p0_per_yr", "q0_per_yr", "ceiling_frac.world_enterprise_genai")
    assert [r.within for r in result.residuals] == [True, True, True]
    assert abs(result.residuals[1].residual) < 1e-9
    assert result.determined == (False, False, False)
    assert all(math.isinf(se) for se in result.std_errors)
    assert 0.8 <= result.ceilings[0] <= 1.0


# -- the ceiling and bounds, synthetic ---------------------------------------------------------

M0 = 0.6


def test_model_fracs_with_a_ceiling_is_m_times_the_closed_form():
    seg = _segment(np.zeros(YEARS.size)).model_copy(update={"ceiling_frac": M0})
    np.testing.assert_allclose(model_fracs([P0, Q0], [seg]), bass_closed_form(YEARS, P0, Q0, M0), rtol=0, atol=1e-12)


def test_synthetic_round_trip_with_a_ceiling_coverage_of_two_standard_errors():
    truth = bass_closed_form(YEARS, P0, Q0, M0)
    names = ("p0_per_yr", "q0_per_yr", "ceiling_frac.s")
    covered = dict.fromkeys(names, 0)
    estimates, ses = [], []
    for seed in range(40):
        result = fit_adoption([_segment(_noisy(truth, np.random.default_rng(seed)))], fit_ceiling=True)
        assert result.names == names
        for name, true in zip(names, (P0, Q0, M0), strict=True):
            covered[name] += abs(result.value(name) - true) <= 2 * result.std_error(name)
        estimates.append(result.values)
        ses.append(result.std_errors)
    # Nominal 95.4 % of 40 is 38.2; fewer than 34 has probability < 1 %.
    assert all(v >= 34 for v in covered.values()), covered
    spread = np.std(np.array(estimates), axis=0, ddof=1)
    np.testing.assert_allclose(spread, np.mean(np.array(ses), axis=0), rtol=0.3)


def test_exact_data_with_a_ceiling_is_recovered_exactly():
    seg = _segment(bass_closed_form(YEARS, P0, Q0, M0)).model_copy(update={"fit_ceiling": True})
    result = fit_adoption([seg])
    np.testing.assert_allclose(result.values, (P0, Q0, M0), rtol=1e-7)
    assert result.ceilings == (pytest.approx(M0, rel=1e-7),)


def _bound_segment(points, **kw):
    return CalibrationSegment(id="b", start_year=2020.0, start_source="synthetic",
                              point=[CalibrationPoint(source="synthetic", **pt) for pt in points], **kw)


def test_the_fit_reports_the_model_fraction_at_every_value_and_bound_point():
    seg = _bound_segment([{"year": 2021.0, "upper_frac": 0.05, "uncertainty_frac": 0.02, "kind": "bound"},
                          {"year": 2022.0, "lower_frac": 0.3, "uncertainty_frac": 0.02, "kind": "bound"},
                          {"year": 2023.0, "lower_frac": 0.4, "upper_frac": 0.5, "uncertainty_frac": 0.02},
                          {"year": 2024.0, "frac": 0.7, "uncertainty_frac": 0.02}])
    result = fit_adoption([seg])
    fitted = model_fracs(result.values, [seg])
    for r, f in zip(result.residuals, fitted, strict=True):
        assert r.fitted == f


def test_bounds_are_met_as_constraints_when_a_curve_meets_them_all():
    """Data from a known curve whose first point is replaced by a bound it only just meets."""
    truth = bass_closed_form(YEARS, P0, Q0)
    pts = [{"year": 2020.0 + t, "frac": float(v), "uncertainty_frac": SIGMA} for t, v in zip(YEARS, truth, strict=True)]
    # A bound the truth violates, pulling the soft optimum outside it.
    pts[0] = {"year": 2021.0, "upper_frac": float(truth[0]) - 0.01, "uncertainty_frac": SIGMA, "kind": "bound"}
    result = fit_adoption([_bound_segment(pts)])
    assert result.bounds_met
    assert result.residuals[0].within and result.on_edge[0]
    assert result.residuals[0].fitted == pytest.approx(truth[0] - 0.01, abs=1e-9)


def test_bounds_no_curve_can_meet_are_fitted_softly_and_reported():
    seg = _bound_segment([{"year": 2021.0, "lower_frac": 0.6, "uncertainty_frac": 0.05, "kind": "bound"},
                          {"year": 2022.0, "upper_frac": 0.3, "uncertainty_frac": 0.05, "kind": "bound"},
                          {"year": 2023.0, "frac": 0.5, "uncertainty_frac": 0.05}])
    result = fit_adoption([seg])  # F never falls: 0.6 in 2021 and 0.3 in 2022 cannot both hold
    assert not result.bounds_met
    assert not result.residuals[0].within or not result.residuals[1].within
    assert math.isfinite(result.chi2)


def test_points_inside_their_bounds_leave_parameters_undetermined_without_nan():
    seg = _bound_segment([{"year": 2021.0, "upper_frac": 0.5, "uncertainty_frac": 0.05, "kind": "bound"},
                          {"year": 2022.0, "upper_frac": 0.9, "uncertainty_frac": 0.05, "kind": "bound"},
                          {"year": 2023.0, "frac": 0.5, "uncertainty_frac": 0.05}])
    result = fit_adoption([seg])
    assert result.bounds_met and not any(result.on_edge)
    assert result.determined == (False, False)  # one value point for two parameters
    assert all(math.isinf(se) for se in result.std_errors)
    assert not any(math.isnan(v) for v in result.values)
    text = fragment_toml(result, "x")
    assert "not determined (infinite): the points leave it free" in text and "edge" not in text
