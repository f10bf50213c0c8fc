"""The adoption part of ``cpnsim run``'s summary: adoption at the horizon by region, next to the service it met."""

from __future__ import annotations

import math

import pyarrow as pa
from rich.console import Console
from rich.table import Table

__all__ = ["adoption_by_region", "print_adoption_summary"]


def adoption_by_region(adoption: pa.Table) -> list[dict[str, float | str]]:
    """Per region, over all replications: adoption at the horizon and the service over the whole run.

    Returns rows with ``region``, ``adopted_frac`` (Σ adopters / Σ enterprises in each
    replication's last step, averaged over replications), ``adopters``, ``demand_gpu_h``,
    ``served_share`` (Σ served / Σ demand) and ``wait_mean_h`` (demand-weighted).
    """
    cols = adoption.to_pydict()
    n = len(cols["region"])
    last_step: dict[int, int] = {}
    for k in range(n):
        rep = cols["replication"][k]
        last_step[rep] = max(last_step.get(rep, -1), cols["step"][k])
    reps = len(last_step)
    acc: dict[str, list[float]] = {}
    for k in range(n):
        a = acc.setdefault(cols["region"][k], [0.0] * 6)
        demand = cols["demand_gpu_h"][k]
        a[2] += demand
        a[3] += cols["served_gpu_h"][k]
        wait = cols["wait_mean_h"][k]
        if wait is not None and demand > 0:
            a[4] += wait * demand
            a[5] += demand
        if cols["step"][k] == last_step[cols["replication"][k]]:
            a[0] += cols["adopters"][k]
            a[1] += cols["enterprises"][k]
    return [
        {
            "region": region,
            "adopted_frac": a[0] / a[1] if a[1] > 0 else math.nan,
            "adopters": a[0] / reps,
            "demand_gpu_h": a[2] / reps,
            "served_share": a[3] / a[2] if a[2] > 0 else math.nan,
            "wait_mean_h": a[4] / a[5] if a[5] > 0 else math.nan,
        }
        for region, a in acc.items()
    ]


def _fmt(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def print_adoption_summary(console: Console, adoption: pa.Table) -> None:
    """Print adoption at the horizon by region with the served share and wait its adopters' jobs met."""
    table = Table(title="adoption at the horizon by region (service met by adopters' jobs over the run)",
                  title_justify="left")
    for name in ("region", "adopted", "adopters", "demand GPU-h", "served in budget", "mean wait h"):
        table.add_column(name, justify="left" if name == "region" else "right")
    for row in adoption_by_region(adoption):
        table.add_row(str(row["region"]), _fmt(float(row["adopted_frac"]), 3), _fmt(float(row["adopters"]), 0),
                      _fmt(float(row["demand_gpu_h"]), 0), _fmt(float(row["served_share"]), 3),
                      _fmt(float(row["wait_mean_h"]), 2))
    console.print(table)
