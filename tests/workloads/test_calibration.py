"""Calibration of p0, q0 (and the resonance elasticity): round trips, shipped points, bad files."""

import tomllib

import numpy as np
import pytest

from topology.errors import ConfigError
from workloads.adoption import bass_closed_form
from workloads.calibration import (
    CalibrationPoint,
    CalibrationSegment,
    fit_adoption,
    fragment_toml,
    load_points,
    model_fracs,
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


def test_shipped_points_have_sources_and_uncertainties():
    points = load_points(shipped_points_path())
    prefixes = ("seed ", "url: ", "public knowledge", "estimate: ", "derived: ")
    for seg in points.segment:
        assert seg.start_source.startswith(prefixes)
        for pt in seg.point:
            assert pt.source.startswith(prefixes), pt.source
            assert pt.uncertainty_source.startswith(prefixes), pt.uncertainty_source


def test_shipped_world_enterprise_points():
    """Gartner < 5 % (2023), BCG 26 % (2024), Gartner > 80 % (by 2026).

    The least-squares fit reproduces BCG and the forecast within their uncertainty but
    misses the 2023 bound by 0.0009 (fitted 0.0509 against [0, 0.05]): a constant-rate
    Bass curve from zero at ChatGPT's release cannot rise that slowly and then that
    fast.  (A curve inside all three bands exists, p0 ≈ 0.027, q0 ≈ 1.48, but it is not
    the least-squares optimum.)
    """
    points = load_points(shipped_points_path())
    result = fit_adoption(select_segments(points, ["world_enterprise_genai"], "shipped"))
    assert result.value("p0_per_yr") == pytest.approx(0.03146, abs=2e-4)
    assert result.value("q0_per_yr") == pytest.approx(1.3531, abs=2e-3)
    assert [r.within for r in result.residuals] == [False, True, True]
    assert result.residuals[0].residual == pytest.approx(0.0259, abs=5e-4)
    assert all(abs(r.residual) <= 2 * r.uncertainty for r in result.residuals)


def test_shipped_cn_population_points():
    """CNNIC 17.7 % (Dec 2024), 36.5 % (Jun 2025), 42.8 % (Dec 2025).

    Use doubled in half a year and then slowed sharply: no Bass curve with a ceiling of
    1 and constant rates turns that fast, so the first two points are missed by 1.6 and
    2.3 times their uncertainty.  Reported, not hidden.
    """
    points = load_points(shipped_points_path())
    result = fit_adoption(select_segments(points, ["cn_population_genai"], "shipped"))
    assert [r.within for r in result.residuals] == [False, False, True]
    np.testing.assert_allclose([r.residual for r in result.residuals], [0.0314, -0.0465, 0.0199], atol=5e-4)


def test_fragment_is_valid_toml_with_the_fitted_values():
    points = load_points(shipped_points_path())
    result = fit_adoption(select_segments(points, ["world_enterprise_genai"], "shipped"))
    data = tomllib.loads(fragment_toml(result, "shipped.toml"))
    assert data == {"adoption": {"p0_per_yr": result.values[0], "q0_per_yr": result.values[1]}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('schema_version = "1"\n[[segment]]\nid = "a"\nstart_year = 2020\nstart_source = "x"\n'
         '[[segment.point]]\nyear = 2021\nfrac = 1.5\nuncertainty_frac = 0.1\nsource = "x"\n',
         "segment[0].point[0].frac"),
        ('schema_version = "1"\n[[segment]]\nid = "a"\nstart_year = 2020\nstart_source = "x"\n'
         '[[segment.point]]\nyear = 2021\nfrac = 0.5\nuncertainty = 0.1\nsource = "x"\n',
         "segment[0].point[0].uncertainty"),
        ('schema_version = "2"\n', "schema_version"),
        ('schema_version = "1"\n[[segment]]\nid = "a"\nstart_year = 2020\nstart_source = "x"\n'
         '[[segment.point]]\nyear = 2019\nfrac = 0.5\nuncertainty_frac = 0.1\nsource = "x"\n',
         "before start_year"),
        ("schema_version = \n", "malformed TOML"),
    ],
)
def test_bad_points_file_is_one_line_naming_file_and_key(tmp_path, text, message):
    path = tmp_path / "points.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_points(path)
    line = str(info.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: ")
    assert message in line


def test_unknown_segment_names_the_nearest():
    points = load_points(shipped_points_path())
    with pytest.raises(ConfigError, match="did you mean 'cn_population_genai'"):
        select_segments(points, ["cn_population_genia"], "f.toml")
