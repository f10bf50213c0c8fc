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

Residency, price and window
    Under binding data-residency rules a job's origin is a *row* of the placement context
    (:mod:`sim.placement.residency`) whose routes cross only the nodes of allowed
    countries: the route is the shortest one within them.  Every GB carried over a link
    costs its ``price_cny_per_gb`` (``cost_cny`` in ``links``, ``transfer_cost_cny`` in
    ``runs``).  With ``[wan] tcp_window_mb`` each flow moves at most ``window / RTT``
    (:func:`window_cap_gbps`), its max-min share otherwise.

:class:`Transfers` also samples the per-link rows of the ``links`` table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.engine import Callback, Engine, heappop, heappush
from sim.flows import FlowNetwork, LinkCounters
from sim.pool import JobRecorder
from sim.tables import append_row, empty_columns
from sim.wan_options import MAX_TCP_WINDOW_MB, WanOptions
from topology.graph import to_graph
from topology.model import Network
from workloads.distributions import Distribution

if TYPE_CHECKING:
    from sim.task import Task

# WanOptions is a pydantic model, which mypyc cannot compile: it lives in sim.wan_options so that this
# module can be compiled (setup.py); re-exported here, where it was.
__all__ = [
    "LOCAL_LATENCY_MS", "MAX_TCP_WINDOW_MB", "ResultLog", "Transfers", "WanOptions", "remote_matrix", "window_cap_gbps",
]


def window_cap_gbps(window_mb: float | None, one_way_ms: float) -> float:
    """Most a TCP flow with a window of ``window_mb`` MB moves over a route of ``one_way_ms`` one-way latency, Gbit/s.

    A window-limited sender has at most one window in flight per round trip, so its rate is
    ``window / RTT`` with ``RTT = 2 × one_way_ms``: SimGrid's bound ``gamma / (2 × latency)``
    (network/TCP-gamma, its CM02 and LV08 models).  ``inf`` without a window or latency.

    Examples
    --------
    >>> window_cap_gbps(15.0, 60.0)  # 15 MB per 120 ms round trip: 1.2e8 bit / 0.12 s
    1.0
    >>> window_cap_gbps(None, 60.0)
    inf
    """
    if window_mb is None or one_way_ms <= 0:
        return math.inf
    return window_mb * 1e6 * 8 / (2.0 * one_way_ms / 1e3) / 1e9

