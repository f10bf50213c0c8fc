"""The shared score of the load-aware policies: expected wait, best_scored, ScoredPolicy; hand-computed."""

from __future__ import annotations

import math

import pytest

from sim.energy import carbon_kg_per_ref_gpu_h, energy_cny_per_ref_gpu_h
from sim.placement import REJECT, Cheapest, Greenest
from sim.placement.scored import ScoredPolicy
from sim.placement.scoring import (
    CARBON_PRICE_CNY_PER_KG,
    WAIT_VALUE_CNY_PER_GPU_H,
    WAIT_VALUE_KG_CO2_PER_GPU_H,
    best_scored,
    expected_wait_h,
    mean_or_bound,
)
from topology.model import Site
from workloads.distributions import Constant, Pareto
from workloads.job_class import JobClass

INF = math.inf


def _class(gpus: int = 2, work: float = 100.0) -> JobClass:
    return JobClass.model_validate({"arrival_rate_per_h": 1.0, "gpus": {"dist": "constant", "value": gpus},
                                    "work_gpu_h": {"dist": "constant", "value": work}})


def _busy(pool, running: int, queued: int = 0) -> None:
    if running:
        pool.submit(1, running, 1e6, 0.0, 0, 0)
    if queued:
        pool.submit(2, queued, 1e6, 0.0, 0, 0)


class ByPue(ScoredPolicy):
    """Unit score = PUE, a GPU-hour of waiting worth 0.01: hand-checked orders."""

    wait_value = 0.01

    @staticmethod
    def unit_score(site: Site) -> float:
        return site.pue


def test_expected_wait_is_the_overflow_in_pool_fulls_times_the_run_time(make_site, make_context):
    pool = make_context([make_site("p", gpus=10)], [[1.0]]).pools[0]
    assert expected_wait_h(pool, 10, 50.0) == 0.0  # fits in the empty pool
    _busy(pool, running=8)
    assert expected_wait_h(pool, 2, 50.0) == 0.0  # 8 + 2 = 10: fits exactly
    _busy(pool, running=0, queued=10)
    # busy 8 + queued 10 + 2 - 10 = 10 GPUs over: 10 / 10 pool-fulls x 50 h = 50 h.
    assert expected_wait_h(pool, 2, 50.0) == pytest.approx(50.0)


def test_best_scored_adds_the_value_of_waiting_to_the_cost_of_the_work(make_site, make_context):
    context = make_context([make_site("a", gpus=10), make_site("b", gpus=10), make_site("small", gpus=1)],
                           [[1.0, 1.0, 1.0]])
    pools, unit = context.pools, [1.0, 2.0, 0.5]
    # W = 100, T = 50 h, value 5 per GPU-h of waiting, g = 2.  Empty: a 100, b 200; small is too small.
    assert best_scored(pools, [2, 0, 1], unit, 2, 100.0, 50.0, 5.0) == 0
    _busy(pools[0], running=10)  # a: overflow 2 -> wait 10 h -> 100 + 5 x 2 x 10 = 200, ties b: the earlier
    assert best_scored(pools, [2, 0, 1], unit, 2, 100.0, 50.0, 5.0) == 0
    assert best_scored(pools, [2, 0, 1], unit, 2, 100.0, 50.0, 5.1) == 1  # 202 > 200
    assert best_scored(pools, [2, 0, 1], unit, 2, 100.0, 50.0, 5.0, max_wait_h=9.9) == 1  # a past the deadline
    _busy(pools[1], running=10)
    assert best_scored(pools, [2, 0, 1], unit, 2, 100.0, 50.0, 5.0, max_wait_h=9.9) == REJECT
    assert best_scored(pools, [0, 1], unit, 11, 100.0, 50.0, 5.0) == REJECT


def test_best_scored_stops_at_a_unit_cost_no_wait_can_beat(make_site, make_context):
    context = make_context([make_site("a", gpus=10), make_site("b", gpus=10)], [[1.0, 1.0]])

    class Exploding:
        total = free = queued_gpus = speed = property(lambda self: pytest.fail("b was read"))

    pools = [context.pools[0], Exploding()]
    assert best_scored(pools, [0, 1], [1.0, 1.0], 2, 100.0, 50.0, 5.0) == 0  # equal unit: b cannot win


def test_mean_or_bound():
    assert mean_or_bound(Constant(dist="constant", value=3.0)) == 3.0
    assert mean_or_bound(Pareto(dist="pareto", alpha=0.9, min=2.0, max=500.0)) == 500.0
    assert mean_or_bound(Pareto(dist="pareto", alpha=0.9, min=2.0)) == 1.0


def test_scored_policy_ranks_by_unit_then_latency_and_weighs_load(make_site, make_context):
    sites = [make_site("p13", pue=1.3), make_site("p12_a", pue=1.2), make_site("p12_b", pue=1.2),
             make_site("p11_small", gpus=4, pue=1.1), make_site("p10_unreachable", pue=1.0)]
    policy = ByPue(make_context(sites, [[9.0, 2.0, 2.0, 5.0, INF], [1.0, 3.0, 1.0, 9.0, INF]], (_class(),)))
    assert policy.ranked[0] == [3, 1, 2, 0] and policy.ranked[1] == [3, 2, 1, 0]
    assert policy.choose(0, 4, 0) == 3
    assert policy.choose(0, 5, 0) == 1 and policy.choose(1, 5, 0) == 2  # tie on PUE 1.2: the nearer
    assert policy.choose(0, 101, 0) == REJECT
    # p12_a full: overflow 5 / 100 x 50 h = 2.5 h -> 120 + 0.01 x 5 x 2.5 = 120.125 > 120 (p12_b).
    _busy(policy.pools[1], running=100)
    assert policy.choose(0, 5, 0) == 2


def test_cheapest_and_greenest_score_with_the_energy_figures_and_their_wait_values():
    site = Site(id="s", lat=0, lon=0, gpus=8, price_cny_per_kwh=0.5, pue=1.2, carbon_kg_per_kwh=0.6,
                renewable_frac=0.25)
    assert Cheapest.unit_score(site) == energy_cny_per_ref_gpu_h(site)
    assert Greenest.unit_score(site) == carbon_kg_per_ref_gpu_h(site)
    assert Cheapest.wait_value == WAIT_VALUE_CNY_PER_GPU_H == 10.0
    assert pytest.approx(1.368) == CARBON_PRICE_CNY_PER_KG
    assert Greenest.wait_value == WAIT_VALUE_KG_CO2_PER_GPU_H == pytest.approx(7.3099, abs=1e-4)
