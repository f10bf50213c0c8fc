"""Max-min fair sharing (sim.maxmin) and the flow network (sim.flows) against hand-computed figures."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import Engine
from sim.flows import BYTES_PER_GBIT_H, FlowNetwork, maxmin_rates

S = 1 / 3600  # one second in hours
GB = 1e9


def test_equal_split_on_one_link():
    # One 10 Gbit/s link, two flows: 10 / 2 = 5 each.
    assert maxmin_rates([10.0], [[0], [0]]) == [5.0, 5.0]


def test_shared_bottleneck_with_a_flow_limited_elsewhere():
    # Link X (index 0) = 10 Gbit/s carries flows a, b, c; link Y (index 1) = 1 Gbit/s carries c only.
    # Fair shares: X 10/3 = 3.33, Y 1/1 = 1 -> Y is the bottleneck: c = 1.
    # X then has 10 - 1 = 9 left for a and b: 9/2 = 4.5 each.  X is full (4.5 + 4.5 + 1 = 10).
    assert maxmin_rates([10.0, 1.0], [[0], [0], [0, 1]]) == [4.5, 4.5, 1.0]


def test_classic_three_flows_two_links():
    # A (0) = 10, B (1) = 4; flow 0 on A, flow 1 on A and B, flow 2 on B.
    # Shares: A 10/2 = 5, B 4/2 = 2 -> B first: flows 1 and 2 get 2.
    # A keeps 10 - 2 = 8 for flow 0.
    assert maxmin_rates([10.0, 4.0], [[0], [0, 1], [1]]) == [8.0, 2.0, 2.0]


def test_parking_lot():
    # Two 1 Gbit/s links in series; one long flow over both, one short flow on each.
    # Both links have share 1/2 and are bottlenecks together: every flow gets 0.5
    # (the long flow gets no less than the short ones: max-min, not max-throughput).
    assert maxmin_rates([1.0, 1.0], [[0, 1], [0], [1]]) == [0.5, 0.5, 0.5]


def test_empty_path_is_unlimited_and_no_flows_is_fine():
    assert maxmin_rates([1.0], [[], [0]]) == [math.inf, 1.0]
    assert maxmin_rates([1.0], []) == []


@st.composite
def _networks(draw: st.DrawFn) -> tuple[list[float], list[list[int]]]:
    n_links = draw(st.integers(1, 6))
    caps = draw(st.lists(st.floats(0.1, 1000.0), min_size=n_links, max_size=n_links))
    paths = draw(
        st.lists(st.sets(st.integers(0, n_links - 1), min_size=1, max_size=n_links).map(sorted), min_size=1, max_size=8)
    )
    return caps, paths


@settings(max_examples=300, deadline=None)
@given(_networks())
def test_allocation_is_feasible_and_max_min_optimal(net):
    caps, paths = net
    rates = maxmin_rates(caps, paths)
    load = [0.0] * len(caps)
    for rate, path in zip(rates, paths, strict=True):
        assert rate > 0
        for link in path:
            load[link] += rate
    for link, cap in enumerate(caps):
        assert load[link] <= cap * (1 + 1e-9), "a link is over capacity"
    # Max-min optimality: every flow has a bottleneck, a link on its path that is full
    # and on which no flow gets more than it.
    for f, path in enumerate(paths):
        assert any(
            load[link] >= caps[link] * (1 - 1e-9)
            and all(rates[g] <= rates[f] * (1 + 1e-9) for g, p in enumerate(paths) if link in p)
            for link in path
        ), f"flow {f} has no saturated bottleneck link"


def _schedule():
    # Link 0: 8 Gbit/s = 1 GB/s; link 1: 4 Gbit/s = 0.5 GB/s.
    # f1: 3 GB on [0] at t = 0, latency 10 ms; f2: 1 GB on [0] at t = 0, no latency;
    # f3: 1 GB on [0, 1] at t = 1 s, latency 2 ms.
    engine = Engine()
    net = FlowNetwork(engine, [8.0, 4.0])
    done: dict[str, float] = {}

    def finish(name: str) -> None:
        done[name] = engine.now / S

    def start(t_s: float, name: str, size: float, path: tuple[int, ...], latency_ms: float) -> None:
        engine.call_later(t_s * S, lambda _: net.start(size, path, latency_ms, finish, name), None)

    start(0.0, "f1", 3 * GB, (0,), 10.0)
    start(0.0, "f2", 1 * GB, (0,), 0.0)
    start(1.0, "f3", 1 * GB, (0, 1), 2.0)
    engine.run(1.0)
    net.advance(engine.now)
    return net, done


def test_completion_times_match_hand_computation():
    # [0, 1) s: f1, f2 share link 0: 0.5 GB/s each -> at 1 s f1 has 2.5 GB left, f2 0.5 GB.
    # 1 s: f3 starts. Shares: link 0 1/3 GB/s, link 1 0.5 GB/s -> link 0 binds: 1/3 each.
    #   f2 ends after 0.5 / (1/3) = 1.5 s -> 2.5 s.  f1: 2.5 - 0.5 = 2 GB left; f3: 0.5 GB.
    # 2.5 s: f1, f3 on link 0: 0.5 GB/s each (link 1 would allow 0.5 too).
    #   f3 ends after 0.5 / 0.5 = 1 s -> 3.5 s, arrives + 2 ms = 3.502 s.  f1: 1.5 GB left.
    # 3.5 s: f1 alone at 1 GB/s -> ends 5.0 s, arrives + 10 ms = 5.010 s.
    _, done = _schedule()
    assert done == pytest.approx({"f2": 2.5, "f3": 3.502, "f1": 5.010}, rel=1e-9)


def test_bytes_are_conserved_and_link_integrals_match():
    net, _ = _schedule()
    # Link 0 carries f1 + f2 + f3 = 5 GB; link 1 carries f3 = 1 GB.
    assert net.links[0].bytes == pytest.approx(5 * GB, rel=1e-12)
    assert net.links[1].bytes == pytest.approx(1 * GB, rel=1e-12)
    # Link 0 is full from 0 to 5 s: 5 s of utilisation.  Link 1: [1, 2.5) at 1/3 of 0.5 GB/s
    # = 2/3 full for 1.5 s -> 1 s, then [2.5, 3.5) full -> 1 s; 2 s in all.
    assert net.links[0].util_area_h / S == pytest.approx(5.0, rel=1e-9)
    assert net.links[1].util_area_h / S == pytest.approx(2.0, rel=1e-9)
    # Flows on link 0: 2 x 1 s + 3 x 1.5 s + 2 x 1 s + 1 x 1.5 s = 10 flow-seconds; max 3.
    assert net.links[0].flows_area_h / S == pytest.approx(10.0, rel=1e-9)
    assert net.links[0].flows_max == 3 and net.links[1].flows_max == 1
    assert net.started == net.finished == 3 and net.active == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 10.0), st.floats(1e6, 1e12), st.sets(st.integers(0, 2), min_size=1).map(sorted)),
        min_size=1,
        max_size=12,
    )
)
def test_every_flow_finishes_and_each_link_carries_its_flows_bytes(flows):
    engine = Engine()
    net = FlowNetwork(engine, [1.0, 10.0, 100.0])
    done = []
    for t_h, size, path in flows:
        engine.call_later(t_h, lambda _, s=size, p=tuple(path): net.start(s, p, 0.5, done.append, s), None)
    engine.run(1e6)
    net.advance(engine.now)
    assert sorted(done) == sorted(size for _, size, _ in flows)
    for link in range(3):
        expected = sum(size for _, size, path in flows if link in path)
        assert net.links[link].bytes == pytest.approx(expected, rel=1e-9)
        # The utilisation integral is the bytes over the capacity (to the clock's float resolution).
        busy_h = net.links[link].util_area_h
        assert net.links[link].bytes == pytest.approx(net.capacity_gbps[link] * BYTES_PER_GBIT_H * busy_h, rel=1e-6)


def test_a_start_supersedes_the_pending_completion():
    # 1 GB over 8 Gbit/s alone would end at 1 s; a second flow at 0.5 s halves the rate:
    # 0.5 GB left at 0.5 GB/s -> 1.5 s for the first; the second's 1 GB: 0.5 GB by 1.5 s,
    # then alone at 1 GB/s -> 2.0 s.
    engine = Engine()
    net = FlowNetwork(engine, [8.0])
    done = {}

    def finish(name):
        done[name] = engine.now / S

    engine.call_later(0, lambda _: net.start(GB, (0,), 0.0, finish, "a"), None)
    engine.call_later(0.5 * S, lambda _: net.start(GB, (0,), 0.0, finish, "b"), None)
    engine.run(1.0)
    assert done == pytest.approx({"a": 1.5, "b": 2.0}, rel=1e-9)


def test_rate_caps_by_hand():
    # One 10 Gbit/s link, three flows, the first capped at 3: it takes 3, the others
    # share the remaining 7: 3.5 each (what a private 3 Gbit/s link would give it).
    assert maxmin_rates([10.0], [[0], [0], [0]], caps=[3.0, math.inf, math.inf]) == [3.0, 3.5, 3.5]
    # A cap above the flow's fair share changes nothing: 10 / 2 = 5 < 7.
    assert maxmin_rates([10.0], [[0], [0]], caps=[7.0, math.inf]) == [5.0, 5.0]
    # Link X (0) = 10 carries a, b; link Y (1) = 1 carries b.  b is held to 1 by Y; a is
    # capped at 4, so X carries 5 and 5 are left unused (a cap is not a link of X).
    assert maxmin_rates([10.0, 1.0], [[0], [0, 1]], caps=[4.0, math.inf]) == [4.0, 1.0]
    # Caps alone: an empty path with a cap gets the cap; all-inf caps are the uncapped case.
    assert maxmin_rates([1.0], [[], [0]], caps=[2.0, math.inf]) == [2.0, 1.0]
    assert maxmin_rates([10.0, 4.0], [[0], [0, 1], [1]], caps=[math.inf] * 3) == [8.0, 2.0, 2.0]


def test_capped_flow_schedule_by_hand():
    # Link 0 = 1 Gbit/s.  a: 1 GB capped at 0.25 Gbit/s; b: 1 GB uncapped; both at 0.
    # b gets 0.75 Gbit/s: 8 Gbit / 0.75 = 10.667 s.  a runs at its cap all along:
    # 8 Gbit / 0.25 = 32 s (+ 1 ms latency).  c: 1 GB on an empty path capped at
    # 2 Gbit/s: 4 s + 2 ms.  A bad cap is refused.
    engine = Engine()
    net = FlowNetwork(engine, [1.0])
    done = {}

    def finish(name):
        done[name] = engine.now / S

    net.start(GB, (0,), 1.0, finish, "a", rate_cap_gbps=0.25)
    net.start(GB, (0,), 0.0, finish, "b")
    net.start(GB, (), 2.0, finish, "c", rate_cap_gbps=2.0)
    with pytest.raises(ValueError, match="rate_cap_gbps"):
        net.start(GB, (0,), 0.0, finish, "d", rate_cap_gbps=0.0)
    engine.run(1.0)
    net.advance(engine.now)
    assert done == pytest.approx({"a": 32.001, "b": 32 / 3, "c": 4.002}, rel=1e-9)
    assert net.links[0].bytes == pytest.approx(2 * GB, rel=1e-12)
    # Utilisation: full for 10.667 s, then a quarter full for 21.333 s -> 16 s.
    assert net.links[0].util_area_h / S == pytest.approx(32 / 3 + 0.25 * 64 / 3, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(_networks(), st.data())
def test_capped_allocation_is_feasible_and_max_min_optimal(net, data):
    # With caps: no flow above its cap, no link over capacity, and every flow is either at
    # its cap or has a saturated bottleneck link on which no flow gets more than it.
    capacity, paths = net
    caps = data.draw(st.lists(st.one_of(st.just(math.inf), st.floats(0.05, 500.0)), min_size=len(paths),
                              max_size=len(paths)))
    rates = maxmin_rates(capacity, paths, caps)
    load = [0.0] * len(capacity)
    for rate, path, cap in zip(rates, paths, caps, strict=True):
        assert 0 < rate <= cap * (1 + 1e-12)
        for link in path:
            load[link] += rate
    for link, c in enumerate(capacity):
        assert load[link] <= c * (1 + 1e-9)
    for f, path in enumerate(paths):
        at_cap = rates[f] >= caps[f] * (1 - 1e-9)
        bottleneck = any(
            load[link] >= capacity[link] * (1 - 1e-9)
            and all(rates[g] <= rates[f] * (1 + 1e-9) for g, p in enumerate(paths) if link in p)
            for link in path
        )
        assert at_cap or bottleneck, f"flow {f} is below its cap with no saturated bottleneck"


def _plain_progressive_filling(capacity: list[float], paths: list[list[int]]) -> list[float]:
    """The rounds of maxmin_rates written plainly: every live link visited in every round."""
    rates = [math.inf] * len(paths)
    remaining = [float(c) for c in capacity]
    on_link = [[f for f, p in enumerate(paths) if link in p] for link in range(len(capacity))]
    active = [len(flows) for flows in on_link]
    frozen = [not p for p in paths]
    live = [link for link in range(len(capacity)) if active[link]]
    left = len(paths) - sum(frozen)
    while left:
        share = max(min(remaining[i] / active[i] for i in live), 0.0)
        limit = share * (1.0 + 1e-12) + 1e-15
        for i in live:
            if active[i] and remaining[i] / active[i] <= limit:
                for f in on_link[i]:
                    if not frozen[f]:
                        frozen[f] = True
                        left -= 1
                        rates[f] = share
                        for other in paths[f]:
                            remaining[other] -= share
                            active[other] -= 1
        live = [i for i in live if active[i]]
    return rates


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n_links: st.tuples(
            # Few distinct capacities, so equal and nearly equal fair shares (ties) are common.
            st.lists(st.sampled_from([1.0, 3.0, 10.0, 10.0 + 1e-13, 100.0]), min_size=n_links, max_size=n_links),
            st.lists(st.sets(st.integers(0, n_links - 1), min_size=1, max_size=4).map(sorted), min_size=1,
                     max_size=60),
        )
    )
)
def test_rounds_are_exactly_the_plain_progressive_filling(net):
    # maxmin_rates skips links far from the round's minimum share and switches to dense
    # lists from 32 flows: both must leave every rate identical to the bit.
    capacity, paths = net
    assert maxmin_rates(capacity, paths) == _plain_progressive_filling(capacity, paths)
