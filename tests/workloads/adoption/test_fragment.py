"""The TOML [adoption] fragment of a calibration: valid TOML, fitted values, ceilings."""

import tomllib

from workloads.adoption.fit import fit_adoption
from workloads.adoption.fragment import fragment_toml
from workloads.adoption.points import load_points, select_segments, shipped_points_path


def test_fragment_is_valid_toml_with_the_fitted_values():
    points = load_points(shipped_points_path())
    result = fit_adoption(select_segments(points, ["world_enterprise_genai"], "shipped"))
    text = fragment_toml(result, "shipped.toml")
    data = tomllib.loads(text)
    assert data == {"adoption": {"p0_per_yr": result.values[0], "q0_per_yr": result.values[1]}}
    assert "standard error not determined (infinite): the points leave it free; the estimate sits on the edge" in text


def test_fragment_carries_a_fitted_ceiling_and_lists_different_ones():
    points = load_points(shipped_points_path())
    cn = fit_adoption(select_segments(points, ["cn_population_genai"], "shipped"))
    text = fragment_toml(cn, "shipped")
    assert tomllib.loads(text)["adoption"]["ceiling_frac"] == cn.value("ceiling_frac.cn_population_genai")
    assert "exact fit" in text
    both = fit_adoption(select_segments(points, None, "shipped"))
    text = fragment_toml(both, "shipped")
    assert "ceiling_frac" not in tomllib.loads(text)["adoption"]
    assert "#   world_enterprise_genai: ceiling_frac = 1.0 (stated)" in text
    assert f"#   cn_population_genai: ceiling_frac = {both.ceilings[1]!r}" in text
