"""The network as a networkx graph, and the latencies between its nodes."""

from __future__ import annotations

import networkx as nx
import numpy as np

from topology.geo import great_circle_km, propagation_ms
from topology.model import Link, Network

__all__ = [
    "link_latency_ms", "link_route_km", "node_coords", "region_site_latency_ms", "region_site_latency_ms_networkx",
    "to_graph",
]


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


SCIPY_MIN_NODES = 16
"""Graphs with fewer nodes use networkx: scipy's set-up costs more than the search there
(0.13 against 0.05 ms for the built-in default network; 0.36 against 1.2 ms for the
24-site national one)."""


def region_site_latency_ms(network: Network) -> np.ndarray:
    """One-way shortest-path latency from every region to every site, in ms.

    Computed by scipy's Dijkstra over the graph of :func:`to_graph` (the parallel link
    with the lowest latency, zero-latency links kept as explicit entries).  The
    distances are networkx's to the last bit: each is the least, over the routes, of the
    route's latencies added hop by hop, and a rounded sum grows with its terms, so
    both searches settle on the same float (``tests/topology/test_graph.py`` compares
    them).  0.21 against 1.16 CPU s for networkx at 10,000 sites (benchmarks/README.md,
    "Where the time went at 10,000 sites").

    Returns
    -------
    numpy.ndarray
        Shape ``(n_regions, n_sites)`` in file order; ``inf`` where no path exists.
    """
    graph = to_graph(network)
    if graph.number_of_nodes() < SCIPY_MIN_NODES:
        return _latency_networkx(graph, network)
    # Imported here: scipy takes ~0.2 s to import and `cpnsim topology list` must stay light
    # (tests/cluster/cli/test_main.py, test_a_command_imports_its_own_module_only).
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    # The graph's own dicts, not its .nodes/.edges views: a view is cached on the graph and
    # refers back to it, a reference cycle the run's paused collector would leave behind
    # (tests/sim/test_run.py, test_a_run_creates_no_reference_cycles).
    adj = graph._adj
    index = {node: i for i, node in enumerate(adj)}
    rows: list[int] = []
    cols: list[int] = []
    latency: list[float] = []
    for a, neighbours in adj.items():
        for b, edge in neighbours.items():  # each edge twice, once from each end
            rows.append(index[a])
            cols.append(index[b])
            latency.append(edge["latency_ms"])
    n = len(index)
    matrix = csr_matrix((np.array(latency, dtype=np.float64), (rows, cols)), shape=(n, n))
    sources = [index[r.id] for r in network.regions]
    if not sources:
        return np.full((0, len(network.sites)), np.inf)
    dist = dijkstra(matrix, directed=True, indices=sources)
    out: np.ndarray = dist[:, [index[s.id] for s in network.sites]]
    return out


def region_site_latency_ms_networkx(network: Network) -> np.ndarray:
    """:func:`region_site_latency_ms` by networkx, one search per region: the reference the tests compare with."""
    return _latency_networkx(to_graph(network), network)


def _latency_networkx(graph: nx.Graph, network: Network) -> np.ndarray:
    out = np.full((len(network.regions), len(network.sites)), np.inf)
    for i, region in enumerate(network.regions):
        lengths = nx.single_source_dijkstra_path_length(graph, region.id, weight="latency_ms")
        for j, site in enumerate(network.sites):
            if site.id in lengths:
                out[i, j] = lengths[site.id]
    return out
