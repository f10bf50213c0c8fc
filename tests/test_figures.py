"""docs/figures.py: the figures quoted in README.md and example headers match what the code gives now."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
figures = runpy.run_path(str(ROOT / "docs" / "figures.py"), run_name="figures")
PRODUCERS = {p.name: p for p in figures["PRODUCERS"]}


def test_every_span_has_a_producer_and_every_producer_is_quoted():
    produced = {"default-gpus", "national-sites", "national-regions", "national-gpus", "national-run-s",
                "sens-ew-scenarios", "sens-ew-st", "sens-ew-st-0", "sens-ew-st-1", "sens-ew-st-2", "sens-ew-s",
                "validate-s", "validate-quick-s", "national-policies", "adoption-run-s",
                "small-grid-s", "adoption-capacity-s", "national-capacity-policy-s",
                "mmc-customers-per-s", "mmc-vs-simpy", "mmc-vs-ciw", "mmc-vs-heapq", "mmc-jobs-vs-simpy",
                "mmc-jobs-vs-ciw", "mmc-date", "national-jobs-per-s", "national-vs-mmc",
                "sweep-long", "sweep-efficiency", "sweep-tiny", "sweep-overhead-ms",
                "sweep-tiny-ms", "ray-startup-s", "sweep-load-avg",
                "search-adoption-runs", "search-adoption-s", "search-adoption-status", "search-adoption-base",
                "search-adoption-top", "search-adoption-top-added", "search-adoption-overlap",
                "search-adoption-gain", "search-mmc-added", "search-mmc-servers",
                "bnr-table", "bnr-kz-home", "bnr-uz-rejected", "bnr-kz-home-off", "bnr-kz-china-off",
                "bnr-uz-adoption-on", "bnr-uz-adoption-off", "bnr-kz-cn-china", "bnr-cost-on", "bnr-cost-off",
                "bnr-transfer-h", "bnr-transfer-h-free"}
    produced |= {"backcast-table", "backcast-p0", "backcast-q0", "backcast-p0-se", "backcast-q0-se",
                 "backcast-initial"}  # docs/validation.md, the back-cast (docs/backcast.py)
    produced |= {"growth-years-table", "growth-horinger-added", "growth-base-end", "growth-doubled-end",
                 "growth-doubled-diff"}  # docs/model.md, Capacity timelines
    produced |= {f"national-{what}-{level}" for what in ("gpus", "eflops") for level in ("low", "central", "high")}
    produced |= {"national-calibration-within", "national-calibration-outcomes", "route-factor",
                 "route-factor-max-ms"}  # docs/model.md, docs/validation.md, README (issue 17)
    produced |= {"study-scenarios", "study-replications", "study-runs", "study-n", "study-median", "study-band",
                 "study-drivers-table", "study-top", "study-minor", "study-commit", "study-date", "study-cpu-s",
                 "study-wall", "study-cpus", "study-contention", "study-region-spread",
                 "study-region-lowest"}  # the recorded uncertainty study (docs/study.py)
    produced |= {"price-base", "price-cpu-s", "price-both", "price-adoption", "price-work", "price-served-central",
                 "price-served-northeast"}  # docs/model.md, price channels (docs/adoption_effects.py)
    produced |= {"regional-cpu-s", "regional-table", "regional-spread-off", "regional-spread-on",
                 "regional-indicator-max", "regional-bnr-countries", "regional-bnr-off", "regional-bnr-on",
                 "regional-all-off", "regional-all-on"}  # docs/model.md, regional spread
    quoted: set[str] = set()
    for path in figures["quoted_files"]():
        quoted |= set(figures["spans_in"](path.read_text()))
    assert quoted == produced


@pytest.mark.parametrize("name", [p.name for p in PRODUCERS.values() if p.cheap])
def test_cheap_figures_have_not_drifted(name):
    assert figures["check"]((PRODUCERS[name],)) == []


CHECKED_ELSEWHERE = {"adoption-capacity": "tests/cluster/test_report.py::test_the_readme_report_recipe_runs_as_written",
                     "validate": "tests/sim/test_validation.py::test_full_validation_passes"}
"""Producers whose figures a slow test checks on its own run of the same work (not run twice)."""


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in PRODUCERS.values()
                                  if not p.cheap and p.name not in CHECKED_ELSEWHERE])
def test_expensive_figures_have_not_drifted(name):
    assert figures["check"]((PRODUCERS[name],)) == []


def test_a_drifted_figure_is_reported_and_regenerated(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("GPUs: <!-- fig:default-gpus -->1<!-- /fig -->, again <!-- fig:default-gpus -->1<!-- /fig -->\n")
    monkeypatch.setitem(figures["quoted_files"].__globals__, "ROOT", tmp_path)
    monkeypatch.setitem(figures["check"].__globals__, "quoted_files", lambda: [readme])
    networks = (PRODUCERS["networks"],)
    problems = figures["check"](networks)
    assert any("default-gpus: quoted '1'" in p for p in problems)
    assert any("'national-gpus' is quoted nowhere" in p for p in problems)
    assert figures["regenerate"](networks) == [readme]
    total = PRODUCERS["networks"].compute()["default-gpus"]
    assert readme.read_text() == f"GPUs: <!-- fig:default-gpus -->{total}<!-- /fig -->, again " \
                                 f"<!-- fig:default-gpus -->{total}<!-- /fig -->\n"


def test_default_network_gpu_total_is_the_sum_of_its_sites_by_hand():
    import tomllib

    data = tomllib.loads((ROOT / "topology" / "data" / "default.toml").read_text())
    by_hand = sum(site["gpus"] for site in data["site"])
    assert PRODUCERS["networks"].compute()["default-gpus"] == f"{by_hand:,}"


def test_benchmark_figures_are_read_from_the_stored_results_not_timed(tmp_path, monkeypatch):
    import json

    results = {"mmc": {"date": "2026-01-02", "timings": {"cpnsim": {"customers_per_s": 632883.4}},
                       "ratios": {"cpnsim/SimPy": 4.96, "cpnsim/ciw": 10.94, "heapq/cpnsim": 2.271,
                                  "cpnsim-jobs/SimPy": 3.04, "cpnsim-jobs/ciw": 6.75}},
               "national": {"cases": {"national": {"jobs_per_cpu_s": 258996}},
                            "national_over_mmc_lean_rounds": [0.3749, 0.3041, 0.3318]},
               "sweep": {"cpus_used": 2, "ray_startup_s": 3.71,
                         "efficiency": {"scenarios": 8, "mean_scenario_s": 2.46, "efficiency": 0.9957,
                                        "load_avg": [[0.31, 0.2, 0.1], [1.94, 0.9, 0.4]]},
                         "overhead": {"scenarios": 1000, "overhead_ms_per_scenario": 0.7249,
                                      "serial_ms_per_scenario": 3.664, "load_avg": [[1.2, 1, 1], [0.5, 1, 1]]}}}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    compute = PRODUCERS["benchmarks"].compute
    monkeypatch.setitem(compute.__globals__, "BENCH_RESULTS", path)
    assert compute() == {
        "mmc-customers-per-s": "630,000", "mmc-vs-simpy": "5.0×", "mmc-vs-ciw": "10.9×", "mmc-vs-heapq": "2.3×",
        "mmc-jobs-vs-simpy": "3.0×", "mmc-jobs-vs-ciw": "6.8×", "mmc-date": "2026-01-02",
        "national-jobs-per-s": "260,000", "national-vs-mmc": "0.30–0.37×",
        "sweep-long": "8 scenarios of 2.5 s on 2 cores", "sweep-efficiency": "0.996", "sweep-tiny": "1,000",
        "sweep-overhead-ms": "0.72 ms", "sweep-tiny-ms": "3.7 ms", "ray-startup-s": "3.7 s",
        "sweep-load-avg": "1.9"}
    monkeypatch.setitem(compute.__globals__, "BENCH_RESULTS", tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match=r"missing\.json: missing; run `make bench`"):
        compute()
