"""Flow-level WAN model: max-min fair bandwidth sharing (the SimGrid-style model).

A *flow* moves a number of bytes over a fixed path of links.  At any moment every
active flow has a rate, and the rates are the **max-min fair allocation** of the link
capacities (:func:`maxmin_rates`): no flow can get more without taking from a flow that
has no more than it.  Rates change only when a flow starts or ends, so between those
instants every flow moves at a constant rate and :class:`FlowNetwork` needs one pending
event for the whole network: the next completion.  A start or an end recomputes the
rates and reschedules that event (a superseded event is recognised by its generation
number and ignored), so no generator process and no per-flow timer exist.

Capacity is shared by both directions of a link (SimGrid's ``SHARED`` sharing policy):
a 100 Gbit/s link carries at most 100 Gbit/s in total.  A flow's transfer ends when its
last byte has left (its bandwidth is then released) plus the one-way propagation
latency of its path, after which its callback runs.

Cost.  The rates depend only on the active flows' paths in start order, so
:class:`FlowNetwork` memoises them per combination (on the national network a few
thousand combinations recur all year and most reschedules are one look-up); a miss runs
progressive filling over the links in use only.  A start or an end moves every active
flow's bytes and every busy link's integrals once, so an event costs O(active flows +
busy links), whatever the size of the network.  With hundreds of flows at once (a
saturated WAN) that recomputation dominates the run; ``benchmarks/README.md`` measures it.

Units: capacities and rates in Gbit/s (10^9 bit/s), sizes in bytes, time in hours.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import truediv
from typing import Any

from sim.engine import Callback, Engine

__all__ = ["BYTES_PER_GBIT_H", "FlowNetwork", "LinkCounters", "maxmin_rates"]

BYTES_PER_GBIT_H = 1e9 / 8 * 3600
"""Bytes moved in one hour at 1 Gbit/s (4.5 × 10^11)."""

_TIME_EPS_H = 1e-9
"""Flows due within this many hours of a completion finish with it (float rounding)."""

_RATES_CACHE_SIZE = 4096
"""Most memoised flow-path combinations kept by :meth:`FlowNetwork._allocate` (then emptied)."""

_DENSE_FLOWS_MIN = 32
"""From this many flows on, :func:`maxmin_rates` works on lists over every link (faster there)."""

_CACHED_FLOWS_MAX = 16
"""Combinations of more flows than this are not memoised: they rarely recur, and their keys are large."""


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
    if n < _DENSE_FLOWS_MIN:
        # Few flows: the used links renumbered 0..m-1 (no per-call list per network link).
        crossing: dict[int, list[int]] = {}  # flows on each used link, in flow order
        for f, path in enumerate(paths):
            for link in path:
                on = crossing.get(link)
                if on is None:
                    crossing[link] = [f]
                else:
                    on.append(f)
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


@dataclass
class LinkCounters:
    """Cumulative traffic of one link since t = 0 (the links table takes differences).

    Attributes
    ----------
    bytes : float
        Bytes carried, B.
    util_area_h : float
        ∫ allocated / capacity dt, hours (a utilisation-hour integral).
    flows_area_h : float
        ∫ active flows dt, flow-hours.
    flows_max : int
        Most flows active at once since the counter was last reset by the sampler.
    """

    bytes: float = 0.0
    util_area_h: float = 0.0
    flows_area_h: float = 0.0
    flows_max: int = 0


class _Flow:
    __slots__ = ("callback", "cap", "latency_h", "path", "rate", "remaining", "size", "value")

    def __init__(
        self, size: float, path: tuple[int, ...], latency_h: float, callback: Callback, value: Any, cap: float
    ) -> None:
        self.size = size
        self.cap = cap  # Gbit/s; inf: none
        self.remaining = size  # bytes still to send
        self.path = path
        self.latency_h = latency_h
        self.callback = callback
        self.value = value
        self.rate = 0.0  # bytes per hour


class FlowNetwork:
    """Concurrent flows over capacitated links, on an :class:`~sim.engine.Engine`.

    Parameters
    ----------
    engine : Engine
        The event core (time in hours).
    capacity_gbps : sequence of float
        Capacity of each link in Gbit/s, indexed as the paths given to :meth:`start`.

    Examples
    --------
    One 1 GB flow over a 1 Gbit/s link (8 s) with 1 ms of latency:

    >>> engine = Engine()
    >>> net = FlowNetwork(engine, [1.0])
    >>> done = []
    >>> net.start(1e9, (0,), 1.0, lambda v: done.append(engine.now * 3600), "x")
    >>> engine.run(1.0)
    >>> round(done[0], 6)
    8.001
    """

    def __init__(self, engine: Engine, capacity_gbps: Sequence[float]) -> None:
        self.engine = engine
        self.capacity_gbps = [float(c) for c in capacity_gbps]
        self._cap_bytes_h = [c * BYTES_PER_GBIT_H for c in self.capacity_gbps]
        self.links = [LinkCounters() for _ in self.capacity_gbps]
        self._on_link = [0] * len(self.capacity_gbps)  # active flows per link
        # (link, allocated bytes/h) of each link some flow crosses: the integrals skip idle
        # links, so an event costs the busy links only, however large the network.
        self._busy: list[tuple[int, float]] = []
        self.flows: list[_Flow] = []  # sending now, in start order (the order max-min rounds see them)
        self._paths_key: tuple[tuple[int, ...], ...] = ()  # their paths, in the same order: the rates cache key
        self._caps_key: tuple[float, ...] = ()  # their rate caps, Gbit/s (inf: none), in the same order
        self._capped = 0  # active flows with a finite cap; none: the key is the paths alone, as before caps
        self._t_last = engine.now
        self._generation = 0  # bumped at every reschedule; older completion events are stale
        self._rates_cache: dict[Hashable, tuple[list[float], list[tuple[int, float]]]] = {}
        self._call_at = engine.call_at  # the engine's fast path (see sim.engine), bound once
        self._on_completion_bound = self._on_completion
        self.started = 0
        self.finished = 0
        """Flows whose bytes have all left (their callbacks follow after the path latency)."""

    @property
    def active(self) -> int:
        """Flows currently sending."""
        return len(self.flows)

    def start(
        self,
        size_bytes: float,
        path: tuple[int, ...],
        latency_ms: float,
        callback: Callback,
        value: Any,
        *,
        rate_cap_gbps: float = math.inf,
    ) -> None:
        """Start moving ``size_bytes`` over the links ``path`` now.

        ``callback(value)`` is called when the last byte has arrived: after the flow's
        share of bandwidth has carried all of it, plus ``latency_ms`` (one way) of
        propagation.  An empty path (without a cap) or a zero size takes the latency alone.

        ``rate_cap_gbps`` (Gbit/s, > 0) bounds the flow's rate: it gets its max-min share
        as if it also crossed a private link of that capacity (see :func:`maxmin_rates`),
        and what it leaves is shared by the others.  With an empty path it moves at the cap.
        """
        if not rate_cap_gbps > 0:
            raise ValueError(f"rate_cap_gbps must be > 0, got {rate_cap_gbps}")
        self.started += 1
        latency_h = latency_ms / 3.6e6
        capped = rate_cap_gbps < math.inf
        if (not path and not capped) or size_bytes <= 0:
            self.finished += 1
            for link in path:
                self.links[link].bytes += max(size_bytes, 0.0)
            self.engine.call_later(latency_h, callback, value)
            return
        now = self.engine.now_h
        dt = now - self._t_last
        if dt > 0:
            # advance() fused with the reschedule below: the links' integrals now, the flows'
            # bytes in the same pass that gives them their new rates.
            self._integrate(dt)
            self._t_last = now
        else:
            dt = 0.0
        # rate 0: dt moves nothing
        self.flows.append(_Flow(float(size_bytes), path, latency_h, callback, value, float(rate_cap_gbps)))
        self._paths_key += (path,)
        self._caps_key += (float(rate_cap_gbps),)
        self._capped += capped
        on_link, links = self._on_link, self.links
        for link in path:
            on_link[link] += 1
            counters = links[link]
            if on_link[link] > counters.flows_max:
                counters.flows_max = on_link[link]
        self._reschedule(dt)

    def advance(self, now: float) -> None:
        """Move every flow's bytes and the link integrals up to ``now`` (hours) at the current rates."""
        dt = now - self._t_last
        if dt <= 0:
            return
        for flow in self.flows:
            flow.remaining -= flow.rate * dt
        self._integrate(dt)
        self._t_last = now

    def _integrate(self, dt: float) -> None:
        """Add ``dt`` hours at the current allocation to the busy links' counters."""
        links, on_link, cap = self.links, self._on_link, self._cap_bytes_h
        for link, alloc in self._busy:
            counters = links[link]
            counters.bytes += alloc * dt
            counters.util_area_h += alloc / cap[link] * dt
            counters.flows_area_h += on_link[link] * dt

    def reset_max(self) -> None:
        """Start a new interval for :attr:`LinkCounters.flows_max`: the flows active now."""
        for link, counters in enumerate(self.links):
            counters.flows_max = self._on_link[link]

    def _reschedule(self, dt: float) -> None:
        """Move the flows ``dt`` hours at their old rates, give them the max-min rates, schedule the next completion.

        ``dt`` is 0 when the flows have already been moved to now.
        """
        self._generation += 1
        flows = self.flows
        if not flows:
            return
        key: Hashable = self._paths_key
        if self._capped:
            key = (self._paths_key, self._caps_key)
        cached = self._rates_cache.get(key)
        if cached is None:
            cached = self._allocate(self._paths_key, self._caps_key if self._capped else None, key)
        rates, self._busy = cached  # the cached list is shared: it is replaced, never changed in place
        soonest = math.inf
        for flow, bytes_h in zip(flows, rates, strict=True):
            left = flow.remaining
            if dt:
                flow.remaining = left = left - flow.rate * dt
            flow.rate = bytes_h
            if bytes_h > 0:  # always, with positive capacities; the guard keeps a bad input from dividing by 0
                if left < 0.0:  # max(left, 0.0) without the call
                    left = 0.0
                due = left / bytes_h
                if due < soonest:
                    soonest = due
        if soonest < math.inf:
            self._call_at(self.engine.now_h + soonest, self._on_completion_bound, self._generation)

    def _allocate(
        self, paths: tuple[tuple[int, ...], ...], caps: tuple[float, ...] | None, key: Hashable
    ) -> tuple[list[float], list[tuple[int, float]]]:
        """Max-min rates (bytes/h) of flows over ``paths`` and the allocation of each used link, memoised.

        ``caps`` are the flows' rate caps in Gbit/s (``None``: no flow is capped); the
        result is memoised under ``key``.

        Both depend only on the paths of the active flows in their order, and a few
        thousand such combinations recur all year on a national network, so most
        reschedules are one dictionary look-up.  The cache is emptied when full, which
        keeps memory flat over long horizons.
        """
        if len(paths) == 1:
            # One flow: its rate is the least capacity on its path (or its cap), as maxmin_rates gives.
            capacity = self.capacity_gbps
            bound = [capacity[link] for link in paths[0]]
            if caps is not None:
                bound.append(caps[0])
            rates = [max(min(bound), 0.0) * BYTES_PER_GBIT_H]
        else:
            rates = [rate * BYTES_PER_GBIT_H for rate in maxmin_rates(self.capacity_gbps, paths, caps)]
        busy: list[tuple[int, float]]
        if len(paths) < _DENSE_FLOWS_MIN:
            used = dict.fromkeys(sorted({link for path in paths for link in path}), 0.0)
            for path, bytes_h in zip(paths, rates, strict=True):
                for link in path:
                    used[link] += bytes_h
            busy = list(used.items())
        else:  # many flows: a list over every link; the links in use are those with flows now
            alloc = [0.0] * len(self.capacity_gbps)
            for path, bytes_h in zip(paths, rates, strict=True):
                for link in path:
                    alloc[link] += bytes_h
            on_link = self._on_link
            busy = [(link, alloc[link]) for link in range(len(alloc)) if on_link[link]]
        result = (rates, busy)
        if len(paths) <= _CACHED_FLOWS_MAX:
            if len(self._rates_cache) >= _RATES_CACHE_SIZE:
                self._rates_cache.clear()
            self._rates_cache[key] = result
        return result

    def _on_completion(self, generation: int) -> None:
        if generation != self._generation:
            return  # superseded by a start or an earlier completion
        now = self.engine.now_h
        flows = self.flows
        done: list[_Flow] = []
        keep: list[_Flow] = []
        dt = now - self._t_last
        if dt > 0:  # advance() fused with the scan for finished flows
            self._integrate(dt)
            self._t_last = now
            for flow in flows:
                flow.remaining -= flow.rate * dt
                (done if flow.remaining <= flow.rate * _TIME_EPS_H else keep).append(flow)
        else:
            for flow in flows:
                (done if flow.remaining <= flow.rate * _TIME_EPS_H else keep).append(flow)
        if done:
            self.flows = keep
            self._paths_key = tuple([f.path for f in keep])
            if self._capped:
                self._caps_key = tuple([f.cap for f in keep])
                self._capped = sum(cap < math.inf for cap in self._caps_key)
            else:
                self._caps_key = (math.inf,) * len(keep)
            on_link, links, call_at = self._on_link, self.links, self._call_at
            for flow in done:
                self.finished += 1
                for link in flow.path:
                    on_link[link] -= 1
                    # Settle the rounding residue so each link carries exactly the flow's size.
                    links[link].bytes += flow.remaining
                call_at(now + flow.latency_h, flow.callback, flow.value)
            if not keep:
                self._busy = []
        self._reschedule(0.0)
