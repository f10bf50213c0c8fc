"""``cpnsim calibrate``: tables of fitted values and residuals, the TOML fragment, bad input."""

import os
import re
import stat
import tomllib

import pytest

from cluster.cli import main
from workloads.adoption import (
    AdoptionConfig,
    fit_adoption,
    fragment_toml,
    load_points,
    select_segments,
    shipped_points_path,
)


def test_calibrate_shipped_prints_values_residuals_and_writes_fragment(tmp_path, capsys):
    out = tmp_path / "fragment.toml"
    assert main(["calibrate", "shipped", "--segment", "world_enterprise_genai", "--out", str(out)]) == 0
    text = capsys.readouterr()
    expected = fit_adoption(select_segments(load_points(shipped_points_path()), ["world_enterprise_genai"], "x"))
    assert "p0_per_yr" in text.out and "q0_per_yr" in text.out
    assert f"{expected.value('p0_per_yr'):.4g}" in text.out
    # p0, q0 sit on the edges of both bounds: no standard error, said in words (no "nan", no "inf").
    flat = re.sub(r"[│\s]+", " ", text.out)  # table cells wrap: join their lines
    assert "not determined" in flat and "bound(s) met at their edge: world_enterprise_genai 2023.79" in flat
    assert "nan" not in text.out.lower() and "inf " not in text.out
    assert text.out.count("world_enterprise_genai") >= 3  # one residual row per point
    assert "<= 0.05" in text.out and "[0.8, 0.9]" in text.out and "-0.0265" in text.out
    assert "not reproduced" not in text.err
    data = tomllib.loads(out.read_text(encoding="utf-8"))
    assert data["adoption"]["p0_per_yr"] == expected.value("p0_per_yr")
    assert data["adoption"]["q0_per_yr"] == expected.value("q0_per_yr")


def test_calibrate_fit_ceiling_prints_the_ceiling_and_the_exact_fit(tmp_path, capsys):
    out = tmp_path / "fragment.toml"
    assert main(["calibrate", "shipped", "--segment", "cn_population_genai", "--fit-ceiling", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ceiling_frac.cn_population_genai" in text
    assert "exact fit: 3 point(s), 3 parameter(s)" in text
    expected = fit_adoption(select_segments(load_points(shipped_points_path()), ["cn_population_genai"], "x"))
    assert f"± {expected.std_error('ceiling_frac.cn_population_genai'):.4g}" in text
    fragment = tomllib.loads(out.read_text(encoding="utf-8"))["adoption"]
    assert fragment["ceiling_frac"] == expected.value("ceiling_frac.cn_population_genai")
    config = AdoptionConfig.model_validate({**fragment, "industries": {"all": {}}})
    assert config.ceiling_frac == fragment["ceiling_frac"]


def test_fit_ceiling_flag_adds_a_ceiling_to_segments_that_do_not_ask_for_one(capsys):
    assert main(["calibrate", "shipped", "--segment", "world_enterprise_genai", "--fit-ceiling"]) == 0
    out = capsys.readouterr().out
    assert "ceiling_frac.world_enterprise_genai" in out
    assert out.count("not determined") >= 6  # std error column and note, for each of the three parameters


def test_calibrate_reports_points_not_reproduced(capsys):
    # Fitted jointly (shared p0, q0), the world segment's bounds hold p0 and q0 on their edges and the CNNIC
    # series, even with its own ceiling, is missed at all three of its points: said on stderr, exit 0.
    assert main(["calibrate", "shipped"]) == 0
    assert "3 of 6 point(s) not reproduced" in capsys.readouterr().err


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


def test_out_file_has_normal_permissions(tmp_path, capsys):
    # The fragment is written through a temporary file; it must not keep mkstemp's owner-only 0600.
    out = tmp_path / "fragment.toml"
    old = os.umask(0o022)
    try:
        assert main(["calibrate", "shipped", "--segment", "world_enterprise_genai", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["fragment.toml"]  # no temporary file left


def test_out_in_a_missing_folder_exits_2(tmp_path, capsys):
    out = tmp_path / "no" / "fragment.toml"
    assert main(["calibrate", "shipped", "--segment", "world_enterprise_genai", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"cpnsim: error: --out {out}: folder {out.parent} does not exist\n"
