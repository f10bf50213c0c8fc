"""How cpnsim's run time grows with the number of sites, the number of jobs and the horizon.

Synthetic networks are built in code (``topology.model``): ``n`` sites spread uniformly
over a China-sized box (lat 22-46°, lon 80-122°; sites west of 105° E are labelled
``west`` for ``edwc``), a backbone of ``round(sqrt(n))`` hub sites (each hub linked to
its two nearest hubs, 400 Gbit/s), every other site linked to its two nearest hubs
(100 Gbit/s), and 32 demand regions in the east linked to their two nearest hubs
(400 Gbit/s).  Paths are a few hops at any size, as on a real backbone.

The workload has the national scenario's two kinds of job, at about 38 % utilisation:
latency-bound inference (8 GPUs, 2 h mean, 60 ms round-trip budget -- wide enough that
every region reaches some site even with 10 sites, so no size rejects work -- 30 min
maximum wait, priority) and latency-tolerant batch work (8 GPUs, 8 h mean, 24 h
deadline, lognormal input of median 200 GB moved over the WAN), placed by ``edwc``.

Four sweeps, each varying one thing:

* **sites**: 10 → 10,000 sites with 64,000 GPUs in total and the same arrival rates
  (so the same jobs and load; each site gets fewer GPUs); besides the fitted exponent,
  the exponents 10 → 1,000 and 1,000 → 10,000 sites (points of 5,000 sites or more are
  run once: one takes several CPU seconds);
* **jobs**: 100 sites, arrival rates and GPUs scaled together ×1/4 … ×4 (at ×4 the
  batch inputs saturate the WAN access links and hundreds of flows share them);
* **horizon**: 100 sites, 24 h → 384 h;
* **wan** (issue 20, the WAN max-min pathology): ``examples/belt_and_road.toml`` for 6 h,
  one replication, 250 → 8,352 two-terabyte training inputs (the case of
  ``tests/cluster/cli/test_input_fuzz.py``: from about 1,000 on thousands of flows share a
  few saturated routes, 3,906 at once at 4,176); x is the jobs, and the exponents are those
  of consecutive points and the least-squares ones below and beyond ``--wan-knee`` jobs;
* **queue** (EASY backfill): one 64-GPU site with ``scheduler = "easy"``, 40 jobs/h of
  1, 8 or 32 GPUs (a third each) and 3 GPU-h of exponential work, so ρ ≈ 1.9 and the
  queue grows all run; horizons 250 → 1,000 h.  x is the mean queue length and the
  exponent that of CPU µs per job against it (0: a pass does not depend on the queue
  length; 1: a pass scans the queue).

The jobs sweep also reports its exponent up to ``--jobs-knee`` (load ×1, where the batch
inputs start to saturate the WAN access links) and beyond it.

Each point is one replication, ``run_replication`` (model construction included),
fastest of ``--repeats`` by CPU time.  The fitted exponent is the least-squares slope of
log(CPU s) against log(x).  Writes ``benchmarks/scaling.png`` (log-log, three panels)
and merges the figures into ``benchmarks/results.json`` under ``"scaling"``; the wan sweep
and the jobs sweep's knee exponents also under ``"scaling_wan"``, which ``--only wan jobs``
writes alone (a few CPU minutes instead of the whole script's).
"""

from __future__ import annotations

import argparse
import math
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import RESULTS, machine, merge_results, time_replication

from sim.model import Model
from sim.run import run_replication
from sim.scenario import LoadedScenario, load_scenario, scenario_from_dict
from topology.geo import great_circle_km
from topology.model import Link, Network, Region, Site

PNG = Path(__file__).with_name("scaling.png")
N_REGIONS = 32
TOTAL_GPUS = 64_000
HORIZON_H = 48.0


