"""WAN link utilisation over time and data moved per link, from the ``links`` table (issue 4).

One row per link per metric interval. Column names are matched from short candidate
lists, so the section follows the table as it lands; it is omitted with a note when the
needed columns are missing.
"""

from __future__ import annotations

import math

import numpy as np

from cluster.report.data import ReportData, column, scenario_label, scenario_rows
from cluster.report.figures import HEAT_CMAP, RASTER_CELLS, figure, nice_ceiling, to_svg
from cluster.report.page import Omitted, Section, figure_html
from cluster.report.utilisation import heat_matrix, time_unit

__all__ = ["MAX_LINKS", "links_section"]

GB_PER_TB = 1e3
MAX_LINKS = 40  # busiest links shown; a national network has more than a page can label
MAX_PANELS = 4


def links_section(data: ReportData) -> Section | Omitted:
    """Heat map of link utilisation (busiest links) and terabytes moved per link."""
    title = "WAN links"
    if not data.has("links"):
        return Omitted(title, "the dataset has no links table (jobs moved no data between regions and sites)")
    table = data.tables["links"]
    names = table.column_names
    # Column names are those of sim.tables.LINKS_COLUMNS (the dataset's schema).
    if not {"link_id", "utilisation", "t_start_h", "t_end_h"} <= set(names):
        return Omitted(title, "the links table lacks a link id, utilisation or interval column")
    link = np.asarray(table.column("link_id").to_pylist(), dtype=object)
    util = column(table, "utilisation")
    mean_util = {k: float(np.nanmean(util[link == k])) for k in dict.fromkeys(link)}
    used = {k: u for k, u in mean_util.items() if math.isfinite(u) and u > 0}
    if not used:  # an all-dark heat map says less than a sentence
        return Omitted(title, f"no data moved over any of the {len(mean_util)} links (no job's input crossed the "
                              "network: set input_gb on a job class)")
    ranked = sorted(used, key=lambda k: (-used[k], str(k)))
    busiest = [str(k) for k in ranked[:MAX_LINKS]]
    rows = [r for r in scenario_rows(data, ()) if r.status == "ok"] if data.has("runs") else []
    ids = [r.scenario_id for r in rows] or list(dict.fromkeys(table.column("scenario_id").to_pylist()))
    labels = [scenario_label(data, r) for r in rows] if rows else [data.title] * len(ids)
    shown = ids[:MAX_PANELS]
    div, unit = time_unit(float(np.nanmax(column(table, "t_end_h"))))
    # WAN links are mostly lightly used: the colour scale tops at the busiest interval (a round
    # number), not at 100 %, or every cell would be the same dark.
    top = nice_ceiling(float(np.nanmax(util)) * 100)
    blocks = []
    with figure(10.0, (0.2 * len(busiest) + 0.8) * len(shown) + 0.3) as fig:
        axes = fig.subplots(len(shown), 1, squeeze=False, sharex=True)[:, 0]
        image = None
        for k, ax in enumerate(axes):
            matrix, edges = heat_matrix(data, shown[k], busiest, "utilisation", "links", "link_id")
            image = ax.pcolormesh(edges / div, np.arange(len(busiest) + 1), matrix * 100, cmap=HEAT_CMAP, vmin=0,
                                  vmax=top, shading="flat", edgecolors="face", linewidth=0.3,
                                  rasterized=matrix.size * len(shown) > RASTER_CELLS)
            ax.set_yticks(np.arange(len(busiest)) + 0.5, busiest, fontsize=7.5)
            ax.set_ylim(len(busiest), 0)
            ax.grid(False)
            ax.tick_params(axis="y", length=0)
            if len(shown) > 1:
                ax.set_title(labels[k], fontsize=9, fontweight="normal")
        axes[-1].set_xlabel(f"simulated time ({unit})")
        assert image is not None
        fig.colorbar(image, ax=list(axes), aspect=25, pad=0.01).set_label("link utilisation (% of bandwidth)")
        svg = to_svg(fig, "links", "Heat map of link utilisation over time")
    more = (f" The {len(busiest)} busiest of the {len(mean_util)} links; the others carried nothing."
            if len(mean_util) > len(busiest) else "")
    more += f" The colour scale ends at {top:g} %." if top < 100 else ""
    blocks.append(figure_html(svg, "Mean share of each link's bandwidth in use per metric interval, mean over "
                                   f"replications; links sorted by mean utilisation.{more}"))
    if "moved_gb" in names:
        moved = column(table, "moved_gb") / GB_PER_TB
        first = np.asarray(table.column("scenario_id").to_pylist(), dtype=object) == shown[0]
        reps = max(len(set(table.column("replication").to_pylist())), 1) if "replication" in names else 1
        total = {k: float(np.nansum(moved[first & (link == k)])) / reps for k in busiest}
        busiest = sorted(busiest, key=lambda k: -total[k])  # most data first
        with figure(10.0, 0.22 * len(busiest) + 1.0) as fig:
            ax = fig.subplots()
            ax.barh(np.arange(len(busiest)), [total[k] for k in busiest], color="#0072B2", height=0.7)
            ax.set_yticks(np.arange(len(busiest)), busiest, fontsize=7.5)
            ax.invert_yaxis()
            ax.set_xlabel("data moved over the run (TB)")
            ax.grid(axis="y", visible=False)
            svg = to_svg(fig, "links-bytes", "Data moved per link")
        which = f" ({labels[0]})" if len(ids) > 1 else ""
        blocks.append(figure_html(svg, f"Terabytes of job input moved over each link during the run{which}, "
                                       "mean over replications."))
    intro = "How busy the wide-area links were when jobs were placed away from where their data is."
    return Section("links", title, intro, tuple(blocks))