SCIPY_MIN_NODES = 16
"""Graphs with fewer nodes search routes in Python only (scipy's set-up costs more there)."""

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

    def __init__(self, network: Network, engine: Engine, latency_ms: np.ndarray,
                 allowed_nodes: tuple[frozenset[str] | None, ...] | None = None,
                 tcp_window_mb: float | None = None) -> None:
        self.network = network
        self.engine = engine
        self.flows = FlowNetwork(engine, [link.bandwidth_gbps for link in network.links])
        self._graph: nx.Graph | None = None  # built at the first transfer: runs without any pay nothing
        self._link_index = {link.id: i for i, link in enumerate(network.links)}
        self.remote = remote_matrix(latency_ms)
        self._paths: dict[tuple[int, int], tuple[tuple[int, ...], float, float]] = {}
        self._trees: dict[int, dict[str, str | None]] = {}  # per origin row: Dijkstra predecessor by node id
        self._csgraph: tuple[list[str], dict[str, int], Any, np.ndarray, np.ndarray, np.ndarray] | None = None
        # Per origin row (sim.placement.residency): the nodes its routes may cross; None: any.
        self._allowed = allowed_nodes
        self._window_mb = tcp_window_mb
        self._price = [link.price_cny_per_gb or 0.0 for link in network.links]  # CNY/GB; unset: free
        self.sent = 0
        self.delivered = 0
        self.time_sum_h = 0.0  # Σ (delivery − send) over delivered transfers, h
        self.results_sent = 0  # results returned to the origin (not jobs: outside the job counts)
        self.results_delivered = 0
        self._last = [LinkCounters() for _ in network.links]
        self._t_last = engine.now
        self.columns = empty_columns("links")
        self._delivered_bound = self._delivered  # bound once: a bound method is an allocation per access

    @property
    def in_flight(self) -> int:
        """Transfers sent and not yet delivered."""
        return self.sent - self.delivered

    @property
    def cost_cny(self) -> float:
        """What the bytes moved so far cost, CNY: Σ over links of GB carried × ``price_cny_per_gb``.

        Counted up to the last :meth:`sample` (or flow event), like the ``links`` table.
        """
        return sum(c.bytes / 1e9 * p for c, p in zip(self.flows.links, self._price, strict=True) if p)

    def path(self, region: int, site: int) -> tuple[tuple[int, ...], float, float]:
        """Links, one-way latency (ms) and TCP rate cap (Gbit/s) of the route from origin row ``region`` to ``site``.

        ``region`` is an origin row (:mod:`sim.placement.residency`): the region index, or
        under residency rules a row whose routes cross only its allowed nodes.  Cached.
        """
        key = (region, site)
        cached = self._paths.get(key)
        if cached is None:
            pred = self._trees.get(region)
            if pred is None:
                pred = self._trees[region] = self._tree(region)
            target = self.network.sites[site].id
            if target not in pred:
                raise nx.NetworkXNoPath(f"no route from region {region} to site {site}")
            # The route from the region's predecessor tree, only for the (region, site)
            # pairs that send: building all of a region's routes up front cost 3.5 of 12.7
            # profiled s at 10,000 sites (benchmarks/README.md, "Where the time went at
            # 10,000 sites").
            nodes = [target]
            step = pred[target]
            while step is not None:
                nodes.append(step)
                step = pred[step]
            nodes.reverse()
            graph = self._graph
            assert graph is not None  # built by _tree
            edges = [graph.edges[a, b] for a, b in pairwise(nodes)]
            latency = float(sum(e["latency_ms"] for e in edges))
            cached = self._paths[key] = (
                tuple(self._link_index[e["id"]] for e in edges), latency, window_cap_gbps(self._window_mb, latency))
        return cached

    def _tree(self, region: int) -> dict[str, str | None]:
        """Shortest-path predecessors (by ``latency_ms``) from origin row ``region``'s node, within its allowed nodes.

        ``pred[node]`` is the node before ``node`` on the route networkx's
        ``single_source_dijkstra_path`` returns (``None`` at the source), so the routes are
        those of :func:`sim.placement.residency.route_nodes` on the same graph or subgraph:
        the same search (networkx's ``_dijkstra_multisource``: neighbours in adjacency
        order, ties in the heap by push order, a tie in distance never replaces the
        predecessor), without its generic weight calls and path lists: at 10,000 sites 1.8
        times faster than ``nx.dijkstra_predecessor_and_distance`` and 2.1 times faster
        than ``nx.single_source_dijkstra_path`` (benchmarks/README.md, "Where the time went
        at 10,000 sites");
        ``tests/sim/test_flows_transfers.py`` compares the routes with networkx's.
        """
        if self._graph is None:
            self._graph = to_graph(self.network)
        adj = self._graph._adj  # networkx's own adjacency, as its Dijkstra reads it
        source = self.network.regions[region % len(self.network.regions)].id
        allowed = None if self._allowed is None else self._allowed[region]
        if allowed is not None and source not in allowed:
            return {}
        if allowed is None and len(adj) >= SCIPY_MIN_NODES:
            tree = self._tree_scipy(source)
            if tree is not None:
                return tree
        pred: dict[str, str | None] = {source: None}
        dist: dict[str, float] = {}
        seen: dict[str, float] = {source: 0}
        fringe: list[tuple[float, int, str]] = [(0, 0, source)]
        pushed = 0
        while fringe:
            d, _, v = heappop(fringe)
            if v in dist:
                continue
            dist[v] = d
            for u, e in adj[v].items():
                if allowed is not None and u not in allowed:
                    continue
                vu = d + e["latency_ms"]
                if u in dist:
                    continue
                if u not in seen or vu < seen[u]:
                    seen[u] = vu
                    pushed += 1
                    heappush(fringe, (vu, pushed, u))
                    pred[u] = v
        return pred

    def _tree_scipy(self, source: str) -> dict[str, str | None] | None:
        """:meth:`_tree` by scipy's Dijkstra when every node's route is unique; ``None`` when some is not.

        scipy reaches the same distances as networkx (the same float sums: see
        :func:`topology.graph.region_site_latency_ms`).  A node with exactly one *tight*
        link (``dist[v] + latency == dist[u]``) has that link's other end as its
        predecessor in any Dijkstra, so the trees agree; with two or more (a tie), which
        one networkx keeps depends on its order of search, so the caller runs that search
        instead.  At 10,000 sites 0.018 against 0.207 CPU s for the Python search (8
        regions; benchmarks/README.md, "Where the time went at 10,000 sites").
        """
        if self._csgraph is None:
            assert self._graph is not None
            adj = self._graph._adj
            nodes = list(adj)
            index = {node: i for i, node in enumerate(nodes)}
            tail = [index[a] for a, nbrs in adj.items() for _ in nbrs]
            head = [index[b] for nbrs in adj.values() for b in nbrs]
            latency = np.array([e["latency_ms"] for nbrs in adj.values() for e in nbrs.values()], dtype=np.float64)
            matrix = csr_matrix((latency, (tail, head)), shape=(len(nodes), len(nodes)))
            self._csgraph = (nodes, index, matrix, np.array(tail), np.array(head), latency)
        nodes, index, matrix, tail_i, head_i, latency = self._csgraph
        i = index[source]
        dist, before = dijkstra(matrix, directed=True, indices=i, return_predecessors=True)
        tight = (dist[tail_i] + latency == dist[head_i]) & np.isfinite(dist[head_i])  # inf + x == inf
        counts = np.bincount(head_i[tight], minlength=len(nodes))
        counts[i] = 0  # links back into the source: it has no predecessor
        if counts.max() > 1:
            return None
        reached = np.flatnonzero(np.isfinite(dist)).tolist()
        prev = before.tolist()
        tree: dict[str, str | None] = {nodes[u]: nodes[prev[u]] for u in reached if u != i}
        tree[source] = None
        return tree

    def send(self, region: int, site: int, size_gb: float, callback: Callback, value: Any) -> None:
        """Move ``size_gb`` GB (10^9 bytes) from ``region`` to ``site``; then ``callback(value)``."""
        cached = self._paths.get((region, site))  # path() inlined for the cache hit, the usual case
        links, latency_ms, cap = cached if cached is not None else self.path(region, site)
        self.sent += 1
        record = (self.engine.now_h, callback, value)
        if cap == math.inf:
            self.flows.start(size_gb * 1e9, links, latency_ms, self._delivered_bound, record)
        else:
            self.flows.start(size_gb * 1e9, links, latency_ms, self._delivered_bound, record, rate_cap_gbps=cap)

    def send_result(self, region: int, site: int, size_gb: float) -> None:
        """Move a finished job's ``size_gb`` GB result from ``site`` back to origin row ``region``.

        The route is the input's (links carry both directions); it counts in the links'
        bytes and cost, and in :attr:`results_sent` / :attr:`results_delivered`, not in
        the input transfers of the ``runs`` table.
        """
        links, latency_ms, cap = self.path(region, site)
        self.results_sent += 1
        if cap == math.inf:
            self.flows.start(size_gb * 1e9, links, latency_ms, self._result_delivered, None)
        else:
            self.flows.start(size_gb * 1e9, links, latency_ms, self._result_delivered, None, rate_cap_gbps=cap)

    def _result_delivered(self, _: None) -> None:
        self.results_delivered += 1

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
                "cost_cny": (c.bytes - last.bytes) / 1e9 * self._price[i],
            })
            self._last[i] = LinkCounters(c.bytes, c.util_area_h, c.flows_area_h, c.flows_max)
        self.flows.reset_max()
        self._t_last = now


