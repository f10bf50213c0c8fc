"""``cpnsim calibrate``: tables of fitted values and residuals, the TOML fragment, bad input."""

import tomllib

import pytest

from cluster.cli import main
from workloads.adoption import AdoptionConfig
from workloads.calibration import fit_adoption, fragment_toml, load_points, select_segments, shipped_points_path


def test_calibrate_shipped_prints_values_residuals_and_writes_fragment(tmp_path, capsys):
    out = tmp_path / "fragment.toml"
    assert main(["calibrate", "shipped", "--segment", "world_enterprise_genai", "--out", str(out)]) == 0
    text = capsys.readouterr()
    expected = fit_adoption(select_segments(load_points(shipped_points_path()), ["world_enterprise_genai"], "x"))
    assert "p0_per_yr" in text.out and "q0_per_yr" in text.out
    assert f"{expected.value('p0_per_yr'):.4g}" in text.out
    assert f"± {expected.std_error('q0_per_yr'):.4g}" in text.out
    assert text.out.count("world_enterprise_genai") >= 3  # one residual row per point
    assert "+0.0259" in text.out and "-0.0401" in text.out
    assert "1 of 3 point(s) not reproduced" in text.err
    data = tomllib.loads(out.read_text(encoding="utf-8"))
    assert data["adoption"]["p0_per_yr"] == expected.value("p0_per_yr")
    assert data["adoption"]["q0_per_yr"] == expected.value("q0_per_yr")


def test_fragment_sets_keys_a_scenario_accepts():
    result = fit_adoption(select_segments(load_points(shipped_points_path()), None, "x"))
    fragment = tomllib.loads(fragment_toml(result, "x"))["adoption"]
    config = AdoptionConfig.model_validate({**fragment, "industries": {"all": {}}})
    assert config.p0_per_yr == result.values[0]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('schema_version = "1"\n[[segment]]\nid = "a"\nstart_year = 2020\nstart_source = "x"\n'
         '[[segment.point]]\nyear = 2021\nfrac = 0.5\nuncertainty_frac = -1\nsource = "x"\n',
         "segment[0].point[0].uncertainty_frac"),
        ('schema_version = "1"\n[[segmnt]]\n', "segmnt"),
    ],
)
def test_bad_points_file_exits_2_with_one_line(tmp_path, run_cli, text, key):
    path = tmp_path / "points.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "frag.toml"
    proc = run_cli("calibrate", str(path), "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"cpnsim: error: {path}: {key}")
    assert not out.exists()


def test_unknown_segment_exits_2(capsys):
    assert main(["calibrate", "shipped", "--segment", "nope"]) == 2
    assert "--segment: no segment 'nope'" in capsys.readouterr().err
