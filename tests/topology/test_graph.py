"""The networkx view and region-to-site latencies, on a network small enough to do by hand."""

import math

import numpy as np
import pytest

import topology.graph
from topology.graph import (
    link_latency_ms,
    link_route_km,
    region_site_latency_ms,
    region_site_latency_ms_networkx,
    to_graph,
)
from topology.load import load_network
from topology.model import Network

R = 6371.0
DEG_KM = 2 * math.pi * R / 360  # one degree along the equator, km

# Regions r1, r2 and sites s1, s2 on the equator; r3 and s3 have no links.
#   L1 r1-s1: great circle 1 deg x route_factor 2, hop 0.25 ms
#   L2 s1-s2: distance_km 100 (overrides the geometry)
#   L3 r1-s2: distance_km 400 (slower than r1-s1-s2)
#   L4 r2-s2: distance_km 200, hop 1 ms
# fibre_us_per_km = 4, so 1 km of route costs 0.004 ms.
FIBRE_MS_PER_KM = 0.004
L1 = DEG_KM * 2 * FIBRE_MS_PER_KM + 0.25  # 1.1395... ms
L2 = 100 * FIBRE_MS_PER_KM  # 0.4 ms
L3 = 400 * FIBRE_MS_PER_KM  # 1.6 ms
L4 = 200 * FIBRE_MS_PER_KM + 1.0  # 1.8 ms


@pytest.fixture
def net() -> Network:
    return Network.model_validate(
        {
            "name": "hand",
            "fibre_us_per_km": 4.0,
            "site": [
                {"id": "s1", "lat": 0.0, "lon": 1.0, "gpus": 8},
                {"id": "s2", "lat": 0.0, "lon": 2.0, "gpus": 8},
                {"id": "s3", "lat": 5.0, "lon": 5.0, "gpus": 8},
            ],
            "region": [
                {"id": "r1", "lat": 0.0, "lon": 0.0},
                {"id": "r2", "lat": 0.0, "lon": 10.0},
                {"id": "r3", "lat": 10.0, "lon": 10.0},
            ],
            "link": [
                {"id": "L1", "a": "r1", "b": "s1", "route_factor": 2.0, "hop_ms": 0.25, "bandwidth_gbps": 40},
                {"id": "L2", "a": "s1", "b": "s2", "distance_km": 100.0},
                {"id": "L3", "a": "r1", "b": "s2", "distance_km": 400.0},
                {"id": "L4", "a": "s2", "b": "r2", "distance_km": 200.0, "hop_ms": 1.0},
            ],
        }
    )


def test_graph_nodes_carry_kind_and_coordinates(net):
    g = to_graph(net)
    assert g.graph["name"] == "hand"
    assert set(g.nodes) == {"s1", "s2", "s3", "r1", "r2", "r3"}
    assert g.nodes["s2"] == {"kind": "site", "lat": 0.0, "lon": 2.0}
    assert g.nodes["r3"] == {"kind": "region", "lat": 10.0, "lon": 10.0}
    assert g.number_of_edges() == 4


def test_graph_edges_carry_route_latency_and_bandwidth(net):
    g = to_graph(net)
    e1 = g.edges["s1", "r1"]  # undirected
    assert e1["id"] == "L1"
    assert e1["route_km"] == pytest.approx(2 * DEG_KM, rel=1e-12)
    assert e1["latency_ms"] == pytest.approx(L1, rel=1e-12)
    assert e1["bandwidth_gbps"] == 40
    e2 = g.edges["s1", "s2"]
    assert e2["route_km"] == 100.0  # distance_km wins over 1 deg x 1.5
    assert e2["latency_ms"] == pytest.approx(L2, rel=1e-12)
    assert e2["bandwidth_gbps"] == 100.0  # default
    assert g.edges["r2", "s2"]["latency_ms"] == pytest.approx(L4, rel=1e-12)


def test_link_helpers():
    coords = {"a": (0.0, 0.0), "b": (0.0, 3.0)}
    from topology.model import Link

    plain = Link(id="x", a="a", b="b")  # default route_factor 1.5, hop 0
    assert link_route_km(plain, coords) == pytest.approx(3 * DEG_KM * 1.5, rel=1e-12)
    assert link_latency_ms(plain, coords) == pytest.approx(3 * DEG_KM * 1.5 * 0.005, rel=1e-12)
    fixed = Link(id="y", a="a", b="b", distance_km=0.0, hop_ms=0.7)
    assert link_route_km(fixed, coords) == 0.0
    assert link_latency_ms(fixed, coords, fibre_us_per_km=10.0) == 0.7


def test_region_site_latency_shortest_paths_by_hand(net):
    lat = region_site_latency_ms(net)
    assert lat.shape == (3, 3)
    expected = np.array(
        [
            # s1        s2                  s3
            [L1, min(L1 + L2, L3), np.inf],  # r1: via s1 (1.54 ms) beats L3 (1.6 ms)
            [L4 + L2, L4, np.inf],  # r2
            [np.inf, np.inf, np.inf],  # r3: no links at all
        ]
    )
    assert L1 + L2 < L3  # the hand network really exercises a two-hop shortest path
    np.testing.assert_allclose(lat, expected, rtol=1e-12)