def synthetic_network(n_sites: int, seed: int = 7) -> Network:
    """``n_sites`` sites under a hub backbone and 32 eastern demand regions (see the module docstring)."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(22.0, 46.0, n_sites)
    lon = rng.uniform(80.0, 122.0, n_sites)
    gpus = max(TOTAL_GPUS // n_sites, 8)
    sites = [
        Site(id=f"s{i}", lat=float(lat[i]), lon=float(lon[i]), gpus=gpus, region="west" if lon[i] < 105 else "east",
             price_cny_per_kwh=0.35 if lon[i] < 105 else 0.6)
        for i in range(n_sites)
    ]
    rlat, rlon = rng.uniform(22.0, 42.0, N_REGIONS), rng.uniform(105.0, 122.0, N_REGIONS)
    regions = [Region(id=f"r{k}", lat=float(rlat[k]), lon=float(rlon[k])) for k in range(N_REGIONS)]
    n_hubs = max(2, round(math.sqrt(n_sites)))
    hubs = list(range(n_hubs))

    def nearest_hubs(la: float, lo: float, k: int, skip: int = -1) -> list[int]:
        d = sorted((great_circle_km(la, lo, float(lat[h]), float(lon[h])), h) for h in hubs if h != skip)
        return [h for _, h in d[:k]]

    pairs: set[tuple[str, str, float]] = set()
    for h in hubs:
        for g in nearest_hubs(float(lat[h]), float(lon[h]), 2, skip=h):
            a, b = sorted((f"s{h}", f"s{g}"))
            pairs.add((a, b, 400.0))
    for h in range(1, n_hubs):  # a chain through the hubs keeps the backbone connected
        pairs.add((f"s{h - 1}", f"s{h}", 400.0))
    for i in range(n_hubs, n_sites):
        for h in nearest_hubs(float(lat[i]), float(lon[i]), 2):
            pairs.add((f"s{h}", f"s{i}", 100.0))
    for k in range(N_REGIONS):
        for h in nearest_hubs(float(rlat[k]), float(rlon[k]), 2):
            pairs.add((f"r{k}", f"s{h}", 400.0))
    links = [Link(id=f"l{j}", a=a, b=b, bandwidth_gbps=bw) for j, (a, b, bw) in enumerate(sorted(pairs))]
    return Network(name=f"synthetic-{n_sites}", site=tuple(sites), region=tuple(regions), link=tuple(links))


def scenario(network: Network, load_factor: float = 1.0, horizon_h: float = HORIZON_H) -> LoadedScenario:
    """The two-class ``edwc`` workload on ``network``, arrival rates × ``load_factor``."""
    data: dict[str, Any] = {
        "name": network.name, "network": "default", "policy": "edwc", "horizon_h": horizon_h, "warmup_h": 0.0,
        "metric_interval_h": 24.0, "seed": 1,
        "workload": {
            "inference": {"arrival_rate_per_h": 1000.0 * load_factor, "gpus": {"dist": "constant", "value": 8},
                          "work_gpu_h": {"dist": "exponential", "mean": 16.0}, "latency_budget_ms": 60.0,
                          "max_wait_h": 0.5, "priority": 1},
            "batch": {"arrival_rate_per_h": 125.0 * load_factor, "gpus": {"dist": "constant", "value": 8},
                      "work_gpu_h": {"dist": "exponential", "mean": 64.0}, "deadline_h": 24.0,
                      "input_gb": {"dist": "lognormal", "median": 200.0, "sigma": 1.0, "max": 5000.0}},
        },
    }
    return LoadedScenario(scenario_from_dict(data, "benchmarks/scaling.py"), network, "benchmarks/scaling.py")


def scaled_gpus(network: Network, factor: float) -> Network:
    """``network`` with every site's GPUs × ``factor`` (at least 8)."""
    sites = tuple(s.model_copy(update={"gpus": max(int(s.gpus * factor), 8)}) for s in network.sites)
    return network.model_copy(update={"site": sites})


