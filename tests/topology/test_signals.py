"""Profile sets and hourly series (topology/signals.py): shapes keep the annual means; bad input is one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from topology.plumbing import ConfigError
from topology.signals import (
    HOURS_PER_YEAR,
    Profile,
    ProfileSet,
    SignalsConfig,
    builtin_profiles,
    load_profiles,
    load_series,
    month_of_hour,
    profile_year,
)


def test_builtin_profiles_have_a_prefixed_source_for_every_figure_they_set() -> None:
    profiles = builtin_profiles()
    assert profiles.profile, "the built-in set is empty"
    for name, profile in profiles.profile.items():
        figures = profile.model_fields_set - {"timezone", "sources"}
        assert figures <= set(profile.sources), f"{name}: figures without a source: {figures - set(profile.sources)}"


def test_profile_year_keeps_the_daily_mean_price_and_the_yearly_mean_carbon() -> None:
    profile = builtin_profiles().profile["northwest"]
    year = profile_year(profile, 0.4, 0.45, 0.0, 0.0)
    daily = year[0].reshape(-1, 24).mean(axis=1)
    assert np.allclose(daily, 0.4, rtol=1e-12)
    # carbon_flex x (A / mean A - 1) averages to 0 over the year; nothing is clipped at these figures.
    assert year[1].min() > 0
    assert year[1].mean() == pytest.approx(0.45, rel=1e-12)
    assert year[0].min() < 0.4 < year[0].max()  # the day has cheaper and dearer hours


def test_gansu_periods_put_the_valley_at_midday() -> None:
    profile = builtin_profiles().profile["northwest"]
    ratio = profile.price_ratio()
    assert ratio[12] == pytest.approx(ratio.min()) and ratio[19] == pytest.approx(ratio.max())
    assert ratio[19] / ratio[12] == pytest.approx(3.0)  # 1.5 / 0.5, the published Gansu multipliers


def test_month_of_hour_against_the_calendar() -> None:
    # 1 March 00:00 is hour (31 + 28) x 24 = 1416; 31 December 23:00 is 8759.
    assert month_of_hour(np.array([1415, 1416, HOURS_PER_YEAR - 1, HOURS_PER_YEAR])).tolist() == [1, 2, 11, 0]


def _profile(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {"tou_hours": {"flat": list(range(24))}, "tou_ratio": {"flat": 1.0},
                               "sources": {"tou_hours": "estimate: test", "tou_ratio": "estimate: test"}}
    data.update(changes)
    return data


def _toml_value(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _write_profile(path: Path, profile: dict[str, object]) -> Path:
    path.write_text("[profile.x]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in profile.items()))
    return path


@pytest.mark.parametrize(("changes", "message"), [
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"solar_cf_month": [0.2] * 11 + [1.5]}, "month 12 must be in [0, 1]"),
    ({"solar_cf_month": [0.2] * 11}, "needs 12 monthly values"),
    ({"tou_ratio": {"flat": -1.0}}, "must be in [0, 100]"),
    ({"tou_hours": {"flat": list(range(23))}}, "hours [23] are in no period"),
    ({"mix": {"solar": 0.5}}, "weights must sum to 1"),
    ({"mix": {"wind": 1.0}, "sources": {"tou_hours": "estimate: t", "tou_ratio": "estimate: t", "mix": "estimate: t"}},
     "needs wind_cf_month"),
    ({"sources": {"tou_hours": "made up", "tou_ratio": "estimate: x"}}, "must start with one of"),
    ({"carbon_flex": 0.5}, "carbon_flex has no source"),
])
def test_bad_profile_is_one_line_naming_file_and_key(tmp_path: Path, changes: dict[str, object],
                                                     message: str) -> None:
    path = _write_profile(tmp_path / "p.toml", _profile(**changes))
    with pytest.raises(ConfigError) as err:
        load_profiles(path)
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(path)) and "profile.x" in text
    assert message in text


def test_site_profile_must_name_a_profile() -> None:
    with pytest.raises(ValueError, match="no profile 'nope'"):
        ProfileSet.model_validate({"profile": {}, "site_profile": {"s": "nope"}})


def test_defer_needs_time_aware() -> None:
    with pytest.raises(ValueError, match="needs time_aware"):
        SignalsConfig(defer=True)


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("hour,price_cny_per_kwh,carbon_kg_per_kwh,renewable_frac\n" + "\n".join(rows) + "\n")
    return path


def test_series_csv_and_parquet_read_the_same(tmp_path: Path) -> None:
    rows = [f"{h},{0.3 + 0.01 * h},{0.5},{0.1}" for h in range(24)]
    from_csv = load_series(_csv(tmp_path / "s.csv", rows))
    table = pa.table({"price_cny_per_kwh": from_csv[0], "carbon_kg_per_kwh": from_csv[1],
                      "renewable_frac": from_csv[2]})
    pq.write_table(table, tmp_path / "s.parquet")
    assert np.array_equal(load_series(tmp_path / "s.parquet"), from_csv)
    assert from_csv[0, 5] == pytest.approx(0.35)


@pytest.mark.parametrize(("row", "value", "where"), [
    (3, "-0.1", "row 3, column price_cny_per_kwh"),
    (5, "abc", "row 5, column price_cny_per_kwh"),
])
def test_bad_series_row_names_file_row_and_column(tmp_path: Path, row: int, value: str, where: str) -> None:
    rows = [f"{h},0.3,0.5,0.1" for h in range(24)]
    rows[row - 1] = f"{row - 1},{value},0.5,0.1"
    path = _csv(tmp_path / "s.csv", rows)
    with pytest.raises(ConfigError) as err:
        load_series(path)
    assert str(err.value).startswith(f"{path}: {where}: must be a number")


def test_series_capacity_share_outside_unit_interval_and_negative_carbon(tmp_path: Path) -> None:
    rows = [f"{h},0.3,0.5,0.1" for h in range(24)]
    rows[7] = "7,0.3,0.5,1.2"
    with pytest.raises(ConfigError, match=r"row 8, column renewable_frac"):
        load_series(_csv(tmp_path / "a.csv", rows))
    rows[7] = "7,0.3,-0.5,0.1"
    with pytest.raises(ConfigError, match=r"row 8, column carbon_kg_per_kwh"):
        load_series(_csv(tmp_path / "b.csv", rows))


def test_series_of_wrong_length_or_missing_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="wrong length: 23 rows"):
        load_series(_csv(tmp_path / "a.csv", [f"{h},0.3,0.5,0.1" for h in range(23)]))
    path = tmp_path / "b.csv"
    path.write_text("price_cny_per_kwh,carbon_kg_per_kwh\n" + "0.3,0.5\n" * 24)
    with pytest.raises(ConfigError, match="renewable_frac: missing column"):
        load_series(path)


def test_flat_profile_gives_the_annual_figures_every_hour() -> None:
    flat = Profile(tou_hours={"flat": list(range(24))}, tou_ratio={"flat": 1.0},
                   sources={"tou_hours": "estimate: flat", "tou_ratio": "estimate: flat"})
    year = profile_year(flat, 0.5, 0.6, 0.25, 3.0)
    assert year.shape == (3, HOURS_PER_YEAR)
    assert np.allclose(year, np.array([[0.5], [0.6], [0.25]]), rtol=1e-15, atol=0)
