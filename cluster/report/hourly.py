"""Hour by hour: a day-by-hour heat map per site of price, carbon and renewable share (with ``[signals]``).

Drawn for a run (not a sweep) whose ``sites`` rows are at most an hour long and whose
price or carbon changes between rows, i.e. a run with time signals
(``docs/model.md``, Time signals).  Each cell is one clock hour of one day, the mean over
replications of the sites rows that start in it.
"""

from __future__ import annotations

import math

import numpy as np

from cluster.report.data import ReportData, site_order
from cluster.report.figures import HEAT_CMAP, figure, to_svg
from cluster.report.page import Omitted, Section, figure_html

__all__ = ["HOURLY_METRICS", "day_by_hour", "hourly_section"]

HOURLY_METRICS = (("price_cny_per_kwh", "price, CNY/kWh"), ("carbon_kg_per_kwh", "grid carbon, kg CO₂/kWh"),
                  ("renewable_share", "renewable share of energy"))
MAX_SITES = 12  # panels per figure that stay readable at full width
MAX_DAYS = 62


def day_by_hour(t_start_h: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of ``values`` per (day, clock hour) of ``t_start_h``: array (days, 24), NaN where no row.

    Examples
    --------
    >>> day_by_hour(np.array([0.0, 1.0, 25.0, 25.0]), np.array([1.0, 2.0, 3.0, 5.0]))[:, :2].tolist()
    [[1.0, 2.0], [nan, 4.0]]
    """
    hour = np.floor(t_start_h).astype(np.int64)
    days = int(hour.max()) // 24 + 1 if hour.size else 0
    total = np.zeros(days * 24)
    count = np.zeros(days * 24)
    finite = np.isfinite(values)
    np.add.at(total, hour[finite], values[finite])
    np.add.at(count, hour[finite], 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return mean.reshape(days, 24)


def _figure(data: ReportData, sites: list[str], column: str, label: str, prefix: str) -> str:
    scenario = data.col("sites", "scenario_id")
    first = scenario == scenario[0]
    site_col = data.col("sites", "site_id")[first]
    t0 = data.col("sites", "t_start_h")[first]
    values = data.col("sites", column)[first]
    grids = [day_by_hour(t0[site_col == s], values[site_col == s])[:MAX_DAYS] for s in sites]
    low = min(float(np.nanmin(g)) for g in grids if np.isfinite(g).any())
    high = max(float(np.nanmax(g)) for g in grids if np.isfinite(g).any())
    ncols = min(len(sites), 4)
    nrows = math.ceil(len(sites) / ncols)
    with figure(10.0, 1.9 * nrows + 0.6) as fig:
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
        image = None
        for ax, site, grid in zip(axes, sites, grids, strict=False):
            image = ax.imshow(grid, aspect="auto", cmap=HEAT_CMAP, vmin=low, vmax=high, interpolation="nearest",
                              extent=(0, 24, grid.shape[0], 0))
            ax.set_title(site, fontsize=8)
            ax.set_xticks([0, 6, 12, 18, 24])
            ax.grid(False)
        for ax in axes[len(sites):]:
            ax.set_visible(False)
        for ax in axes[::ncols]:
            ax.set_ylabel("day")
        for ax in axes[-ncols:]:
            ax.set_xlabel("hour of day")
        if image is not None:
            fig.colorbar(image, ax=list(axes[:len(sites)]), label=label, shrink=0.8)
        return to_svg(fig, prefix, f"{label} by day and hour, per site")


def _varies_within_a_site(data: ReportData, column: str) -> bool:
    """Whether ``sites.<column>`` takes more than one value at some site (sites differ without signals)."""
    site = data.col("sites", "site_id")
    values = data.col("sites", column)
    for s in np.unique(site):
        v = values[site == s]
        v = v[np.isfinite(v)]
        if v.size and float(v.max()) - float(v.min()) > 1e-9 * abs(float(v.max())):  # beyond rounding
            return True
    return False


def hourly_section(data: ReportData) -> Section | Omitted:
    """Day-by-hour heat maps of price, grid carbon and renewable share per site (a run with hourly signals)."""
    title = "Hour by hour"
    if data.kind != "run" or not data.has("sites"):
        return Omitted(title, "drawn for a single run with a sites table")
    names = data.tables["sites"].column_names
    present = [(c, label) for c, label in HOURLY_METRICS if c in names]
    if not present:
        return Omitted(title, "the sites table has no price, carbon or renewable-share column")
    length = data.col("sites", "t_end_h") - data.col("sites", "t_start_h")
    if length.size == 0 or float(np.nanmax(length)) > 1.0 + 1e-9:
        return Omitted(title, "needs sites rows of at most one hour (metric_interval_h <= 1)")
    varying = [(c, label) for c, label in present if _varies_within_a_site(data, c)]
    if not varying:
        return Omitted(title, "price, carbon and renewable share do not change by the hour (no [signals])")
    sites = site_order(data)[:MAX_SITES]
    blocks = tuple(
        figure_html(_figure(data, sites, c, label, f"hourly-{c.replace('_', '-')}"),
                    f"{label.capitalize()} of each site by day (rows) and clock hour (columns), mean over "
                    "replications of the energy-weighted mean of the hour's sites row.")
        for c, label in varying
    )
    intro = ("With time signals each site's electricity price follows its province's time-of-use periods and its "
             "grid carbon and renewable share follow the hour's wind, solar and hydro (docs/model.md, Time signals).")
    return Section("hourly", title, intro, blocks)