def test_region_site_latency_routes_through_other_regions():
    # r2 reaches s only through r1: region nodes are transit nodes too.
    net = Network.model_validate(
        {
            "site": [{"id": "s", "lat": 0, "lon": 0, "gpus": 1}],
            "region": [{"id": "r1", "lat": 0, "lon": 1}, {"id": "r2", "lat": 0, "lon": 2}],
            "link": [
                {"id": "a", "a": "r1", "b": "s", "distance_km": 10.0},
                {"id": "b", "a": "r2", "b": "r1", "distance_km": 30.0, "hop_ms": 0.5},
            ],
        }
    )
    np.testing.assert_allclose(region_site_latency_ms(net), [[0.05], [0.05 + 0.15 + 0.5]], rtol=1e-12)


def test_no_links_means_all_unreachable():
    net = Network.model_validate(
        {"site": [{"id": "s", "lat": 0, "lon": 0, "gpus": 1}], "region": [{"id": "r", "lat": 0, "lon": 0}]}
    )
    assert np.isinf(region_site_latency_ms(net)).all()


def test_default_network_latencies():
    net = load_network("default")
    lat = region_site_latency_ms(net)
    assert lat.shape == (3, 5)
    assert np.isfinite(lat).all() and (lat > 0).all()
    # Beijing region to Zhangjiakou: one direct link, great circle x 1.5 at 5 us/km.
    bth, zjk = net.regions[0], net.sites[0]
    assert (bth.id, zjk.id) == ("dr_cn_bth", "cl_zhangjiakou")
    p, q = math.radians(bth.lat), math.radians(zjk.lat)
    cos_c = math.sin(p) * math.sin(q) + math.cos(p) * math.cos(q) * math.cos(math.radians(zjk.lon - bth.lon))
    direct_ms = R * math.acos(cos_c) * 1.5 * 0.005  # spherical law of cosines
    assert lat[0, 0] == pytest.approx(direct_ms, rel=1e-9)
    # Each region's nearest site is its own metro cluster (the diagonal of the first 3).
    assert list(lat.argmin(axis=1)) == [0, 1, 2]


def test_parallel_links_keep_the_faster_route():
    net = Network.model_validate(
        {
            "site": [{"id": "s", "lat": 0, "lon": 0, "gpus": 1}],
            "region": [{"id": "r", "lat": 0, "lon": 1}],
            "link": [
                {"id": "fast", "a": "r", "b": "s", "distance_km": 100.0},
                {"id": "slow", "a": "s", "b": "r", "distance_km": 1000.0},
            ],
        }
    )
    assert region_site_latency_ms(net)[0, 0] == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["default", "national", "edwc", "belt_and_road"])
def test_scipy_latencies_equal_networkx_to_the_bit(name, monkeypatch):
    monkeypatch.setattr(topology.graph, "SCIPY_MIN_NODES", 0)  # scipy even on the smallest network
    network = load_network(name)
    fast = region_site_latency_ms(network)
    assert fast.tobytes() == region_site_latency_ms_networkx(network).tobytes()


def test_scipy_latencies_keep_zero_latency_links_and_ties(monkeypatch):
    monkeypatch.setattr(topology.graph, "SCIPY_MIN_NODES", 0)
    # a0 - s0 has zero latency (same place, no hop cost): scipy drops implicit zeros, so
    # the link must be an explicit entry; s1 is reached over two routes of equal length.
    network = Network.model_validate({
        "site": [{"id": "s0", "lat": 0, "lon": 0, "gpus": 1}, {"id": "s1", "lat": 0, "lon": 2, "gpus": 1},
                 {"id": "s2", "lat": 5, "lon": 5, "gpus": 1}],
        "region": [{"id": "a0", "lat": 0, "lon": 0}, {"id": "a1", "lat": 1, "lon": 1}],
        "link": [{"id": "z", "a": "a0", "b": "s0", "bandwidth_gbps": 1, "hop_ms": 0.0},
                 {"id": "p", "a": "s0", "b": "s1", "bandwidth_gbps": 1, "distance_km": 100, "hop_ms": 0.0},
                 {"id": "q1", "a": "a1", "b": "s0", "bandwidth_gbps": 1, "distance_km": 50, "hop_ms": 0.0},
                 {"id": "q2", "a": "a1", "b": "s1", "bandwidth_gbps": 1, "distance_km": 150, "hop_ms": 0.0}],
    })
    fast = region_site_latency_ms(network)
    assert fast[0, 0] == 0.0 and fast[0, 1] == pytest.approx(0.5)
    assert math.isinf(fast[0, 2]) and math.isinf(fast[1, 2])  # s2 has no link
    assert fast.tobytes() == region_site_latency_ms_networkx(network).tobytes()
