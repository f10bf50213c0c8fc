"""cheapest, greenest and edwc on tiny hand-made networks with known right answers (scores: test_energy.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine import Engine
from sim.placement import POLICIES, REJECT, PlacementContext
from sim.placement.edwc import DEFAULT_DEADLINE_H, Edwc
from sim.placement.scoring import WAIT_VALUE_KG_CO2_PER_GPU_H
from sim.placement.west import is_western
from sim.site import GpuPool
from topology.model import Network, Region, Site
from workloads.job_class import JobClass

INF = math.inf


def _context(sites: list[Site], latency: list[list[float]], classes: tuple[JobClass, ...] = ()) -> PlacementContext:
    regions = tuple(Region(id=f"r{i}", lat=0, lon=0) for i in range(len(latency)))
    network = Network(site=tuple(sites), region=regions)
    engine = Engine()
    pools = [GpuPool(i, s, engine) for i, s in enumerate(sites)]
    return PlacementContext(network, pools, np.array(latency, float), classes)


def _site(name: str, gpus: int = 100, **figures: object) -> Site:
    return Site(id=name, lat=0, lon=0, gpus=gpus, **figures)  # type: ignore[arg-type]


def _class(**keys: object) -> JobClass:
    return JobClass.model_validate(
        {"arrival_rate_per_h": 1.0, "gpus": {"dist": "constant", "value": 2},
         "work_gpu_h": {"dist": "constant", "value": 100.0}, **keys}
    )


def _fill(pool: GpuPool, running: int, queued: int) -> None:
    """Occupy ``running`` GPUs with one long job and queue one job of ``queued`` GPUs behind a full pool."""
    if running:
        pool.submit(10_000, running, 1e6, 0.0, 0, 0)
    if queued:
        pool.submit(10_001, queued, 1e6, 0.0, 0, 0)


def test_cheapest_picks_lowest_price_times_pue_ties_nearest_and_skips_unreachable():
    sites = [
        _site("dear", price_cny_per_kwh=0.5, pue=1.5),  # 0.75 per kWh of IT energy
        _site("tie_far", price_cny_per_kwh=0.25, pue=2.0),  # 0.5
        _site("tie_near", price_cny_per_kwh=0.5, pue=1.0),  # 0.5, nearer than tie_far
        _site("free_but_unreachable", price_cny_per_kwh=0.0),
        _site("big_dear", gpus=1000, price_cny_per_kwh=0.9),
    ]
    policy = POLICIES["cheapest"](_context(sites, [[1.0, 9.0, 5.0, INF, 2.0]], (_class(),)))
    assert policy.choose(0, 8, 0) == 2  # all idle, tie on 0.5: the nearer one
    assert policy.choose(0, 500, 0) == 4  # only big_dear holds 500 GPUs
    assert policy.choose(0, 5000, 0) == REJECT


def test_cheapest_weighs_the_price_gap_against_the_expected_wait():
    # c = price x pue x 0.4 kW: cheap 0.25 x 1 x 0.4 = 0.1 CNY per GPU-h, dear 0.2.  Class: 2 GPUs, 100 GPU-h,
    # so W = 100 GPU-h and T = 50 h; scores W x c + 10 CNY x 2 GPUs x wait: cheap 10 + 20 x wait, dear 20.
    sites = [_site("cheap", gpus=1000, price_cny_per_kwh=0.25, pue=1.0),
             _site("dear", gpus=1000, price_cny_per_kwh=0.5, pue=1.0)]
    policy = POLICIES["cheapest"](_context(sites, [[5.0, 1.0]], (_class(),)))
    assert policy.choose(0, 2, 0) == 0
    _fill(policy.pools[0], running=1000, queued=0)
    # overflow 1000 + 2 - 1000 = 2 GPUs: wait 2 / 1000 x 50 = 0.1 h, score 10 + 2 = 12 < 20: still cheap.
    assert policy.choose(0, 2, 0) == 0
    _fill(policy.pools[0], running=0, queued=18)
    # overflow 20: wait 1 h, score 10 + 20 = 30 > 20: the dearer idle site.
    assert policy.choose(0, 2, 0) == 1


def test_greenest_counts_renewables_pue_power_and_speed():
    sites = [
        _site("coal", carbon_kg_per_kwh=0.8, pue=1.1),  # 0.8 x 1.1 x 0.4 = 0.352 kg/GPU-h
        _site("wind", carbon_kg_per_kwh=0.8, renewable_frac=0.75, pue=1.4),  # 0.8 x 0.25 x 1.4 x 0.4 = 0.112
        _site("fast", carbon_kg_per_kwh=0.5, pue=1.2, gpu_busy_w=700, sku_speed=4.0),  # 0.5 x 1.2 x 0.7 / 4 = 0.105
        _site("hydro", carbon_kg_per_kwh=0.1, pue=1.2),  # 0.048, but too small for 200 GPUs
    ]
    policy = POLICIES["greenest"](_context(sites, [[1.0, 2.0, 3.0, 4.0]], (_class(),)))
    assert policy.choose(0, 1, 0) == 3
    assert policy.choose(0, 200, 0) == REJECT
    sites[3] = _site("hydro", gpus=50, carbon_kg_per_kwh=0.1, pue=1.2)
    policy = POLICIES["greenest"](_context(sites, [[1.0, 2.0, 3.0, 4.0]], (_class(),)))
    assert policy.choose(0, 80, 0) == 2  # fast beats wind: 0.105 < 0.112


def test_greenest_values_a_gpu_hour_of_waiting_at_the_social_cost_of_carbon():
    # hydro 0.1 x 1 x 0.4 = 0.04 kg per GPU-h, coal 0.5 x 1 x 0.4 = 0.2; W = 100 GPU-h: 4 kg against 20 kg.
    # A wait is worth 10 CNY / 1.368 CNY per kg = 7.31 kg per GPU-h: hydro wins while 4 + 14.62 x wait < 20.
    assert pytest.approx(10.0 / 1.368) == WAIT_VALUE_KG_CO2_PER_GPU_H
    sites = [_site("hydro", gpus=1000, carbon_kg_per_kwh=0.1, pue=1.0),
             _site("coal", gpus=1000, carbon_kg_per_kwh=0.5, pue=1.0)]
    policy = POLICIES["greenest"](_context(sites, [[1.0, 1.0]], (_class(),)))
    _fill(policy.pools[0], running=1000, queued=18)  # overflow 20 GPUs: wait 1 h, 4 + 14.6 = 18.6 < 20
    assert policy.choose(0, 2, 0) == 0
    _fill(policy.pools[0], running=0, queued=2)  # overflow 22: wait 1.1 h, 4 + 16.1 = 20.1 > 20
    assert policy.choose(0, 2, 0) == 1


def test_western_sites():
    assert is_western(_site("x", region="west")) and is_western(_site("y", region="Inner Mongolia"))
    assert is_western(_site("z", region="Guizhou"))
    assert not is_western(_site("e", region="east")) and not is_western(_site("k", region="Kazakhstan"))
    assert not is_western(_site("n"))


# -- edwc ---------------------------------------------------------------------------

#               one-way latency from r0, ms
# e_near   east   3 ms   (round trip 6)
# e_mid    east   4 ms   (8)
# e_far    east   8 ms   (16)
# w_cheap  west  15 ms   price 0.3
# w_dear   west  12 ms   price 0.4
SITES = [
    _site("e_near", gpus=10, region="east", price_cny_per_kwh=0.6),
    _site("e_mid", gpus=10, region="east", price_cny_per_kwh=0.6),
    _site("e_far", gpus=10, region="east", price_cny_per_kwh=0.6),
    _site("w_cheap", gpus=10, region="west", price_cny_per_kwh=0.3),
    _site("w_dear", gpus=10, region="west", price_cny_per_kwh=0.4),
]
LATENCY = [[3.0, 4.0, 8.0, 15.0, 12.0]]


def _edwc(*classes: JobClass) -> Edwc:
    policy = POLICIES["edwc"](_context(SITES, LATENCY, classes))
    assert isinstance(policy, Edwc)
    return policy


def test_edwc_keeps_latency_bound_work_within_its_budget_least_loaded_first():
    policy = _edwc(_class(latency_budget_ms=10.0), _class(latency_budget_ms=5.0))
    # Budget 10 ms round trip: e_near (6) and e_mid (8) qualify; e_far (16) and the west do not.
    assert policy.within_budget(0, 0) == [0, 1]
    assert policy.choose(0, 2, 0) == 0  # both empty: tie -> nearer
    _fill(policy.pools[0], running=6, queued=0)
    assert policy.choose(0, 2, 0) == 1  # e_mid is less loaded now
    # Budget 5 ms: no site within 2.5 ms one way -> unmet.
    assert policy.choose(0, 2, 1) == REJECT


def test_edwc_weighs_western_sites_by_cost_and_wait_within_the_deadline():
    # gpus 2, work 100 -> W = 100 GPU-h, mean run time T = 50 h; default deadline 24 h.
    # c = price x 1.3 x 0.4: w_cheap 0.156, w_dear 0.208, east 0.312 CNY per GPU-h;
    # score = 100 x c + 10 CNY x 2 GPUs x wait: empty w_cheap 15.6, w_dear 20.8.
    policy = _edwc(_class())
    assert policy.deadline_h == [DEFAULT_DEADLINE_H]
    assert policy.choose(0, 2, 0) == 3  # w_cheap, though w_dear is nearer
    _fill(policy.pools[3], running=10, queued=0)
    # w_cheap full: overflow 2 / 10 x 50 h = 10 h <= 24 h, but 15.6 + 200 > 20.8: the idle w_dear.
    assert policy.choose(0, 2, 0) == 4
    _fill(policy.pools[4], running=10, queued=0)
    # Both wait 10 h: 215.6 < 220.8, w_cheap again.
    assert policy.choose(0, 2, 0) == 3
    _fill(policy.pools[3], running=0, queued=10)
    # w_cheap: overflow 12 / 10 x 50 = 60 h > 24 h, past the deadline: w_dear (10 h).
    assert policy.choose(0, 2, 0) == 4
    _fill(policy.pools[4], running=0, queued=10)
    # The whole west is past the deadline: the east, equal cost and carbon -> the nearest.
    assert policy.choose(0, 2, 0) == 0
    for j in (0, 1, 2):
        _fill(policy.pools[j], running=10, queued=10)
    # Every site past the deadline: the lowest score anywhere; all wait 60 h, so the lowest cost, w_cheap.
    assert policy.choose(0, 2, 0) == 3


def test_edwc_deadline_from_the_class():
    # Both western sites wait 60 h: past the default 24 h (the east gets the job), within a 100 h deadline.
    for deadline, site in ((None, 0), (100.0, 3)):
        policy = _edwc(_class(deadline_h=deadline) if deadline else _class())
        _fill(policy.pools[3], running=10, queued=10)
        _fill(policy.pools[4], running=10, queued=10)
        assert policy.choose(0, 2, 0) == site


def test_edwc_large_jobs_go_where_they_fit():
    policy = _edwc(_class())
    assert policy.choose(0, 11, 0) == REJECT
