"""Peak memory of the national scenario at a 1-year and a 4-year horizon (same metric interval).

Each horizon runs in a fresh Python subprocess (so one run's heap cannot inflate the
next), which loads ``examples/national.toml`` with ``horizon_h`` overridden, records
its resident set size after the imports and the scenario load, runs the scenario
(``run_scenario``: the simulation and its Arrow tables) and reports the peak resident
set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and the size of the output
tables (``Table.nbytes``).  The output tables grow with the horizon by design (one
``sites`` row per site and ``links`` row per link each metric interval); everything
else should not.  Target (issue 9): peak RSS grows by at most 10 % from 1 to 4 years.
Figures are merged into ``benchmarks/results.json`` under ``"memory"``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import RESULTS, machine, merge_results

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT / "examples" / "national.toml"
HOURS_PER_YEAR = 8760.0
TARGET_GROWTH = 0.10


def _rss_now_mib() -> float:
    """Current resident set size of this process, MiB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def child(horizon_h: float) -> dict[str, Any]:
    """Run the national scenario to ``horizon_h`` in this process; return its memory figures (MiB)."""
    from sim.run import run_scenario
    from sim.scenario import load_scenario

    loaded = load_scenario(NATIONAL, [f"horizon_h={horizon_h}"])
    base = _rss_now_mib()
    c0 = time.process_time()
    result = run_scenario(loaded)
    cpu = time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    tables = {name: table.nbytes / 2**20 for name, table in result.tables().items()}
    model = result.replications[0].model
    return {
        "horizon_h": horizon_h, "metric_interval_h": loaded.scenario.metric_interval_h, "jobs": model.jobs_arrived,
        "cpu_s": round(cpu, 2), "rss_after_load_mib": round(base, 1), "peak_rss_mib": round(peak, 1),
        "tables_mib": round(sum(tables.values()), 3),
        "tables_rows": {name: table.num_rows for name, table in result.tables().items()},
    }


def measure(horizon_h: float) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its figures."""
    out = subprocess.run([sys.executable, __file__, "--child", str(horizon_h)], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    """Measure both horizons, print the table and the verdict, merge the figures; always returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--years", type=float, nargs=2, default=[1.0, 4.0], help="the two horizons, years")
    parser.add_argument("--json", type=Path, default=RESULTS, help="results file to merge into")
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return 0

    runs = [measure(years * HOURS_PER_YEAR) for years in args.years]
    print(f"{'horizon h':>10} {'jobs':>10} {'CPU s':>7} {'RSS load MiB':>13} {'peak RSS MiB':>13} {'tables MiB':>11}")
    for r in runs:
        print(f"{r['horizon_h']:>10,.0f} {r['jobs']:>10,} {r['cpu_s']:>7.1f} {r['rss_after_load_mib']:>13.1f} "
              f"{r['peak_rss_mib']:>13.1f} {r['tables_mib']:>11.2f}")
    short, long = runs
    growth = long["peak_rss_mib"] / short["peak_rss_mib"] - 1
    sim_short = short["peak_rss_mib"] - short["rss_after_load_mib"]
    sim_long = long["peak_rss_mib"] - long["rss_after_load_mib"]
    met = growth <= TARGET_GROWTH
    print(f"\npeak RSS growth {args.years[0]:g} -> {args.years[1]:g} years: {100 * growth:+.1f} % "
          f"(target <= {100 * TARGET_GROWTH:.0f} %: {'met' if met else 'NOT met'}); "
          f"above the loaded baseline: {sim_short:.1f} -> {sim_long:.1f} MiB, "
          f"of which output tables {short['tables_mib']:.2f} -> {long['tables_mib']:.2f} MiB")
    merge_results("memory", path=args.json, figures={
        "machine": machine(), "runs": runs, "peak_rss_growth": round(growth, 4),
        "target_growth": TARGET_GROWTH, "target_met": met,
        "definition": "peak RSS (ru_maxrss) of a fresh process that loads examples/national.toml and runs "
                      "run_scenario; growth = peak(long) / peak(short) - 1",
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
