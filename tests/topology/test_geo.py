"""Great-circle distances and fibre propagation delay, against known values."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topology.geo import EARTH_RADIUS_KM, great_circle_km, propagation_ms

R = 6371.0  # the mean Earth radius the module documents (km)

lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False)
points = st.tuples(lats, lons)

# Haversine near antipodal points evaluates asin(sqrt(h)) with h ~ 1, where rounding of
# h (~1e-16) moves the result by up to 2R * sqrt(1e-16) ~ 1e-4 km: the float tolerance.
FLOAT_TOL_KM = 1e-3


def _vector_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Central angle from unit vectors (atan2 of |cross| and dot): independent of haversine."""

    def unit(lat: float, lon: float) -> np.ndarray:
        p, la = math.radians(lat), math.radians(lon)
        return np.array([math.cos(p) * math.cos(la), math.cos(p) * math.sin(la), math.sin(p)])

    u, v = unit(lat1, lon1), unit(lat2, lon2)
    return R * math.atan2(float(np.linalg.norm(np.cross(u, v))), float(np.dot(u, v)))


def test_earth_radius_is_the_mean_radius():
    assert EARTH_RADIUS_KM == R


def test_beijing_shanghai():
    # Beijing (39.90 N, 116.41 E) to Shanghai (31.23 N, 121.47 E): about 1,067 km on the
    # R = 6371 km sphere. Coordinates rounded to 0.01 deg (~1 km) bound the tolerance.
    d = great_circle_km(39.90, 116.41, 31.23, 121.47)
    assert d == pytest.approx(1067, abs=1.0)
    assert d == pytest.approx(_vector_km(39.90, 116.41, 31.23, 121.47), rel=1e-12)


def test_docstring_examples_hold():
    import doctest

    import topology.geo

    result = doctest.testmod(topology.geo, report=False)
    assert result.attempted >= 2
    assert result.failed == 0


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        ((0.0, 0.0), (90.0, 0.0), math.pi * R / 2),  # equator to pole: a quarter meridian
        ((0.0, 0.0), (-90.0, 77.0), math.pi * R / 2),  # longitude is irrelevant at a pole
        ((0.0, 0.0), (0.0, 1.0), 2 * math.pi * R / 360),  # one degree of the equator
        ((0.0, 0.0), (0.0, 180.0), math.pi * R),  # antipodes along the equator
        ((45.0, 10.0), (-45.0, -170.0), math.pi * R),  # antipodes off the equator
        ((10.0, 179.5), (10.0, -179.5), None),  # across the date line: short way round
    ],
)
def test_known_distances(a, b, expected_km):
    if expected_km is None:
        # One degree of longitude at latitude 10: the short way, not ~359 degrees.
        expected_km = _vector_km(*a, *b)
        assert expected_km < 2 * math.pi * R / 360
    assert great_circle_km(*a, *b) == pytest.approx(expected_km, rel=1e-9)


def test_zero_distance():
    assert great_circle_km(31.23, 121.47, 31.23, 121.47) == 0.0
    assert great_circle_km(90.0, 0.0, 90.0, 123.0) == pytest.approx(0.0, abs=1e-9)


@settings(derandomize=True)  # same examples on every run, like a fixed seed
@given(points, points)
def test_symmetric_bounded_and_matches_vector_formula(p, q):
    d = great_circle_km(*p, *q)
    assert d == great_circle_km(*q, *p)
    assert 0.0 <= d <= math.pi * R + FLOAT_TOL_KM
    assert d == pytest.approx(_vector_km(*p, *q), abs=FLOAT_TOL_KM)


@settings(derandomize=True)  # same examples on every run, like a fixed seed
@given(points, points, points)
def test_triangle_inequality(p, q, r):
    assert great_circle_km(*p, *r) <= great_circle_km(*p, *q) + great_circle_km(*q, *r) + FLOAT_TOL_KM


def test_propagation_ms():
    # 5 us/km (light in glass, n ~ 1.5): 1000 km -> 5 ms; the rate is a parameter.
    assert propagation_ms(1000.0) == 5.0
    assert propagation_ms(0.0) == 0.0
    assert propagation_ms(250.0, fibre_us_per_km=4.0) == pytest.approx(1.0)
    assert propagation_ms(2 * 1234.5) == pytest.approx(2 * propagation_ms(1234.5))
