"""Replication statistics and number formatting shared by the report's sections."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fmt", "mean_ci"]


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean of the finite ``values`` and the half-width of its Student-t confidence interval.

    Parameters
    ----------
    values : numpy.ndarray
        One value per replication; NaN (a null statistic) is left out.
    level : float
        Confidence level of the interval.

    Returns
    -------
    tuple of float
        ``(mean, half_width)``; NaN mean when there is no value, NaN half-width with
        fewer than two values (no interval from one replication).

    Examples
    --------
    >>> mean_ci(np.array([1.0, 3.0]))  # t(0.975, 1) = 12.706...; s / sqrt(2) = 1
    (2.0, 12.706204736174694)
    >>> mean_ci(np.array([4.0]))
    (4.0, nan)
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    mean = float(finite.mean())
    if finite.size < 2:
        return mean, math.nan
    from scipy.stats import t  # deferred: scipy.stats takes a while to import

    half = float(t.ppf(0.5 + level / 2, finite.size - 1) * finite.std(ddof=1) / math.sqrt(finite.size))
    return mean, half


def fmt(value: float, digits: int = 3) -> str:
    """A number for a table: ``digits`` significant digits, thousands separators, M / G past a million.

    NaN (no value) is shown as ``—``.

    Examples
    --------
    >>> fmt(123456.0), fmt(4692460639.0), fmt(209148627.0, 2), fmt(0.061234), fmt(float("nan")), fmt(12.0)
    ('123,456', '4.69 G', '209 M', '0.0612', '—', '12.0')
    >>> fmt(2.61e-5)
    '2.6e-05'
    """
    if not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    if abs(value) < 1e-3:  # a wait of seconds in hours: 2.6e-05, not 0.0000261
        return f"{value:.{max(digits - 1, 1)}g}"
    for size, suffix in ((1e9, " G"), (1e6, " M")):  # 4.69 G, not 4,692,460,639: tables stay narrow
        if abs(value) >= size:
            return _significant(value / size, digits) + suffix
    return _significant(value, digits)


def _significant(value: float, digits: int) -> str:
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= digits - 1:
        return f"{value:,.0f}"
    return f"{value:,.{digits - 1 - magnitude}f}"
