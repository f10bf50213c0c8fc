"""Readable terminal tables for ``cpnsim run`` and ``cpnsim validate``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table

from cluster.calibration_bands import band_counts, built_from

if TYPE_CHECKING:
    from cluster.idle_sites import IdleSite
    from sim.validation import Check

__all__ = ["JOB_OUTCOMES", "print_calibration", "print_checks", "print_idle_sites", "print_run_summary"]

JOB_OUTCOMES = (
    "jobs_done", "jobs_unmet", "jobs_failed", "jobs_rejected", "jobs_running_end", "jobs_queued_end",
    "jobs_in_transfer_end",
)
"""Where every arrived job is at the horizon: ``jobs_arrived`` is their sum in each replication."""

_RUN_METRICS = (
    "jobs_arrived", *JOB_OUTCOMES, "utilisation", "wait_mean_h", "wait_p95_h",
    "queue_len_mean", "gpu_h_busy", "energy_mwh", "cost_cny", "co2_t", "events",
)

_PERCENT = frozenset({"utilisation"})
"""Fractions shown as percent, as the HTML report shows them."""


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
        if name in _PERCENT:
            values, unit = [100 * v for v in values], "%"
        label = f"  {name}" if name in JOB_OUTCOMES else name
        mean = values[0] if len(values) == 1 else (sum(values) / len(values) if values else None)
        cells = [_fmt(mean)] + ([_fmt(min(values)), _fmt(max(values))] if reps > 1 and values else [])
        if reps > 1 and not values:
            cells += ["-", "-"]
        table.add_row(label, unit, *cells)
    console.print(table)
    console.print(_balance_line(runs), highlight=False, soft_wrap=True)

    per_site = Table(title="sites (mean over intervals and replications)", title_justify="left")
    for label in ("site", "GPUs", "util %", "queue", "wait h", "p95 wait h", "started", "MWh"):
        per_site.add_column(label, justify="left" if label == "site" else "right")
    reps = max(1, runs.num_rows)
    grouped = sites.group_by("site_id", use_threads=False).aggregate([
        ("gpus_total", "max"), ("utilisation", "mean"), ("queue_len_mean", "mean"), ("wait_mean_h", "mean"),
        ("wait_p95_h", "mean"), ("jobs_started", "sum"), ("energy_mwh", "sum"),
    ])
    order = pc.sort_indices(grouped, sort_keys=[("site_id", "ascending")])
    for row in grouped.take(order).to_pylist():
        per_site.add_row(
            row["site_id"], _fmt(row["gpus_total_max"]), _fmt(100 * row["utilisation_mean"], 1),
            _fmt(row["queue_len_mean_mean"]), _fmt(row["wait_mean_h_mean"]), _fmt(row["wait_p95_h_mean"]),
            _fmt(row["jobs_started_sum"] // reps), _fmt(row["energy_mwh_sum"] / reps, 1),
        )
    console.print(per_site)


def print_idle_sites(console: Console, idle: Sequence[IdleSite]) -> None:
    """Print each site that started no job, with why (:func:`cluster.idle_sites.idle_sites`); nothing if none."""
    if not idle:
        return
    console.print(f"{len(idle)} site{'s' if len(idle) != 1 else ''} started no jobs:", highlight=False)
    for site in idle:
        console.print(f"  {site.site_id}: {site.reason}", highlight=False, soft_wrap=True)


def _balance_line(runs: pa.Table) -> str:
    """The job balance of the first replication, as a sum the reader can check by eye."""
    row = runs.slice(0, 1).to_pylist()[0]
    parts = " + ".join(f"{row[name]:,} {name.removeprefix('jobs_').replace('_end', '').replace('_', ' ')}"
                       for name in JOB_OUTCOMES)
    total = sum(row[name] for name in JOB_OUTCOMES)
    verdict = "" if total == row["jobs_arrived"] else f" (off by {row['jobs_arrived'] - total:+,})"
    which = " (replication 0)" if runs.num_rows > 1 else ""
    return f"jobs{which}: {row['jobs_arrived']:,} arrived = {parts}{verdict}"


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


def print_calibration(console: Console, calibration: pa.Table) -> None:
    """Print the ``calibration`` table: each published figure beside the model, over the replications.

    One row per figure: the model's mean over replications (with its range when they
    differ), the published value, the band, in how many replications the model lies
    inside it and whether the figure holds by construction; then a line counting outcome
    figures in band apart from those by construction, and the note of every figure the
    model misses or cannot reproduce.
    """
    all_rows = calibration.to_pylist()
    figures: dict[str, list[dict[str, object]]] = {}
    for row in all_rows:
        figures.setdefault(str(row["figure"]), []).append(row)
    table = Table(title="calibration: model vs published figures (sources in the dataset's calibration table)",
                  title_justify="left")
    for label in ("figure", "unit", "model", "published", "band", "within", "by construction"):
        table.add_column(label, justify="left" if label in ("figure", "unit", "within", "by construction") else "right")
    missed: list[tuple[str, str]] = []
    for rows in figures.values():
        first = rows[0]
        models = [float(str(r["model"])) for r in rows if r["model"] is not None]
        if models:
            spread = f" ({_fmt(min(models))}–{_fmt(max(models))})" if max(models) > min(models) else ""
            model = _fmt(sum(models) / len(models)) + spread
        else:
            model = "-"
        inside = sum(r["within"] is True for r in rows)
        judged = sum(r["within"] is not None for r in rows)
        within = "-" if not judged else ("yes" if inside == judged else "no" if not inside else f"{inside}/{judged}")
        table.add_row(str(first["label"]), str(first["unit"]), model, _fmt(first["published"]),
                      f"{_fmt(first['low'])}–{_fmt(first['high'])}", within,
                      "yes" if built_from(first) else "no")
        if within != "yes":
            missed.append((str(first["label"]), str(first["note"])))
    console.print(table)
    console.print(band_counts(all_rows).summary(), highlight=False)
    for label, note in missed:
        console.print(f"{label}: {note}", style="dim", highlight=False)
