"""The back-cast of docs/validation.md: fitted on adoption points up to 2024, run from 2023, scored on 2025.

1. **Fit** p0 and q0 with ``cpnsim calibrate``'s least squares (:func:`workloads.adoption.fit_adoption`)
   on the shipped points (``workloads/data/adoption_points.toml``) observed before 2025 only:
   the world enterprise bound of 2023 and BCG's 2024 share, and CNNIC's December 2024
   population share (the 2025 points and the 2026 forecast are held out; no ceiling is
   fitted: one point per segment cannot fix it).
2. **Run** ``examples/adoption.toml`` from 1 January 2023 (``start_year = 2023``, three years)
   with those p0 and q0 and the initial fraction of the fitted curve at 2023.0, on the
   built-in network with its published build-out (capacity timelines), 5 replications.
3. **Score** the adoption of Chinese enterprises (the nine Chinese regions, weighted by
   enterprises) at the dates of the held-out 2025 points (interpolated between monthly
   steps) against them and their stated uncertainty, and the uncoupled fitted curve beside
   it.  The held-out points count people who used generative AI (CNNIC), the model counts
   enterprises: a proxy, as the points file says.

    python docs/backcast.py            # print the table (about 20 s of CPU)

``docs/figures.py --only backcast`` writes the table into docs/validation.md.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIT_BEFORE = 2025.0
"""Points dated before this decimal year are fitted; the rest are held out."""
START_YEAR = 2023
YEARS = 3
REPLICATIONS = 5


def _t_quantile(n: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1))


def backcast() -> dict[str, str]:
    """Run the back-cast; the spans of docs/validation.md (``backcast-*``)."""
    from sim.run import run_scenario
    from sim.scenario import load_scenario
    from workloads.adoption import HOURS_PER_YEAR
    from workloads.adoption.bass import bass_closed_form
    from workloads.adoption.fit import fit_adoption
    from workloads.adoption.points import load_points, shipped_points_path

    shipped = load_points(shipped_points_path())
    fitted_segments = []
    held_out = []
    for seg in shipped.segment:
        keep = tuple(p for p in seg.point if p.year < FIT_BEFORE and p.kind != "forecast")
        held_out += [(seg, p) for p in seg.point if p.year >= FIT_BEFORE and p.kind == "observed"]
        if keep:
            fitted_segments.append(seg.model_copy(update={"point": keep, "fit_ceiling": False}))
    fit = fit_adoption(fitted_segments)
    p0, q0 = fit.values[0], fit.values[1]
    start = shipped.segment[0].start_year
    initial = float(bass_closed_form(START_YEAR - start, p0, q0))

    sets = [f"start_year={START_YEAR}", f"horizon_h={YEARS * HOURS_PER_YEAR}", f"replications={REPLICATIONS}",
            f"adoption.p0_per_yr={p0!r}", f"adoption.q0_per_yr={q0!r}", f"adoption.initial_frac={initial!r}"]
    loaded = load_scenario(ROOT / "examples" / "adoption.toml", sets)
    result = run_scenario(loaded)
    groups = loaded.scenario.adoption.groups if loaded.scenario.adoption is not None else {}
    chinese = set(groups["cn_enterprises"].regions)
    table = result.table("adoption")
    assert table is not None
    rows = table.select(["replication", "t_end_h", "region", "enterprises", "adopted_frac"]).to_pylist()
    reps = sorted({r["replication"] for r in rows})
    steps = sorted({r["t_end_h"] for r in rows})
    # Chinese-enterprise adoption after each step, per replication (enterprise-weighted).
    frac = np.zeros((len(reps), len(steps) + 1))
    adopters = np.zeros_like(frac)
    weight = np.zeros_like(frac)
    index = {t: k + 1 for k, t in enumerate(steps)}
    for r in rows:
        if r["region"] in chinese:
            adopters[r["replication"], index[r["t_end_h"]]] += r["enterprises"] * r["adopted_frac"]
            weight[r["replication"], index[r["t_end_h"]]] += r["enterprises"]
    frac[:, 1:] = adopters[:, 1:] / weight[:, 1:]
    frac[:, 0] = initial
    times = np.array([0.0, *steps])
    tq = _t_quantile(len(reps))

    lines = ["| held-out point | observed (± stated) | uncoupled fit | model (mean ± 95 % CI, 5 replications) "
             "| model − observed | within stated? |", "|---|---|---|---|---|---|"]
    for seg, point in held_out:
        t_h = (point.year - START_YEAR) * HOURS_PER_YEAR
        at = np.array([np.interp(t_h, times, frac[k]) for k in range(len(reps))])
        mean, half = float(at.mean()), float(tq * at.std(ddof=1) / math.sqrt(len(at)))
        curve = float(bass_closed_form(point.year - start, p0, q0))
        assert point.frac is not None  # an observed point has a value
        miss = mean - point.frac
        within = "yes" if abs(miss) <= point.uncertainty_frac else f"NO ({abs(miss) / point.uncertainty_frac:.1f}×)"
        lines.append(f"| {seg.id} {point.year:g} | {point.frac:.3f} ± {point.uncertainty_frac:.2f} | {curve:.3f} "
                     f"| {mean:.3f} ± {half:.3f} | {miss:+.3f} | {within} |")
    return {
        "backcast-table": "\n" + "\n".join(lines) + "\n",
        "backcast-p0": f"{p0:.4f}",
        "backcast-q0": f"{q0:.3f}",
        "backcast-p0-se": f"{fit.std_errors[0]:.2g}",
        "backcast-q0-se": f"{fit.std_errors[1]:.2g}",
        "backcast-initial": f"{initial:.4f}",
    }


def main() -> int:
    """Print the spans."""
    for name, text in backcast().items():
        print(f"{name}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
