"""Energy, electricity cost and CO2: per site (from ``sites``) and per policy (from ``runs``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cluster.report.data import ReportData, ScenarioRow, scenario_label, scenario_rows, site_order
from cluster.report.figures import CompactFormatter, colours, compact, figure, series_colours, to_svg
from cluster.report.page import Omitted, Section, figure_html
from cluster.report.stats import mean_ci
from cluster.report.summary import Outcome, rescaled

__all__ = ["MAX_BARS", "METRICS", "Metric", "energy_section", "site_totals"]

MAX_BARS = 24  # scenarios drawn as stacked bars; more would not fit a readable width


@dataclass(frozen=True)
class Metric:
    """One of the three resource outcomes, as stored and as shown."""

    column: str
    label: str
    unit: str


def _scaled(metric: Metric, largest: float) -> tuple[float, str]:
    """Factor and axis label putting ``metric`` in the unit the summary table uses (GWh, M CNY, kt)."""
    shown = rescaled(Outcome(metric.column, metric.label, metric.unit), largest)
    return shown.scale, shown.heading


METRICS = (Metric("energy_mwh", "energy", "MWh"), Metric("cost_cny", "electricity cost", "CNY"),
           Metric("co2_t", "CO₂ emitted", "t"))


def site_totals(data: ReportData, scenario_id: str, sites: list[str], metric: str) -> np.ndarray:
    """Per site, the total of ``sites.<metric>`` over the statistics window, mean over replications.

    The row that contains ``warmup_h`` counts pro rata, as in ``runs`` (docs/schema.md), so a
    scenario's site totals add up to its ``runs`` total.
    """
    warmup = 0.0
    if data.has("runs"):
        w = data.col("runs", "warmup_h")[data.col("runs", "scenario_id") == scenario_id]
        warmup = float(np.nanmax(w)) if w.size and np.isfinite(w).any() else 0.0
    mask = data.col("sites", "scenario_id") == scenario_id
    site = data.col("sites", "site_id")[mask]
    rep = data.col("sites", "replication")[mask]
    t0, t1 = data.col("sites", "t_start_h")[mask], data.col("sites", "t_end_h")[mask]
    weight = np.clip((t1 - np.maximum(t0, warmup)) / (t1 - t0), 0.0, 1.0)
    value = np.nan_to_num(data.col("sites", metric)[mask]) * weight
    reps = np.unique(rep)
    out = np.zeros(len(sites))
    for i, s in enumerate(sites):
        out[i] = value[site == s].sum() / max(reps.size, 1)
    return out


def _per_site_run(data: ReportData, sites: list[str], scenario_id: str) -> str:
    palette = colours(sites)
    height = max(2.2, 0.3 * len(sites) + 1.0)
    with figure(10.0, height) as fig:
        axes = fig.subplots(1, 3, sharey=True)
        for ax, m in zip(axes, METRICS, strict=True):
            totals = site_totals(data, scenario_id, sites, m.column)
            factor, label = _scaled(m, float(totals.max(initial=0.0)))
            ax.barh(np.arange(len(sites)), totals * factor, color=[palette[s] for s in sites], height=0.7)
            ax.set_yticks(np.arange(len(sites)), sites)
            ax.invert_yaxis()
            ax.set_xlabel(label)
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(CompactFormatter())
        return to_svg(fig, "energy-sites", "Energy, cost and CO2 per site")


LABEL_CHARS = 60
"""Longest scenario label drawn beside a bar; longer ones (a study over nine axes) would squeeze the axes to nothing."""


def bar_labels(labels: Sequence[str]) -> list[str]:
    """``labels``, or their numbers 1..N when one is longer than :data:`LABEL_CHARS`."""
    return list(labels) if max(map(len, labels), default=0) <= LABEL_CHARS else [str(i + 1) for i in range(len(labels))]


def _per_site_sweep(data: ReportData, sites: list[str], rows: Sequence[ScenarioRow], labels: list[str]) -> str:
    palette = colours(sites)
    y = np.arange(len(rows))
    with figure(10.0, 0.32 * len(rows) + 1.4) as fig:
        axes = fig.subplots(1, 3, sharey=True)
        for ax, m in zip(axes, METRICS, strict=True):
            left = np.zeros(len(rows))
            totals = np.array([site_totals(data, r.scenario_id, sites, m.column) for r in rows])
            factor, label = _scaled(m, float(totals.sum(axis=1).max(initial=0.0)))
            totals *= factor
            for j, s in enumerate(sites):
                ax.barh(y, totals[:, j], left=left, color=palette[s], height=0.72, label=s, edgecolor="white",
                        linewidth=0.4)
                left += totals[:, j]
            ax.set_xlabel(label)
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(CompactFormatter())
            ax.tick_params(axis="y", length=0)
        axes[0].set_yticks(y, labels)
        axes[0].set_ylim(len(rows) - 0.5, -0.5)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside upper center", ncols=min(len(sites), 8), title="site",
                   title_fontsize=8.5)
        return to_svg(fig, "energy-sites", "Energy, cost and CO2 per site for each scenario")


def _per_policy(data: ReportData, rows: Sequence[ScenarioRow]) -> str | None:
    policy = next((a for a in data.axes if a.key == "policy"), None)
    if policy is None:
        return None
    others = [a for a in data.axes if a.key != "policy"]
    groups = list(dict.fromkeys(tuple(r.settings[a.key] for a in others) for r in rows))
    policies = [str(p) for p in policy.values]
    palette = series_colours(policies)
    x = np.arange(len(groups))
    width = 0.8 / len(policies)
    with figure(10.0, 3.2) as fig:
        axes = fig.subplots(1, 3)
        for ax, m in zip(axes, METRICS, strict=True):
            largest = max((float(np.nanmean(r.outcomes[m.column])) for r in rows
                           if r.outcomes.get(m.column, np.array([])).size), default=0.0)
            factor, label = _scaled(m, largest)
            for k, p in enumerate(policies):
                means, halves = [], []
                for g in groups:
                    vals = [r.outcomes.get(m.column, np.array([])) for r in rows
                            if str(r.settings["policy"]) == p and tuple(r.settings[a.key] for a in others) == g]
                    mean, half = mean_ci(np.concatenate(vals) * factor) if vals else (math.nan, math.nan)
                    means.append(mean)
                    halves.append(0.0 if math.isnan(half) else half)
                ax.bar(x + (k - (len(policies) - 1) / 2) * width, means, width * 0.92, yerr=halves, capsize=2.5,
                       color=palette[p], label=p, error_kw={"elinewidth": 0.9, "ecolor": "#333333"})
            ax.set_ylabel(label)
            ax.set_ylim(bottom=0)
            ax.grid(axis="x", visible=False)
            ax.yaxis.set_major_formatter(CompactFormatter())
            if len(others) == 1:  # name the axis once, tick its values
                ax.set_xticks(x, [compact(g[0]) if isinstance(g[0], int | float) else str(g[0]) for g in groups])
                ax.set_xlabel(others[0].label)
            elif others:
                ax.set_xticks(x, ["\n".join(a.show(v) for a, v in zip(others, g, strict=True)) for g in groups],
                              fontsize=7.5, rotation=90)
            else:
                ax.set_xticks([])
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside upper center", ncols=len(policies), title="policy",
                   title_fontsize=8.5)
        return to_svg(fig, "energy-policy", "Energy, cost and CO2 per placement policy")


def energy_section(data: ReportData) -> Section | Omitted:
    """Energy, cost and CO2 by site (run or sweep) and by policy (a sweep that varies ``policy``)."""
    title = "Energy, cost and CO₂"
    if not data.has("sites") or not data.has("runs"):
        return Omitted(title, "the dataset has no sites or runs table")
    needed = [m.column for m in METRICS if m.column not in data.tables["sites"].column_names]
    if needed:
        return Omitted(title, f"the sites table has no {', '.join(needed)} column")
    sites = site_order(data)
    rows = [r for r in scenario_rows(data, tuple(m.column for m in METRICS)) if r.status == "ok"]
    if not rows:
        return Omitted(title, "no scenario ran successfully")
    window = "over the statistics window (after warmup_h), mean over replications"
    blocks = []
    if data.kind == "run":
        svg = _per_site_run(data, sites, rows[0].scenario_id)
        blocks.append(figure_html(svg, f"Facility energy, electricity cost and CO₂ of each site {window}."))
    else:
        shown = rows[:MAX_BARS]
        labels = [scenario_label(data, r) for r in shown]
        bars = bar_labels(labels)
        svg = _per_site_sweep(data, sites, shown, bars)
        more = f" Showing {len(shown)} of {len(rows)} scenarios." if len(rows) > len(shown) else ""
        if bars != labels:
            more += " Bars numbered: " + "; ".join(f"{i + 1}: {label}" for i, label in enumerate(labels)) + "."
        blocks.append(figure_html(svg, f"Facility energy, electricity cost and CO₂ of each scenario {window}, "
                                       f"split by site (stacked).{more}"))
    policy_svg = _per_policy(data, rows)
    if policy_svg is not None:
        blocks.append(figure_html(policy_svg, "Totals per placement policy (from runs), mean over replications "
                                              "with 95 % confidence intervals, at each setting of the other axes."))
    intro = ("Energy is facility energy (IT power × PUE); cost uses each site's electricity price; CO₂ uses "
             "its grid intensity × (1 − renewable share).")
    return Section("energy", title, intro, tuple(blocks))
