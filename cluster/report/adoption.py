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
from html import escape

import matplotlib as mpl
import numpy as np
import pyarrow as pa

from cluster.report.data import Axis, ReportData, ScenarioRow, column, scenario_rows
from cluster.report.figures import SEQUENCE_CMAP, colours, figure, to_svg
from cluster.report.page import Omitted, Section, figure_html, table_html
from cluster.report.utilisation import time_unit

__all__ = ["AdoptionColumns", "adoption_section", "capacity_axis", "find_columns", "region_curves",
           "yearly_adoption"]

MAX_REGIONS = 30
HOURS_PER_YEAR = 8766.0
"""Hours in a Julian year (as workloads.adoption.HOURS_PER_YEAR; the report does not import workloads)."""
MAX_YEARLY_ROWS = 60


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


def yearly_adoption(table: pa.Table, scenario_id: str, confidence: float = 0.95,
                    ) -> tuple[list[float], dict[str, list[tuple[float, float]]]]:
    """Adoption at the end of every simulated year, per region and over all regions, with its replication interval.

    Parameters
    ----------
    table : pyarrow.Table
        The ``adoption`` table (columns ``scenario_id``, ``replication``, ``t_end_h``, ``region``,
        ``adopters``, ``enterprises``).
    scenario_id : str
        The scenario.
    confidence : float
        Level of the Student-t interval over replications.

    Returns
    -------
    (list of float, dict)
        The year ends (h: 8766, 17532, ..., the horizon when it is not a whole year, and only
        those a step ends on), and per region (then ``"all regions"``) one ``(mean,
        half-width)`` per year end: Σ adopters / Σ enterprises of the step ending there;
        the half-width is NaN with one replication.
    """
    from cluster.search import replication_ci  # the interval cpnsim run and search print

    ids = np.asarray(table.column("scenario_id").to_pylist(), dtype=object)
    mask = ids == scenario_id
    t_end = column(table, "t_end_h")[mask]
    rep = column(table, "replication")[mask]
    region = np.asarray(table.column("region").to_pylist(), dtype=object)[mask]
    num, den = column(table, "adopters")[mask], column(table, "enterprises")[mask]
    if t_end.size == 0:
        return [], {}
    horizon = float(np.max(t_end))
    ends = [k * HOURS_PER_YEAR for k in range(1, int(horizon // HOURS_PER_YEAR) + 1)]
    if not ends or ends[-1] < horizon:
        ends.append(horizon)
    ends = [e for e in ends if np.any(np.isclose(t_end, e, rtol=0, atol=1e-6))]
    out: dict[str, list[tuple[float, float]]] = {}
    for name in [*dict.fromkeys(region), "all regions"]:
        sel = np.ones_like(mask[mask]) if name == "all regions" else region == name
        cells = []
        for e in ends:
            at = sel & np.isclose(t_end, e, rtol=0, atol=1e-6)
            fracs = [float(np.sum(num[at & (rep == r)]) / np.sum(den[at & (rep == r)]))
                     for r in np.unique(rep[at]) if np.sum(den[at & (rep == r)]) > 0]
            cells.append(replication_ci(fracs, confidence) if fracs else (math.nan, math.nan))
        out[str(name)] = cells
    return ends, out


def _fmt_ci(mean: float, half: float) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.3f}" if math.isnan(half) else f"{mean:.3f} ± {half:.3f}"


def _yearly_block(data: ReportData, rows: list[ScenarioRow]) -> str | None:
    table = data.tables["adoption"]
    needed = ("replication", "t_end_h", "region", "adopters", "enterprises")
    if any(c not in table.column_names for c in needed):
        return None
    cap = capacity_axis(data)
    if cap is not None:
        rows = sorted(rows, key=lambda r: float(r.settings[cap.key]))
    scenario = data.manifest.scenario or (data.manifest.spec or {}).get("base") or {}
    start_year = scenario.get("start_year") if isinstance(scenario, dict) else None
    names = _region_names(data, 40)
    body: list[list[str]] = []
    header: list[str] = []
    for r in rows[:8]:
        ends, cells = yearly_adoption(table, r.scenario_id)
        if not ends:
            continue
        if not header:
            header = [f"end of {int(start_year) + k}" if start_year is not None and e == (k + 1) * HOURS_PER_YEAR
                      else f"{e / HOURS_PER_YEAR:.2f} yr" for k, e in enumerate(ends)]
        level = f"{float(r.settings[cap.key]):,g} {cap.unit}".strip() if cap is not None else ""
        for region, values in cells.items():
            if len(body) < MAX_YEARLY_ROWS:
                body.append(([level] if cap is not None else [])
                            + [names.get(region, region)] + [_fmt_ci(m, h) for m, h in values])
    if not body:
        return None
    headers = ([cap.label] if cap is not None else []) + ["region"] + [f"{h} (adopted share)" for h in header]
    numeric = [False] * (len(headers) - len(header)) + [True] * len(header)
    reps = data.manifest.replications or (data.manifest.spec or {}).get("replications")
    caption = ("Adoption at the end of each simulated year by region"
               + (" and capacity level" if cap is not None else "")
               + ": share of enterprises that have adopted, mean ± half-width of the 95 % Student-t interval over "
               + (f"{reps} " if reps else "the ") + "replications (no ± with one replication).")
    return table_html(headers, body, numeric, caption)


def _drivers_block(data: ReportData) -> str | None:
    """Median, band and Sobol' ranking of adoption at the horizon when the dataset is a Saltelli sweep."""
    design = data.manifest.design
    if not isinstance(design, dict) or design.get("method") != "saltelli":
        return None
    from cluster.sensitivity import sobol_indices  # deferred: SALib imports pandas
    from topology.plumbing import CpnsimError

    try:
        result = sobol_indices(data.out, "adoption_frac_end", drop_failed=True)
    except CpnsimError as err:
        return f"<p>Drivers of adoption not computed: {escape(str(err))}</p>"
    blocks = []
    for g in result.groups:
        rows = [[str(k + 1), g.parameters[i], f"{g.st[i]:.3f} ± {g.st_conf[i]:.3f}",
                 f"{g.s1[i]:.3f} ± {g.s1_conf[i]:.3f}"] for k, i in enumerate(g.ranking())]
        at = f" at {g.grid}" if g.grid else ""
        caption = (f"What drives adoption at the horizon{at}: median {g.median:.3f}, {result.band:.0%} band "
                   f"{g.band_low:.3f}–{g.band_high:.3f} over the design's scenarios; parameters ranked by total "
                   f"Sobol' index ST (± {result.confidence:.0%} bootstrap half-width), N = {g.base_samples}.")
        blocks.append(table_html(["rank", "parameter", "ST (total)", "S1 (first order)"], rows,
                                 [True, False, True, True], caption))
    return "\n".join(blocks)


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
    yearly = _yearly_block(data, rows)
    if yearly is not None:
        blocks.append(yearly)
    drivers = _drivers_block(data)
    if drivers is not None:
        blocks.append(drivers)
    intro = "How fast AI adoption spreads in each region, and how much of the demand the network could not serve."
    return Section("adoption", title, intro, tuple(blocks))
