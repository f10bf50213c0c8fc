"""``cheapest`` and ``edwc`` weigh the price of moving a job's data (sim.placement.scoring.TransferCosts), by hand.

Two sites behind priced routes.  Site ``a`` has cheap electricity and is dear to reach; site
``b`` dear electricity and cheap to reach.  With ``pue = 1``, ``gpu_busy_w = 1000`` and
``sku_speed = 1`` a reference GPU-hour costs the site's ``price_cny_per_kwh`` in CNY
(``c_a = 0.3``, ``c_b = 0.6``); a job of the class does 100 reference GPU-h, so its electricity
costs 30 CNY at ``a`` and 60 CNY at ``b``.  Moving its data costs
``(E[input_gb] + E[result_gb]) × p_s`` with ``p_a = 0.28`` and ``p_b = 0`` CNY/GB:

* input only (100 GB): a = 30 + 28 = 58 < b = 60 -> ``a``;
* input and result (100 + 10 GB): a = 30 + 30.8 = 60.8 > b = 60 -> ``b``;
* no prices: a = 30 < b = 60 -> ``a`` (energy alone).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.engine import Engine
from sim.placement import POLICIES, PlacementContext
from sim.placement.scoring import TransferCosts, best_scored, moved_gb
from sim.site import GpuPool
from topology.model import Network, Region, Site
from workloads.job_class import JobClass

PRICE_A, PRICE_B = 0.28, 0.0  # CNY per GB from the one region to each site


def _class(**keys: object) -> JobClass:
    return JobClass.model_validate(
        {"arrival_rate_per_h": 1.0, "gpus": {"dist": "constant", "value": 2},
         "work_gpu_h": {"dist": "constant", "value": 100.0},
         "input_gb": {"dist": "constant", "value": 100.0}, **keys})


INPUT_ONLY = _class()
WITH_RESULT = _class(result_gb={"dist": "constant", "value": 10.0})
NOTHING_MOVES = JobClass.model_validate(
    {"arrival_rate_per_h": 1.0, "gpus": {"dist": "constant", "value": 2},
     "work_gpu_h": {"dist": "constant", "value": 100.0}})


def _context(prices: list[list[float]] | None) -> PlacementContext:
    sites = tuple(Site(id=name, lat=0, lon=0, gpus=100, zone="west", pue=1.0, gpu_busy_w=1000.0,
                       price_cny_per_kwh=kwh) for name, kwh in (("a", 0.3), ("b", 0.6)))
    network = Network(site=sites, region=(Region(id="r", lat=0, lon=0),))
    engine = Engine()
    pools = [GpuPool(i, s, engine) for i, s in enumerate(sites)]
    return PlacementContext(network, pools, np.array([[10.0, 10.0]]), (INPUT_ONLY, WITH_RESULT, NOTHING_MOVES),
                            transfer_cny_per_gb=None if prices is None else np.array(prices))


@pytest.mark.parametrize("policy", ["cheapest", "edwc"])
def test_the_policy_picks_by_electricity_plus_transfer(policy):
    chooser = POLICIES[policy](_context([[PRICE_A, PRICE_B]]))
    assert chooser.choose(0, 2, 0) == 0  # input only: 58 < 60 CNY
    assert chooser.choose(0, 2, 1) == 1  # input and result: 60.8 > 60 CNY
    assert chooser.choose(0, 2, 2) == 0  # nothing moves: 30 < 60 CNY


@pytest.mark.parametrize("policy", ["cheapest", "edwc"])
@pytest.mark.parametrize("prices", [None, [[0.0, 0.0]]])
def test_without_prices_energy_alone_decides(policy, prices):
    chooser = POLICIES[policy](_context(prices))
    assert [chooser.choose(0, 2, k) for k in range(3)] == [0, 0, 0]


def test_greenest_does_not_weigh_the_price():
    sites = [s.model_copy(update={"carbon_kg_per_kwh": c}) for s, c in zip(_context(None).network.sites, (0.5, 0.9),
                                                                             strict=True)]
    context = _context([[PRICE_A, PRICE_B]])
    context = dataclasses.replace(context, network=Network(site=tuple(sites), region=context.network.regions))
    assert POLICIES["greenest"](context).choose(0, 2, 1) == 0  # greener a, whatever moving costs


def test_transfer_costs_are_class_gb_times_route_price():
    costs = TransferCosts(_context([[PRICE_A, PRICE_B]]))
    assert moved_gb(INPUT_ONLY) == 100.0 and moved_gb(WITH_RESULT) == 110.0 and moved_gb(NOTHING_MOVES) == 0.0
    assert costs.of(0, 0) == pytest.approx([28.0, 0.0])
    assert costs.of(0, 1) == pytest.approx([30.8, 0.0])
    assert costs.of(0, 2) is None  # the class moves nothing
    assert TransferCosts(_context([[0.0, 0.0]])).of(0, 1) is None  # no price anywhere
    assert TransferCosts(_context(None)).of(0, 1) is None
    assert costs.active and not TransferCosts(_context([[0.0, 0.0]])).active


def test_best_scored_adds_the_extra_and_still_stops_early():
    context = _context(None)
    pools, unit = context.pools, [0.3, 0.6]
    assert best_scored(pools, [0, 1], unit, 2, 100.0, 50.0, 10.0) == 0
    assert best_scored(pools, [0, 1], unit, 2, 100.0, 50.0, 10.0, extra=[30.01, 0.0]) == 1  # 60.01 > 60
    assert best_scored(pools, [0, 1], unit, 2, 100.0, 50.0, 10.0, extra=[29.99, 0.0]) == 0  # 59.99 < 60
    # The scan stops at a site whose energy alone reaches the best score: b (60) is never looked at
    # once a scores 59.99, even with an extra of -inf there (an extra is >= 0 by contract).
    assert best_scored(pools, [0, 1], unit, 2, 100.0, 50.0, 10.0, extra=[29.99, -np.inf]) == 0
