"""Time signals: what time-aware placement buys on ``examples/edwc_hourly.toml``, and what the signals cost in CPU.

Three parts (issue 16):

* **compare** -- ``examples/edwc_hourly.toml`` (two weeks, hourly signals) under five
  placements, on the same arrivals (common random numbers): time-aware ``edwc`` with
  deferral (the example as written), time-aware ``edwc`` without deferral, time-blind
  ``edwc``, ``least_loaded`` and ``nearest``; every variant accounts energy hour by hour.
  Per variant, over ``--replications`` replications: cost (CNY), CO2 (t), renewable share
  of consumed energy, mean wait (h, jobs started in the window) and deadline misses
  (``runs.deadline_misses``, counted by the engine, ``sim/deadlines.py``: jobs of a class with
  ``deadline_h`` whose hold plus wait exceeded it, or that were still queued past it at the
  horizon, or left unmet; ``deadline_misses_deferred``: those of jobs held by deferral), each
  as mean +- 95 % Student-t half-width.  A job's wait is counted from its arrival at the site
  (after any input transfer), for every policy alike.
* **cpu** -- ``examples/national.toml`` (one year), one replication, fastest of
  ``--repeats``, with ``[signals] enabled = true`` (built-in profiles, hourly accounting,
  time-blind placement) and without, in the same process.  Target: at most 15 % extra CPU.
  A third case adds ``time_aware = true`` (placement on window means; a change of policy
  behaviour, so reported beside the target, not against it).

* **national** (``--national``, alone) -- ``examples/national.toml`` with the signals on
  (``--set signals.enabled=true``, built-in profiles) under nine placements on the same
  arrivals: ``edwc`` time-aware with and without deferral and time-blind, ``least_loaded``,
  ``nearest``, and ``greenest`` and ``cheapest`` time-aware and time-blind; over
  ``--replications`` replications of ``--horizon-h`` hours: cost, CO2, renewable share, mean
  wait, deadline misses, unmet jobs and the worst site's mean wait, with 95 % intervals and
  the paired difference to time-blind ``edwc``; and the pile-up check of the issue's "done
  when" (a site whose mean wait exceeds the longest deadline while another is under 50 %
  utilised; ``piled_sites``, per replication).

Figures are merged into ``benchmarks/results.json`` under ``"signals"`` (``"signals_national"``
with ``--national``, ``"signals_cpu"`` with ``--cpu-only``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import merge_results, time_replication

from cluster.report.stats import mean_ci
from sim.run import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "edwc_hourly.toml"
NATIONAL = ROOT / "examples" / "national.toml"
BLIND = ["signals.time_aware=false", "signals.defer=false"]
VARIANTS: dict[str, list[str]] = {
    "edwc, time-aware + deferral": [],
    "edwc, time-aware": ["signals.defer=false"],
    "edwc, time-blind": BLIND,
    "least_loaded": ["policy=least_loaded", *BLIND],
    "nearest": ["policy=nearest", *BLIND],
}
RATES = {name: c.arrival_rate_per_h for name, c in load_scenario(EXAMPLE).scenario.workload.items()}
MEASURES = ("cost_mcny", "co2_kt", "work_cny_per_gpu_h", "work_kg_per_gpu_h", "renewable_share", "wait_mean_h",
            "deadline_misses", "deadline_misses_deferred", "jobs_deferred")


Table = dict[str, dict[str, tuple[float, float]]]
Raw = dict[str, dict[str, np.ndarray]]


def work_unit_costs(result: Any, replication: int) -> tuple[float, float]:
    """CNY and kg CO2 per busy GPU-hour of the power that work adds over idle, at the hours it ran (window only).

    Each hourly ``sites`` row gives the hour's price (``cost_cny / energy``, CNY/kWh) and effective
    emission factor (``co2_t / energy_mwh``, kg/kWh); the work's extra energy in the row is
    ``gpu_h_busy × (gpu_busy_w − gpu_idle_w) / 1000 × pue`` kWh.  Idle power, the same in every
    variant, is left out, and dividing by busy GPU-hours removes the effect of work that a
    variant finished inside or outside the window.
    """
    model = result.replications[replication].model
    extra_kwh = {s.id: (s.gpu_busy_w - s.gpu_idle_w) / 1000.0 * s.pue for s in model.network.sites}
    sites = result.sites.to_pandas()
    rows = sites[(sites.replication == replication) & (sites.t_start_h >= model.scenario.warmup_h)]
    kwh = rows.gpu_h_busy * rows.site_id.map(extra_kwh)
    busy = float(rows.gpu_h_busy.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(rows.energy_mwh > 0, rows.cost_cny / (rows.energy_mwh * 1000.0), 0.0)
        factor = np.where(rows.energy_mwh > 0, rows.co2_t / rows.energy_mwh, 0.0)
    return float((kwh * price).sum()) / busy, float((kwh * factor).sum()) / busy


def compare(replications: int, rate_scale: float = 1.0) -> tuple[Table, Raw]:
    """Mean and 95 % half-width of every measure by variant, and the per-replication values."""
    table: Table = {}
    raw: Raw = {}
    for name, overrides in VARIANTS.items():
        scaled = [f"workload.{c}.arrival_rate_per_h={rate * rate_scale!r}" for c, rate in RATES.items()]
        result = run_scenario(load_scenario(EXAMPLE, [*overrides, *scaled, f"replications={replications}"]))
        runs = result.runs.to_pandas()
        values = {
            "cost_mcny": runs.cost_cny.to_numpy() / 1e6,
            "co2_kt": runs.co2_t.to_numpy() / 1e3,
            "work_cny_per_gpu_h": np.array([work_unit_costs(result, r)[0] for r in range(replications)]),
            "work_kg_per_gpu_h": np.array([work_unit_costs(result, r)[1] for r in range(replications)]),
            "renewable_share": runs.renewable_share.to_numpy(),
            "wait_mean_h": runs.wait_mean_h.to_numpy(),
            "deadline_misses": runs.deadline_misses.to_numpy().astype(float),
            "deadline_misses_deferred": runs.deadline_misses_deferred.to_numpy().astype(float),
            "jobs_deferred": runs.jobs_deferred.to_numpy().astype(float),
        }
        table[name] = {m: mean_ci(values[m]) for m in MEASURES}
        raw[name] = values
    return table, raw


NATIONAL_ON = ["signals.enabled=true"]
"""The national example with the time signals on (built-in profiles); see examples/national.toml's header."""
NATIONAL_VARIANTS: dict[str, list[str]] = {
    "edwc, time-aware + deferral": [*NATIONAL_ON, "signals.time_aware=true", "signals.defer=true"],
    "edwc, time-aware": [*NATIONAL_ON, "signals.time_aware=true"],
    "edwc, time-blind": NATIONAL_ON,
    "least_loaded": [*NATIONAL_ON, "policy=least_loaded"],
    "nearest": [*NATIONAL_ON, "policy=nearest"],
    "greenest, time-aware": [*NATIONAL_ON, "policy=greenest", "signals.time_aware=true"],
    "cheapest, time-aware": [*NATIONAL_ON, "policy=cheapest", "signals.time_aware=true"],
    "greenest, time-blind": [*NATIONAL_ON, "policy=greenest"],
    "cheapest, time-blind": [*NATIONAL_ON, "policy=cheapest"],
}
NATIONAL_MEASURES = ("cost_mcny", "co2_kt", "renewable_share", "wait_mean_h", "deadline_misses",
                     "deadline_misses_deferred", "jobs_unmet", "max_site_wait_h", "jobs_deferred")


