"""The network as a networkx graph, and the latencies between its nodes."""

from __future__ import annotations

import networkx as nx
import numpy as np

from topology.geo import great_circle_km, propagation_ms
from topology.model import Link, Network

__all__ = ["link_latency_ms", "link_route_km", "node_coords", "region_site_latency_ms", "to_graph"]


def node_coords(network: Network) -> dict[str, tuple[float, float]]:
    """Node id -> ``(lat, lon)`` in degrees, for every site and region.

    Examples
    --------
    >>> from topology.load import load_network
    >>> node_coords(load_network("default"))["dr_cn_bth"]
    (39.9, 116.41)
    """
    nodes = {s.id: (s.lat, s.lon) for s in network.sites}
    nodes.update({r.id: (r.lat, r.lon) for r in network.regions})
    return nodes


def link_route_km(link: Link, coords: dict[str, tuple[float, float]]) -> float:
    """Route length of ``link`` in km: its ``distance_km``, else great circle × route factor."""
    if link.distance_km is not None:
        return link.distance_km
    (lat1, lon1), (lat2, lon2) = coords[link.a], coords[link.b]
    return great_circle_km(lat1, lon1, lat2, lon2) * link.route_factor


def link_latency_ms(link: Link, coords: dict[str, tuple[float, float]], fibre_us_per_km: float = 5.0) -> float:
    """One-way latency of ``link`` in ms: propagation over its route plus the fixed hop cost."""
    return propagation_ms(link_route_km(link, coords), fibre_us_per_km) + link.hop_ms


def to_graph(network: Network) -> nx.Graph:
    """An undirected graph of sites and regions joined by links.

    Nodes carry ``kind`` (``site`` or ``region``), ``lat`` and ``lon``; edges carry
    ``id``, ``route_km``, ``latency_ms`` (one way) and ``bandwidth_gbps``.  Of parallel
    links between the same two nodes the graph keeps the one with the lowest latency.
    """
    coords = node_coords(network)
    graph = nx.Graph(name=network.name)
    for s in network.sites:
        graph.add_node(s.id, kind="site", lat=s.lat, lon=s.lon)
    for r in network.regions:
        graph.add_node(r.id, kind="region", lat=r.lat, lon=r.lon)
    for link in network.links:
        latency = link_latency_ms(link, coords, network.fibre_us_per_km)
        if graph.has_edge(link.a, link.b) and graph.edges[link.a, link.b]["latency_ms"] <= latency:
            continue  # parallel links: routing takes the faster one
        graph.add_edge(
            link.a,
            link.b,
            id=link.id,
            route_km=link_route_km(link, coords),
            latency_ms=latency,
            bandwidth_gbps=link.bandwidth_gbps,
        )
    return graph


def region_site_latency_ms(network: Network) -> np.ndarray:
    """One-way shortest-path latency from every region to every site, in ms.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_regions, n_sites)`` in file order; ``inf`` where no path exists.
    """
    graph = to_graph(network)
    out = np.full((len(network.regions), len(network.sites)), np.inf)
    for i, region in enumerate(network.regions):
        lengths = nx.single_source_dijkstra_path_length(graph, region.id, weight="latency_ms")
        for j, site in enumerate(network.sites):
            if site.id in lengths:
                out[i, j] = lengths[site.id]
    return out