class ResultLog:
    """The pools' job recorder when some class returns results (``result_gb``): sends them home, then ``inner``.

    A job that finishes (status ``done``) at a site remote from its origin row sends a
    result of its class's ``result_gb`` (one draw from the class's own stream, in order of
    finishing) over :meth:`Transfers.send_result`.

    Parameters
    ----------
    result_gb : list of (Distribution or None)
        Per class index, the size of its result, GB; ``None``: nothing returns.
    rngs : dict of int to numpy.random.Generator
        The stream of each class that returns results.
    inner : JobRecorder, optional
        The next recorder (adoption, the ``jobs`` table).
    """

    def __init__(self, result_gb: Sequence[Distribution | None], rngs: dict[int, np.random.Generator],
                 inner: JobRecorder | None = None) -> None:
        self.result_gb = result_gb
        self.rngs = rngs
        self.inner = inner
        self.transfers: Transfers | None = None  # attached once the model has built them
        self.row_of: tuple[tuple[int, ...], ...] | None = None
        self.note: Callable[[int, int, int, float], None] | None = None

    def attach(self, transfers: Transfers, row_of: tuple[tuple[int, ...], ...] | None,
               note: Callable[[int, int, int, float], None] | None = None) -> None:
        """Send results over ``transfers``, from the origin row ``row_of[cls][region]`` (region if ``None``).

        ``note(job_id, row, site, size_gb)`` is told of every result sent (the jobs table's
        ``transfer_cny``).
        """
        self.transfers = transfers
        self.row_of = row_of
        self.note = note

    def record(self, task: Task, site: int, status: str, now: float) -> None:
        """Send ``task``'s result home if it finished remotely, then pass the row on."""
        dist = self.result_gb[task.cls]
        if status == "done" and dist is not None and self.transfers is not None:
            row = task.origin if self.row_of is None else self.row_of[task.cls][task.origin]
            if self.transfers.remote[row][site]:
                size_gb = float(dist.sample(self.rngs[task.cls], 1)[0])
                self.transfers.send_result(row, site, size_gb)
                if self.note is not None:
                    self.note(task.id, row, site, size_gb)
        if self.inner is not None:
            self.inner.record(task, site, status, now)
