"""Calibration points files: the shipped points, bad files as one located line, segment selection."""

import pytest

from topology.plumbing import ConfigError
from workloads.adoption.points import load_points, select_segments, shipped_points_path


def test_shipped_points_have_sources_and_uncertainties():
    points = load_points(shipped_points_path())
    prefixes = ("seed ", "url: ", "public knowledge", "estimate: ", "derived: ")
    for seg in points.segment:
        assert seg.start_source.startswith(prefixes)
        for pt in seg.point:
            assert pt.source.startswith(prefixes), pt.source
            assert pt.uncertainty_source.startswith(prefixes), pt.uncertainty_source


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
        ('schema_version = "1"\n[[segment]]\nid = "a"\nstart_year = 2020\nstart_source = "x"\n'
         '[[segment.point]]\nyear = 2021\nfrac = 0.02\nuncertainty_frac = 0.1\nkind = "bound"\nsource = "x"\n',
         "kind: 'bound' needs lower_frac and/or upper_frac"),
        ('schema_version = "1"\n[[segment]]\nid = "a"\nstart_year = 2020\nstart_source = "x"\n'
         '[[segment.point]]\nyear = 2021\nfrac = 0.02\nupper_frac = 0.05\nuncertainty_frac = 0.1\nsource = "x"\n',
         "give either frac or lower_frac/upper_frac"),
        ('schema_version = "1"\n[[segment]]\nid = "a"\nstart_year = 2020\nstart_source = "x"\n'
         '[[segment.point]]\nyear = 2021\nlower_frac = 0.5\nupper_frac = 0.4\nuncertainty_frac = 0.1\n'
         'source = "x"\n', "lower_frac: 0.5 is above upper_frac 0.4"),
        ('schema_version = "1"\n[[segment]]\nid = "a"\nstart_year = 2020\nstart_frac = 0.3\nceiling_frac = 0.2\n'
         'start_source = "x"\n[[segment.point]]\nyear = 2021\nfrac = 0.2\nuncertainty_frac = 0.1\nsource = "x"\n',
         "ceiling_frac: 0.2 is below start_frac 0.3"),
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
