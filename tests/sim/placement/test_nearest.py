"""nearest: the reachable site with the least one-way latency that is large enough, whatever its load."""

from __future__ import annotations

import math

from sim.placement import POLICIES, REJECT, Nearest

INF = math.inf


def test_nearest_large_enough_reachable_site(make_site, make_context):
    sites = [make_site("a", gpus=8), make_site("b", gpus=64), make_site("c", gpus=16)]
    # r0: b (1 ms) < c (3 ms) < a (5 ms); r1: a (1 ms) < c (2 ms), b unreachable.
    policy = POLICIES["nearest"](make_context(sites, [[5.0, 1.0, 3.0], [1.0, INF, 2.0]]))
    assert isinstance(policy, Nearest)
    assert policy.choose(0, 4, 0) == 1  # b is nearest and holds 4
    assert policy.choose(0, 64, 0) == 1  # b holds exactly 64
    assert policy.choose(0, 65, 0) == REJECT  # no site holds 65
    assert policy.choose(1, 8, 0) == 0  # a is nearest from r1
    assert policy.choose(1, 9, 0) == 2  # a is too small: c, the next nearest
    assert policy.choose(1, 64, 0) == REJECT  # only b holds 64, and r1 cannot reach it


def test_nearest_ties_go_to_the_earlier_site_and_load_is_ignored(make_site, make_context):
    sites = [make_site("a", gpus=10), make_site("b", gpus=10)]
    context = make_context(sites, [[2.0, 2.0]])
    policy = POLICIES["nearest"](context)
    assert policy.choose(0, 2, 0) == 0  # equal latency: site order
    context.pools[0].submit(1, 10, 1e6, 0.0, 0, 0)  # a is full ...
    context.pools[0].submit(2, 10, 1e6, 0.0, 0, 0)  # ... with a queue
    assert policy.choose(0, 2, 0) == 0  # ... and still chosen


def test_a_region_that_reaches_no_site_rejects_everything(make_site, make_context):
    policy = POLICIES["nearest"](make_context([make_site("a")], [[INF]]))
    assert policy.choose(0, 1, 0) == REJECT
