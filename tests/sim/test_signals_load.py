"""``[signals]`` is checked when the scenario loads (sim.scenario.resolve_network), and its files enter the id.

Every bad input the issue lists stops ``cpnsim run`` and ``cpnsim sweep --dry-run`` (``cpnsim
validate`` checks the engine, not a scenario file) with one line naming the file (and key, or row
and column), exit status 2, before anything runs (no ``running ...`` line) and with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cluster.cli.main import main
from sim.scenario import load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "edwc_hourly.toml"
HEADER = "price_cny_per_kwh,carbon_kg_per_kwh,renewable_frac"
FLAT = {"tou_hours": "{ flat = [" + ", ".join(map(str, range(24))) + "] }", "tou_ratio": "{ flat = 1.0 }"}


def _profiles(tmp_path: Path, **lines: str) -> str:
    """A profile set with one profile ``p`` (flat tariff, overridden by ``lines``) for cl_horinger."""
    body = {**FLAT, **lines}
    text = "[profile.p]\n" + "".join(f"{k} = {v}\n" for k, v in body.items())
    text += "[profile.p.sources]\n" + "".join(f'{k} = "estimate: test"\n' for k in body if k != "timezone")
    text += '[site_profile]\ncl_horinger = "p"\n'
    (tmp_path / "profiles.toml").write_text(text)
    return 'profiles = "profiles.toml"\n'


def _csv(tmp_path: Path, rows: list[str]) -> str:
    (tmp_path / "series.csv").write_text(HEADER + "\n" + "".join(r + "\n" for r in rows))
    return '[signals.sites.cl_horinger]\nseries = "series.csv"\n'


def _parquet(tmp_path: Path, columns: dict[str, list[float]]) -> str:
    pq.write_table(pa.table(columns), tmp_path / "series.parquet")
    return '[signals.sites.cl_horinger]\nseries = "series.parquet"\n'


def _good_csv() -> list[str]:
    return ["0.3,0.5,0.1"] * 24


def _bad_row(tmp_path: Path) -> str:
    rows = _good_csv()
    rows[6] = "0.3,abc,0.1"
    return _csv(tmp_path, rows)


# (name, [signals] lines added to the scenario, file named in the error, what the line must say)
CASES: list[tuple[str, Callable[[Path], str], str, str]] = [
    ("profile of the wrong length", lambda p: _profiles(p, solar_cf_month="[0.2, 0.2]", mix="{ solar = 1.0 }"),
     "profiles.toml", "profile.p.solar_cf_month: needs 12 monthly values, got 2"),
    ("negative price ratio", lambda p: _profiles(p, tou_ratio="{ flat = -1.0 }"),
     "profiles.toml", "ratio of period 'flat' must be in [0, 100], got -1.0"),
    ("carbon flex above 1", lambda p: _profiles(p, carbon_flex="1.5"), "profiles.toml", "profile.p.carbon_flex"),
    ("capacity factor above 1", lambda p: _profiles(p, wind_cf_month="[1.2" + ", 0.3" * 11 + "]", mix="{ wind = 1.0 }"),
     "profiles.toml", "capacity factor of month 1 must be in [0, 1], got 1.2"),
    ("unknown profile time zone", lambda p: _profiles(p, timezone='"Mars/Olympus"'),
     "profiles.toml", "profile.p.timezone: unknown time zone 'Mars/Olympus'"),
    ("unknown clock time zone", lambda p: 'clock_timezone = "Asia/Atlantis"\n',
     "s.toml", "signals.clock_timezone: unknown time zone 'Asia/Atlantis'"),
    ("unknown demand region", lambda p: '[signals.demand.timezones]\ndr_nowhere = "Asia/Karachi"\n',
     "s.toml", "signals.demand.timezones.dr_nowhere: no such region in the network"),
    ("series of the wrong length", lambda p: _csv(p, _good_csv()[:23]), "series.csv", "wrong length: 23 rows"),
    ("negative price in a series", lambda p: _csv(p, [*_good_csv()[:3], "-0.1,0.5,0.1", *_good_csv()[4:]]),
     "series.csv", "row 4, column price_cny_per_kwh: must be a number in [0, "),
    ("renewable share above 1", lambda p: _csv(p, [*_good_csv()[:23], "0.3,0.5,1.5"]),
     "series.csv", "row 24, column renewable_frac: must be a number in [0, 1], got '1.5'"),
    ("CSV with a bad row", _bad_row, "series.csv", "row 7, column carbon_kg_per_kwh: must be a number in [0, "),
    ("Parquet with a wrong column",
     lambda p: _parquet(p, {"price_cny_per_kwh": [0.3] * 24, "carbon": [0.5] * 24, "renewable_frac": [0.1] * 24}),
     "series.parquet", "carbon_kg_per_kwh: missing column"),
    ("unknown site", lambda p: '[signals.sites.cl_atlantis]\nprofile = "east"\n',
     "s.toml", "signals.sites.cl_atlantis: no such site in the network"),
]


def _scenario(tmp_path: Path, signals_lines: str) -> Path:
    """The example with ``signals_lines`` appended to its ``[signals]`` table (before ``[signals.demand]``)."""
    text = EXAMPLE.read_text()
    head, sep, tail = text.partition("\n[signals.demand]\n")
    path = tmp_path / "s.toml"
    tables = signals_lines.splitlines(keepends=True)
    first_table = next((i for i, line in enumerate(tables) if line.startswith("[")), len(tables))
    own, sub_tables = "".join(tables[:first_table]), "".join(tables[first_table:])
    path.write_text(head + "\n" + own + "\n" + sep + tail + "\n" + sub_tables)
    return path


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize(("name", "make", "file", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_signals_stop_every_command_at_load(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
                                                name: str, make: Callable[[Path], str], file: str,
                                                message: str) -> None:
    scenario = _scenario(tmp_path, make(tmp_path))
    out = tmp_path / "out"
    if command == "run":
        argv = ["run", str(scenario), "--out", str(out)]
    else:
        spec = tmp_path / "spec.toml"
        spec.write_text(f'base = "{scenario}"\nreplications = 1\n[[axis]]\nkey = "horizon_h"\ngrid = [48.0, 72.0]\n')
        argv = ["sweep", str(spec), "--out", str(out), "--executor", "serial", "--dry-run"]
    status = main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert status == 2, (name, captured)
    assert not out.exists()
    assert len(err) == 1, err  # one line, and no "running ..." progress line before it
    assert str(tmp_path / file) in err[0] and message in err[0], err[0]


def test_demand_naming_an_unknown_class_set_by_override_blames_the_override() -> None:
    from topology.plumbing import ConfigError

    with pytest.raises(ConfigError, match=r"^--set: signals\.demand\.classes\[0\]: no class 'serving'"):
        load_scenario(EXAMPLE, ['signals.demand.classes=["serving"]'])


def _id(tmp_path: Path, rows: list[str], where: str = "series.csv") -> str:
    (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / where).write_text(HEADER + "\n" + "".join(r + "\n" for r in rows))
    scenario = _scenario(tmp_path, f'[signals.sites.cl_horinger]\nseries = "{where}"\n')
    return load_scenario(scenario).scenario_id


def test_scenario_id_follows_the_content_of_signal_files_not_their_path(tmp_path: Path) -> None:
    first = _id(tmp_path, _good_csv())
    assert _id(tmp_path, _good_csv()) == first  # same file, same content: same id
    changed = _good_csv()
    changed[5] = "0.31,0.5,0.1"
    assert _id(tmp_path, changed) != first  # one changed value: a new id
    assert _id(tmp_path, _good_csv(), "elsewhere/other-name.csv") == first  # same content at another path


def test_scenario_id_follows_the_profile_set_content(tmp_path: Path) -> None:
    builtin = Path(__file__).resolve().parents[2] / "topology" / "signals.toml"
    base = load_scenario(EXAMPLE).scenario_id
    (tmp_path / "copy.toml").write_text(builtin.read_text())
    copy = load_scenario(_scenario(tmp_path, 'profiles = "copy.toml"\n')).scenario_id
    assert copy == base  # the built-in set enters by content: a copy of it is the same scenario
    (tmp_path / "copy.toml").write_text(builtin.read_text().replace("peak = 1.6", "peak = 1.7", 1))
    assert load_scenario(_scenario(tmp_path, 'profiles = "copy.toml"\n')).scenario_id != base

