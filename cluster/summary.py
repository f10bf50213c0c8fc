"""Readable terminal tables for ``cpnsim run`` and ``cpnsim validate``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sim.calibration_distance import DistanceRow
    from sim.validation import Check

__all__ = ["print_calibration_distance", "print_checks", "print_run_summary"]

_RUN_METRICS = (
    "jobs_arrived", "jobs_done", "jobs_rejected", "jobs_unmet", "jobs_failed", "jobs_queued_end", "utilisation",
    "wait_mean_h", "wait_p95_h",
    "queue_len_mean", "gpu_h_busy", "energy_mwh", "cost_cny", "co2_t", "events",
)


def _fmt(value: object, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_run_summary(console: Console, runs: pa.Table, sites: pa.Table) -> None:
    """Print the run's key metrics (mean and range over replications) and one row per site."""
    reps = runs.num_rows
    table = Table(title=f"runs ({reps} replication{'s' if reps != 1 else ''})", title_justify="left")
    table.add_column("metric")
    table.add_column("unit")
    table.add_column("mean" if reps > 1 else "value", justify="right")
    if reps > 1:
        table.add_column("min", justify="right")
        table.add_column("max", justify="right")
    for name in _RUN_METRICS:
        values = [v for v in runs.column(name).to_pylist() if v is not None]
        unit = runs.schema.field(name).metadata.get(b"unit", b"").decode()
        mean = values[0] if len(values) == 1 else (sum(values) / len(values) if values else None)
        cells = [_fmt(mean)] + ([_fmt(min(values)), _fmt(max(values))] if reps > 1 and values else [])
        if reps > 1 and not values:
            cells += ["-", "-"]
        table.add_row(name, unit, *cells)
    console.print(table)

    per_site = Table(title="sites (mean over intervals and replications)", title_justify="left")
    for label in ("site", "GPUs", "util", "queue", "wait h", "p95 wait h", "started", "MWh"):
        per_site.add_column(label, justify="left" if label == "site" else "right")
    reps = max(1, runs.num_rows)
    grouped = sites.group_by("site_id", use_threads=False).aggregate([
        ("gpus_total", "max"), ("utilisation", "mean"), ("queue_len_mean", "mean"), ("wait_mean_h", "mean"),
        ("wait_p95_h", "mean"), ("jobs_started", "sum"), ("energy_mwh", "sum"),
    ])
    order = pc.sort_indices(grouped, sort_keys=[("site_id", "ascending")])
    for row in grouped.take(order).to_pylist():
        per_site.add_row(
            row["site_id"], _fmt(row["gpus_total_max"]), _fmt(row["utilisation_mean"]),
            _fmt(row["queue_len_mean_mean"]), _fmt(row["wait_mean_h_mean"]), _fmt(row["wait_p95_h_mean"]),
            _fmt(row["jobs_started_sum"] // reps), _fmt(row["energy_mwh_sum"] / reps, 1),
        )
    console.print(per_site)


def print_checks(console: Console, checks: Sequence[Check]) -> None:
    """Print the validation checks with their intervals and verdicts."""
    table = Table(title="cpnsim validate", title_justify="left")
    for label in ("check", "expected", "observed", "CI low", "CI high", "unit", "result"):
        table.add_column(label, justify="left" if label in ("check", "unit", "result") else "right")
    for c in checks:
        verdict = "[green]pass[/green]" if c.passed else "[bold red]FAIL[/bold red]"
        table.add_row(c.name, f"{c.expected:.6g}", f"{c.observed:.6g}", f"{c.ci_low:.6g}", f"{c.ci_high:.6g}",
                      c.unit, verdict)
    console.print(table)
    failed = sum(not c.passed for c in checks)
    console.print(f"{len(checks) - failed} passed, {failed} failed")


def print_calibration_distance(console: Console, rows: Sequence[DistanceRow]) -> None:
    """Print the model's totals beside the published national figures (computed, not judged)."""
    table = Table(title="distance from published figures (model vs reference; not a pass/fail check)",
                  title_justify="left")
    for label in ("figure", "unit", "model", "reference", "as of", "distance"):
        table.add_column(label, justify="left" if label in ("figure", "unit", "as of") else "right")
    for row in rows:
        f = row.figure
        if math.isnan(row.distance):
            distance = "-"
        elif f.compare == "ratio":
            distance = f"{row.distance:+.1%}"
        else:
            distance = f"{row.distance:+.3f}"
        table.add_row(f.label, f.unit, _fmt(row.model), _fmt(f.value), f.as_of, distance)
    console.print(table)
    console.print("distance: model/reference - 1 for totals, model - reference for PUE and utilisation; "
                  "sources in sim/data/reference_figures.toml", style="dim", highlight=False)
