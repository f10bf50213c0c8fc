"""Capacity search: known answers by construction, edge cases, and the CLI on a real M/M/c site."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cluster.cli import main
from cluster.search import (
    DEFAULT_MIN_REPLICATIONS,
    Point,
    Target,
    Vary,
    horizon_for_year,
    k_section,
    parse_target,
    parse_vary,
)
from cluster.search_run import SEARCH_COLUMNS, capacity_search, search_table
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from sim.placement.west import is_western
from sim.scenario import LoadedScenario, load_scenario
from topology.plumbing import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MMC = EXAMPLES / "mmc.toml"
NOISE = 0.25  # replication r adds (-1)**r * NOISE: only the replication mean is the outcome


@dataclass(frozen=True)
class _Result:
    runs: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        return {"runs": self.runs}


def west_runner(loaded: LoadedScenario) -> _Result:
    """Stand-in: adoption at the horizon is the western GPUs / 10,000 (exactly monotone), noisy per replication."""
    y = sum(s.gpus for s in loaded.network.sites if is_western(s)) / 10_000
    reps = loaded.scenario.replications
    return _Result(pa.table({
        "scenario_id": [loaded.scenario_id] * reps, "replication": list(range(reps)), "status": ["ok"] * reps,
        "adoption_frac_end": [y + (-1) ** r * NOISE for r in range(reps)],
    }))


def _search(target: str, **kw: Any) -> Any:
    return capacity_search(None, parse_target(target), "west_gpus", SerialExecutor(west_runner),
                           overrides=["replications=2"], **kw)


def test_known_answer_west_gpus_by_bisection() -> None:
    # The default network's western sites hold 1,024 + 1,024 GPUs; 0.79995 is reached from 8,000
    # western GPUs on: the least added capacity is 5,952 GPUs, 2,976 at each site.
    search = _search("adoption=0.79995", tolerance=1)
    r = search.result
    assert search.vary.sites == ("cl_zhongwei", "cl_guian") and search.vary.base_total == 2048
    assert (r.status, r.lo, r.hi) == ("found", 5951, 5952)
    assert search.vary.allocate(5952) == {"cl_zhongwei": 1024 + 2976, "cl_guian": 1024 + 2976}
    hi = r.point(5952)
    assert hi is not None and hi.mean == pytest.approx(0.8) and hi.values == pytest.approx((1.05, 0.55))
    assert hi.ci_half == pytest.approx(12.7062 * 0.25 * math.sqrt(2) / math.sqrt(2), rel=1e-4)  # t(0.975, 1) s/sqrt(n)
    assert len(r.points) == 2 + math.ceil(math.log2(8192))  # the ends, then one point per halving
    assert search.runs.num_rows == 2 * len(r.points)


def test_known_answer_with_several_points_per_round() -> None:
    search = _search("adoption=0.79995", tolerance=1, per_round=3)
    assert (search.result.lo, search.result.hi) == (5951, 5952)
    assert {p.round for p in search.result.points} >= {0, 1, 2}
    assert sum(1 for p in search.result.points if p.round == 1) == 3


def test_target_reached_with_nothing_added() -> None:
    r = _search("adoption=0.1").result
    assert (r.status, r.hi) == ("at_zero", 0)
    assert [p.added_gpus for p in r.points] == [0]  # one point per round: the upper end is not run
    assert [p.added_gpus for p in _search("adoption=0.1", per_round=2).result.points] == [0, 8192]


def test_target_never_reached_within_the_range() -> None:
    r = _search("adoption=0.99", max_added=100).result
    assert (r.status, r.lo, r.hi) == ("not_reached", 100, None)


def test_at_most_targets_and_default_tolerance() -> None:
    # adoption <= 0.3 holds at zero added (0.2048): nothing to add
    assert _search("adoption<=0.3").result.status == "at_zero"
    search = _search("adoption=0.79995")  # default tolerance: 1 % of 8,192 -> 81 GPUs
    assert search.result.hi is not None and 5952 <= search.result.hi <= 5952 + 81
    assert search.result.hi - search.result.lo <= 81


def test_non_monotone_points_are_reported_and_the_bracket_is_conservative() -> None:
    # Reached for added >= 600 and, spuriously, on [240, 260): the first round (250, 500, 750)
    # sees reached at 250 but not at 500.
    def evaluate(values: Any, rnd: int) -> list[Point]:
        return [Point(rnd, v, 0.0, 0.0, (0.0,), v >= 600 or 240 <= v < 260) for v in values]

    r = k_section(evaluate, 1000, tolerance=1, per_round=3)
    assert (r.lo, r.hi) == (599, 600)
    assert r.nonmonotone == ((250, 599),)  # reached at 250, not at lo = 599 above it


def test_search_table_columns_units_and_metadata() -> None:
    search = _search("adoption=0.79995", tolerance=512)
    table = search_table(search)
    assert table.column_names == [name for name, *_ in SEARCH_COLUMNS]
    assert table.schema.field("added_gpus").metadata[b"unit"] == b"GPUs"
    assert table.schema.metadata[b"status"] == b"found" and table.schema.metadata[b"vary"] == b"west_gpus"
    assert table.column("added_gpus").to_pylist()[:2] == [0, 8192]


def test_parsers() -> None:
    assert parse_target("utilisation>=0.5") == Target("utilisation", 0.5, ">=")
    for bad in ("adoption", "adoption=x", "=3", "a=inf"):
        with pytest.raises(ConfigError, match="--target"):
            parse_target(bad)
    network = load_scenario().network
    assert parse_vary("sites.cl_wuhu.gpus", network) == Vary("sites.cl_wuhu.gpus", ("cl_wuhu",), (512,))
    with pytest.raises(ConfigError, match=r"--vary: sites.cl_wuh.gpus: no site 'cl_wuh' .*did you mean 'cl_wuhu'"):
        parse_vary("sites.cl_wuh.gpus", network)
    with pytest.raises(ConfigError, match=r"--vary: west_gpus: network 'one-site' has no western site"):
        parse_vary("west_gpus", load_scenario(MMC).network)
    assert horizon_for_year(2030, 2025) == 6 * 8766.0
    with pytest.raises(ConfigError, match="--by: 2024 is before the start year 2025"):
        horizon_for_year(2024, 2025)


def test_allocation_is_proportional_and_exact() -> None:
    vary = Vary("west_gpus", ("a", "b", "c"), (100, 200, 300))
    for added in (0, 1, 5, 599, 600, 1001):
        new = vary.allocate(added)
        assert sum(new.values()) == 600 + added
        assert all(abs((new[s] - g) - added * g / 600) < 1 for s, g in zip("abc", (100, 200, 300), strict=True))


# -- the command line, on a real M/M/c site ------------------------------------------------

REAL = ["search", "capacity", str(MMC), "--vary", "sites.site.gpus", "--executor", "serial", "--replications", "3",
        "--set", "horizon_h=4000", "--set", "warmup_h=400", "--max-added", "24", "--tolerance", "1"]


def test_cli_finds_the_least_mmc_servers_for_a_utilisation_target(tmp_path: Path, capsys: Any) -> None:
    # 7.2 GPUs of offered load (7.2 jobs/h x 1 GPU-h): utilisation 7.2 / c <= 0.5 needs c >= 14.4, i.e.
    # 15 GPUs, 7 more than the site's 8 (utilisation at 14 GPUs is 0.514, at 15 0.48).
    out = tmp_path / "search"
    assert main([*REAL, "--target", "utilisation<=0.5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "answer: +7 GPUs" in text and "(6, 7] GPUs" in text
    table = read_table(out, "search")
    assert table.schema.metadata[b"hi_added_gpus"] == b"7"
    by_added = dict(zip(table.column("added_gpus").to_pylist(), table.column("mean").to_pylist(), strict=True))
    assert by_added[6] == pytest.approx(7.2 / 14, abs=0.02) and by_added[7] == pytest.approx(7.2 / 15, abs=0.02)
    assert read_table(out, "runs").num_rows == 3 * table.num_rows
    assert read_manifest(out).kind == "search"


def test_cli_exit_status_when_not_reached_and_for_bad_input(tmp_path: Path, capsys: Any) -> None:
    args = [*REAL[:-6], "--max-added", "4", "--tolerance", "1", "--set", "horizon_h=500", "--set", "warmup_h=0"]
    assert main([*args, "--target", "utilisation<=0.1", "--out", str(tmp_path / "a")]) == 1
    assert "NOT REACHED" in capsys.readouterr().out
    assert (tmp_path / "a" / "search").is_dir()
    for extra, message in [
        (["--target", "utilisation<=0.1", "--by", "2030"], "--by: needs --start-year YEAR or the scen"),
        (["--target", "nosuch=1"], "--target: no numeric column 'nosuch'"),
        (["--target", "utilisation<=0.1", "--vary", "west_gpus"], "--vary: west_gpus: network 'one-site'"),
    ]:
        assert main([*args, *extra, "--out", str(tmp_path / "b")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not (tmp_path / "b").exists()


def test_by_year_counts_from_the_scenarios_start_year_unless_given(tmp_path: Path) -> None:
    import argparse

    from cluster.cli.search import _overrides

    scenario = tmp_path / "s.toml"
    scenario.write_text('start_year = 2025\n[workload.b]\narrival_rate_per_h = 1.0\n'
                        'work_gpu_h = { dist = "constant", value = 1.0 }\n')
    args = argparse.Namespace(scenario=str(scenario), overrides=[], policy=None, replications=None, by=2027,
                              start_year=None)
    assert _overrides(args) == [f"horizon_h={3 * 8766.0}"]
    args.start_year = 2026  # the flag wins over the file
    assert _overrides(args) == [f"horizon_h={2 * 8766.0}"]


# -- replications and telling the answer from the baseline -----------------------------------


def test_points_run_at_least_five_replications_on_common_seeds_unless_set() -> None:
    def search(**kw: Any) -> Any:
        return capacity_search(None, parse_target("adoption<=1e9"), "west_gpus", SerialExecutor(west_runner), **kw)

    assert DEFAULT_MIN_REPLICATIONS == 5
    default = search()
    assert default.base.scenario.replications == 5 and len(default.result.points[0].values) == 5
    assert len(search(overrides=["replications=2"]).result.points[0].values) == 2  # explicit wins
    assert len(search(min_replications=1).result.points[0].values) == 1  # the default scenario's own


def test_the_cli_says_when_the_answer_cannot_be_told_apart_from_the_baseline() -> None:
    from types import SimpleNamespace

    from cluster.cli.search import _indistinct
    from cluster.search import SearchResult, replication_ci

    def point(added: int, *values: float) -> Point:
        mean, half = replication_ci(values)
        return Point(0, added, mean, half, values, mean >= 0.85)

    def note(*points: Point, status: str = "found") -> str:
        result = SearchResult(status, 0, 100, points) if status == "found" else SearchResult(status, 100, None, points)
        return _indistinct(SimpleNamespace(result=result, target=parse_target("adoption=0.85"), confidence=0.95))

    base = point(0, 0.847, 0.851)  # 0.849 +- 12.706 x 0.002 = 0.0254
    # Paired differences +0.006 and -0.002: mean 0.002, half 12.706 x 0.004 = 0.0508, holds 0.
    text = note(base, point(100, 0.853, 0.849))
    assert "CANNOT BE TOLD APART" in text and "+100 GPUs" in text and "intervals overlap" in text
    assert "difference is 0.002 ± 0.051" in text
    # Same overlapping intervals, but +0.002 in both replications: common random numbers tell them apart.
    text = note(base, point(100, 0.849, 0.853))
    assert "told apart from the baseline" in text and "CANNOT" not in text and "difference is 0.002 ± 0" in text
    # One replication: no interval at all.
    lone = note(Point(0, 0, 0.5, math.nan, (0.5,), False), Point(0, 100, 0.6, math.nan, (0.6,), False),
                status="not_reached")
    assert "one replication" in lone


def test_paired_difference_by_hand() -> None:
    a = Point(0, 0, 0.5, 0.1, (0.4, 0.6), False)
    b = Point(1, 9, 0.55, 0.1, (0.44, 0.66), True)  # differences 0.04 and 0.06: mean 0.05, half 12.706 x 0.01
    mean, half = b.difference(a)
    assert mean == pytest.approx(0.05) and half == pytest.approx(12.7062047 * 0.01)
    assert b.indistinct_from(a)  # 0.05 +- 0.127 holds 0
    c = Point(1, 9, 0.55, 0.1, (0.45, 0.65), True)  # +0.05 in both: half ~0
    assert not c.indistinct_from(a) and c.overlaps(a)
    assert math.isnan(b.difference(Point(0, 0, 0.5, 0.1, (0.5, 0.4, 0.6), False))[1])  # unequal: no pairing
