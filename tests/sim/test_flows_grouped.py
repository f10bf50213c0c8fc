"""Grouped mode of sim.flows (many concurrent flows) against closed forms, conservation and the exact mode.

Above ``GROUPED_FLOWS_MIN`` active flows a :class:`FlowNetwork` solves max-min over groups of
flows with the same path and cap and moves each group on a virtual clock.  That rounds
differently from the exact per-flow mode, so the checks here are against independent truth:
processor sharing on one link (closed forms), bytes conserved on every link, and the exact
mode run on the same flows.

The bound for "the same times as the exact mode", ``REL_TIME``: both modes compute the same
real-valued schedule and differ only in rounding.  A rate differs by at most about
``1e-12`` relative (both modes freeze links whose share is within a relative 1e-12 of the
minimum together, so near-ties may resolve differently) plus ``rounds × flows × 2^-53``
(≤ 6 × 12 × 1.1e-16 ≈ 8e-15: one rounding per subtraction of a share).  An error in a rate
moves the bytes left by that relative amount of the bytes sent, so a completion time is off
by at most about (intervals) × 1e-12 of the time, ≤ 24 intervals (two events per flow):
2.4e-11; ``REL_TIME = 1e-10`` leaves a factor of 4.  Flows due within ``_TIME_EPS_H`` (1e-9 h)
of a completion end with it in either mode, so a flow just inside the window in one mode
and just outside in the other ends one window apart: ``ABS_TIME_H``.  Measured over 3,000
random cases of this size (a /tmp script, 2026-12-03): at most 8.7e-16 relative.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import Engine
from sim.flows import (
    BYTES_PER_GBIT_H,
    GROUPED_FLOWS_MIN,
    GROUPED_FLOWS_OFF,
    FlowNetwork,
    grouped_maxmin_rates,
    maxmin_rates,
)

GB = 1e9
S = 1 / 3600  # one second in hours
REL_TIME = 1e-10
ABS_TIME_H = 1e-9
REL_RATE = 1e-10
"""Grouped against per-flow rates: rounds (≤ 6) × (1e-12 ties + flows (≤ 40) × 2.2e-16), a margin of ≈ 10."""

Flow = tuple[float, float, tuple[int, ...], float]  # start h, size B, path, cap Gbit/s


def _run(
    capacity: list[float], flows: list[Flow], grouped_min: int
) -> tuple[dict[int, float], FlowNetwork, list[bool]]:
    """Run ``flows`` on a fresh network; the delivery time (h) of each flow, the network, and its mode at each start."""
    engine = Engine()
    net = FlowNetwork(engine, capacity, grouped_flows_min=grouped_min)
    done: dict[int, float] = {}
    modes: list[bool] = []

    def deliver(i: Any) -> None:
        assert i not in done
        done[i] = engine.now  # in order of delivery (dicts keep insertion order)

    def start(i: Any) -> None:
        _, size, path, cap = flows[i]
        net.start(size, path, 0.0, deliver, i, rate_cap_gbps=cap)
        modes.append(net.grouped)

    for i, (t, *_rest) in enumerate(flows):
        engine.call_at(t, start, i)
    engine.run(1e6)
    net.advance(engine.now)
    return done, net, modes


def test_n_equal_flows_on_one_link_end_together_at_n_size_over_capacity():
    # 2 x GROUPED_FLOWS_MIN flows of 1 GB on one 10 Gbit/s link, all started at t = 0: each
    # gets 10 / n Gbit/s all along and ends at n x 8 Gbit / 10 Gbit/s (409.6 s for 512).
    n = 2 * GROUPED_FLOWS_MIN
    done, net, modes = _run([10.0], [(0.0, 1 * GB, (0,), math.inf)] * n, GROUPED_FLOWS_MIN)
    assert modes.count(False) == GROUPED_FLOWS_MIN - 1 and all(modes[GROUPED_FLOWS_MIN - 1:])
    expected_h = n * 8.0 / 10.0 * S
    assert len(done) == n
    for t in done.values():
        assert t == pytest.approx(expected_h, rel=1e-12)
    assert list(done) == list(range(n))  # flows ending together are delivered in start order, as in the exact mode
    assert net.active == 0 and net.finished == n and not net.grouped
    assert net.links[0].bytes == pytest.approx(n * GB, rel=1e-12)
    assert net.links[0].util_area_h == pytest.approx(expected_h, rel=1e-12)  # the link is full all along


def test_flows_of_two_groups_ending_together_are_delivered_in_start_order():
    # 2 x 200 flows of 1 GB started alternately on two 10 Gbit/s links: both groups get
    # 10 / 200 Gbit/s each and end together at 200 x 8 / 10 s = 160 s; the exact mode
    # delivers flows ending at one instant in start order, and so does grouped mode.
    flows = [(0.0, 1 * GB, (i % 2,), math.inf) for i in range(400)]
    done, _, modes = _run([10.0, 10.0], flows, GROUPED_FLOWS_MIN)
    assert modes[-1]
    assert list(done) == list(range(400))
    assert all(t == pytest.approx(160 * S, rel=1e-12) for t in done.values())


def test_processor_sharing_on_one_link_matches_the_closed_form():
    # n flows of sizes k GB (k = 1..n) start together on one C Gbit/s link.  Processor sharing:
    # between the (k-1)-th and the k-th end, n - k + 1 flows share C, and the k-th flow has
    # 1 GB more to send than the (k-1)-th, so t_k = t_{k-1} + (n - k + 1) x 8 / C seconds.
    n, capacity = 300, 40.0
    flows = [(0.0, k * GB, (0,), math.inf) for k in range(1, n + 1)]
    done, net, _ = _run([capacity], flows, GROUPED_FLOWS_MIN)
    t = 0.0
    for k in range(1, n + 1):
        t += (n - k + 1) * 8.0 / capacity * S
        assert done[k - 1] == pytest.approx(t, rel=1e-12), k
    assert net.links[0].bytes == pytest.approx(n * (n + 1) / 2 * GB, rel=1e-12)


def test_groups_with_different_bottlenecks_by_hand():
    # Link 0 (10 Gbit/s) carries group A (300 flows on [0]) and group B (100 flows on [0, 1]);
    # link 1 (1 Gbit/s) is B's bottleneck: each B flow gets 1/100 = 0.01 Gbit/s, and A shares
    # the remaining 9 Gbit/s: 0.03 each.  A flows of 0.03 GB end after 8 s; then B flows get
    # 0.01 still (link 1), so B flows of 0.04 GB end at 32 s.
    flows = [(0.0, 0.03 * GB, (0,), math.inf)] * 300 + [(0.0, 0.04 * GB, (0, 1), math.inf)] * 100
    done, net, modes = _run([10.0, 1.0], flows, GROUPED_FLOWS_MIN)
    assert modes[-1]
    for i in range(300):
        assert done[i] == pytest.approx(8 * S, rel=1e-12)
    for i in range(300, 400):
        assert done[i] == pytest.approx(32 * S, rel=1e-12)
    assert net.links[1].bytes == pytest.approx(100 * 0.04 * GB, rel=1e-12)


def test_grouped_rates_by_hand_and_caps():
    assert grouped_maxmin_rates([10.0, 1.0], [[0], [0, 1]], [2, 1]) == [4.5, 1.0]
    # Three flows on a 10 Gbit/s link, two of them capped at 3: the third gets 4.
    assert grouped_maxmin_rates([10.0], [[0], [0]], [2, 1], [3.0, math.inf]) == [3.0, 4.0]
    # An empty capped path moves at the cap; an empty uncapped one is unlimited.
    assert grouped_maxmin_rates([10.0], [[], [], [0]], [2, 1, 3], [2.0, math.inf, math.inf]) == [2.0, math.inf, 10 / 3]


@st.composite
def _groups(draw: st.DrawFn) -> tuple[list[float], list[list[int]], list[int], list[float]]:
    n_links = draw(st.integers(1, 6))
    capacity = draw(st.lists(st.floats(0.1, 1000.0), min_size=n_links, max_size=n_links))
    n = draw(st.integers(1, 8))
    paths = draw(st.lists(st.sets(st.integers(0, n_links - 1), min_size=1, max_size=n_links).map(sorted),
                          min_size=n, max_size=n))
    counts = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    caps = draw(st.lists(st.one_of(st.just(math.inf), st.floats(0.05, 500.0)), min_size=n, max_size=n))
    return capacity, paths, counts, caps


@settings(max_examples=300, deadline=None)
@given(_groups())
def test_grouped_rates_are_the_per_flow_rates_of_the_expanded_groups(net):
    capacity, paths, counts, caps = net
    grouped = grouped_maxmin_rates(capacity, paths, counts, caps)
    expanded_paths = [p for p, c in zip(paths, counts, strict=True) for _ in range(c)]
    expanded_caps = [cap for cap, c in zip(caps, counts, strict=True) for _ in range(c)]
    exact = maxmin_rates(capacity, expanded_paths, expanded_caps)
    i = 0
    for rate, count in zip(grouped, counts, strict=True):
        for r in exact[i:i + count]:
            assert rate == pytest.approx(r, rel=REL_RATE, abs=REL_RATE * max(capacity))
        i += count


@st.composite
def _flow_sets(draw: st.DrawFn) -> tuple[list[float], list[Flow]]:
    """Up to 12 flows over up to 6 links, paths from a pool of 3 (so groups hold several flows)."""
    n_links = draw(st.integers(1, 6))
    capacity = draw(st.lists(st.floats(0.5, 100.0), min_size=n_links, max_size=n_links))
    routes = draw(st.lists(st.sets(st.integers(0, n_links - 1), min_size=1, max_size=n_links).map(
        lambda s: tuple(sorted(s))), min_size=1, max_size=3))
    flows = draw(st.lists(st.tuples(
        st.floats(0.0, 0.01),  # start, h (36 s: flows overlap)
        st.floats(0.1 * GB, 50 * GB),
        st.sampled_from(routes),
        st.sampled_from([math.inf, math.inf, 5.0])), min_size=2, max_size=12))
    return capacity, flows


def _assert_conserved(capacity: list[float], flows: list[Flow], done: dict[int, float], net: FlowNetwork) -> None:
    assert sorted(done) == list(range(len(flows)))
    assert net.started == net.finished == len(flows) and net.active == 0
    for link in range(len(capacity)):
        sent = sum(size for _, size, path, _ in flows if link in path)
        assert net.links[link].bytes == pytest.approx(sent, rel=1e-9)
        # Carried bytes never exceed what the link could carry while busy, plus what the flows
        # ending up to _TIME_EPS_H (1e-9 h) early settle at their end.
        busy_h = net.links[link].util_area_h + len(flows) * 1e-9
        assert net.links[link].bytes <= capacity[link] * BYTES_PER_GBIT_H * busy_h * (1 + 1e-9)


@settings(max_examples=150, deadline=None)
@given(_flow_sets())
def test_grouped_mode_gives_the_exact_modes_times_and_conserves_bytes(case):
    capacity, flows = case
    exact, _, modes_exact = _run(capacity, flows, 10**9)
    grouped, net_grouped, modes_grouped = _run(capacity, flows, 1)
    assert not any(modes_exact) and all(modes_grouped)
    _assert_conserved(capacity, flows, grouped, net_grouped)
    for i, t in exact.items():
        assert grouped[i] == pytest.approx(t, rel=REL_TIME, abs=ABS_TIME_H), i


@settings(max_examples=100, deadline=None)
@given(_flow_sets())
def test_switching_between_modes_keeps_the_times_and_the_bytes(case):
    # Threshold 4: the network enters grouped mode at 4 flows and returns to the exact mode at 2,
    # possibly several times; each switch carries every flow's remaining bytes over.
    capacity, flows = case
    exact, _, _ = _run(capacity, flows, 10**9)
    switching, net, _ = _run(capacity, flows, 4)
    _assert_conserved(capacity, flows, switching, net)
    for i, t in exact.items():
        assert switching[i] == pytest.approx(t, rel=REL_TIME, abs=ABS_TIME_H), i


def test_below_the_threshold_the_network_stays_exact():
    # GROUPED_FLOWS_MIN - 1 flows at once never leave the exact mode (the shipped examples'
    # tables depend on it); the next start enters grouped mode, and the flows' end leaves it.
    flows = [(0.0, GB, (0,), math.inf)] * (GROUPED_FLOWS_MIN - 1)
    _, net, modes = _run([10.0], flows, GROUPED_FLOWS_MIN)
    assert not any(modes)
    _, net, modes = _run([10.0], [*flows, (0.0, GB, (0,), math.inf)], GROUPED_FLOWS_MIN)
    assert modes[-1] and not net.grouped
    assert GROUPED_FLOWS_OFF == GROUPED_FLOWS_MIN // 2
