"""The adoption part of ``cpnsim run``'s summary: adoption at the horizon by region, with its replication interval."""

from __future__ import annotations

import math

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from cluster.search import replication_ci

__all__ = ["ALL_REGIONS", "adoption_by_region", "print_adoption_summary"]

ALL_REGIONS = "all regions"
"""The ``region`` of the row over every segment."""


def adoption_by_region(adoption: pa.Table, confidence: float = 0.95) -> list[dict[str, float | str]]:
    """Per region, then over all regions: adoption at the horizon with its interval, and the service met.

    Parameters
    ----------
    adoption : pyarrow.Table
        The ``adoption`` table of a run (any number of replications).
    confidence : float
        Level of the Student-t interval over replications.

    Returns
    -------
    list of dict
        One row per region in table order, then the row ``region = "all regions"``:
        ``adopted_frac`` (mean over replications of Σ adopters / Σ enterprises in the
        replication's last step), ``adopted_frac_ci_half`` (half-width of its interval;
        NaN with one replication), ``replications``, ``adopters`` (mean), ``demand_gpu_h``
        (mean per replication), ``served_share`` (Σ served / Σ demand) and ``wait_mean_h``
        (demand-weighted).
    """
    cols = adoption.to_pydict()
    n = len(cols["region"])
    last_step: dict[int, int] = {}
    for k in range(n):
        rep = cols["replication"][k]
        last_step[rep] = max(last_step.get(rep, -1), cols["step"][k])
    reps = sorted(last_step)
    # service[region] = [demand, served, wait x demand, demand with a wait]; horizon[region][rep] = [adopters, ent.]
    service: dict[str, list[float]] = {}
    horizon: dict[str, dict[int, list[float]]] = {}
    for k in range(n):
        for region in (cols["region"][k], ALL_REGIONS):
            a = service.setdefault(region, [0.0] * 4)
            demand = cols["demand_gpu_h"][k]
            a[0] += demand
            a[1] += cols["served_gpu_h"][k]
            wait = cols["wait_mean_h"][k]
            if wait is not None and demand > 0:
                a[2] += wait * demand
                a[3] += demand
            rep = cols["replication"][k]
            if cols["step"][k] == last_step[rep]:
                h = horizon.setdefault(region, {}).setdefault(rep, [0.0, 0.0])
                h[0] += cols["adopters"][k]
                h[1] += cols["enterprises"][k]
    rows: list[dict[str, float | str]] = []
    for region, a in service.items():
        per_rep = [horizon[region][r] for r in reps if r in horizon.get(region, {})]
        fracs = [h[0] / h[1] for h in per_rep if h[1] > 0]
        mean, half = replication_ci(fracs, confidence) if fracs else (math.nan, math.nan)
        rows.append({
            "region": region,
            "adopted_frac": mean,
            "adopted_frac_ci_half": half,
            "replications": float(len(fracs)),
            "adopters": math.fsum(h[0] for h in per_rep) / len(reps),
            "demand_gpu_h": a[0] / len(reps),
            "served_share": a[1] / a[0] if a[0] > 0 else math.nan,
            "wait_mean_h": a[2] / a[3] if a[3] > 0 else math.nan,
        })
    rows.sort(key=lambda row: row["region"] == ALL_REGIONS)  # stable: regions in table order, the total last
    return rows


def _fmt(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def print_adoption_summary(console: Console, adoption: pa.Table, confidence: float = 0.95) -> None:
    """Print adoption at the horizon by region (mean ± interval half-width) with the service its adopters' jobs met."""
    rows = adoption_by_region(adoption, confidence)
    reps = int(rows[-1]["replications"]) if rows else 0
    spread = (f"mean ± {confidence:.0%} t-interval over {reps} replications" if reps > 1
              else "one replication: no interval")
    table = Table(title=f"adoption at the horizon by region ({spread}; service met by adopters' jobs over the run)",
                  title_justify="left")
    for name in ("region", "adopted", "±", "adopters", "demand GPU-h", "served in budget", "mean wait h"):
        table.add_column(name, justify="left" if name == "region" else "right")
    for row in rows:
        table.add_row(str(row["region"]), _fmt(float(row["adopted_frac"]), 4),
                      _fmt(float(row["adopted_frac_ci_half"]), 4), _fmt(float(row["adopters"]), 0),
                      _fmt(float(row["demand_gpu_h"]), 0), _fmt(float(row["served_share"]), 3),
                      _fmt(float(row["wait_mean_h"]), 2))
    console.print(table)