def overloaded_easy_site(horizon_h: float) -> LoadedScenario:
    """The queue sweep's scenario (see the module docstring): one 64-GPU EASY site at ρ ≈ 1.9."""
    data: dict[str, Any] = {
        "name": "easy-queue", "network": "default", "policy": "nearest", "horizon_h": horizon_h, "warmup_h": 0.0,
        "metric_interval_h": 50.0, "seed": 3, "scheduler": "easy",
        "workload": {f"c{g}": {"arrival_rate_per_h": 40.0 / 3, "gpus": {"dist": "constant", "value": g},
                               "work_gpu_h": {"dist": "exponential", "mean": 3.0}} for g in (1, 8, 32)},
    }
    network = Network(name="one-site", site=(Site(id="s", lat=30.0, lon=110.0, gpus=64),),
                      region=(Region(id="r", lat=30.0, lon=110.0),),
                      link=(Link(id="l", a="r", b="s", bandwidth_gbps=100.0),))
    return LoadedScenario(scenario_from_dict(data, "benchmarks/scaling.py"), network, "benchmarks/scaling.py")


def wan_scenario(jobs: float) -> LoadedScenario:
    """``examples/belt_and_road.toml`` for 6 h, one replication, ``jobs`` training jobs of 2 TB inputs expected."""
    return load_scenario(Path("examples/belt_and_road.toml"), [
        "horizon_h=6.0", "replications=1", f"workload.training.arrival_rate_per_h={jobs / 6.0!r}"])


def wan_point(jobs: float, repeats: int) -> dict[str, Any]:
    """One point of the wan sweep: CPU s, and the most flows on one link (``links.flows_max``)."""
    loaded = wan_scenario(jobs)
    t = time_replication(loaded, repeats)
    flows_max = max(run_replication(loaded, 0).columns["links"]["flows_max"])
    return {"x": t.jobs, "jobs_expected": jobs, "flows_max_one_link": int(flows_max), **t.as_dict()}


def knee_exponents(points: list[dict[str, Any]], knee: float, key: str = "x") -> dict[str, float]:
    """Least-squares exponents of CPU s against ``key`` up to ``knee`` and from it on (each needs two points)."""
    out: dict[str, float] = {}
    below, beyond = [p for p in points if p[key] <= knee], [p for p in points if p[key] >= knee]
    for name, part in (("below", below), ("beyond", beyond)):
        if len(part) >= 2:
            out[f"exponent_{name}_knee"] = round(fit_exponent([p["x"] for p in part], [p["cpu_s"] for p in part]), 3)
    return out


def queue_point(horizon_h: float, repeats: int) -> dict[str, Any]:
    """One point of the queue sweep: x = mean queue length, y = CPU µs per job."""
    loaded = overloaded_easy_site(horizon_h)
    t = time_replication(loaded, repeats)
    queue = float(run_replication(loaded, 0).columns["runs"]["queue_len_mean"][0])
    return {"x": round(queue, 1), "horizon_h": horizon_h, "us_per_job": round(t.cpu_s / t.jobs * 1e6, 2),
            **t.as_dict()}


