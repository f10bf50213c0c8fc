"""Site utilisation over time: a heat map of site x metric interval, from ``sites``."""

from __future__ import annotations

import math

import numpy as np

from cluster.idle_sites import COLUMNS, idle_sites
from cluster.report.data import ReportData, scenario_label, scenario_rows, site_order
from cluster.report.figures import HEAT_CMAP, RASTER_CELLS, figure, to_svg
from cluster.report.page import Omitted, Section, figure_html, table_html
from sim.scenario import scenario_from_dict
from topology.plumbing import CpnsimError

__all__ = ["MAX_PANELS", "heat_matrix", "idle_sites_block", "time_unit", "utilisation_section"]

MAX_PANELS = 12  # scenarios of a sweep drawn as small multiples; more would be unreadable


def time_unit(horizon_h: float) -> tuple[float, str]:
    """Divisor and name of the unit a time axis of ``horizon_h`` hours reads best in.

    Examples
    --------
    >>> time_unit(48.0), time_unit(720.0), time_unit(5 * 8760.0)
    ((1.0, 'h'), (24.0, 'days'), (8760.0, 'years'))
    """
    if horizon_h >= 2 * 8760:
        return 8760.0, "years"
    if horizon_h > 96:
        return 24.0, "days"
    return 1.0, "h"


def heat_matrix(data: ReportData, scenario_id: str, sites: list[str], value: str = "utilisation",
                table_name: str = "sites", key: str = "site_id") -> tuple[np.ndarray, np.ndarray]:
    """Mean over replications of ``<table_name>.<value>`` as a (row id, interval) matrix.

    Parameters
    ----------
    data : ReportData
        The dataset.
    scenario_id : str
        The scenario whose rows are used.
    sites : list of str
        Row ids in matrix order (values of ``key``).
    value : str
        The column averaged.
    table_name, key : str
        The table (``sites``, ``links``) and its id column (``site_id``, ``link_id``).

    Returns
    -------
    matrix : numpy.ndarray
        Shape (len(sites), intervals); NaN where an id has no row.
    edges_h : numpy.ndarray
        Interval edges in hours (intervals + 1 values).
    """
    mask = data.col(table_name, "scenario_id") == scenario_id
    site = data.col(table_name, key)[mask]
    t0, t1 = data.col(table_name, "t_start_h")[mask], data.col(table_name, "t_end_h")[mask]
    v = data.col(table_name, value)[mask]
    ends = np.unique(t1)
    edges = np.concatenate([[t0.min() if t0.size else 0.0], ends])
    total = np.zeros((len(sites), ends.size))
    count = np.zeros_like(total)
    row_of = {s: i for i, s in enumerate(sites)}
    cols = np.searchsorted(ends, t1)
    for s, c, x in zip(site, cols, v, strict=True):
        if s in row_of and math.isfinite(x):
            total[row_of[s], c] += x
            count[row_of[s], c] += 1
    with np.errstate(invalid="ignore"):
        return total / count, edges


def utilisation_section(data: ReportData) -> Section | Omitted:
    """Heat map of utilisation by site and interval (small multiples for a sweep)."""
    title = "Site utilisation over time"
    if not data.has("sites"):
        return Omitted(title, "the dataset has no sites table")
    sites = site_order(data)
    rows = [r for r in scenario_rows(data, ()) if r.status == "ok"] if data.has("runs") else []
    ids = [r.scenario_id for r in rows] or list(dict.fromkeys(data.tables["sites"].column("scenario_id").to_pylist()))
    labels = [scenario_label(data, r, "\n") for r in rows] if rows else [data.title] * len(ids)
    shown = ids[:MAX_PANELS]
    horizon = float(np.nanmax(data.col("sites", "t_end_h")))
    div, unit = time_unit(horizon)
    ncols = 2 if len(shown) in (2, 4) else min(len(shown), 3)
    nrows = math.ceil(len(shown) / ncols)
    panel_h = (0.24 if len(sites) <= 12 else 0.18) * len(sites) + 0.75
    with figure(10.0, panel_h * nrows + 0.4) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        image = None
        for k, ax in enumerate(axes.flat):
            if k >= len(shown):
                ax.set_visible(False)
                continue
            matrix, edges = heat_matrix(data, shown[k], sites)
            # edgecolors="face": cells drawn edge to edge, without the hairline seams SVG antialiasing leaves.
            image = ax.pcolormesh(edges / div, np.arange(len(sites) + 1), matrix * 100, cmap=HEAT_CMAP,
                                  vmin=0, vmax=100, shading="flat", edgecolors="face", linewidth=0.3,
                                  rasterized=matrix.size * len(shown) > RASTER_CELLS)
            ax.set_yticks(np.arange(len(sites)) + 0.5, sites)
            ax.set_ylim(len(sites), 0)  # first site on top (not invert_yaxis: the y axis is shared)
            ax.grid(False)
            ax.tick_params(axis="y", length=0)
            if len(shown) > 1:
                ax.set_title(labels[k], fontsize=8.5, fontweight="normal", linespacing=1.3)
            if k // ncols == nrows - 1 or k + ncols >= len(shown):
                ax.set_xlabel(f"simulated time ({unit})")
                ax.tick_params(axis="x", labelbottom=True)
        assert image is not None
        # Beside the first row only: one row's height reads well whatever the number of rows.
        bar = fig.colorbar(image, ax=axes[0, :].tolist(), aspect=25 if len(sites) > 3 else 10, pad=0.01)
        bar.set_label("utilisation (% of the site's GPUs busy)")
        svg = to_svg(fig, "util", "Heat map of site utilisation over time")
    interval = float(np.nanmedian(data.col("sites", "t_end_h") - data.col("sites", "t_start_h")))
    caption = (f"Share of each site's GPUs allocated to jobs (time-average), per {interval:g} h metric interval, "
               "mean over replications; rows are sites in network order, darker is idler. "
               + ("Each panel is one scenario of the sweep." if len(shown) > 1 else "")
               + (f" Showing {len(shown)} of {len(ids)} scenarios." if len(ids) > len(shown) else ""))
    intro = "Where and when the GPUs were busy: saturated sites show as bright bands, idle ones as dark."
    idle = idle_sites_block(data)
    return Section("utilisation", title, intro, (figure_html(svg, caption.strip()), *(idle or ())))


def idle_sites_block(data: ReportData) -> tuple[str, ...]:
    """A run's sites that started no job, each with why (:mod:`cluster.idle_sites`); empty for a sweep or when none.

    The reasons read the scenario the manifest records; a manifest whose scenario no longer
    validates (written by an older cpnsim) still gets the reasons that need only the tables,
    and a ``sites`` table without the columns they need (:data:`cluster.idle_sites.COLUMNS`)
    gets none.
    """
    if data.kind != "run" or not data.has("sites") or not set(COLUMNS) <= set(data.tables["sites"].column_names):
        return ()
    recorded = dict(data.manifest.scenario or {})
    try:
        scenario = scenario_from_dict(recorded, "manifest.json")
        policy, classes = scenario.policy, dict(scenario.workload)
    except CpnsimError:
        policy, classes = str(recorded.get("policy", "placement")), {}
    idle = idle_sites(data.tables["sites"], data.network, policy, classes)
    if not idle:
        return ()
    caption = f"{len(idle)} site{'s' if len(idle) != 1 else ''} started no jobs in any replication, and why"
    return (table_html(("site", "why it started no jobs"), [(s.site_id, s.reason) for s in idle], (False, False),
                       caption),)
