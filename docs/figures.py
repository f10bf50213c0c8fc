"""Regenerate the figures quoted in README.md and the example headers from the code that produces them.

A quoted figure sits in a marked span, ``<!-- fig:NAME -->text<!-- /fig -->`` (an HTML
comment is invisible in rendered Markdown; in a TOML header it is part of the comment).
Each figure comes from a *producer*: a function that runs what the text describes (load
a network, run a scenario, run a sweep and its Sobol' analysis) and returns the text of
its spans.  ::

    python docs/figures.py                 # recompute every figure and rewrite its spans
    python docs/figures.py --cheap         # only the figures that take a few seconds
    python docs/figures.py --check         # rewrite nothing; exit 1 listing the spans that drifted
    python docs/figures.py --only sobol    # one producer (repeatable)
    make bench && python docs/figures.py --only benchmarks   # after re-measuring on a quiet machine

A full regeneration (or ``--check``) runs every example it quotes: 11 min of wall time on
2026-12-03 (2-core VM, one other single-threaded benchmark sharing the cores), most of it the
six-year adoption example (run three times) and the national year (run six times).

Timings are the CPU time of this process (the runs are single-threaded), which is the
wall time on a quiet machine and does not grow when other work shares the cores.
``--check`` compares a timing within a factor of :data:`TIME_TOLERANCE`, every other
figure exactly.  Benchmark figures (M/M/c speed, Ray sweep overhead) are never timed
here: they are read from :data:`BENCH_RESULTS`, which ``make bench`` writes (the
benchmarks need a quiet machine and minutes), so ``--check`` compares them exactly with
the stored run.
``tests/test_figures.py`` runs the cheap producers in every test run and the rest as slow tests.
The adoption uncertainty study (``study``) is never rerun here (about 1.5 CPU-hours): its figures
come from the committed record ``docs/data/adoption-uncertainty.parquet`` (``docs/study.py``),
which ``tests/test_study_record.py`` checks against the current model.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPAN = re.compile(r"<!-- fig:(?P<name>[a-z0-9-]+) -->(?P<text>.*?)<!-- /fig -->", re.DOTALL)
TIME_TOLERANCE = 3.0
"""A quoted time is stale when the measured one is more than this factor away."""


def quoted_files() -> list[Path]:
    """The files whose spans this script owns: README.md, docs/*.md and every example scenario and sweep spec."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").glob("*.toml")),
            *sorted((ROOT / "examples" / "sweeps").glob("*.toml"))]


@dataclass(frozen=True)
class Producer:
    """A computation and the spans it fills.

    Attributes
    ----------
    name : str
        For ``--only``.
    compute : callable
        Returns ``{span name: text}``.
    cheap : bool
        Takes a few seconds at most (run by the ordinary test suite).
    timings : frozenset of str
        Span names that are wall-clock times, compared within :data:`TIME_TOLERANCE`.
    """

    name: str
    compute: Callable[[], dict[str, str]]
    cheap: bool
    timings: frozenset[str] = frozenset()


def _networks() -> dict[str, str]:
    """Sites, regions and GPUs of the built-in networks the README describes."""
    from topology.load import load_network

    default, national = load_network("default"), load_network("national")
    return {
        "default-gpus": f"{sum(s.gpus for s in default.sites):,}",
        "national-sites": f"{len({s.parent or s.id for s in national.sites})}",  # a mixed site counts once
        "national-regions": f"{len(national.regions)}",
        "national-gpus": f"{sum(s.gpus for s in national.sites) / 1e6:.2f} M",
    }


def _seconds(wall_s: float) -> str:
    """A time as quoted: two significant figures, in seconds."""
    return f"{wall_s:.2g} s" if wall_s < 100 else f"{wall_s:,.0f} s"


def _national_run() -> dict[str, str]:
    """CPU time of ``cpnsim run examples/national.toml`` (the simulation, every replication)."""
    from sim.run import run_scenario
    from sim.scenario import load_scenario

    loaded = load_scenario(ROOT / "examples" / "national.toml")
    t0 = time.process_time()
    result = run_scenario(loaded)
    cpu_s = time.process_time() - t0
    table = result.table("calibration")
    assert table is not None  # the national network has published figures
    from cluster.calibration_bands import band_counts

    within = [w for w in table.column("within").to_pylist() if w is not None]
    return {"national-run-s": _seconds(cpu_s),
            "national-calibration-within": f"{sum(within)} of the {len(within)}",
            # The line `cpnsim run` prints under the table: outcomes apart from rows by construction.
            "national-calibration-outcomes": band_counts(table.to_pylist()).summary()}


def _route_factor() -> dict[str, str]:
    """The calibrated domestic route factor of the built-in networks and the hub-to-hub max latency it gives."""
    from sim.calibration_distance import hub_latencies_ms, reference_figures
    from topology.load import load_network

    net = load_network("national")
    factors = {link.route_factor for link in net.links if link.distance_km is None and link.route_factor != 1.5}
    assert len(factors) == 1, factors  # one fitted factor for every domestic estimated route
    hubs = reference_figures().hub_nodes
    ms = hub_latencies_ms(net, hubs)  # a mixed hub site (Gui'an) through its first partition
    assert len(ms) == len(hubs) * (len(hubs) - 1) // 2, ms  # every hub found
    return {"route-factor": f"{factors.pop():g}", "route-factor-max-ms": f"{max(ms):.2f} ms"}


def _capacity_ranges() -> dict[str, str]:
    """GPUs and EFLOPS of the ``national`` network at each end of its sites' capacity ranges."""
    from topology.load import load_network

    sites = load_network("national").sites
    spans = {}
    for level in ("low", "central", "high"):
        gpus = sum(s.capacity(level) for s in sites)
        eflops = sum(s.capacity(level) * s.sku_speed for s in sites) * 312 / 1e6
        spans[f"national-gpus-{level}"] = f"{gpus:,}"
        spans[f"national-eflops-{level}"] = f"{eflops:.0f}"
    return spans


SENSITIVITY_SPEC = ROOT / "examples" / "sweeps" / "sensitivity-east-west.toml"


def _serial_sweep(spec_path: Path, out: Path) -> float:
    """Run the sweep spec at ``spec_path`` serially into ``out``; return its CPU time, s (loading included)."""
    from cluster.sweeps import load_sweep, run_sweep
    from cluster.sweeps.executors import make_executor

    t0 = time.process_time()
    run_sweep(load_sweep(spec_path), out, make_executor("serial"))
    return time.process_time() - t0


def _sweep_time(name: str) -> Callable[[], dict[str, str]]:
    """A producer of ``{name}-s``: the CPU time of ``cpnsim sweep examples/sweeps/{name}.toml --executor serial``."""
    def compute() -> dict[str, str]:
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            return {f"{name}-s": _seconds(_serial_sweep(ROOT / "examples" / "sweeps" / f"{name}.toml",
                                                        Path(scratch) / name))}

    return compute


def _sobol() -> dict[str, str]:
    """The shipped Saltelli sweep run serially (and timed), then the total Sobol' indices of utilisation."""
    import tempfile

    from cluster.sensitivity import sobol_indices
    from cluster.sweeps import load_sweep

    spec = load_sweep(SENSITIVITY_SPEC)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "sens-ew"
        cpu_s = _serial_sweep(SENSITIVITY_SPEC, out)
        group = sobol_indices(out, "utilisation").groups[0]
    spans = {"sens-ew-scenarios": f"{len(spec.scenarios)}", "sens-ew-s": _seconds(cpu_s),
             "sens-ew-st": ", ".join(f"{st:.2f}" for st in group.st)}
    for i, (st, conf) in enumerate(zip(group.st, group.st_conf, strict=True)):
        spans[f"sens-ew-st-{i}"] = f"{st:.2f} ± {conf:.2f}"
    return spans


NATIONAL_POLICIES = ("edwc", "least_loaded", "nearest", "cheapest", "greenest")


def _national_policies() -> dict[str, str]:
    """The header table of ``examples/national.toml``: every policy on the same jobs (seed 1, one year).

    Returns one span whose text is the table as TOML comment lines (energy cost over the
    measurement window, bundles finished, still queued at the horizon, rejected, unmet).
    """
    from sim.run import run_scenario
    from sim.scenario import load_scenario

    lines = []
    for policy in NATIONAL_POLICIES:
        row = run_scenario(load_scenario(ROOT / "examples" / "national.toml", [f"policy={policy}"])).runs.to_pylist()[0]
        lines.append(f"#   {policy:<13} {row['cost_cny']:.3e} CNY, {row['jobs_done']:>7,} done, "
                     f"{row['jobs_queued_end']:>6,} queued at the end, {row['jobs_rejected']:>4,} rejected, "
                     f"{row['jobs_unmet']:>6,} unmet")
    return {"national-policies": "\n" + "\n".join(lines) + "\n# "}


BELT_AND_ROAD_VARIANTS = {"on": [], "off": ["residency.enabled=false"],
                          "KZ to CN": ['residency.country.KZ.allow_to=["CN"]']}
"""The rule settings of the closing table of ``examples/belt_and_road.toml`` (``--set`` overrides)."""


def _belt_and_road() -> dict[str, str]:
    """Where each country's work runs in ``examples/belt_and_road.toml`` (``jobs_sample = 1``, 5 replications).

    One run per rule setting of :data:`BELT_AND_ROAD_VARIANTS`; the docs table (per origin
    country: mean ± 95 % t-interval of the shares of its reference GPU-h served at home, in
    China, elsewhere, rejected for residency, and the adopted share at the horizon), the README's
    figures, the mean ``runs.transfer_cost_cny`` of each setting, and the mean input transfer
    time with the example's TCP window and with one too large to bind.
    """
    from cluster.report.residency import country_summary
    from cluster.report.stats import fmt
    from sim.run import run_scenario
    from sim.scenario import load_scenario

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    summary, cost = {}, {}
    transfer_h = ""
    for name, sets in BELT_AND_ROAD_VARIANTS.items():
        result = run_scenario(load_scenario(ROOT / "examples" / "belt_and_road.toml",
                                            ["jobs_sample=1", "replications=5", *sets]))
        summary[name] = country_summary(result.table("jobs"), result.table("adoption"))
        cost[name] = f"{mean(result.runs.column('transfer_cost_cny').to_pylist()) / 1e6:.2f} M"
        if name == "on":
            transfer_h = f"{mean(result.runs.column('transfer_mean_h').to_pylist()):.2f} h"
    free = run_scenario(load_scenario(ROOT / "examples" / "belt_and_road.toml",
                                      ["replications=5", "wan.tcp_window_mb=1e6"])).runs

    def pct(name: str, country: str, key: str, interval: bool = True) -> str:
        mean, half = summary[name][country][key]
        if mean == 0 and half == 0:
            return "0"
        spread = _one_figure(100 * half) if 100 * half >= 1e-6 else "0"  # below: rounding noise of equal shares
        return f"{fmt(100 * mean)} ± {spread}" if interval else f"{100 * mean:.0f} %"

    keys = ("local_frac", "china_frac", "elsewhere_frac", "rejected_frac", "adoption_end")
    lines = ["| origin | rules | at home (%) | in China (%) | elsewhere (%) | rejected, residency (%) "
             "| adopted at horizon (%) |", "|---|---|---|---|---|---|---|"]
    for country in summary["on"]:
        for name in BELT_AND_ROAD_VARIANTS:
            if name == "KZ to CN" and country != "KZ":
                continue
            lines.append(f"| {country} | {name} | " + " | ".join(pct(name, country, k) for k in keys) + " |")
    return {
        "bnr-table": "\n" + "\n".join(lines) + "\n",
        "bnr-kz-home": pct("on", "KZ", "local_frac", interval=False),
        "bnr-uz-rejected": pct("on", "UZ", "rejected_frac", interval=False),
        "bnr-kz-home-off": pct("off", "KZ", "local_frac", interval=False),
        "bnr-kz-china-off": pct("off", "KZ", "china_frac", interval=False),
        "bnr-uz-adoption-on": pct("on", "UZ", "adoption_end"),
        "bnr-uz-adoption-off": pct("off", "UZ", "adoption_end"),
        "bnr-kz-cn-china": pct("KZ to CN", "KZ", "china_frac"),
        "bnr-cost-on": cost["on"], "bnr-cost-off": cost["off"],
        "bnr-transfer-h": transfer_h,
        "bnr-transfer-h-free": f"{mean(free.column('transfer_mean_h').to_pylist()):.3f} h",
    }


def _validate() -> dict[str, str]:
    """CPU time of ``cpnsim validate --quick`` and of ``cpnsim validate``."""
    from sim.validation import run_validation

    spans = {}
    for quick, name in ((True, "validate-quick-s"), (False, "validate-s")):
        t0 = time.process_time()
        run_validation(quick=quick)
        spans[name] = _seconds(time.process_time() - t0)
    return spans


def _one_figure(x: float) -> str:
    """``x`` to one significant figure, never in exponent notation (an interval's half-width).

    Examples
    --------
    >>> _one_figure(2.3e-05), _one_figure(0.00087), _one_figure(0.021)
    ('0.00002', '0.0009', '0.02')
    """
    import numpy as np

    return str(np.format_float_positional(x, precision=1, unique=False, fractional=False, trim="-"))


def _search() -> dict[str, str]:
    """The two ``cpnsim search capacity`` commands of the README, run serially (two points per round, as on 2 CPUs)."""
    from cluster.search import horizon_for_year, parse_target
    from cluster.search_run import capacity_search
    from cluster.sweeps.executors import make_executor
    from sim.scenario import load_scenario

    adoption_toml = ROOT / "examples" / "adoption.toml"
    start_year = load_scenario(adoption_toml).scenario.start_year
    assert start_year is not None  # the example names its calendar year
    t0 = time.process_time()
    search = capacity_search(adoption_toml, parse_target("adoption=0.93"), "west_gpus", make_executor("serial"),
                             overrides=[f"horizon_h={horizon_for_year(2027, start_year)}"], per_round=2)
    cpu_s = time.process_time() - t0
    r = search.result
    base, top = r.point(0), r.point(r.hi if r.status == "found" else r.lo)
    assert base is not None and top is not None  # both ends are evaluated unless the target is met at zero
    gain, gain_half = top.difference(base, search.confidence)
    status = {"found": f"+{r.hi or 0:,} GPUs", "at_zero": "reached with none added", "not_reached": "NOT REACHED"}
    spans = {
        "search-adoption-runs": f"{sum(len(p.values) for p in r.points)}",
        "search-adoption-s": _seconds(cpu_s),
        "search-adoption-status": status[r.status],
        "search-adoption-base": f"{base.mean:.4f} ± {_one_figure(base.ci_half)}",
        "search-adoption-top": f"{top.mean:.4f} ± {_one_figure(top.ci_half)}",
        "search-adoption-top-added": f"+{top.added_gpus:,}",
        "search-adoption-overlap": "overlap" if top.overlaps(base) else "do not overlap",
        "search-adoption-gain": f"{gain:+.4f} ± {_one_figure(gain_half)}",
    }
    mmc = capacity_search(ROOT / "examples" / "mmc.toml", parse_target("utilisation<=0.5"), "sites.site.gpus",
                          make_executor("serial"), max_added=24, tolerance=1,
                          overrides=["replications=3", "horizon_h=4000", "warmup_h=400"])
    spans["search-mmc-added"] = f"+{mmc.result.hi:,}"
    spans["search-mmc-servers"] = f"{mmc.vary.base_total + (mmc.result.hi or 0):,}"
    return spans


BENCH_RESULTS = ROOT / "benchmarks" / "results.json"
"""Figures of the last ``make bench`` (``benchmarks/mmc.py`` under ``mmc``, ``benchmarks/sweep.py`` under ``sweep``)."""


def _benchmarks() -> dict[str, str]:
    """The M/M/c and national speed and the Ray sweep figures of the stored benchmark run (:data:`BENCH_RESULTS`)."""
    import json

    if not BENCH_RESULTS.exists():
        raise FileNotFoundError(f"{BENCH_RESULTS}: missing; run `make bench` (or benchmarks/mmc.py and "
                                "benchmarks/sweep.py) on a quiet machine first")
    results = json.loads(BENCH_RESULTS.read_text(encoding="utf-8"))
    mmc, sweep, national = results["mmc"], results["sweep"], results["national"]
    rounds = national["national_over_mmc_lean_rounds"]
    national_per_s = national["cases"]["national"]["jobs_per_cpu_s"]
    ratios, customers_per_s = mmc["ratios"], mmc["timings"]["cpnsim"]["customers_per_s"]
    efficiency, overhead = sweep["efficiency"], sweep["overhead"]
    return {
        # Two significant figures: the speed of one best-of-3 run on a shared machine.
        "mmc-customers-per-s": f"{float(f'{customers_per_s:.2g}'):,.0f}",
        "mmc-vs-simpy": f"{ratios['cpnsim/SimPy']:.1f}×",
        "mmc-vs-ciw": f"{ratios['cpnsim/ciw']:.1f}×",
        "mmc-vs-heapq": f"{ratios['heapq/cpnsim']:.1f}×",
        "mmc-jobs-vs-simpy": f"{ratios['cpnsim-jobs/SimPy']:.1f}×",
        "mmc-jobs-vs-ciw": f"{ratios['cpnsim-jobs/ciw']:.1f}×",
        "mmc-date": mmc["date"],
        "national-jobs-per-s": f"{float(f'{national_per_s:.2g}'):,.0f}",
        "national-vs-mmc": f"{min(rounds):.2f}–{max(rounds):.2f}×",
        "sweep-long": f"{efficiency['scenarios']} scenarios of {efficiency['mean_scenario_s']:.2g} s "
                      f"on {sweep['cpus_used']} cores",
        "sweep-efficiency": f"{efficiency['efficiency']:.3f}",
        "sweep-tiny": f"{overhead['scenarios']:,}",
        "sweep-overhead-ms": f"{overhead['overhead_ms_per_scenario']:.2g} ms",
        "sweep-tiny-ms": f"{overhead['serial_ms_per_scenario']:.2g} ms",
        "ray-startup-s": f"{sweep['ray_startup_s']:.2g} s",
        # How busy the machine was: other work on the cores lowers the efficiency and raises the overhead.
        "sweep-load-avg": f"{max(avg[0] for part in (efficiency, overhead) for avg in part['load_avg']):.1f}",
    }


def _adoption_growth() -> dict[str, str]:
    """``examples/adoption.toml`` (2025-2030, build-out) by year, and with Horinger doubled (paired runs).

    Also the CPU time of the shipped run (``adoption-run-s``): one run of the six-year example
    serves both, rather than a second 80 s run.
    """
    import math

    import numpy as np
    from scipy.stats import t as student

    from sim.run import run_scenario
    from sim.scenario import load_scenario
    from workloads.adoption import HOURS_PER_YEAR

    path = ROOT / "examples" / "adoption.toml"
    base = load_scenario(path)
    horinger = next(s for s in base.network.sites if s.id == "cl_horinger")

    cpu_s: list[float] = []

    def by_year(sets: list[str]) -> dict[int, np.ndarray]:
        loaded = load_scenario(path, sets)
        t0 = time.process_time()
        result = run_scenario(loaded)
        cpu_s.append(time.process_time() - t0)
        table = result.table("adoption")
        assert table is not None and loaded.scenario.start_year is not None
        rows = table.select(["replication", "t_end_h", "enterprises", "adopted_frac"]).to_pandas()
        rows["adopters"] = rows.enterprises * rows.adopted_frac
        g = rows.groupby(["replication", "t_end_h"])[["adopters", "enterprises"]].sum().reset_index()
        g["frac"] = g.adopters / g.enterprises
        years = round(loaded.scenario.horizon_h / HOURS_PER_YEAR)
        return {loaded.scenario.start_year + k: g[np.isclose(g.t_end_h, (k + 1) * HOURS_PER_YEAR)]
                .sort_values("replication").frac.to_numpy() for k in range(years)}

    def interval(x: np.ndarray) -> str:
        half = float(student.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
        return f"{x.mean():.4f} ± {_one_figure(half)}"

    shipped = by_year([])
    doubled = by_year([f"sites.cl_horinger.gpus={2 * horinger.gpus}"])
    last = max(shipped)
    table = ["| end of | " + " | ".join(str(y) for y in shipped) + " |", "|---|" + "---|" * len(shipped),
             "| adoption (mean ± 95 % CI) | " + " | ".join(interval(v) for v in shipped.values()) + " |",
             "| Horinger doubled | " + " | ".join(interval(v) for v in doubled.values()) + " |",
             "| paired difference | " + " | ".join(interval(doubled[y] - shipped[y]) for y in shipped) + " |"]
    return {
        "growth-years-table": "\n" + "\n".join(table) + "\n",
        "adoption-run-s": _seconds(cpu_s[0]),  # the shipped run, every replication (as `cpnsim run`)
        "growth-horinger-added": f"+{horinger.gpus:,}",
        "growth-base-end": interval(shipped[last]),
        "growth-doubled-end": interval(doubled[last]),
        "growth-doubled-diff": interval(doubled[last] - shipped[last]),
    }


def _backcast() -> dict[str, str]:
    """The back-cast table of docs/validation.md (``docs/backcast.py``): fitted up to 2024, run from 2023."""
    sys.path.insert(0, str(ROOT / "docs"))
    from backcast import backcast

    return backcast()


def _study() -> dict[str, str]:
    """The adoption uncertainty study, from its committed record (``docs/study.py``; the study itself is not rerun)."""
    sys.path.insert(0, str(ROOT / "docs"))
    from study import figures as study_figures

    return study_figures()


def _price_channel() -> dict[str, str]:
    """Halving the price of AI work in ``examples/adoption.toml`` (2025-2027), by channel (docs/adoption_effects.py)."""
    sys.path.insert(0, str(ROOT / "docs"))
    from adoption_effects import price_channel

    return price_channel()


def _regional_spread() -> dict[str, str]:
    """Adoption per Chinese region with and without the data factors (``docs/adoption_effects.py``)."""
    sys.path.insert(0, str(ROOT / "docs"))
    from adoption_effects import regional_spread

    return regional_spread()


PRODUCERS = (
    Producer("networks", _networks, cheap=True),
    Producer("benchmarks", _benchmarks, cheap=True),
    Producer("national-run", _national_run, cheap=False, timings=frozenset({"national-run-s"})),
    Producer("capacity-ranges", _capacity_ranges, cheap=True),
    Producer("route-factor", _route_factor, cheap=True),
    Producer("national-policies", _national_policies, cheap=False),
    Producer("sobol", _sobol, cheap=False, timings=frozenset({"sens-ew-s"})),
    Producer("small-grid", _sweep_time("small-grid"), cheap=False, timings=frozenset({"small-grid-s"})),
    Producer("adoption-capacity", _sweep_time("adoption-capacity"), cheap=False,
             timings=frozenset({"adoption-capacity-s"})),
    Producer("national-capacity-policy", _sweep_time("national-capacity-policy"), cheap=False,
             timings=frozenset({"national-capacity-policy-s"})),
    Producer("search", _search, cheap=False, timings=frozenset({"search-adoption-s"})),
    Producer("validate", _validate, cheap=False, timings=frozenset({"validate-quick-s", "validate-s"})),
    Producer("belt-and-road", _belt_and_road, cheap=False),
    Producer("backcast", _backcast, cheap=False),
    Producer("adoption-growth", _adoption_growth, cheap=False, timings=frozenset({"adoption-run-s"})),
    Producer("study", _study, cheap=True),
    Producer("price-channel", _price_channel, cheap=False, timings=frozenset({"price-cpu-s"})),
    Producer("regional-spread", _regional_spread, cheap=False, timings=frozenset({"regional-cpu-s"})),
)


def spans_in(text: str) -> dict[str, list[str]]:
    """Every span's text by figure name (a figure may be quoted more than once).

    Examples
    --------
    >>> spans_in("a <!-- fig:x -->1<!-- /fig --> b <!-- fig:x -->2<!-- /fig -->")
    {'x': ['1', '2']}
    """
    found: dict[str, list[str]] = {}
    for m in SPAN.finditer(text):
        found.setdefault(m["name"], []).append(m["text"])
    return found


def rewrite(text: str, figures: dict[str, str]) -> str:
    """``text`` with the span of every figure in ``figures`` set to its value.

    Examples
    --------
    >>> rewrite("n = <!-- fig:n -->3<!-- /fig -->", {"n": "4"})
    'n = <!-- fig:n -->4<!-- /fig -->'
    """
    def put(m: re.Match[str]) -> str:
        name = m["name"]
        return f"<!-- fig:{name} -->{figures[name]}<!-- /fig -->" if name in figures else m[0]

    return SPAN.sub(put, text)


def _number(text: str) -> float:
    m = re.search(r"[\d,]*\.?\d+", text)
    return float(m[0].replace(",", "")) if m else float("nan")


def drifted(quoted: str, now: str, *, timing: bool) -> bool:
    """Whether the quoted text no longer matches the regenerated one.

    Examples
    --------
    >>> drifted("0.40 ± 0.13", "0.43 ± 0.13", timing=False), drifted("5 s", "9 s", timing=True)
    (True, False)
    """
    if not timing:
        return quoted != now
    a, b = _number(quoted), _number(now)
    return not (a > 0 and b > 0 and max(a / b, b / a) <= TIME_TOLERANCE)


def check(producers: tuple[Producer, ...]) -> list[str]:
    """Run ``producers`` and list every quoted span that drifted (``file: name: quoted -> now``)."""
    problems: list[str] = []
    for producer in producers:
        figures = producer.compute()
        seen = set()
        for path in quoted_files():
            for name, texts in spans_in(path.read_text(encoding="utf-8")).items():
                if name not in figures:
                    continue
                seen.add(name)
                for quoted in texts:
                    if drifted(quoted, figures[name], timing=name in producer.timings):
                        problems.append(f"{path.relative_to(ROOT)}: {name}: quoted {quoted!r}, now {figures[name]!r}")
        problems += [f"{producer.name}: figure {name!r} is quoted nowhere" for name in sorted(set(figures) - seen)]
    return problems


def regenerate(producers: tuple[Producer, ...]) -> list[Path]:
    """Run ``producers`` and rewrite their spans in place; returns the files changed."""
    from topology.plumbing import write_atomic

    figures: dict[str, str] = {}
    for producer in producers:
        figures.update(producer.compute())
    changed = []
    for path in quoted_files():
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, figures)
        if new != text:
            write_atomic(path, new)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: regenerate (default) or ``--check``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if a quoted figure drifted")
    parser.add_argument("--cheap", action="store_true", help="only the producers that take a few seconds")
    parser.add_argument("--only", action="append", choices=[p.name for p in PRODUCERS],
                        help="one producer (repeatable)")
    args = parser.parse_args(argv)
    chosen = tuple(p for p in PRODUCERS if (not args.cheap or p.cheap) and (not args.only or p.name in args.only))
    if args.check:
        problems = check(chosen)
        for line in problems:
            print(line)
        return 1 if problems else 0
    for path in regenerate(chosen):
        print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
