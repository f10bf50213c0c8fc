"""Two measured effects on adoption that docs/model.md quotes: the price channels and the regional spread.

Both run ``examples/adoption.toml`` over the horizon of the uncertainty study (2025-2027,
:data:`HORIZON_H`) with its 5 replications; ``docs/figures.py --only price-channel`` and
``--only regional-spread`` write their spans.  ::

    python docs/adoption_effects.py price      # print the price-channel figures (6 runs, about 2.5 min of CPU)
    python docs/adoption_effects.py regional   # print the regional-spread figures (2 runs, about 1 min of CPU)

*Price channels*: halving the price of AI work (``adoption.growth.unit_cost_at_start =
0.5``) with both channels, with the adoption channel alone (``growth.cost_elasticity = 0``
in both runs of the pair) and with the work channel alone
(``growth.expected_costs_elasticity = 0``); each pair is paired on common random numbers
(same seed), and the difference of adoption at the horizon is a mean over replications
with its 95 % Student-t half-width.

*Regional spread*: adoption at the horizon per Chinese region with and without the
factors derived from regional indicators (``adoption.regional_factors``), the share of each
region's demand served, and what places each region where it is.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLE = ROOT / "examples" / "adoption.toml"
HORIZON_H = 26298.0
"""Three years of 8766 h (2025-2027): the horizon of examples/sweeps/adoption-uncertainty.toml."""
HALF_PRICE = "adoption.growth.unit_cost_at_start=0.5"
SERVED_NEUTRAL = 0.995
"""A region serving less of its demand than this share is placed by capacity."""


def _half_width(x: np.ndarray) -> float:
    from scipy.stats import t as student

    return float(student.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))


def _interval(x: np.ndarray, sign: bool = False) -> str:
    one = _one_figure(_half_width(x))
    return f"{x.mean():+.4f} ± {one}" if sign else f"{x.mean():.4f} ± {one}"


def _one_figure(x: float) -> str:
    """``x`` to one significant figure, never in exponent notation (as docs/figures.py)."""
    return str(np.format_float_positional(x, precision=1, unique=False, fractional=False, trim="-"))


def _run(sets: list[str]) -> Any:
    from sim.run import run_scenario
    from sim.scenario import load_scenario

    return run_scenario(load_scenario(EXAMPLE, [f"horizon_h={HORIZON_H}", *sets]))


def _adoption_end(result: Any) -> np.ndarray:
    rows = sorted(result.runs.select(["replication", "adoption_frac_end"]).to_pylist(), key=lambda r: r["replication"])
    return np.array([r["adoption_frac_end"] for r in rows], dtype=float)


def _served(result: Any, region: str) -> float:
    from cluster.adoption_summary import adoption_by_region

    row = next(r for r in adoption_by_region(result.table("adoption")) if r["region"] == region)
    return float(row["served_share"])


def price_channel() -> dict[str, str]:
    """The ``price-*`` spans of docs/model.md: the effect of halving the price of AI work, by channel."""
    t0 = time.process_time()
    variants = {"both": [], "adoption": ["adoption.growth.cost_elasticity=0"],
                "work": ["adoption.growth.expected_costs_elasticity=0"]}
    spans: dict[str, str] = {}
    for name, sets in variants.items():
        full, half = _run(sets), _run([*sets, HALF_PRICE])
        if name == "both":
            spans["price-base"] = _interval(_adoption_end(full))
        spans[f"price-{name}"] = _interval(_adoption_end(half) - _adoption_end(full), sign=True)
        if name == "work":
            for region, key in (("dr_cn_central", "central"), ("dr_cn_northeast", "northeast")):
                spans[f"price-served-{key}"] = f"{_served(full, region):.2f} → {_served(half, region):.2f}"
    spans["price-cpu-s"] = f"{time.process_time() - t0:.0f} s"
    return spans


def regional_spread() -> dict[str, str]:
    """The ``regional-*`` spans of docs/model.md: adoption per Chinese region with and without the data factors."""
    from cluster.adoption_summary import ALL_REGIONS, adoption_by_region
    from sim.scenario import load_scenario
    from workloads.adoption.config import DEMAND_FACTORS
    from workloads.adoption.regional import load_regional_factors

    t0 = time.process_time()
    loaded = load_scenario(EXAMPLE)
    config = loaded.scenario.adoption
    assert config is not None  # the example is an adoption scenario
    names = {r.id: (r.name or r.id).split(" (")[0] for r in loaded.network.regions}
    data = {r.id: r for r in load_regional_factors().region}
    off, on = (_run([f"adoption.regional_factors={flag}"]) for flag in ("false", "true"))
    rows = {flag: {r["region"]: r for r in adoption_by_region(res.table("adoption"))}
            for flag, res in (("off", off), ("on", on))}
    chinese = list(config.groups["cn_enterprises"].regions)
    group = config.groups.get("belt_and_road")
    others = [r for r in (group.regions if group is not None else ())
              if r in data and any(getattr(data[r], f) != 1.0 for f in DEMAND_FACTORS)]

    def ci(flag: str, region: str) -> str:
        r = rows[flag][region]
        half = r["adopted_frac_ci_half"]
        return f"{r['adopted_frac']:.4f} ± {_one_figure(float(half))}"

    def data_factors(region: str) -> str:
        f = data.get(region)
        moved = [(k, getattr(f, k)) for k in DEMAND_FACTORS if f is not None and getattr(f, k) != 1.0]
        return ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in moved) or "1 (no data)"

    def cause(region: str) -> str:
        served = float(rows["on"][region]["served_share"])
        if served < SERVED_NEUTRAL:
            return f"capacity: {100 * (1 - served):.1f} % of its demand not served"
        own = config.regions.get(region)
        hand = [(k, getattr(own, k)) for k in DEMAND_FACTORS if own is not None and getattr(own, k) != 1.0]
        if hand:
            return "the example's own estimates " + ", ".join(f"`{k} = {v:g}`" for k, v in hand)
        return "neutral"

    order = sorted(chinese, key=lambda r: -float(rows["on"][r]["adopted_frac"]))
    table = ["| region | data factors | adopted, off | adopted, on | demand served | cause of its place |",
             "|---|---|---|---|---|---|"]
    table += [f"| {names.get(r, r)} | {data_factors(r)} | {ci('off', r)} | {ci('on', r)} | "
              f"{float(rows['on'][r]['served_share']):.3f} | {cause(r)} |" for r in order]

    def spread(flag: str) -> tuple[float, float, float]:
        values = [float(rows[flag][r]["adopted_frac"]) for r in chinese]
        return max(values) - min(values), min(values), max(values)

    moved = max(abs(float(rows["on"][r]["adopted_frac"]) - float(rows["off"][r]["adopted_frac"])) for r in chinese)
    spans = {
        "regional-table": "\n" + "\n".join(table) + "\n",
        "regional-spread-off": "{:.4f} ({:.4f}–{:.4f})".format(*spread("off")),
        "regional-spread-on": "{:.4f} ({:.4f}–{:.4f})".format(*spread("on")),
        "regional-indicator-max": f"{moved:.4f}",
        "regional-all-off": ci("off", ALL_REGIONS),
        "regional-all-on": ci("on", ALL_REGIONS),
    }
    if others:
        lo_off = min(float(rows["off"][r]["adopted_frac"]) for r in others)
        hi_off = max(float(rows["off"][r]["adopted_frac"]) for r in others)
        lo_on = min(float(rows["on"][r]["adopted_frac"]) for r in others)
        hi_on = max(float(rows["on"][r]["adopted_frac"]) for r in others)
        spans["regional-bnr-countries"] = ", ".join(names.get(r, r) for r in others)
        spans["regional-bnr-off"] = f"{lo_off:.2f}–{hi_off:.2f}"
        spans["regional-bnr-on"] = f"{lo_on:.2f}–{hi_on:.2f}"
    spans["regional-cpu-s"] = f"{time.process_time() - t0:.0f} s"
    return spans


def main(argv: list[str] | None = None) -> int:
    """``price`` or ``regional``: print the spans."""
    what = (argv if argv is not None else sys.argv[1:]) or ["price", "regional"]
    for name in what:
        spans = {"price": price_channel, "regional": regional_spread}[name]()
        for key, text in spans.items():
            print(f"{key}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
