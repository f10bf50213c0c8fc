"""Adoption curves by region and capacity level, and unmet demand, from the ``adoption`` table (issue 6).

The table has one row per segment (demand region x industry) per adoption step. Its
column names are matched from a short list of candidates below, so the section follows
the table as it lands; when the needed columns are missing, the section is omitted with
a note naming them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pyarrow as pa

from cluster.report.data import Axis, ReportData, ScenarioRow, column, scenario_rows
from cluster.report.figures import SEQUENCE_CMAP, colours, figure, to_svg
from cluster.report.page import Omitted, Section, figure_html
from cluster.report.utilisation import time_unit

__all__ = ["AdoptionColumns", "adoption_section", "capacity_axis", "find_columns", "region_curves"]

MAX_REGIONS = 30


@dataclass(frozen=True)
class AdoptionColumns:
    """The ``adoption`` columns the section uses (None when the table lacks one)."""

    time: str
    region: str
    fraction: str | None
    adopters: str | None
    enterprises: str | None
    demand: str | None
    unmet: str | None


def _present(names: Sequence[str], name: str) -> str | None:
    return name if name in names else None


def find_columns(table: pa.Table) -> AdoptionColumns | str:
    """Match the columns of ``table`` (names of sim.tables.ADOPTION_COLUMNS); a string says what is missing."""
    names = table.column_names
    time, region = _present(names, "t_end_h"), _present(names, "region")
    fraction = _present(names, "adopted_frac")
    adopters, enterprises = _present(names, "adopters"), _present(names, "enterprises")
    if time is None or region is None or (fraction is None and not (adopters and enterprises)):
        return ("the adoption table lacks a time, region or adopted-fraction column "
                f"(has: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''})")
    return AdoptionColumns(time, region, fraction, adopters, enterprises, _present(names, "demand_gpu_h"),
                           _present(names, "unmet_gpu_h"))


def region_curves(table: pa.Table, cols: AdoptionColumns, scenario_id: str,
                  ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Adopted fraction of each region over time for one scenario, mean over replications.

    A region's fraction is its adopters over its enterprises summed over industries when
    the table has both, else the mean of its segments' fractions.

    Returns
    -------
    dict of str to (numpy.ndarray, numpy.ndarray)
        Per region: times (h) and adopted fraction (1).
    """
    mask = np.asarray(table.column("scenario_id").to_pylist(), dtype=object) == scenario_id
    region = np.asarray(table.column(cols.region).to_pylist(), dtype=object)[mask]
    t = column(table, cols.time)[mask]
    if cols.adopters and cols.enterprises:
        num, den = column(table, cols.adopters)[mask], column(table, cols.enterprises)[mask]
    else:
        assert cols.fraction is not None
        num, den = column(table, cols.fraction)[mask], np.ones(int(mask.sum()))
    # The first step's start state, so each curve begins at the initial adoption, not one step in.
    start: tuple[np.ndarray, np.ndarray] | None = None
    if "adopted_frac_start" in table.column_names and "t_start_h" in table.column_names:
        start = column(table, "t_start_h")[mask], column(table, "adopted_frac_start")[mask]
    out = {}
    for r in dict.fromkeys(region):
        sel = region == r
        times = np.unique(t[sel])
        frac = np.array([np.nansum(num[sel & (t == x)]) / np.nansum(den[sel & (t == x)]) for x in times])
        if start is not None and cols.enterprises and times.size:
            t0 = float(np.nanmin(start[0][sel]))
            first = sel & (start[0] == t0)
            ent = column(table, cols.enterprises)[mask][first]
            times = np.concatenate([[t0], times])
            frac = np.concatenate([[np.nansum(ent * start[1][first]) / np.nansum(ent)], frac])
        out[str(r)] = (times, frac)
    return out


def capacity_axis(data: ReportData) -> Axis | None:
    """The sweep axis that sets capacity (a numeric key about GPUs or capacity), if any."""
    return next((a for a in data.axes if a.numeric and ("gpus" in a.key or "capacity" in a.key)), None)


def _region_names(data: ReportData, limit: int = 19) -> dict[str, str]:
    """Region id to its name in the network, without a parenthesis and cut to ``limit`` characters."""
    if data.network is None:
        return {}
    out = {}
    for region in data.network.regions:
        name = (region.name or region.id).split(" (")[0]
        out[region.id] = name if len(name) <= limit else name[: limit - 1].rstrip() + "…"
    return out


