"""Input transfers: a job placed away from its origin first moves its input over the WAN.

Which placements move data
    A site is *co-located* with a region when the one-way latency between them is at
    most :data:`LOCAL_LATENCY_MS` (a metro radius: 2.5 ms is about 330 km of
    great-circle distance at the default 5 µs/km and route factor 1.5).  A job placed at
    a site that is not co-located with its origin region is *remote*; if its class has
    ``input_gb`` it moves its input before it is submitted to the site.  A co-located
    job, or one without ``input_gb``, is submitted at once.

The route
    The path from *r* to *s* is the networkx shortest path by ``latency_ms`` on
    :func:`topology.graph.to_graph` (the route whose length is the latency placement
    used), computed once per (region, site) and cached.  The transfer is one flow of
    :class:`sim.flows.FlowNetwork` over those links; it ends when its last byte has
    arrived (max-min fair share of bandwidth, plus the path's one-way latency).

:class:`Transfers` also samples the per-link rows of the ``links`` table.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np

from sim.engine import Callback, Engine
from sim.flows import FlowNetwork, LinkCounters
from sim.tables import append_row, empty_columns
from topology.graph import to_graph
from topology.model import Network

__all__ = ["LOCAL_LATENCY_MS", "Transfers", "remote_matrix"]

LOCAL_LATENCY_MS = 2.5
"""One-way latency (ms) up to which a site counts as co-located with a region: no transfer."""


def remote_matrix(latency_ms: np.ndarray, local_ms: float = LOCAL_LATENCY_MS) -> list[list[bool]]:
    """``remote[r][s]``: does a job from region ``r`` placed at site ``s`` move its input?

    Parameters
    ----------
    latency_ms : numpy.ndarray
        One-way latency region (rows) → site (columns), ms; ``inf`` where unreachable.
    local_ms : float
        Co-location radius, one-way ms.
    """
    out: list[list[bool]] = (latency_ms > local_ms).tolist()
    return out


class Transfers:
    """Input transfers of remote jobs, and the link counters behind the ``links`` table.

    Parameters
    ----------
    network : Network
        Regions, sites and links (link order is the ``links`` table's order).
    engine : Engine
        The event core.
    latency_ms : numpy.ndarray
        Region → site one-way latency, ms (as given to placement).
    """

    def __init__(self, network: Network, engine: Engine, latency_ms: np.ndarray) -> None:
        self.network = network
        self.engine = engine
        self.flows = FlowNetwork(engine, [link.bandwidth_gbps for link in network.links])
        self._graph: nx.Graph | None = None  # built at the first transfer: runs without any pay nothing
        self._link_index = {link.id: i for i, link in enumerate(network.links)}
        self.remote = remote_matrix(latency_ms)
        self._paths: dict[tuple[int, int], tuple[tuple[int, ...], float]] = {}
        self.sent = 0
        self.delivered = 0
        self.time_sum_h = 0.0  # Σ (delivery − send) over delivered transfers, h
        self._last = [LinkCounters() for _ in network.links]
        self._t_last = engine.now
        self.columns = empty_columns("links")
        self._delivered_bound = self._delivered  # bound once: a bound method is an allocation per access

    @property
    def in_flight(self) -> int:
        """Transfers sent and not yet delivered."""
        return self.sent - self.delivered

    def path(self, region: int, site: int) -> tuple[tuple[int, ...], float]:
        """Link indices and one-way latency (ms) of the route from ``region`` to ``site`` (cached)."""
        key = (region, site)
        cached = self._paths.get(key)
        if cached is None:
            if self._graph is None:
                self._graph = to_graph(self.network)
            graph = self._graph
            # One Dijkstra from the region gives its routes to every site (the same routes
            # as one search per site: a search that stops at its target has settled it
            # exactly as the full one does), so a region costs one search, not one per site.
            routes = nx.single_source_dijkstra_path(graph, self.network.regions[region].id, weight="latency_ms")
            for j, target in enumerate(self.network.sites):
                nodes = routes.get(target.id)
                if nodes is None:
                    continue  # unreachable: placement never sends a job there (infinite latency)
                edges = [graph.edges[a, b] for a, b in pairwise(nodes)]
                self._paths[(region, j)] = (
                    tuple(self._link_index[e["id"]] for e in edges), float(sum(e["latency_ms"] for e in edges)))
            cached = self._paths.get(key)
            if cached is None:
                raise nx.NetworkXNoPath(f"no route from region {region} to site {site}")
        return cached

    def send(self, region: int, site: int, size_gb: float, callback: Callback, value: Any) -> None:
        """Move ``size_gb`` GB (10^9 bytes) from ``region`` to ``site``; then ``callback(value)``."""
        cached = self._paths.get((region, site))  # path() inlined for the cache hit, the usual case
        links, latency_ms = cached if cached is not None else self.path(region, site)
        self.sent += 1
        self.flows.start(size_gb * 1e9, links, latency_ms, self._delivered_bound, (self.engine.now_h, callback, value))

    def _delivered(self, record: tuple[float, Callback, Any]) -> None:
        sent_h, callback, value = record
        self.delivered += 1
        self.time_sum_h += self.engine.now_h - sent_h
        callback(value)

    def sample(self, now: float) -> None:
        """Close the interval ``(last sample, now]`` and append one row per link."""
        dt = now - self._t_last
        if dt <= 0:
            return
        self.flows.advance(now)
        cols = self.columns
        for i, link in enumerate(self.network.links):
            c, last = self.flows.links[i], self._last[i]
            append_row(cols, {
                "link_id": link.id, "t_start_h": self._t_last, "t_end_h": now, "bandwidth_gbps": link.bandwidth_gbps,
                "moved_gb": (c.bytes - last.bytes) / 1e9, "utilisation": (c.util_area_h - last.util_area_h) / dt,
                "flows_mean": (c.flows_area_h - last.flows_area_h) / dt, "flows_max": c.flows_max,
            })
            self._last[i] = LinkCounters(c.bytes, c.util_area_h, c.flows_area_h, c.flows_max)
        self.flows.reset_max()
        self._t_last = now
