"""Response curves: outcomes against each numeric sweep axis, with replication confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from cluster.report.data import Axis, ReportData, ScenarioRow, scenario_rows
from cluster.report.figures import CompactFormatter, compact, figure, series_colours, to_svg
from cluster.report.page import Omitted, Section, figure_html
from cluster.report.stats import mean_ci
from cluster.report.summary import Outcome, largest_mean, outcomes, rescaled

__all__ = ["MAX_BARS", "MAX_LINES", "response_points", "response_section"]

MAX_LINES = 8  # curves per panel; past this the other axes are pooled
MAX_BARS = 30  # points per curve drawn with their confidence interval; past this, points only
_PREFERRED = ("adoption", "wait_mean_h", "utilisation", "cost_cny", "co2_t")


def response_points(rows: Sequence[ScenarioRow], axis: Axis, outcome: Outcome,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per value of ``axis``: mean of ``outcome`` over the replications of ``rows`` and its 95 % CI half-width.

    Replications of every scenario in ``rows`` at the same axis value are pooled.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, mean, half_width)``, sorted by ``x``; half-width NaN with one replication.
    """
    xs = sorted({float(r.settings[axis.key]) for r in rows})
    means, halves = [], []
    for x in xs:
        vals = [r.outcomes[outcome.column] for r in rows if float(r.settings[axis.key]) == x]
        mean, half = mean_ci(np.concatenate(vals) * outcome.scale) if vals else (math.nan, math.nan)
        means.append(mean)
        halves.append(half)
    return np.array(xs), np.array(means), np.array(halves)


def _pick(found: Sequence[Outcome]) -> list[Outcome]:
    chosen = []
    for prefix in _PREFERRED:
        chosen += [o for o in found if o.column.startswith(prefix) and o not in chosen]
    return chosen[:4]


def _draw_axis(data: ReportData, rows: list[ScenarioRow], axis: Axis, shown: list[Outcome]) -> tuple[str, str]:
    others = [a for a in data.axes if a is not axis]
    # Grid axes hold still along a curve: one curve per setting of them. Sampled axes drawn in
    # one design with this one vary along with it, so its points cannot be joined into a curve.
    fixed_axes = [a for a in others if not a.sampled]
    joint = [a for a in others if a.sampled]
    scatter = axis.sampled and (bool(joint) or not fixed_axes)
    keys = [tuple(r.settings[a.key] for a in fixed_axes) for r in rows]
    # In the order of the axes' values, so legends list policies as every other plot does.
    groups = sorted(dict.fromkeys(keys),
                    key=lambda g: [a.values.index(v) for a, v in zip(fixed_axes, g, strict=True)])
    pooled = len(groups) > MAX_LINES
    by_group = {g: [r for r, k in zip(rows, keys, strict=True) if k == g] for g in groups}
    groups_rows: dict[tuple[Any, ...], list[ScenarioRow]] = {(): rows} if pooled else by_group
    names = [" · ".join(a.show(v) for a, v in zip(fixed_axes, g, strict=True)) or "all" for g in groups_rows]
    only_policy = [a.key for a in fixed_axes] == ["policy"] and not pooled
    palette = series_colours([str(v) for v in fixed_axes[0].values] if only_policy else names)
    many = False
    with figure(10.0, 3.1) as fig:
        axes = fig.subplots(1, len(shown), squeeze=False)[0]
        for ax, outcome in zip(axes, shown, strict=True):
            for (g, members), name in zip(groups_rows.items(), names, strict=True):
                colour = palette[str(g[0])] if only_policy else palette[name]
                label = name.removeprefix("policy = ") if only_policy else name
                x, y, h = response_points(members, axis, outcome)
                style = "o" if scatter else "-o"
                if x.size > MAX_BARS:  # a cloud of interval bars hides the points: points only
                    many = True
                    ax.plot(x, y, style, ms=2.5, lw=0.9, color=colour, label=label, alpha=0.85)
                else:
                    ax.errorbar(x, y, yerr=np.nan_to_num(h), fmt=style, ms=4 if scatter else 5, color=colour,
                                capsize=3, elinewidth=1.0, label=label)
            ax.set_ylabel(outcome.heading)
            ax.set_title(outcome.label[:1].upper() + outcome.label[1:], fontsize=9.5)
            if not axis.sampled and min(axis.values) > 0 and max(axis.values) / min(axis.values) >= 4:
                ax.set_xscale("log", base=2)  # a geometric grid (512, 1024, 2048) spaced evenly
                ax.minorticks_off()
            if len(axis.values) <= 8 and not axis.sampled:  # a grid: tick exactly the values run
                ax.set_xticks(list(axis.values), [compact(v) for v in axis.values])
            if axis.sampled:
                ax.xaxis.set_major_formatter(CompactFormatter())
            ax.yaxis.set_major_formatter(CompactFormatter())
            # The outcomes are non-negative (a percentage at most 100): a t interval of two
            # replications can reach past that, and is drawn cut at the bound.
            top = min(ax.get_ylim()[1], 100) if outcome.unit == "%" else ax.get_ylim()[1]
            ax.set_ylim(-0.03 * top, top)  # a little below 0: a curve at 0 stays visible above the axis
        fig.supxlabel(axis.label, fontsize=9.5, color="#333333")  # once for the row: long keys fit
        if len(groups_rows) > 1:
            handles, labels = axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 4),
                       title="policy" if only_policy else None, title_fontsize=8.5)
        notes = []
        if scatter:
            varying = f" ({', '.join(a.short for a in joint)} vary with it)" if joint else ""
            notes.append(f"each point is one scenario{varying}")
        if pooled:
            notes.append(f"replications pooled over {', '.join(a.short for a in fixed_axes)}")
        elif len(groups_rows) > 1:
            notes.append("one curve per setting of the other axes")
        if many:
            notes.append(f"with more than {MAX_BARS} points the intervals are left out")
        return to_svg(fig, f"resp-{axis.key.replace('.', '-')}", f"Outcomes against {axis.key}"), "; ".join(notes)


def response_section(data: ReportData) -> Section | Omitted:
    """Response curves of the outcomes against every numeric axis of a sweep."""
    title = "Response to the swept parameters"
    if data.kind != "sweep":
        return Omitted(title, "a single run has no swept parameter (run a sweep for response curves)")
    numeric = [a for a in data.axes if a.numeric]
    if not numeric or not data.has("runs"):
        return Omitted(title, "the sweep varies no numeric parameter")
    shown = _pick(outcomes(data))
    rows = [r for r in scenario_rows(data, tuple(o.column for o in shown)) if r.status == "ok"]
    if not rows:
        return Omitted(title, "no scenario ran successfully")
    shown = [rescaled(o, largest_mean(rows, o)) for o in shown]  # TWh, bn CNY: as in the summary table
    blocks = []
    for axis in numeric:
        svg, how = _draw_axis(data, rows, axis, shown)
        names = ", ".join(o.label for o in shown)
        bars = "" if "intervals are left out" in how else "bars are 95 % confidence intervals (Student t); "
        caption = (f"{names[:1].upper() + names[1:]} against {axis.key}: mean over replications, {bars}{how}."
                   ).replace("; .", ".").replace(", .", ".")
        blocks.append(figure_html(svg, caption))
    intro = "How the outcomes move as each numeric parameter of the sweep changes."
    return Section("response", title, intro, tuple(blocks))
