"""Time-aware placement and deferral ([signals] time_aware, defer): hand-computed windows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sim.engine import Engine
from sim.placement import Cheapest, Edwc, Greenest, PlacementContext
from sim.placement.scoring import best_delay_h, best_scored_timed
from sim.signals import PRICE, SiteSignals
from topology.model import Site
from topology.signals import SignalsConfig
from workloads.job_class import JobClass

MakeSite = Callable[..., Site]  # the conftest's fixtures (conftest.py is not importable as a module)
MakeContext = Callable[..., PlacementContext]

CHEAP_DAY = [0.2] * 12 + [1.0] * 12  # site a: cheap from 00:00 to 12:00, dear after
FLAT = [0.5] * 24


def _series(price: list[float], carbon: list[float] | None = None) -> np.ndarray:
    return np.array([price, carbon or [0.5] * 24, [0.0] * 24])


def _class(deadline: float | None = 24.0, work: float = 8.0) -> JobClass:
    return JobClass.model_validate({"arrival_rate_per_h": 1.0, "gpus": {"dist": "constant", "value": 2},
                                    "work_gpu_h": {"dist": "constant", "value": work}, "deadline_h": deadline})


def _signals(sites: list[Site], series: list[np.ndarray], defer: bool = False) -> SiteSignals:
    return SiteSignals(series, sites, SignalsConfig(time_aware=True, defer=defer))


def test_best_scored_timed_prices_the_hours_the_job_will_run(make_site: MakeSite, make_context: MakeContext) -> None:
    sites = [make_site("a", gpus=10, gpu_busy_w=1000, pue=1.0), make_site("b", gpus=10, gpu_busy_w=1000, pue=1.0)]
    context = make_context(sites, [[1.0, 1.0]])
    signals = _signals(sites, [_series(CHEAP_DAY), _series(FLAT)])
    # A 4 h job (8 GPU-h on 2 GPUs) at 06:00 runs 06-10 at a: 0.2 CNY/kWh x 1 kWh per GPU-h, below b's 0.5.
    assert best_scored_timed(context.pools, [0, 1], signals, PRICE, 6.0, 2, 8.0, 4.0, 10.0) == 0
    # At 10:00 it runs 10-14: a's mean (2 x 0.2 + 2 x 1.0) / 4 = 0.6 > 0.5, so b.
    assert best_scored_timed(context.pools, [0, 1], signals, PRICE, 10.0, 2, 8.0, 4.0, 10.0) == 1
    assert signals.unit_per_ref_gpu_h(0, PRICE, 10.0, 14.0) == pytest.approx(0.6)


def test_deferral_waits_for_the_cheap_hours_within_the_deadline(make_site: MakeSite, make_context: MakeContext) -> None:
    site = make_site("a", gpus=10)
    pool = make_context([site], [[1.0]]).pools[0]
    signals = _signals([site], [_series(CHEAP_DAY)], defer=True)
    # At 13:00 the cheap window opens at 24:00, 11 h away; half of a 24 h deadline reaches 12 h.
    assert best_delay_h(pool, 0, signals, PRICE, 13.0, 2, 4.0, 24.0) == pytest.approx(11.0)
    # With a 12 h deadline the reach is 6 h: no cheaper start within it, so no hold.
    assert best_delay_h(pool, 0, signals, PRICE, 13.0, 2, 4.0, 12.0) == 0.0
    # Already in the cheap hours: start now.
    assert best_delay_h(pool, 0, signals, PRICE, 2.0, 2, 4.0, 24.0) == 0.0


def test_policies_follow_their_signal_and_hold_only_deadline_work(make_site: MakeSite,
                                                                  make_context: MakeContext) -> None:
    sites = [make_site("a", gpus=10, region="west"), make_site("b", gpus=10, region="west")]
    # a: cheap mornings, flat carbon; b: flat price, green mornings.
    series = [_series(CHEAP_DAY, [0.6] * 24), _series(FLAT, [0.1] * 12 + [0.9] * 12)]
    classes = (_class(), _class(deadline=None), JobClass.model_validate(
        {"arrival_rate_per_h": 1.0, "work_gpu_h": {"dist": "constant", "value": 1.0}, "latency_budget_ms": 50.0}))
    engine = Engine(start_h=3.0)  # the real type: a compiled Edwc checks it (setup.py)
    for policy_class, expected in ((Cheapest, 0), (Greenest, 1), (Edwc, 0)):
        policy = policy_class(make_context(sites, [[1.0, 1.0]], classes))
        signals = _signals(sites, series, defer=True)
        policy.attach_signals(signals, engine)
        assert policy.choose(0, 2, 0) == expected, policy_class.__name__
        assert policy.deferral_h(0, 2, 0, expected) == 0.0  # 03:00 is already a good hour
        assert policy.deferral_h(0, 2, 1, expected) == 0.0  # no deadline: never held
        assert policy.deferral_h(0, 1, 2, expected) == 0.0  # latency-bound: never held
    policy = Edwc(make_context(sites, [[1.0, 1.0]], classes))
    policy.attach_signals(_signals(sites, series, defer=True), Engine(start_h=14.0))
    assert policy.deferral_h(0, 2, 0, 0) == pytest.approx(10.0)  # to 24:00, within 0.5 x 24 h