def site_balance(result: Any, replication: int) -> dict[str, tuple[float, float, int]]:
    """Per site, over the window: mean wait of the jobs started (h), utilisation, and jobs queued at the horizon."""
    model = result.replications[replication].model
    sites = result.sites.to_pandas()
    rows = sites[(sites.replication == replication) & (sites.t_start_h >= model.scenario.warmup_h)]
    out = {}
    for site_id, g in rows.groupby("site_id", sort=False):
        started = float(g.jobs_started.sum())
        wait = float((g.wait_mean_h.fillna(0.0) * g.jobs_started).sum()) / started if started else 0.0
        busy, total = float(g.gpu_h_busy.sum()), float((g.gpus_total * (g.t_end_h - g.t_start_h)).sum())
        out[str(site_id)] = (wait, busy / total if total else 0.0, int(g.queue_len_end.iloc[-1]))
    return out


def national(replications: int, horizon_h: float) -> tuple[Table, dict[str, Any], Raw]:
    """The national example with the signals on, by policy: the closing note's table and the pile-up check.

    The pile-up check (issue 16, "done when"): no site's mean wait exceeds the longest
    deadline of the workload while another site is under 50 % utilised.
    """
    table: Table = {}
    checks: dict[str, Any] = {}
    raw: Raw = {}
    # One snapshot of the example for every variant (the file may be edited while this runs).
    text = NATIONAL.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / NATIONAL.name
        snapshot.write_text(text, encoding="utf-8")
        loaded = {name: load_scenario(snapshot, [*overrides, f"replications={replications}",
                                                 f"horizon_h={horizon_h!r}"])
                  for name, overrides in NATIONAL_VARIANTS.items()}
    for name, scenario in loaded.items():
        result = run_scenario(scenario)
        longest = max(c.deadline_h or 0.0 for c in result.replications[0].model.scenario.workload.values())
        runs = result.runs.to_pandas()
        balance = [site_balance(result, r) for r in range(replications)]
        worst = np.array([max(w for w, _, _ in b.values()) for b in balance])
        piled = [[s for s, (w, _, _) in b.items() if w > longest and any(u < 0.5 for t, (_, u, _) in b.items()
                                                                          if t != s)] for b in balance]
        values = {
            "cost_mcny": runs.cost_cny.to_numpy() / 1e6,
            "co2_kt": runs.co2_t.to_numpy() / 1e3,
            "renewable_share": runs.renewable_share.to_numpy(),
            "wait_mean_h": runs.wait_mean_h.to_numpy(),
            "deadline_misses": runs.deadline_misses.to_numpy().astype(float),
            "deadline_misses_deferred": runs.deadline_misses_deferred.to_numpy().astype(float),
            "jobs_unmet": runs.jobs_unmet.to_numpy().astype(float),
            "max_site_wait_h": worst,
            "jobs_deferred": runs.jobs_deferred.to_numpy().astype(float),
        }
        table[name] = {m: mean_ci(values[m]) for m in NATIONAL_MEASURES}
        raw[name] = values
        top = max(balance[0], key=lambda s: balance[0][s][1])
        checks[name] = {"longest_deadline_h": longest, "piled_sites": piled,
                        "busiest_site_rep0": [top, *balance[0][top]],
                        "utilisation": mean_ci(runs.utilisation.to_numpy())}
        print(f"  {name}: done", flush=True)
    return table, checks, raw


