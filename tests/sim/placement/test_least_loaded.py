"""least_loaded: the reachable site with the lowest (busy + queued + asked) / total GPUs."""

from __future__ import annotations

import math

from sim.placement import POLICIES, REJECT, LeastLoaded
from sim.placement.least_loaded import least_loaded_of

INF = math.inf


def test_lowest_committed_load_after_adding_the_job(make_site, make_context):
    context = make_context([make_site("a", gpus=10), make_site("b", gpus=20)], [[1.0, 2.0]])
    policy = POLICIES["least_loaded"](context)
    assert isinstance(policy, LeastLoaded)
    # Empty: a (0 + 0 + 2) / 10 = 0.2, b (0 + 0 + 2) / 20 = 0.1.
    assert policy.choose(0, 2, 0) == 1
    context.pools[1].submit(1, 15, 1e6, 0.0, 0, 0)  # b: 15 busy -> (15 + 2) / 20 = 0.85 > 0.2
    assert policy.choose(0, 2, 0) == 0
    context.pools[0].submit(2, 10, 1e6, 0.0, 0, 0)  # a: 10 busy ...
    context.pools[0].submit(3, 4, 1e6, 0.0, 0, 0)  # ... and 4 queued -> (10 + 4 + 2) / 10 = 1.6 > 0.85
    assert policy.choose(0, 2, 0) == 1


def test_ties_go_to_the_nearer_site_and_small_or_unreachable_sites_are_skipped(make_site, make_context):
    sites = [make_site("a", gpus=10), make_site("b", gpus=10), make_site("big", gpus=100), make_site("far", gpus=500)]
    policy = POLICIES["least_loaded"](make_context(sites, [[2.0, 1.0, 3.0, INF]]))
    # a and b both (0 + 0 + 5) / 10 = 0.5, big 5 / 100 = 0.05: big.
    assert policy.choose(0, 5, 0) == 2
    # 20 GPUs fit only big (far is unreachable); 200 fit nowhere reachable.
    assert policy.choose(0, 20, 0) == 2
    assert policy.choose(0, 200, 0) == REJECT
    # Ties: a and b alone, equally loaded, b is nearer.
    assert least_loaded_of(policy.pools, policy.by_latency[0][:2], 5) == 1


def test_least_loaded_of_keeps_candidate_order_for_ties(make_site, make_context):
    context = make_context([make_site("a", gpus=10), make_site("b", gpus=10)], [[1.0, 1.0]])
    assert least_loaded_of(context.pools, [1, 0], 4) == 1
    assert least_loaded_of(context.pools, [0, 1], 4) == 0
    assert least_loaded_of(context.pools, [], 4) == REJECT
