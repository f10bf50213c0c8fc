"""Distances and latencies on the Earth's surface."""

from __future__ import annotations

import math

__all__ = ["EARTH_RADIUS_KM", "great_circle_km", "propagation_ms"]

EARTH_RADIUS_KM = 6371.0


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points, in km (degrees in, WGS84 sphere).

    Examples
    --------
    >>> round(great_circle_km(39.90, 116.41, 31.23, 121.47))
    1067
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def propagation_ms(route_km: float, fibre_us_per_km: float = 5.0) -> float:
    """One-way propagation delay over ``route_km`` of fibre, in milliseconds.

    Examples
    --------
    >>> propagation_ms(1000.0)
    5.0
    """
    return route_km * fibre_us_per_km / 1000.0