def cpu(repeats: int) -> dict[str, float]:
    """CPU seconds of one national replication with the signals off and on, and the ratio."""
    off = load_scenario(NATIONAL, ["replications=1"])
    on = load_scenario(NATIONAL, ["replications=1", "signals.enabled=true"])
    t_off = time_replication(off, repeats).cpu_s
    t_on = time_replication(on, repeats).cpu_s
    aware = load_scenario(NATIONAL, ["replications=1", "signals.enabled=true", "signals.time_aware=true"])
    t_aware = time_replication(aware, repeats).cpu_s
    return {"cpu_s_off": t_off, "cpu_s_on": t_on, "extra": t_on / t_off - 1.0,
            "cpu_s_time_aware": t_aware, "extra_time_aware": t_aware / t_off - 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--rate-scale", type=float, default=1.0, help="multiply every class's arrival rate")
    parser.add_argument("--national", action="store_true", help="only the national example by policy, signals on")
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU cost of the signals (national, a year)")
    parser.add_argument("--horizon-h", type=float, default=8760.0, help="horizon of the --national runs, h")
    args = parser.parse_args()
    if args.cpu_only:
        c = cpu(args.repeats)
        print(f"national, one year: {c['cpu_s_off']:.2f} CPU s off, {c['cpu_s_on']:.2f} on: "
              f"{100 * c['extra']:+.1f} % (target <= +15 %); time-aware edwc {c['cpu_s_time_aware']:.2f} CPU s, "
              f"{100 * c['extra_time_aware']:+.1f} %")
        merge_results("signals_cpu", c)
        return
    if args.national:
        ntable, checks, nraw = national(args.replications, args.horizon_h)
        print(f"examples/national.toml --set signals.enabled=true, {args.horizon_h:g} h, "
              f"{args.replications} replications, mean +- 95 % half-width")
        print("| variant | " + " | ".join(NATIONAL_MEASURES) + " |")
        print("|---|" + "---|" * len(NATIONAL_MEASURES))
        for name, row in ntable.items():
            print(f"| {name} | " + " | ".join(f"{m:.4g} +- {h:.2g}" for m, h in row.values()) + " |")
        for name, check in checks.items():
            print(f"{name}: {check}")
        # Paired over replications (the same arrivals in every variant): the difference to time-blind edwc.
        blind = nraw["edwc, time-blind"]
        npaired = {name: {m: list(mean_ci(values[m] - blind[m])) for m in ("cost_mcny", "co2_kt", "renewable_share",
                                                                           "wait_mean_h", "deadline_misses")}
                   for name, values in nraw.items() if name != "edwc, time-blind"}
        print("\npaired difference to 'edwc, time-blind' (mean +- 95 % half-width, same replications)")
        for name, pair in npaired.items():
            print(f"| {name} | " + " | ".join(f"{m}: {d:+.4g} +- {h:.2g}" for m, (d, h) in pair.items()) + " |")
        merge_results("signals_national", {"horizon_h": args.horizon_h, "replications": args.replications,
                                           "table": {k: {m: list(v) for m, v in row.items()}
                                                     for k, row in ntable.items()},
                                           "paired_vs_blind_edwc": npaired, "checks": checks})
        return
    table, raw = compare(args.replications, args.rate_scale)
    print(f"examples/edwc_hourly.toml, rates x {args.rate_scale:g}, {args.replications} replications, "
          "mean +- 95 % half-width")
    print("| variant | " + " | ".join(MEASURES) + " |")
    print("|---|" + "---|" * len(MEASURES))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{m:.4g} +- {h:.2g}" for m, h in row.values()) + " |")
    figures: dict[str, Any] = {"compare": {k: {m: list(v) for m, v in row.items()} for k, row in table.items()}}
    # Paired over replications (same arrivals in every variant): the difference to time-blind edwc.
    base = raw["edwc, time-blind"]
    print("\npaired difference to 'edwc, time-blind' (mean +- 95 % half-width, same replications)")
    paired: dict[str, dict[str, list[float]]] = {}
    for name, values in raw.items():
        if name == "edwc, time-blind":
            continue
        diffs = {m: mean_ci(values[m] - base[m])
                 for m in ("cost_mcny", "co2_kt", "work_cny_per_gpu_h", "work_kg_per_gpu_h", "renewable_share")}
        paired[name] = {m: list(v) for m, v in diffs.items()}
        print(f"| {name} | " + " | ".join(f"{m}: {d:+.4g} +- {h:.2g}" for m, (d, h) in diffs.items()) + " |")
    figures["paired_vs_blind_edwc"] = paired
    if not args.skip_cpu:
        figures["cpu"] = cpu(args.repeats)
        c = figures["cpu"]
        print(f"national, one year: {c['cpu_s_off']:.2f} CPU s off, {c['cpu_s_on']:.2f} on: "
              f"{100 * c['extra']:+.1f} % (target <= +15 %)")
        print(f"  with time-aware edwc placement: {c['cpu_s_time_aware']:.2f} CPU s, "
              f"{100 * c['extra_time_aware']:+.1f} %")
    merge_results("signals" if args.rate_scale == 1.0 else f"signals_x{args.rate_scale:g}", figures)


if __name__ == "__main__":
    main()
