"""Policy comparison: cost and CO2 per GPU-hour, renewable share, wait and deadline misses by policy (issue 16).

Drawn for a sweep whose axes include ``policy`` or a ``signals.*`` key (``signals.defer``,
``signals.time_aware``): one table row and one bar per scenario, each outcome the mean over
its replications with the half-width of the 95 % Student-t interval, read from ``runs``
(``cost_cny_per_gpu_h``, ``co2_kg_per_gpu_h``, ``renewable_share``, ``wait_mean_h``,
``deadline_misses``, ``deadline_misses_deferred``; docs/schema.md).
"""

from __future__ import annotations

import math

import numpy as np

from cluster.report.data import ReportData, ScenarioRow, scenario_label, scenario_rows
from cluster.report.figures import CompactFormatter, figure, series_colours, to_svg
from cluster.report.page import Omitted, Section, figure_html, table_html
from cluster.report.stats import fmt, mean_ci
from cluster.report.summary import Outcome

__all__ = ["POLICY_OUTCOMES", "policy_section", "varies_policy"]

POLICY_OUTCOMES = (
    Outcome("cost_cny_per_gpu_h", "cost per GPU-h", "CNY"),
    Outcome("co2_kg_per_gpu_h", "CO₂ per GPU-h", "kg"),
    Outcome("renewable_share", "renewable share", "%", 100.0),
    Outcome("wait_mean_h", "mean wait", "h"),
    Outcome("deadline_misses", "deadline misses", "jobs"),
    Outcome("deadline_misses_deferred", "of them deferred", "jobs"),
)
"""The columns compared, in table order; the last is the part of ``deadline_misses`` from held jobs."""

DRAWN = ("cost_cny_per_gpu_h", "co2_kg_per_gpu_h", "renewable_share", "deadline_misses")
MAX_SCENARIOS = 24  # bars that stay readable in one figure


def varies_policy(data: ReportData) -> list[str]:
    """The sweep's axes that change placement in time: ``policy`` and any ``signals.*`` key."""
    return [a.key for a in data.axes if a.key == "policy" or a.key.startswith("signals.")]


def _cell(values: np.ndarray, outcome: Outcome) -> str:
    mean, half = mean_ci(values * outcome.scale)
    return f"{fmt(mean)} ± {fmt(half, 2)}" if math.isfinite(half) else fmt(mean)


def _figure(data: ReportData, rows: list[ScenarioRow]) -> str:
    labels = [scenario_label(data, r, "\n" if len(data.axes) > 1 else " · ") for r in rows]
    palette = series_colours(labels)
    y = np.arange(len(rows))
    shown = [o for o in POLICY_OUTCOMES if o.column in DRAWN]
    with figure(10.0, max(2.4, 0.42 * len(rows) * (1.6 if len(data.axes) > 1 else 1.0) + 1.0)) as fig:
        axes = fig.subplots(1, len(shown), sharey=True)
        for ax, outcome in zip(axes, shown, strict=True):
            stats = [mean_ci(r.outcomes.get(outcome.column, np.array([])) * outcome.scale) for r in rows]
            means = np.array([m for m, _ in stats])
            halves = np.array([0.0 if not math.isfinite(h) else h for _, h in stats])
            ax.barh(y, np.nan_to_num(means), xerr=halves, height=0.7, color=[palette[label] for label in labels],
                    capsize=2.5, error_kw={"elinewidth": 0.9, "ecolor": "#333333"})
            if outcome.column == "deadline_misses":  # the deferred part, hatched over the total
                part = [mean_ci(r.outcomes.get("deadline_misses_deferred", np.array([])))[0] for r in rows]
                ax.barh(y, np.nan_to_num(np.array(part)), height=0.7, color="none", edgecolor="#333333",
                        hatch="///", linewidth=0.0, label="of held jobs (deferral)")
                if any(p > 0 for p in part if math.isfinite(p)):
                    ax.legend(fontsize=7, loc="lower right")
            ax.set_xlabel(outcome.heading)
            ax.set_xlim(left=0)
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(CompactFormatter())
            ax.tick_params(axis="y", length=0)
        axes[0].set_yticks(y, labels, fontsize=8)
        axes[0].set_ylim(len(rows) - 0.5, -0.5)
        return to_svg(fig, "policies", "Cost and CO2 per GPU-hour, renewable share and deadline misses by policy")


def policy_section(data: ReportData) -> Section | Omitted:
    """The policy comparison of a sweep over ``policy`` or ``[signals]`` settings (omitted otherwise)."""
    title = "Policies compared"
    if data.kind != "sweep" or not data.has("runs"):
        return Omitted(title, "drawn for a sweep that varies policy or [signals] settings")
    if not varies_policy(data):
        return Omitted(title, "the sweep varies neither policy nor a signals.* setting")
    names = data.tables["runs"].column_names
    present = [o for o in POLICY_OUTCOMES if o.column in names]
    if not any(o.column == "cost_cny_per_gpu_h" for o in present):
        return Omitted(title, "the runs table has no cost_cny_per_gpu_h column (written by an older cpnsim)")
    rows = [r for r in scenario_rows(data, tuple(o.column for o in present)) if r.status == "ok"]
    if not rows:
        return Omitted(title, "no scenario ran successfully")
    headers = [f"{a.short} ({a.unit})" if a.unit and a.unit != "1" else a.short for a in data.axes]
    headers += [o.heading for o in present]
    body = [[a.text(r.settings[a.key]) for a in data.axes] + [_cell(r.outcomes[o.column], o) for o in present]
            for r in rows]
    table = table_html(headers, body, [a.numeric for a in data.axes] + [True] * len(present))
    shown = rows[:MAX_SCENARIOS]
    more = f" Showing {len(shown)} of {len(rows)} scenarios." if len(rows) > len(shown) else ""
    svg = _figure(data, shown)
    intro = ("Per scenario, mean over replications ± the half-width of the 95 % confidence interval (Student t). "
             "Cost and CO₂ are per busy GPU-hour of the statistics window, idle power included; the renewable "
             "share is of the window's facility energy; deadline misses count, over the whole run, jobs of classes "
             "with deadline_h that started later than it after any hold, left unmet, or were still queued past it "
             "(docs/schema.md, runs); 'of them deferred' are the misses of jobs a [signals] defer policy held.")
    caption = ("Cost and CO₂ per busy GPU-hour, renewable share and deadline misses (hatched: misses of jobs held by "
               f"deferral), mean with 95 % confidence interval.{more}")
    return Section("policies", title, intro, (table, figure_html(svg, caption)))
