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
busy links), whatever the size of the network.

Many flows at once.  From :data:`GROUPED_FLOWS_MIN` active flows on (a saturated WAN:
thousands of inputs queued on a few links) the network switches to *grouped* mode, where
that per-event pass over every flow would make a run quadratic in its flows (issue 20).
Flows with the same path and cap always get the same max-min rate (progressive filling
freezes every unfrozen flow of a full link in the same round, at the same share), so a
*group* of them is solved as one flow of weight *m* (:func:`grouped_maxmin_rates`) and
moved processor-sharing style: the group keeps a virtual clock, the bytes one of its flows
has sent since the group formed, and a heap of its flows' finishing points on that clock.
A flow's bytes are never touched while it waits; an event costs O(groups × path length +
log flows), and groups are bounded by the routes in use, not by the flows (3,906 flows in
17 groups at the worst moment of the belt_and_road case of
``tests/cluster/cli/test_input_fuzz.py``).  The virtual clock and the weighted rounds
round differently from moving each flow (times agree to within 1e-10 relative, 9e-16
measured, ``tests/sim/test_flows_grouped.py``), so the exact per-flow mode is kept below
the threshold, which no shipped example reaches (``benchmarks/README.md``, "Issue 20,
fifth slice: the WAN max-min pathology"), and resumed when the flows fall to
:data:`GROUPED_FLOWS_OFF`.

Units: capacities and rates in Gbit/s (10^9 bit/s), sizes in bytes, time in hours.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sim.engine import Callback, Engine, heappop, heappush
from sim.maxmin import DENSE_FLOWS_MIN as _DENSE_FLOWS_MIN
from sim.maxmin import grouped_maxmin_rates, maxmin_rates

__all__ = [
    "BYTES_PER_GBIT_H", "CACHED_FLOWS_MAX", "GROUPED_FLOWS_MIN", "GROUPED_FLOWS_OFF", "FlowNetwork", "LinkCounters",
    "grouped_maxmin_rates", "maxmin_rates",
]

BYTES_PER_GBIT_H = 1e9 / 8 * 3600
"""Bytes moved in one hour at 1 Gbit/s (4.5 × 10^11)."""

_TIME_EPS_H: Final = 1e-9
"""Flows due within this many hours of a completion finish with it (float rounding)."""

_RATES_CACHE_SIZE = 4096
"""Most memoised flow-path combinations kept by :meth:`FlowNetwork._allocate` (then emptied)."""

CACHED_FLOWS_MAX = 16
"""Combinations of more flows than this are not memoised: they rarely recur, and their keys are large."""

GROUPED_FLOWS_MIN = 256
"""From this many active flows on, :class:`FlowNetwork` solves and moves flows by group (see the module docstring).

Chosen above the most flows any shipped example has at once, so their tables stay those of
the exact per-flow mode (bit for bit): 16 at most, in the national example's year, and 193
in ``benchmarks/scaling.py``'s jobs sweep at load x4 (``benchmarks/README.md``, "Issue 20,
fifth slice: the WAN max-min pathology", lists each example's maximum); low enough that
the exact mode's O(flows) events stay cheap: 0.26 ms per flow event at 255 flows against
5 ms at 2,000, and the
fuzz case of belt_and_road took 0.37 CPU s with this threshold against 0.30 s at 16
(same README section)."""

GROUPED_FLOWS_OFF = GROUPED_FLOWS_MIN // 2
"""Grouped mode returns to the exact per-flow mode when the active flows fall to this many (hysteresis:
a load hovering at the threshold does not convert back and forth at every event)."""


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


class _Group:
    """The active flows of one (path, cap) in grouped mode: one rate, one virtual clock, a heap of finishing points."""

    __slots__ = ("cap", "heap", "path", "rate", "virtual")

    def __init__(self, path: tuple[int, ...], cap: float) -> None:
        self.path = path
        self.cap = cap  # Gbit/s; inf: none
        self.rate = 0.0  # bytes per hour, of each flow of the group
        self.virtual = 0.0  # bytes each flow of the group has sent since the group formed
        # (virtual clock at which the flow's last byte leaves, start order, flow): the least first.
        self.heap: list[tuple[float, int, _Flow]] = []


def _group_of(groups: dict[tuple[tuple[int, ...], float], _Group], flow: _Flow) -> _Group:
    """The group of ``flow``'s route and cap in ``groups``, made (empty) if there is none yet."""
    key = (flow.path, flow.cap)
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Group(flow.path, flow.cap)
    return group


class FlowNetwork:
    """Concurrent flows over capacitated links, on an :class:`~sim.engine.Engine`.

    Parameters
    ----------
    engine : Engine
        The event core (time in hours).
    capacity_gbps : sequence of float
        Capacity of each link in Gbit/s, indexed as the paths given to :meth:`start`.
    grouped_flows_min : int, optional
        Active flows from which the network works in grouped mode (see the module
        docstring); it returns to the exact mode at half as many.  Default
        :data:`GROUPED_FLOWS_MIN`; tests set 1 (always grouped) to compare the two modes.

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

    def __init__(
        self, engine: Engine, capacity_gbps: Sequence[float], grouped_flows_min: int = GROUPED_FLOWS_MIN
    ) -> None:
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
        # Grouped mode (many flows): the groups by (path, cap) in order of formation; None in exact mode.
        self._groups: dict[tuple[tuple[int, ...], float], _Group] | None = None
        self._grouped_active = 0  # flows in the groups
        self._grouped_min = grouped_flows_min
        self._grouped_off = grouped_flows_min // 2  # GROUPED_FLOWS_OFF by default
        self._seq = 0  # start order of grouped flows (ties in a heap, the order of callbacks)
        self.started = 0
        self.finished = 0
        """Flows whose bytes have all left (their callbacks follow after the path latency)."""

    @property
    def active(self) -> int:
        """Flows currently sending."""
        return len(self.flows) + self._grouped_active

    @property
    def grouped(self) -> bool:
        """Whether the flows are solved and moved by group now (see the module docstring)."""
        return self._groups is not None

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
        if self._groups is not None or len(self.flows) + 1 >= self._grouped_min:
            self._start_grouped(_Flow(float(size_bytes), path, latency_h, callback, value, float(rate_cap_gbps)))
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
        self._enter_links(path)
        self._reschedule(dt)

    def _enter_links(self, path: tuple[int, ...]) -> None:
        """Count a starting flow on the links of ``path`` (and their most flows at once)."""
        on_link, links = self._on_link, self.links
        for link in path:
            on_link[link] += 1
            counters = links[link]
            if on_link[link] > counters.flows_max:
                counters.flows_max = on_link[link]

    def _end(self, flow: _Flow, residue: float, now: float) -> None:
        """A flow whose bytes have all left at ``now`` (h), ``residue`` bytes of rounding still counted as unsent.

        Off its links, the residue settled on them (so each link carries exactly the flow's
        size), and its callback scheduled after the path's latency.
        """
        self.finished += 1
        on_link, links = self._on_link, self.links
        for link in flow.path:
            on_link[link] -= 1
            links[link].bytes += residue
        self._call_at(now + flow.latency_h, flow.callback, flow.value)

    def advance(self, now: float) -> None:
        """Move every flow's bytes and the link integrals up to ``now`` (hours) at the current rates."""
        if self._groups is not None:
            self._advance_grouped(now)
            return
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
        if len(paths) <= CACHED_FLOWS_MAX:
            if len(self._rates_cache) >= _RATES_CACHE_SIZE:
                self._rates_cache.clear()
            self._rates_cache[key] = result
        return result

    def _on_completion(self, generation: int) -> None:
        if generation != self._generation:
            return  # superseded by a start or an earlier completion
        if self._groups is not None:
            self._complete_grouped()
            return
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
            for flow in done:
                self._end(flow, flow.remaining, now)
            if not keep:
                self._busy = []
        self._reschedule(0.0)

    # -- grouped mode (many flows; see the module docstring) ---------------------------------

    def _start_grouped(self, flow: _Flow) -> None:
        """:meth:`start` in grouped mode (entered here when the flows reach the threshold)."""
        now = self.engine.now_h
        if self._groups is None:
            self._to_grouped(now)
        else:
            self._advance_grouped(now)
        groups = self._groups
        assert groups is not None
        group = _group_of(groups, flow)
        heappush(group.heap, (group.virtual + flow.size, self._seq, flow))
        self._seq += 1
        self._grouped_active += 1
        self._enter_links(flow.path)
        self._reschedule_grouped()

    def _to_grouped(self, now: float) -> None:
        """Move the exact mode's flows to ``now`` and put them in groups, in start order."""
        dt = now - self._t_last
        if dt > 0:
            self._integrate(dt)
            self._t_last = now
            for flow in self.flows:
                flow.remaining -= flow.rate * dt
        groups: dict[tuple[tuple[int, ...], float], _Group] = {}
        for flow in self.flows:
            heappush(_group_of(groups, flow).heap, (flow.remaining, self._seq, flow))  # virtual clock 0: a new group
            self._seq += 1
        self._groups = groups
        self._grouped_active = len(self.flows)
        self.flows = []
        self._paths_key, self._caps_key, self._capped = (), (), 0

    def _to_exact(self) -> None:
        """Leave grouped mode: every flow back in the start-ordered list with its remaining bytes."""
        groups = self._groups
        assert groups is not None
        entries = sorted((seq, finish - group.virtual, flow)
                         for group in groups.values() for finish, seq, flow in group.heap)
        flows = []
        for _, remaining, flow in entries:
            flow.remaining = remaining
            flows.append(flow)
        self.flows = flows
        self._paths_key = tuple([f.path for f in flows])
        self._caps_key = tuple([f.cap for f in flows])
        self._capped = sum(cap < math.inf for cap in self._caps_key)
        self._groups = None
        self._grouped_active = 0
        if not flows:
            self._busy = []

    def _advance_grouped(self, now: float) -> None:
        """Move every group's virtual clock and the link integrals up to ``now`` (hours)."""
        dt = now - self._t_last
        if dt <= 0:
            return
        self._integrate(dt)
        self._t_last = now
        assert self._groups is not None
        for group in self._groups.values():
            group.virtual += group.rate * dt

    def _reschedule_grouped(self) -> None:
        """Give the groups their max-min rates and schedule the next completion (grouped mode)."""
        self._generation += 1
        assert self._groups is not None
        groups = list(self._groups.values())
        if not groups:
            self._busy = []
            return
        counts = [len(group.heap) for group in groups]
        caps = [group.cap for group in groups]
        rates = grouped_maxmin_rates(self.capacity_gbps, [group.path for group in groups], counts,
                                     caps if any(cap < math.inf for cap in caps) else None)
        alloc: dict[int, float] = {}
        soonest = math.inf
        for group, count, rate in zip(groups, counts, rates, strict=True):
            bytes_h = rate * BYTES_PER_GBIT_H
            group.rate = bytes_h
            for link in group.path:
                alloc[link] = alloc.get(link, 0.0) + bytes_h * count
            if bytes_h > 0:  # always, with positive capacities
                due = max(group.heap[0][0] - group.virtual, 0.0) / bytes_h
                if due < soonest:
                    soonest = due
        self._busy = sorted(alloc.items())
        if soonest < math.inf:
            self._call_at(self.engine.now_h + soonest, self._on_completion_bound, self._generation)

    def _complete_grouped(self) -> None:
        """The pending completion in grouped mode: end every flow due now (within rounding), in start order."""
        now = self.engine.now_h
        self._advance_grouped(now)
        groups = self._groups
        assert groups is not None
        done: list[tuple[int, float, _Flow]] = []  # (start order, bytes left: rounding residue, flow)
        emptied = []
        for key, group in groups.items():
            heap, virtual = group.heap, group.virtual
            tolerance = group.rate * _TIME_EPS_H  # the exact mode's test, on the virtual clock
            while heap and heap[0][0] - virtual <= tolerance:
                finish, seq, flow = heappop(heap)
                done.append((seq, finish - virtual, flow))
            if not heap:
                emptied.append(key)
        for key in emptied:  # an empty group's clock restarts at 0 if its route sends again
            del groups[key]
        done.sort()
        self._grouped_active -= len(done)
        for _, remaining, flow in done:
            self._end(flow, remaining, now)
        if self._grouped_active <= self._grouped_off:
            self._to_exact()
            self._reschedule(0.0)
        else:
            self._reschedule_grouped()
