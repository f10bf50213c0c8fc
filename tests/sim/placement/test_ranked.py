"""RankedPolicy (cheapest, greenest): the reachable site with the lowest fixed score that is large enough."""

from __future__ import annotations

import math

from sim.energy import carbon_kg_per_ref_gpu_h, energy_cny_per_ref_gpu_h
from sim.placement import REJECT, Cheapest, Greenest
from sim.placement.ranked import RankedPolicy
from topology.model import Site

INF = math.inf


class ByPue(RankedPolicy):
    """A ranked policy whose score is the site's PUE, for hand-checked orders."""

    @staticmethod
    def score(site: Site) -> float:
        return site.pue


def test_lowest_score_first_then_nearer_then_file_order(make_site, make_context):
    sites = [
        make_site("p13_far", pue=1.3),
        make_site("p12_a", pue=1.2),
        make_site("p12_b", pue=1.2),
        make_site("p11_small", gpus=4, pue=1.1),
        make_site("p10_unreachable", pue=1.0),
    ]
    # p12_a and p12_b tie on PUE at equal latency: file order; p11_small holds only 4 GPUs.
    policy = ByPue(make_context(sites, [[9.0, 2.0, 2.0, 5.0, INF], [1.0, 3.0, 1.0, 9.0, INF]]))
    assert policy.ranked[0] == [3, 1, 2, 0]  # scores 1.1, 1.2, 1.2, 1.3; the unreachable site is gone
    assert policy.choose(0, 4, 0) == 3
    assert policy.choose(0, 5, 0) == 1  # too big for p11_small: the earlier of the 1.2 pair
    assert policy.ranked[1] == [3, 2, 1, 0]  # from r1, p12_b is nearer than p12_a: it wins the tie
    assert policy.choose(1, 5, 0) == 2
    assert policy.choose(0, 101, 0) == REJECT


def test_the_choice_ignores_load(make_site, make_context):
    context = make_context([make_site("low", gpus=10, pue=1.1), make_site("high", gpus=10, pue=1.5)], [[1.0, 1.0]])
    policy = ByPue(context)
    context.pools[0].submit(1, 10, 1e6, 0.0, 0, 0)
    context.pools[0].submit(2, 10, 1e6, 0.0, 0, 0)  # full, with a queue
    assert policy.choose(0, 10, 0) == 0


def test_cheapest_and_greenest_rank_by_the_energy_scores():
    site = Site(id="s", lat=0, lon=0, gpus=8, price_cny_per_kwh=0.5, pue=1.2, carbon_kg_per_kwh=0.6,
                renewable_frac=0.25)
    assert issubclass(Cheapest, RankedPolicy) and issubclass(Greenest, RankedPolicy)
    assert Cheapest.score(site) == energy_cny_per_ref_gpu_h(site)
    assert Greenest.score(site) == carbon_kg_per_ref_gpu_h(site)