def _curves_figure(data: ReportData, cols: AdoptionColumns, rows: list[ScenarioRow]) -> tuple[str, str]:
    table = data.tables["adoption"]
    cap = capacity_axis(data)
    if cap is not None:
        rows = sorted(rows, key=lambda r: float(r.settings[cap.key]))
    rows = rows[:8]
    curves = {r.scenario_id: region_curves(table, cols, r.scenario_id) for r in rows}
    regions = list(dict.fromkeys(k for c in curves.values() for k in c))[:MAX_REGIONS]
    horizon = float(np.nanmax(column(table, cols.time)))
    div, unit = time_unit(horizon)
    if cap is not None:
        cmap = mpl.colormaps[SEQUENCE_CMAP]
        line_colour = {r.scenario_id: mpl.colors.to_hex(cmap(0.1 + 0.75 * i / max(len(rows) - 1, 1)))
                       for i, r in enumerate(rows)}
        line_name = {r.scenario_id: f"{float(r.settings[cap.key]):,g} {cap.unit}".strip() for r in rows}
    else:
        names = [" · ".join(a.show(r.settings[a.key]) for a in data.axes) or "run" for r in rows]
        pal = colours(names)
        line_colour = {r.scenario_id: pal[n] for r, n in zip(rows, names, strict=True)}
        line_name = {r.scenario_id: n for r, n in zip(rows, names, strict=True)}
    titles = _region_names(data)
    ncols = min(6 if len(regions) > 8 else 4, len(regions))
    nrows = math.ceil(len(regions) / ncols)
    panel_h = 1.75 if ncols == 6 else 2.2
    with figure(10.0, panel_h * nrows + (0.9 if len(rows) > 1 else 0.5)) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        for k, ax in enumerate(axes.flat):
            if k >= len(regions):
                ax.set_visible(False)
                continue
            for r in rows:
                if regions[k] in curves[r.scenario_id]:
                    t, f = curves[r.scenario_id][regions[k]]
                    ax.plot(t / div, f * 100, color=line_colour[r.scenario_id], label=line_name[r.scenario_id])
            ax.set_title(titles.get(regions[k], regions[k]), fontsize=8.5 if ncols == 6 else 9, fontweight="normal")
            ax.set_ylim(0, 100)
            if k % ncols == 0:
                ax.set_ylabel("adopted (% of firms)")
            if k // ncols == nrows - 1 or k + ncols >= len(regions):
                ax.set_xlabel(f"{unit} from start")
                ax.tick_params(axis="x", labelbottom=True)
        if len(rows) > 1:
            handles, labels = axes.flat[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 6),
                       title=cap.label if cap is not None else None, title_fontsize=8.5)
        svg = to_svg(fig, "adoption", "Adoption curves by region")
    what = (f"one curve per capacity level ({cap.key})" if cap is not None else
            "one curve per scenario" if len(rows) > 1 else "")
    return svg, what


def _unmet_figure(data: ReportData, cols: AdoptionColumns, rows: list[ScenarioRow]) -> str | None:
    if cols.demand is None or cols.unmet is None:
        return None
    table = data.tables["adoption"]
    ids = np.asarray(table.column("scenario_id").to_pylist(), dtype=object)
    region = np.asarray(table.column(cols.region).to_pylist(), dtype=object)
    demand, unmet = column(table, cols.demand), column(table, cols.unmet)
    regions = list(dict.fromkeys(region))[:MAX_REGIONS]
    rows = rows[:8]
    cap = capacity_axis(data)
    if cap is not None:
        rows = sorted(rows, key=lambda r: float(r.settings[cap.key]))
        cmap = mpl.colormaps[SEQUENCE_CMAP]
        bar_colour = [mpl.colors.to_hex(cmap(0.1 + 0.75 * i / max(len(rows) - 1, 1))) for i in range(len(rows))]
        names = [f"{float(r.settings[cap.key]):,g} {cap.unit}".strip() for r in rows]
    else:
        names = [" · ".join(a.show(r.settings[a.key]) for a in data.axes) or "run" for r in rows]
        bar_colour = list(colours(names).values())
    width = 0.8 / len(rows)
    x = np.arange(len(regions))
    with figure(10.0, 3.2) as fig:
        ax = fig.subplots()
        for k, r in enumerate(rows):
            share = []
            for g in regions:
                sel = (ids == r.scenario_id) & (region == g)
                d = np.nansum(demand[sel])
                share.append(100 * np.nansum(unmet[sel]) / d if d > 0 else math.nan)
            ax.bar(x + (k - (len(rows) - 1) / 2) * width, share, width * 0.92, color=bar_colour[k], label=names[k])
        titles = _region_names(data, 22)
        ax.set_xticks(x, [titles.get(str(g), str(g)) for g in regions], rotation=40 if len(regions) > 6 else 0,
                      ha="right" if len(regions) > 6 else "center", rotation_mode="anchor")
        ax.set_ylabel("demand unmet (% of GPU-h asked)")
        ax.grid(axis="x", visible=False)
        if len(rows) > 1:
            fig.legend(loc="outside upper center", title=cap.label if cap is not None else None,
                       ncols=min(len(rows), 4), title_fontsize=8.5)
        return to_svg(fig, "unmet", "Unmet demand by region")


def adoption_section(data: ReportData) -> Section | Omitted:
    """Adoption curves per region (by capacity level in a sweep) and unmet demand per region."""
    title = "AI adoption"
    if not data.has("adoption"):
        return Omitted(title, "the dataset has no adoption table (run a scenario with adoption on)")
    cols = find_columns(data.tables["adoption"])
    if isinstance(cols, str):
        return Omitted(title, cols)
    rows = [r for r in scenario_rows(data, ()) if r.status == "ok"] if data.has("runs") else []
    if not rows:
        ids = dict.fromkeys(data.tables["adoption"].column("scenario_id").to_pylist())
        rows = [ScenarioRow(str(i), {}, "ok", None, {}) for i in ids]
    svg, what = _curves_figure(data, cols, rows)
    caption = ("Share of enterprises that have adopted AI in each demand region over simulated time "
               "(generalised Bass diffusion coupled to the capacity met), mean over replications"
               + (f"; {what}." if what else "."))
    blocks = [figure_html(svg, caption)]
    unmet = _unmet_figure(data, cols, rows)
    if unmet is not None:
        blocks.append(figure_html(unmet, "Share of each region's demand (GPU-hours) that was not served "
                                         "within its latency budget and maximum wait, over the whole run."))
    intro = "How fast AI adoption spreads in each region, and how much of the demand the network could not serve."
    return Section("adoption", title, intro, tuple(blocks))
