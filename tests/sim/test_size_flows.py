"""The size estimate's max-min re-solves over concurrent WAN flows (sim.size.flow_groups), by hand."""

from __future__ import annotations

import pytest

from sim.flows import BYTES_PER_GBIT_H
from sim.scenario import load_scenario
from sim.size import EVENTS_PER_FLOW_GROUP, FLOW_EVENTS_PER_TRANSFER, estimate_size, flow_groups
from topology.model import Link, Network, Region, Site

ONE_MOVING_CLASS = [
    "workload={batch={arrival_rate_per_h=RATE, work_gpu_h={dist='exponential', mean=1.0}, "
    "input_gb={dist='constant', value=450.0}}}",
    "horizon_h=10",
    "metric_interval_h=5",
]


def _network(n_regions: int, n_far: int = 1) -> Network:
    """``n_regions`` regions with a 1 Gbit/s access link each to a hub site; ``n_far`` sites 10 Gbit/s beyond it."""
    regions = tuple(Region(id=f"r{k}", lat=30.0, lon=100.0 + k * 0.1) for k in range(n_regions))
    sites = (Site(id="hub", lat=31.0, lon=110.0, gpus=64),
             *(Site(id=f"far{k}", lat=40.0, lon=90.0 + k * 0.1, gpus=64) for k in range(n_far)))
    links = (*(Link(id=f"a{k}", a=f"r{k}", b="hub", bandwidth_gbps=1.0) for k in range(n_regions)),
             *(Link(id=f"c{k}", a="hub", b=f"far{k}", bandwidth_gbps=10.0) for k in range(n_far)))
    return Network(name="t", site=sites, region=regions, link=links)


def test_unsaturated_flows_are_little_laws_count_and_under_the_memo_cost_nothing():
    # 40 regions with 1 Gbit/s access links: a 450 GB input takes at least 450e9 / (1 Gbit/s in
    # bytes/h = 4.5e11) = 1 h, so 10 arrivals/h keep 10 in flight (Little): under 16, memoised.
    loaded = load_scenario(None, [o.replace("RATE", "10.0") for o in ONE_MOVING_CLASS])
    network = _network(40)
    assert flow_groups(loaded.scenario, network, 10.0, 10.0 * 450e9) == 0.0
    # 20 arrivals/h: 20 in flight, over the memo; one class from 40 regions: at most 40 groups.
    assert flow_groups(loaded.scenario, network, 20.0, 20.0 * 450e9) == pytest.approx(20.0)


def test_a_saturated_wan_adds_the_growing_backlog_and_groups_are_bounded_by_regions_times_classes():
    # 4 regions x 1 Gbit/s = 4 Gbit/s of access (1.8e12 bytes/h); 100 arrivals/h of 450 GB offer
    # 4.5e13 bytes/h: Little gives 100 x 1 h = 100 flows, and the backlog grows by
    # (4.5e13 - 1.8e12) / 4.5e11 = 96 flows/h, 96 x 10 h / 2 = 480 more on average: 580 flows,
    # but 4 regions x 1 moving class = 4 groups (<= 16: memoised), with 40 regions 40 groups, with
    # 3 moving classes and 2 sites 40 x 2 = 80 (a class's flows from one region go to one site at a
    # time, and there are only 2), and with 20 classes and 20 sites all 580 - 180 = 400 (40 Gbit/s of
    # access now: 100 + (4.5e13 - 1.8e13) / 4.5e11 x 10 / 2 = 100 + 300), under 40 x 20.
    loaded = load_scenario(None, [o.replace("RATE", "100.0") for o in ONE_MOVING_CLASS])
    capacity = 4 * BYTES_PER_GBIT_H
    assert capacity == pytest.approx(1.8e12)
    assert flow_groups(loaded.scenario, _network(4), 100.0, 100.0 * 450e9) == 0.0
    assert flow_groups(loaded.scenario, _network(40), 100.0, 100.0 * 450e9) == pytest.approx(40.0)
    assert flow_groups(loaded.scenario, _network(40), 100.0, 100.0 * 450e9, moving_classes=3) == pytest.approx(80.0)
    assert flow_groups(loaded.scenario, _network(40, 19), 100.0, 100.0 * 450e9, moving_classes=20) == pytest.approx(
        400.0)


def test_the_estimate_counts_two_re_solves_per_transfer_per_group():
    # 100 arrivals/h over 10 h, all moving, 40 groups (above): 1,000 transfers x 2 re-solves x
    # EVENTS_PER_FLOW_GROUP x 40 = 56,000 events (0.7 per group), on top of 3 events per job.
    loaded = load_scenario(None, [o.replace("RATE", "100.0") for o in ONE_MOVING_CLASS])
    size = estimate_size(loaded.scenario, _network(40))
    assert FLOW_EVENTS_PER_TRANSFER == 2 and EVENTS_PER_FLOW_GROUP == 0.7
    assert size.flow_events == pytest.approx(1000 * 2 * 0.7 * 40)
    assert size.events >= size.flow_events + 1000 * 3
    two = load_scenario(None, [*(o.replace("RATE", "100.0") for o in ONE_MOVING_CLASS), "replications=2"])
    assert estimate_size(two.scenario, _network(40)).flow_events == pytest.approx(2 * size.flow_events)


def test_the_shipped_examples_count_no_re_solves():
    # Their flows stay few (at most 16 at once in a national year, benchmarks/README.md, "Issue 20,
    # fifth slice: the WAN max-min pathology"), so their estimates are what they were before the flow term.
    for path in ("examples/national.toml", "examples/edwc.toml", "examples/belt_and_road.toml"):
        loaded = load_scenario(path)
        assert estimate_size(loaded.scenario, loaded.network).flow_events == 0.0, path
