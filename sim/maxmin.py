"""Max-min fair rates of flows over links: the solvers :mod:`sim.flows` calls.

:func:`maxmin_rates` gives each flow its max-min fair share by progressive filling (the
SimGrid-style model); :func:`grouped_maxmin_rates` does the same for groups of identical
flows (same path, same cap), which always get the same rate, at a cost that grows with the
groups, not the flows.  Pure functions: :class:`sim.flows.FlowNetwork` holds the state
(active flows, the clock, the completion event) and calls them when its flows change.

Units: capacities and rates in Gbit/s (10^9 bit/s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import compress
from operator import truediv

__all__ = ["DENSE_FLOWS_MIN", "grouped_maxmin_rates", "maxmin_rates"]

DENSE_FLOWS_MIN = 32
"""From this many flows on, :func:`maxmin_rates` works on lists over every link (faster there)."""


def _crossing(paths: Sequence[Sequence[int]]) -> dict[int, list[int]]:
    """For each link some path crosses, the indices of the paths crossing it, in path order."""
    crossing: dict[int, list[int]] = {}
    for f, path in enumerate(paths):
        for link in path:
            on = crossing.get(link)
            if on is None:
                crossing[link] = [f]
            else:
                on.append(f)
    return crossing


def maxmin_rates(
    capacity_gbps: Sequence[float], paths: Sequence[Sequence[int]], caps: Sequence[float] | None = None
) -> list[float]:
    """The max-min fair rates of flows over links, by progressive filling.

    All flows start at rate 0 and grow together; when a link is full, the flows crossing
    it are frozen at their current rate, and the others keep growing.  Equivalently, each
    round finds the link with the least *fair share* (remaining capacity / unfrozen flows
    crossing it), gives that share to its unfrozen flows and takes it off every link they
    cross.

    Parameters
    ----------
    capacity_gbps : sequence of float
        Capacity of each link, Gbit/s (> 0).
    paths : sequence of sequences of int
        For each flow, the indices of the links it crosses (each at most once).
    caps : sequence of float, optional
        For each flow, the most it may get, Gbit/s (``inf``: no cap).  A capped flow
        behaves exactly as if it also crossed a private link of that capacity: what it
        does not take is shared by the other flows.

    Returns
    -------
    list of float
        Rate of each flow in Gbit/s; ``inf`` for a flow with an empty path and no cap
        (nothing limits it).

    Examples
    --------
    Two flows share link 0 (10 Gbit/s); the second also crosses link 1 (2 Gbit/s):

    >>> maxmin_rates([10.0, 2.0], [[0], [0, 1]])
    [8.0, 2.0]

    The same with the first flow capped at 3 Gbit/s: the rest of link 0 is unused.

    >>> maxmin_rates([10.0, 2.0], [[0], [0, 1]], caps=[3.0, math.inf])
    [3.0, 2.0]
    """
    if caps is not None and any(cap < math.inf for cap in caps):
        # Each capped flow gets a private link after the real ones: the same rounds then
        # give the cap semantics exactly (and no cap leaves the call below unchanged).
        capacity_gbps = list(capacity_gbps)
        paths = list(paths)
        for f, cap in enumerate(caps):
            if cap < math.inf:
                paths[f] = [*paths[f], len(capacity_gbps)]
                capacity_gbps.append(cap)
    n = len(paths)
    rates = [math.inf] * n
    if n == 1:
        # One flow: the least capacity on its path (what the rounds below give, cheaper).
        if paths[0]:
            rates[0] = max(min([float(capacity_gbps[link]) for link in paths[0]]), 0.0)
        return rates
    # Only the links some flow crosses take part, visited in index order as over every
    # link (unused links have no flows and are skipped), so the result is the same at a
    # cost that does not grow with the size of the network.
    if n < DENSE_FLOWS_MIN:
        # Few flows: the used links renumbered 0..m-1 (no per-call list per network link).
        crossing = _crossing(paths)  # flows on each used link, in flow order
        used = sorted(crossing)
        local = {link: i for i, link in enumerate(used)}
        local_paths: Sequence[Sequence[int]] = [[local[link] for link in path] for path in paths]
        on_link = [crossing[link] for link in used]
        remaining = [float(capacity_gbps[link]) for link in used]
        live = list(range(len(used)))  # links with unfrozen flows, in index order
    else:
        # Many flows: lists over every link are cheaper than renumbering each path.
        on_link = [[] for _ in capacity_gbps]
        for f, path in enumerate(paths):
            for link in path:
                on_link[link].append(f)
        local_paths = paths
        remaining = [float(c) for c in capacity_gbps]
        live = [link for link, flows in enumerate(on_link) if flows]
    active = [len(flows) for flows in on_link]  # unfrozen flows on each link
    frozen = [not path for path in paths]
    left = n - sum(frozen)
    while left:
        # The fair shares of the live links in one pass in C (the same divisions and minimum
        # as a Python loop): with hundreds of flows the rounds dominate (benchmarks/scaling.py,
        # jobs sweep at x4).
        fair = list(map(truediv, map(remaining.__getitem__, live), map(active.__getitem__, live)))
        share = max(min(fair), 0.0)
        # Every link whose fair share equals the minimum (within rounding) is a bottleneck.
        limit = share * (1.0 + 1e-12) + 1e-15
        # Only links whose share at the start of the round is near the minimum can be
        # bottlenecks: freezing flows at `share` (no more than any link's fair share) never
        # lowers another link's fair share, and rounding cannot move it by the margin
        # (relative 1e-6, against about flows x 1e-16).  The others are skipped unvisited,
        # which leaves the rounds, and so the rates, exactly as a visit of every link.
        cutoff = limit + abs(limit) * 1e-6 + 1e-12
        for i in compress(live, map(cutoff.__ge__, fair)):  # filtered in C
            count = active[i]
            if count and remaining[i] / count <= limit:
                for f in on_link[i]:
                    if frozen[f]:
                        continue
                    frozen[f] = True
                    left -= 1
                    rates[f] = share
                    for other in local_paths[f]:
                        remaining[other] -= share
                        active[other] -= 1
        live = list(compress(live, map(active.__getitem__, live)))  # full links drop out, order kept
    return rates


def grouped_maxmin_rates(
    capacity_gbps: Sequence[float],
    paths: Sequence[Sequence[int]],
    counts: Sequence[int],
    caps: Sequence[float] | None = None,
) -> list[float]:
    """The max-min fair rate of each flow of groups of identical flows, by weighted progressive filling.

    Group ``g`` is ``counts[g]`` flows over the links ``paths[g]``, each capped at
    ``caps[g]``.  Identical flows always get the same max-min rate, so this gives what
    :func:`maxmin_rates` gives each of them when every group is expanded into its flows,
    up to rounding: a round takes ``share × count`` off a link once where the per-flow
    rounds take ``share`` off ``count`` times.  It costs O(groups × path length) per
    round instead of O(flows × path length).

    Parameters
    ----------
    capacity_gbps : sequence of float
        Capacity of each link, Gbit/s (> 0).
    paths : sequence of sequences of int
        For each group, the indices of the links its flows cross (each at most once).
    counts : sequence of int
        Flows in each group (>= 1).
    caps : sequence of float, optional
        For each group, the most one of its flows may get, Gbit/s (``inf``: no cap); as in
        :func:`maxmin_rates`, a private link of that capacity for each flow.

    Returns
    -------
    list of float
        Rate of each flow of each group, Gbit/s (``inf``: empty path and no cap).

    Examples
    --------
    Three flows on link 0 (10 Gbit/s), one of which also crosses link 1 (1 Gbit/s):

    >>> grouped_maxmin_rates([10.0, 1.0], [[0], [0, 1]], [2, 1])
    [4.5, 1.0]
    """
    n = len(paths)
    rates = [math.inf] * n
    crossing = _crossing(paths)  # groups on each used link, in group order
    used = sorted(crossing)
    local = {link: i for i, link in enumerate(used)}
    # Each group's links with the weight it puts on them: its flows on a real link, one
    # flow on each of its private (cap) links, whose share is then the cap itself.
    members: list[list[tuple[int, int]]] = [[(local[link], counts[g]) for link in path] for g, path in enumerate(paths)]
    on_link = [crossing[link] for link in used]
    remaining = [float(capacity_gbps[link]) for link in used]
    active = [sum(counts[g] for g in groups) for groups in on_link]
    if caps is not None:
        for g, cap in enumerate(caps):
            if cap < math.inf:
                members[g].append((len(remaining), 1))
                on_link.append([g])
                remaining.append(float(cap))
                active.append(1)
    live = [i for i, groups in enumerate(on_link) if groups]
    frozen = [not m for m in members]
    left = n - sum(frozen)
    while left:
        fair = list(map(truediv, map(remaining.__getitem__, live), map(active.__getitem__, live)))
        share = max(min(fair), 0.0)
        limit = share * (1.0 + 1e-12) + 1e-15  # the ties of maxmin_rates
        for i in live:
            count = active[i]
            if count and remaining[i] / count <= limit:
                for g in on_link[i]:
                    if frozen[g]:
                        continue
                    frozen[g] = True
                    left -= 1
                    rates[g] = share
                    for other, weight in members[g]:
                        remaining[other] -= share * weight
                        active[other] -= weight
        live = [i for i in live if active[i]]
    return rates
