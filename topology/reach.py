"""Reachability: every region that can originate work must reach at least one site.

A region without a path to any site would have every job it originates rejected at
once; in a user's network that is almost always a missing link, so the loaders report
it as an error instead of simulating it.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx

from topology.graph import to_graph
from topology.model import Network, Region
from topology.plumbing import TopologyError, located

__all__ = ["check_reachable", "origin_regions", "unreachable_regions"]


def origin_regions(network: Network) -> list[int]:
    """Indices of the regions that can originate jobs by default.

    A region originates jobs when its ``demand_weight`` is > 0; when every weight is 0
    the simulator draws origins uniformly, so then every region does.

    Examples
    --------
    >>> from topology.model import Region, Site
    >>> site = Site(id="s", lat=0, lon=0, gpus=1)
    >>> regions = (Region(id="a", lat=0, lon=0, demand_weight=0), Region(id="b", lat=0, lon=0))
    >>> origin_regions(Network(site=(site,), region=regions))
    [1]
    """
    weighted = [i for i, r in enumerate(network.regions) if r.demand_weight > 0]
    return weighted or list(range(len(network.regions)))


def unreachable_regions(network: Network) -> list[int]:
    """Indices of origin regions (see :func:`origin_regions`) with no path to any site."""
    graph = to_graph(network)
    sites = {s.id for s in network.sites}
    out = []
    for i in origin_regions(network):
        reached = nx.node_connected_component(graph, network.regions[i].id)
        if not reached & sites:
            out.append(i)
    return out


def check_reachable(network: Network, source: str, key: Callable[[int, Region], str]) -> None:
    """Raise for the first origin region with no path to any site.

    Parameters
    ----------
    network : Network
        The loaded network.
    source : str
        The file it was read from, for the message.
    key : callable
        ``key(index, region)`` names where the region was written, e.g. ``region[3] (id 'xj')``.

    Raises
    ------
    TopologyError
        ``source: key: no path to any site (...)``.
    """
    bad = unreachable_regions(network)
    if bad:
        region = network.regions[bad[0]]
        more = f"; {len(bad) - 1} more region(s) too" if len(bad) > 1 else ""
        raise TopologyError(
            located(
                source,
                key(bad[0], region),
                f"no path to any site (demand_weight {region.demand_weight:g}; add a link{more})",
            )
        )