def fit_exponent(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log(y) against log(x)."""
    slope = np.polyfit(np.log(x), np.log(y), 1)[0]
    return float(slope)


def point(loaded: LoadedScenario, x: float, repeats: int) -> dict[str, Any]:
    """Time one configuration; also the model construction alone (graph, latency matrix, placement tables)."""
    c0 = time.process_time()
    Model(loaded, 0)
    build = time.process_time() - c0
    t = time_replication(loaded, repeats)
    return {"x": x, "sites": len(loaded.network.sites), "links": len(loaded.network.links),
            "horizon_h": loaded.scenario.horizon_h, "build_cpu_s": round(build, 4), **t.as_dict()}


def plot(sweeps: dict[str, dict[str, Any]], path: Path) -> None:
    """Three log-log panels of CPU seconds against x, with the fitted power law."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, axes = plt.subplots(1, 3, figsize=(9.0, 2.8), dpi=80)
    for ax, (name, sweep) in zip(axes, sweeps.items(), strict=True):
        x = np.array([p["x"] for p in sweep["points"]])
        y = np.array([p["cpu_s"] for p in sweep["points"]])
        ax.loglog(x, y, "o", color="C0")
        b = sweep["exponent"]
        a = math.exp(float(np.mean(np.log(y) - b * np.log(x))))
        xs = np.geomspace(x.min(), x.max(), 20)
        ax.loglog(xs, a * xs**b, "-", color="C1", label=f"slope {b:.2f}")
        ax.set_xlabel(sweep["x"])
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        ax.xaxis.set_minor_formatter(NullFormatter())  # decade labels only: minor ones overlap
        ax.yaxis.set_minor_formatter(NullFormatter())
    axes[0].set_ylabel("CPU s per run")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the three sweeps, print tables and exponents, plot, merge the figures; always returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="runs per point; the fastest is kept")
    parser.add_argument("--sites", type=int, nargs="+", default=[10, 32, 100, 316, 1000, 10000])
    parser.add_argument("--load", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0, 4.0], help="rate x GPU factors")
    parser.add_argument("--horizons", type=float, nargs="+", default=[24.0, 96.0, 384.0])
    parser.add_argument("--queue-horizons", type=float, nargs="+", default=[250.0, 500.0, 1000.0],
                        help="horizons (h) of the EASY queue sweep")
    parser.add_argument("--wan-jobs", type=float, nargs="+", default=[250, 500, 1000, 2000, 4176, 8352],
                        help="expected training jobs of the wan sweep")
    parser.add_argument("--wan-knee", type=float, default=1000.0, help="jobs from which the WAN saturates")
    parser.add_argument("--jobs-knee", type=float, default=1.0, help="load factor of the jobs sweep's knee")
    parser.add_argument("--only", nargs="+", choices=["wan", "jobs"],
                        help="run only these sweeps and merge them under 'scaling_wan' alone")
    parser.add_argument("--json", type=Path, default=RESULTS, help="results file to merge into")
    args = parser.parse_args(argv)
    if args.only:
        return wan_and_jobs(args)

    base = synthetic_network(100)
    sweeps: dict[str, dict[str, Any]] = {
        "sites": {"x": "sites", "points": [point(scenario(synthetic_network(n)), n, 1 if n >= 5000 else args.repeats)
                                           for n in args.sites]},
        "jobs": {"x": "jobs", "points": []},
        "horizon": {"x": "horizon h", "points": [point(scenario(base, horizon_h=h), h, args.repeats)
                                                 for h in args.horizons]},
    }
    sweeps["jobs"] = jobs_sweep(base, args)
    for sweep in sweeps.values():
        points = sweep["points"]
        sweep["exponent"] = round(fit_exponent([p["x"] for p in points], [p["cpu_s"] for p in points]), 3)
    by_sites = {p["x"]: p["cpu_s"] for p in sweeps["sites"]["points"]}
    for lo, hi in ((10, 1000), (1000, 10000)):
        if lo in by_sites and hi in by_sites:
            sweeps["sites"][f"exponent_{lo}_{hi}"] = round(fit_exponent([lo, hi], [by_sites[lo], by_sites[hi]]), 3)
            print(f"sites {lo} -> {hi}: CPU s ~ sites^{sweeps['sites'][f'exponent_{lo}_{hi}']:.2f}")
    for name, sweep in sweeps.items():
        points = sweep["points"]
        print(f"\n{name}: CPU s ~ {sweep['x']}^{sweep['exponent']:.2f}")
        print(f"{sweep['x']:>10} {'sites':>6} {'links':>6} {'jobs':>9} {'build s':>8} {'CPU s':>7} {'jobs/s':>9}")
        for p in points:
            print(f"{p['x']:>10,.0f} {p['sites']:>6} {p['links']:>6} {p['jobs']:>9,} {p['build_cpu_s']:>8.3f} "
                  f"{p['cpu_s']:>7.3f} {p['jobs_per_cpu_s']:>9,.0f}")
    queue = [queue_point(h, args.repeats) for h in args.queue_horizons]
    queue_exp = round(fit_exponent([p["x"] for p in queue], [p["us_per_job"] for p in queue]), 3)
    print(f"\nqueue (EASY, one overloaded site): CPU us per job ~ mean queue^{queue_exp:.2f}")
    print(f"{'horizon h':>10} {'jobs':>8} {'mean queue':>11} {'CPU s':>7} {'us/job':>7}")
    for p in queue:
        print(f"{p['horizon_h']:>10,.0f} {p['jobs']:>8,} {p['x']:>11,.1f} {p['cpu_s']:>7.3f} {p['us_per_job']:>7.1f}")
    plot(sweeps, PNG)
    sweeps["queue"] = {"x": "mean queue length", "y": "CPU us per job", "points": queue, "exponent": queue_exp}
    sweeps["wan"] = wan_sweep(args)
    merge_results("scaling_wan", path=args.json, figures={
        "machine": machine(), "repeats": args.repeats, "sweeps": {"wan": sweeps["wan"], "jobs": sweeps["jobs"]},
        "definition": WAN_DEFINITION})
    print(f"\nplot written to {PNG}")
    merge_results("scaling", path=args.json, figures={
        "machine": machine(), "repeats": args.repeats, "sweeps": sweeps,
        "definition": "CPU s of run_replication (model build included), fastest of repeats; "
                      "exponent = least-squares slope of log CPU s vs log x",
    })
    return 0


