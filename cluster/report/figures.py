"""Matplotlib figures as inline SVG, with one style and one set of colours for the whole page.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot), so making a
report neither needs a display nor touches pyplot's global state.  Text is drawn as
paths (``svg.fonttype = "path"``): the page then looks the same everywhere without
shipping or fetching a font, and labels sit exactly where matplotlib measured them.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

__all__ = [
    "HEAT_CMAP",
    "RASTER_CELLS",
    "SEQUENCE_CMAP",
    "CompactFormatter",
    "colours",
    "compact",
    "figure",
    "nice_ceiling",
    "series_colours",
    "to_svg",
]

# Okabe & Ito's colour-blind-safe qualitative palette (yellow left out: unreadable on
# white), then matplotlib's tab20 for longer lists (the national network has dozens of sites).
_QUALITATIVE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
# Paul Tol's "muted" scheme for policies and scenario curves, so they never read as sites.
_SERIES = ("#332288", "#CC6677", "#117733", "#88CCEE", "#AA4499", "#999933", "#44AA99", "#882255", "#DDCC77")
RASTER_CELLS = 4000  # heat maps with more cells are embedded as an image: thousands of SVG paths weigh MBs
HEAT_CMAP = "viridis"  # utilisation heat maps: perceptually uniform, readable in grey
SEQUENCE_CMAP = "plasma"  # ordered levels (capacity levels of adoption curves)

_STYLE: dict[Any, Any] = {  # keys typed Any: matplotlib types them as a Literal of every rc key
    "svg.fonttype": "path",
    "svg.hashsalt": "cpnsim-report",  # deterministic clip-path ids: same dataset, same page
    "font.family": "DejaVu Sans",  # ships with matplotlib: no system font needed
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#888888",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.7,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "figure.dpi": 100,
}


def colours(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per name, in the order given (the same name gets the same colour on every plot).

    Examples
    --------
    >>> colours(["a", "b"])
    {'a': '#0072B2', 'b': '#E69F00'}
    """
    if len(names) <= len(_QUALITATIVE):
        return dict(zip(names, _QUALITATIVE, strict=False))
    cmap: Colormap = mpl.colormaps["tab20"]
    return {name: mpl.colors.to_hex(cmap(i % 20)) for i, name in enumerate(names)}


def series_colours(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per policy or scenario curve, from a palette distinct from the sites'.

    Examples
    --------
    >>> series_colours(["least_loaded", "nearest"])
    {'least_loaded': '#332288', 'nearest': '#CC6677'}
    """
    return {name: _SERIES[i % len(_SERIES)] for i, name in enumerate(names)}


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x a power of ten that is >= ``value`` (a colour scale's top).

    Examples
    --------
    >>> nice_ceiling(0.37), nice_ceiling(3.0), nice_ceiling(100.0), nice_ceiling(0.0)
    (0.5, 5.0, 100.0, 1.0)
    """
    if not value > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value * (1 - 1e-12))


def compact(value: float, _pos: int | None = None) -> str:
    """Tick label with a k / M suffix from 10,000 on: ``250k``, ``1.2M``, ``2,048`` (a matplotlib tick formatter).

    Examples
    --------
    >>> compact(250000.0), compact(1_200_000.0), compact(2048.0), compact(40.0), compact(0.25)
    ('250k', '1.2M', '2,048', '40', '0.25')
    """
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= size:
            return f"{value / (size if suffix != 'k' else 1e3):g}{suffix}"
    return f"{value:,g}"


class CompactFormatter(Formatter):
    """Tick labels in one unit for the whole axis: ``0 10k 20k 30k`` (never ``5,000 10k``).

    The suffix is chosen from the largest tick, so every label of an axis reads alike.
    """

    _top = 0.0

    def set_locs(self, locs: Sequence[float]) -> None:
        """Remember the largest tick of the axis (matplotlib calls this before labelling)."""
        self._top = max((abs(float(v)) for v in locs), default=0.0)

    def __call__(self, x: float, pos: int | None = None) -> str:
        """The label of the tick at ``x``."""
        top = max(self._top, abs(x))
        for size, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
            if top >= size:
                divisor = size if suffix != "k" else 1e3
                return f"{x / divisor:,g}{suffix}" if x else "0"
        return f"{x:,g}"


@contextmanager
def figure(width_in: float, height_in: float, **kwargs: Any) -> Iterator[Figure]:
    """A new figure in the report style, of ``width_in`` x ``height_in`` inches.

    Parameters
    ----------
    width_in, height_in : float
        Size in inches (the page scales the SVG to its column; 10 in is full width).
    **kwargs
        Passed to :class:`~matplotlib.figure.Figure` (e.g. ``layout="constrained"``).
    """
    with mpl.rc_context(_STYLE):
        kwargs.setdefault("layout", "constrained")
        yield Figure(figsize=(width_in, height_in), **kwargs)


_ID = re.compile(r'(\bid=")([^"]+)(")|(url\(#)([^)]+)(\))|((?:xlink:)?href="#)([^"]+)(")')


def to_svg(fig: Figure, prefix: str, label: str) -> str:
    """Render ``fig`` as an ``<svg>`` element to paste into HTML.

    The XML prolog and metadata are dropped, every id is prefixed with ``prefix`` (the
    page holds many SVGs, whose ids would otherwise clash), and the fixed size becomes
    a responsive width with the same aspect ratio.

    Parameters
    ----------
    fig : Figure
        The figure; it is rendered in the report style.
    prefix : str
        Unique per figure on the page (letters, digits, ``-``).
    label : str
        Accessible name of the image (``aria-label``).
    """
    buf = io.StringIO()
    with mpl.rc_context(_STYLE):
        # dpi applies to rasterized artists only (large heat maps): sharp at twice the drawn size.
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight",
                    pad_inches=0.06, dpi=200)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)

    def prefixed(m: re.Match[str]) -> str:
        groups = m.groups()
        for i in (0, 3, 6):
            if groups[i] is not None:
                return f"{groups[i]}{prefix}-{groups[i + 1]}{groups[i + 2]}"
        return m.group(0)  # pragma: no cover - the pattern has three alternatives

    text = _ID.sub(prefixed, text)
    # Responsive: keep the viewBox, let CSS set the width.
    head_end = text.index(">")
    width = re.search(r'\swidth="([0-9.]+)pt"', text[:head_end])
    head = re.sub(r'\s(width|height)="[^"]*"', "", text[:head_end])
    # Never wider than drawn (1 pt = 4/3 CSS px): text stays at the size it was set in.
    if width:
        head += f' style="max-width: {float(width.group(1)) * 4 / 3:.0f}px"'
    label_attr = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    head += f' class="plot" role="img" aria-label="{label_attr}"'
    return head + text[head_end:]
