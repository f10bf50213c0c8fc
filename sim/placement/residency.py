"""The admissibility filter of every policy: the data-residency rules (and SKU lists) as rows of the placement context.

A policy places a job by its *origin row* (``origin`` in :meth:`Policy.choose`): a row of
:attr:`PlacementContext.latency_ms`.  Without rules that bind (no job class carries
``personal`` or ``important`` data, or ``[residency] enabled = false``) the rows are the
demand regions, as they always were.  With them, :func:`admissible_rows` adds one block of
rows per data kind in use: in the block of kind *k*, the row of region *r* keeps only the
sites the rules of *r*'s country allow for *k* (:func:`topology.residency.allowed_countries`),
at the latency of the shortest route that crosses only allowed countries; every other site
is at ``inf``, i.e. unreachable.  Every policy already skips unreachable sites, so each one
respects the rules without a line of its own; a job whose row has no site left is rejected.

The same rows carry the price of moving a GB from the origin to each site
(:attr:`PlacementContext.transfer_cny_per_gb`, the sum of ``price_cny_per_gb`` over the
route's links; 0 at a co-located site), which ``cheapest`` and ``edwc`` weigh
(:class:`sim.placement.scoring.TransferCosts`).  A result sent home takes the same
restricted route back, so it too crosses only allowed countries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import networkx as nx
import numpy as np

from topology.graph import to_graph
from topology.model import Network
from topology.residency import DATA_KINDS, DataKind, ResidencyRules, allowed_countries, country_of
from workloads.job_class import JobClass

__all__ = ["Admissibility", "admissible_rows", "route_nodes", "transfer_price_matrix"]


@dataclass(frozen=True)
class Admissibility:
    """The origin rows of a run whose residency rules bind.

    Attributes
    ----------
    latency_ms : numpy.ndarray
        ``(n_rows, n_sites)`` one-way latency, ms; ``inf`` where unreachable or not allowed.
        Rows ``0 .. R-1`` are the regions without rules; block ``b`` holds the regions
        under the rules of :attr:`kinds` ``[b]`` (block 0 is kind ``none``).
    row_of : tuple of tuple of int
        ``row_of[cls][region]``: the row of a job of class ``cls`` from ``region``.
    allowed_nodes : tuple of (frozenset of str or None)
        Per row, the node ids its transfers may cross; ``None``: any.
    kinds : tuple of DataKind
        The data kind of each block of rows.
    unruled_row_of : tuple of tuple of int or None
        ``unruled_row_of[cls][region]``: the row of a job of class ``cls`` from ``region``
        with its SKU list but without residency rules (whether the rules rejected a job);
        ``None``: the region's own row.
    """

    latency_ms: np.ndarray
    row_of: tuple[tuple[int, ...], ...]
    allowed_nodes: tuple[frozenset[str] | None, ...]
    kinds: tuple[DataKind, ...]
    unruled_row_of: tuple[tuple[int, ...], ...] | None = None

    @property
    def n_regions(self) -> int:
        """Regions per block (the network's regions)."""
        return len(self.row_of[0]) if self.row_of else 0

    def region_of(self, row: int) -> int:
        """The region index of ``row``."""
        return row % self.n_regions


def admissible_rows(
    network: Network, classes: Sequence[JobClass], rules: ResidencyRules | None, latency_ms: np.ndarray
) -> Admissibility | None:
    """The origin rows under ``rules`` and the classes' SKU lists; ``None`` when neither binds (rows are regions).

    Parameters
    ----------
    network : Network
        Sites, regions (with their countries) and links.
    classes : sequence of JobClass
        The job classes by class index (their ``data_kind`` and ``skus``).
    rules : ResidencyRules or None
        The effective rules (:func:`topology.residency.effective_rules`); ``None``: off.
    latency_ms : numpy.ndarray
        Region → site one-way latency without rules, ms (the rows of kind ``none``).

    Notes
    -----
    A class with ``skus`` gets a block of its own (one per data kind and SKU list): the
    block of its data kind with every site of another SKU at ``inf``.  Its transfers
    take the same routes as without the list (a SKU restricts where a job runs, not the
    countries its data crosses).
    """
    n_regions = len(network.regions)
    used: list[DataKind] = []
    allowed: dict[DataKind, list[frozenset[str] | None]] = {}
    if rules is not None:
        used = [k for k in DATA_KINDS[1:] if any(c.data_kind == k for c in classes)]
        allowed = {k: [allowed_countries(rules, country_of(r), k) for r in network.regions] for k in used}
        used = [k for k in used if any(a is not None for a in allowed[k])]
    sku_lists = [frozenset(c.skus) if c.skus else None for c in classes]
    if not used and not any(sku_lists):
        return None
    graph = to_graph(network) if used else None
    country = {s.id: country_of(s) for s in network.sites} | {r.id: country_of(r) for r in network.regions}
    kind_blocks: dict[DataKind, tuple[np.ndarray, list[frozenset[str] | None]]] = {
        "none": (latency_ms, [None] * n_regions)}
    for kind in used:
        assert graph is not None
        block = latency_ms.copy()
        nodes_of_row: list[frozenset[str] | None] = []
        for r, region in enumerate(network.regions):
            countries = allowed[kind][r]
            if countries is None:
                nodes_of_row.append(None)
                continue
            nodes = frozenset(n for n, c in country.items() if c in countries)
            nodes_of_row.append(nodes)
            lengths = (nx.single_source_dijkstra_path_length(graph.subgraph(nodes), region.id, weight="latency_ms")
                       if region.id in nodes else {})
            block[r] = [lengths.get(s.id, np.inf) for s in network.sites]
        kind_blocks[kind] = (block, nodes_of_row)
    # Blocks in a fixed order: the data kinds first (as without SKU lists), then each
    # (kind, SKU list) pair in class order.
    keys: list[tuple[DataKind, frozenset[str] | None]] = [("none", None), *((k, None) for k in used)]
    for c, skus in zip(classes, sku_lists, strict=True):
        # The class's rows without the rules too: whether the rules rejected a job (sim.model).
        for key in (("none", skus), (c.data_kind if c.data_kind in used else "none", skus)):
            if key not in keys:
                keys.append(key)
    sku_of = np.array([s.sku for s in network.sites], dtype=object)
    blocks: list[np.ndarray] = []
    row_nodes: list[frozenset[str] | None] = []
    for kind, skus in keys:
        block, nodes_of_row = kind_blocks[kind]
        if skus is not None:
            block = block.copy()
            block[:, ~np.isin(sku_of, list(skus))] = np.inf
        blocks.append(block)
        row_nodes.extend(nodes_of_row)
    block_of = {key: b for b, key in enumerate(keys)}

    def row(c: JobClass, skus: frozenset[str] | None, r: int, ruled: bool) -> int:
        kind = c.data_kind if ruled and c.data_kind in used else "none"
        return block_of[(kind, skus)] * n_regions + r

    row_of = tuple(tuple(row(c, skus, r, True) for r in range(n_regions))
                   for c, skus in zip(classes, sku_lists, strict=True))
    unruled = tuple(tuple(row(c, skus, r, False) for r in range(n_regions))
                    for c, skus in zip(classes, sku_lists, strict=True))
    return Admissibility(np.vstack(blocks), row_of, tuple(row_nodes), tuple(kind for kind, _ in keys), unruled)


def route_nodes(graph: nx.Graph, source: str, allowed: frozenset[str] | None) -> dict[str, list[str]]:
    """Shortest routes by ``latency_ms`` from node ``source`` to every node it reaches, crossing only ``allowed``."""
    if allowed is not None:
        if source not in allowed:
            return {}
        graph = graph.subgraph(allowed)
    routes: dict[str, list[str]] = nx.single_source_dijkstra_path(graph, source, weight="latency_ms")
    return routes


def transfer_price_matrix(network: Network, admissibility: Admissibility | None,
                          remote: Sequence[Sequence[bool]] | None = None) -> np.ndarray:
    """CNY per GB moved from each origin row to each site over its route; ``nan`` where unreachable.

    Zero everywhere (no routes computed) when no link has ``price_cny_per_gb``.  With
    ``remote`` (``remote[row][site]``: does a job placed there move data,
    :func:`sim.transfers.remote_matrix`), zero where it does not: a co-located site costs
    nothing to reach.
    """
    n_regions, n_sites = len(network.regions), len(network.sites)
    rows = [None] * n_regions if admissibility is None else list(admissibility.allowed_nodes)
    out = np.zeros((len(rows), n_sites))
    if not any(link.price_cny_per_gb for link in network.links):
        return out
    graph = to_graph(network)
    price = {link.id: link.price_cny_per_gb or 0.0 for link in network.links}
    for row, allowed in enumerate(rows):
        routes = route_nodes(graph, network.regions[row % n_regions].id, allowed)
        for j, site in enumerate(network.sites):
            nodes = routes.get(site.id)
            out[row, j] = (np.nan if nodes is None else
                           sum(price[graph[a][b]["id"]] for a, b in pairwise(nodes)))
    if remote is not None:
        out[~np.asarray(remote, dtype=bool)] = 0.0
    return out