WAN_DEFINITION = ("CPU s of run_replication (model build included), fastest of repeats; exponent = least-squares "
                  "slope of log CPU s vs log jobs, below and beyond the knee and between consecutive points")


def jobs_sweep(base: Network, args: argparse.Namespace) -> dict[str, Any]:
    """The jobs sweep (100 sites, rates and GPUs x each ``--load``), with its exponents below and beyond the knee."""
    sweep: dict[str, Any] = {"x": "jobs", "points": []}
    for f in args.load:
        p = point(scenario(scaled_gpus(base, f), load_factor=f), f, args.repeats)
        p["load"], p["x"] = f, p["jobs"]
        sweep["points"].append(p)
    points = sweep["points"]
    sweep["exponent"] = round(fit_exponent([p["x"] for p in points], [p["cpu_s"] for p in points]), 3)
    sweep.update(knee_exponents(points, args.jobs_knee, key="load"))
    below, beyond = sweep.get("exponent_below_knee", math.nan), sweep.get("exponent_beyond_knee", math.nan)
    print(f"\njobs: CPU s ~ jobs^{sweep['exponent']:.2f}; up to load x{args.jobs_knee:g} ^{below:.2f}, "
          f"beyond ^{beyond:.2f}")
    for p in points:
        print(f"  load x{p['load']:<5g} {p['jobs']:>9,} jobs {p['cpu_s']:>7.3f} CPU s")
    return sweep


def wan_sweep(args: argparse.Namespace) -> dict[str, Any]:
    """The wan sweep (see the module docstring), with its exponents."""
    points = [wan_point(j, args.repeats) for j in args.wan_jobs]
    sweep: dict[str, Any] = {"x": "jobs", "points": points,
                             "exponent": round(fit_exponent([p["x"] for p in points], [p["cpu_s"] for p in points]), 3),
                             **knee_exponents(points, args.wan_knee, key="jobs_expected"),
                             "pairs": [round(fit_exponent([a["x"], b["x"]], [a["cpu_s"], b["cpu_s"]]), 3)
                                       for a, b in pairwise(points)]}
    print(f"\nwan (belt_and_road, 2 TB training inputs, 6 h): CPU s ~ jobs^{sweep['exponent']:.2f}; "
          f"below {args.wan_knee:,.0f} jobs ^{sweep.get('exponent_below_knee', math.nan):.2f}, "
          f"beyond ^{sweep.get('exponent_beyond_knee', math.nan):.2f}; consecutive {sweep['pairs']}")
    print(f"{'jobs':>8} {'CPU s':>7} {'most flows on a link':>21}")
    for p in points:
        print(f"{p['x']:>8,} {p['cpu_s']:>7.3f} {p['flows_max_one_link']:>21,}")
    return sweep


def wan_and_jobs(args: argparse.Namespace) -> int:
    """``--only``: the wan and/or jobs sweeps alone, merged under ``"scaling_wan"``."""
    sweeps: dict[str, Any] = {}
    if "wan" in args.only:
        sweeps["wan"] = wan_sweep(args)
    if "jobs" in args.only:
        sweeps["jobs"] = jobs_sweep(synthetic_network(100), args)
    merge_results("scaling_wan", path=args.json, figures={
        "machine": machine(), "repeats": args.repeats, "sweeps": sweeps, "definition": WAN_DEFINITION})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
