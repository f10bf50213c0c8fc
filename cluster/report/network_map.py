"""A map-like plot of the network: sites sized by GPUs, demand regions, links, by latitude and longitude."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import Bbox

from cluster.report.data import ReportData, column, site_order
from cluster.report.figures import colours, figure, nice_ceiling, to_svg
from cluster.report.page import Omitted, Section, figure_html
from topology.model import Network

__all__ = ["link_utilisation", "network_section"]

_MAX_AREA_PT2 = 900.0  # marker area of the largest site
_MIN_AREA_PT2 = 18.0  # smallest sites stay visible
# Label positions tried around a point, in points, with their alignment: right, left, above, below, diagonals.
_OFFSETS = ((7, 0, "left", "center"), (-7, 0, "right", "center"), (0, 8, "center", "bottom"),
            (0, -8, "center", "top"), (6, 6, "left", "bottom"), (-6, 6, "right", "bottom"),
            (6, -6, "left", "top"), (-6, -6, "right", "top"))


def link_utilisation(data: ReportData) -> dict[str, float]:
    """Mean utilisation per link id from the ``links`` table (issue 4), when it has one."""
    if not data.has("links"):
        return {}
    table = data.tables["links"]
    names = table.column_names
    link_col = next((c for c in ("link_id", "link") if c in names), None)
    util_col = next((c for c in ("utilisation_mean", "utilisation", "util_mean") if c in names), None)
    if link_col is None or util_col is None:
        return {}
    ids = table.column(link_col).to_pylist()
    util = column(table, util_col)
    out: dict[str, list[float]] = {}
    for i, u in zip(ids, util, strict=True):
        if math.isfinite(u):
            out.setdefault(str(i), []).append(float(u))
    means = {k: float(np.mean(v)) for k, v in out.items()}
    return means if any(v > 0 for v in means.values()) else {}  # an idle network is drawn plain


def _area(gpus: float, largest: float) -> float:
    return max(_MIN_AREA_PT2, _MAX_AREA_PT2 * gpus / largest)


def _place_labels(fig: Figure, ax: Axes, points: list[tuple[float, float, str, float, dict[str, object]]],
                  segments: list[tuple[tuple[float, float], tuple[float, float]]]) -> int:
    """Label ``points`` (x, y, text, marker radius in pt, text style) greedily where they overlap nothing.

    Markers, link ``segments`` (data coordinates) and labels already placed are obstacles.
    Returns the number of labels left out because every position overlapped.
    """
    renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]  # untyped in matplotlib
    fig.draw_without_rendering()
    fig.set_layout_engine("none")  # freeze the layout: boxes measured now stay valid
    taken: list[Bbox] = []
    for x, y, _text, radius, _style in points:  # markers first: taken[k] is point k's own marker
        cx, cy = ax.transData.transform((x, y))
        r = radius * fig.dpi / 72
        taken.append(Bbox.from_extents(cx - r, cy - r, cx + r, cy + r))
    for a, b in segments:  # a link is a row of small boxes along it
        (ax0, ay0), (bx0, by0) = ax.transData.transform(a), ax.transData.transform(b)
        steps = max(2, int(math.hypot(bx0 - ax0, by0 - ay0) / 6))
        for f in np.linspace(0.0, 1.0, steps):
            px, py = ax0 + f * (bx0 - ax0), ay0 + f * (by0 - ay0)
            taken.append(Bbox.from_extents(px - 1.5, py - 1.5, px + 1.5, py + 1.5))
    axes_box = ax.get_window_extent(renderer).expanded(1.04, 1.04)  # labels may reach a little past the frame
    skipped = 0
    for k, (x, y, text, radius, style) in enumerate(points):
        placed = False
        for dx, dy, ha, va in _OFFSETS:
            scale = 1 + radius / 7 if dx or dy else 1
            ann = ax.annotate(text, (x, y), xytext=(dx * scale, dy * scale), textcoords="offset points",
                              ha=ha, va=va, **style)  # type: ignore[arg-type]
            box = ann.get_window_extent(renderer).padded(1.5)
            own = taken[k]
            clash = any(box.overlaps(b) for b in taken if b is not own)
            if not clash and axes_box.contains(box.x0, box.y0) and axes_box.contains(box.x1, box.y1):
                taken.append(box)
                placed = True
                break
            ann.remove()
        skipped += not placed
    return skipped


def _draw(network: Network, util: Mapping[str, float], palette: Mapping[str, str]) -> tuple[str, int, bool]:
    coords = {s.id: (s.lon, s.lat) for s in network.sites} | {r.id: (r.lon, r.lat) for r in network.regions}
    lons = np.array([c[0] for c in coords.values()])
    lats = np.array([c[1] for c in coords.values()])
    span_x, span_y = max(float(np.ptp(lons)), 4.0), max(float(np.ptp(lats)), 3.0)
    squash = math.cos(math.radians(float(lats.mean())))  # equirectangular: x shrinks with latitude
    # Size the figure to the map's own aspect (plus room for the legend), so no blank band is left.
    ratio = (1.2 * span_x * squash) / (1.2 * span_y)  # width / height of the padded map
    height_in = 5.4 if ratio < 1.6 else max(3.4, 7.4 / ratio)
    width_in = min(10.0, height_in * ratio + 2.6)
    largest = max(s.gpus for s in network.sites)
    with figure(width_in, height_in) as fig:
        ax = fig.subplots()
        ax.set_aspect(1 / squash, adjustable="box")
        bandwidths = [link.bandwidth_gbps for link in network.link]
        bw_max = max(bandwidths, default=1.0)
        cmap = None
        top = nice_ceiling(max(util.values(), default=0.0) * 100)  # colour scale top, %
        if util:
            import matplotlib as mpl

            cmap = mpl.colormaps["YlOrRd"]  # busy links dark red; idle ones stay the plain grey
        for link in network.link:
            (x0, y0), (x1, y1) = coords[link.a], coords[link.b]
            lw = 0.6 + 2.6 * math.sqrt(link.bandwidth_gbps / bw_max)
            colour: str | tuple[float, float, float, float] = "#9aa5b1"
            if cmap is not None and util.get(link.id, 0.0) > 0:
                colour = cmap(0.25 + 0.75 * min(1.0, util[link.id] * 100 / top))
            ax.plot([x0, x1], [y0, y1], color=colour, lw=lw, solid_capstyle="round", zorder=1, alpha=0.9)
        ax.scatter([r.lon for r in network.regions], [r.lat for r in network.regions], marker="s", s=46,
                   facecolor="white", edgecolor="#444444", linewidth=1.2, zorder=3, label="demand region")
        ax.scatter([s.lon for s in network.sites], [s.lat for s in network.sites],
                   s=[_area(s.gpus, largest) for s in network.sites], c=[palette[s.id] for s in network.sites],
                   edgecolor="white", linewidth=0.8, zorder=4, alpha=0.92)
        ax.set_xlim(lons.min() - 0.1 * span_x, lons.max() + 0.1 * span_x)
        ax.set_ylim(lats.min() - 0.1 * span_y, lats.max() + 0.1 * span_y)
        ax.set_xlabel("longitude (° E)")
        ax.set_ylabel("latitude (° N)")
        # Size key: round numbers spanning the network's sites.
        keys = sorted({_round(largest), _round(largest / 4), _round(largest / 20)}, reverse=True)
        handles = [ax.scatter([], [], s=_area(k, largest), color="#8a96a3", edgecolor="white", label=f"{k:,} GPUs")
                   for k in keys if k > 0]
        region_handle = ax.scatter([], [], marker="s", s=46, facecolor="white", edgecolor="#444444",
                                   linewidth=1.2, label="demand region")
        link_handle = ax.plot([], [], color="#9aa5b1", lw=2, label="link (width ∝ √bandwidth)")[0]
        # Anchored to the axes, not the figure: the map's fixed aspect shrinks the axes, and the key follows it.
        ax.legend(handles=[*handles, region_handle, link_handle], loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  labelspacing=1.3, borderpad=0.8, handletextpad=1.5)
        if cmap is not None:
            import matplotlib as mpl

            shown = mpl.colors.LinearSegmentedColormap.from_list("used", [cmap(x) for x in np.linspace(0.25, 1, 64)])
            sm = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, top), cmap=shown)
            bar = fig.colorbar(sm, ax=ax, location="bottom", shrink=0.5, aspect=30, pad=0.02)
            bar.set_label("mean link utilisation (%)")
            bar.locator = MaxNLocator(5)
            bar.formatter = FuncFormatter(lambda v, _pos: f"{v:g}")
            bar.update_ticks()
        points: list[tuple[float, float, str, float, dict[str, object]]] = [
            (s.lon, s.lat, s.id, math.sqrt(_area(s.gpus, largest)) / 2,
             {"fontsize": 8, "color": "#1d2329"}) for s in sorted(network.sites, key=lambda s: -s.gpus)]
        points += [(r.lon, r.lat, r.id, 4.0, {"fontsize": 7.5, "color": "#555555", "style": "italic"})
                   for r in network.regions]
        segments = [(coords[link.a], coords[link.b]) for link in network.link]
        skipped = _place_labels(fig, ax, points, segments)
        return to_svg(fig, "map", "Map of the network's sites, demand regions and links"), skipped, cmap is not None


def _round(value: float) -> int:
    """``value`` rounded down to 1, 2 or 5 times a power of ten (a legend-friendly number)."""
    if value < 1:
        return 0
    power = 10 ** math.floor(math.log10(value))
    return int(max(m for m in (1, 2, 5) if m * power <= value) * power)


def network_section(data: ReportData) -> Section | Omitted:
    """The network drawn by latitude and longitude; omitted when it cannot be resolved."""
    title = "Network map"
    if data.network is None:
        return Omitted(title, data.network_note or "the network is unknown")
    network = data.network
    palette = colours(site_order(data) or [s.id for s in network.sites])
    palette = {s.id: palette.get(s.id, "#777777") for s in network.sites}
    util = link_utilisation(data)
    svg, skipped, coloured = _draw(network, util, palette)
    caption = (f"Network {network.name!r}: {len(network.sites)} sites (circles, area proportional to GPUs, "
               f"coloured as in the other plots), {len(network.regions)} demand regions (squares) and "
               f"{len(network.link)} links, on an equirectangular projection.")
    if coloured:
        caption += (" Links that carried data are coloured by their mean utilisation over the run (links table); "
                    "grey ones carried none.")
    if skipped:
        caption += f" {skipped} label(s) that would overlap others are left out."
    if data.network_note:
        caption += " " + data.network_note
    intro = "Where the compute is and where the demand comes from."
    return Section("network", title, intro, (figure_html(svg, caption),))
