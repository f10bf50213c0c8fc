"""The scan over cached pool lists (least_loaded_among) gives the scan over site indices' answer, ties included.

``least_loaded`` and ``edwc`` keep each row's candidate pools in a list and scan them
(issue 20, sixth slice); these tests check that scan against the definition on random
states with ties, and that both policies use it on every short-list choice of a run and
answer as the definition does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim.placement.edwc as edwc_module
import sim.placement.least_loaded as least_loaded_module
from sim import compiled
from sim.engine import Engine
from sim.placement import REJECT
from sim.placement.least_loaded import INDEX_MIN_CANDIDATES, least_loaded_among, least_loaded_of
from sim.pool import Pool
from sim.run import run_replication
from sim.scenario import load_scenario
from sim.site import GpuPool
from topology.model import Site

from .test_least_loaded_index import scan  # the definition, one copy

NATIONAL = Path(__file__).resolve().parents[3] / "examples" / "national.toml"


def test_among_agrees_with_the_scan_on_random_states_with_ties() -> None:
    rng = np.random.default_rng(206)
    engine = Engine()
    n = 24
    sizes = rng.choice([8, 16, 16, 32], n)  # few sizes: equal loads are common
    pools: list[Pool] = [GpuPool(i, Site(id=f"s{i}", lat=0, lon=0, gpus=int(g)), engine) for i, g in enumerate(sizes)]
    ties = 0
    for job in range(3000):
        candidates = [int(j) for j in rng.permutation(n)[: int(rng.integers(0, n + 1))]]
        gpus = int(rng.choice([1, 4, 8, 24]))  # 24 fits only the 32-GPU sites
        expected = scan(pools, candidates, gpus)
        assert least_loaded_among([pools[j] for j in candidates], gpus) == expected
        assert least_loaded_of(pools, candidates, gpus) == expected
        loads = [(pools[j].total - pools[j].free + pools[j].queued_gpus + gpus) / pools[j].total
                 for j in candidates if pools[j].total >= gpus]
        ties += len(loads) != len(set(loads))
        site = int(rng.integers(n))
        pools[site].submit(job, int(rng.integers(1, 9)), float(rng.exponential(2.0)), engine.now_h, 0, 0)
        engine.run(engine.now_h + float(rng.exponential(0.02)))
    assert ties > 300  # the tie-break (earlier candidate) was exercised
    assert any(p.queued_gpus for p in pools) and sum(p.finished for p in pools) > 1000
    assert least_loaded_among([], 1) == REJECT


@pytest.mark.skipif(compiled.ACTIVE is not None and compiled.ACTIVE.compiled,
                    reason="patches a module function"
                           ", which compiled code (setup.py) does not see: the pure-Python pass "
                           "(CPNSIM_PURE_PYTHON=1) runs it")
@pytest.mark.parametrize("policy", ["edwc", "least_loaded"])
def test_policies_scan_their_cached_lists_and_answer_as_the_definition(policy: str, monkeypatch: Any) -> None:
    # National network, 4 days: every short-list choice goes through least_loaded_among and
    # agrees with the scan over the sites the list stands for.
    calls = []

    def checked(candidates: list[Pool], gpus: int) -> int:
        site = least_loaded_among(candidates, gpus)
        at = scan(candidates, list(range(len(candidates))), gpus)  # position in the list, by the definition
        assert site == (REJECT if at == REJECT else candidates[at].index)
        calls.append(len(candidates))
        return site

    module = edwc_module if policy == "edwc" else least_loaded_module
    monkeypatch.setattr(module, "least_loaded_among", checked)
    loaded = load_scenario(NATIONAL, ["horizon_h=96", "warmup_h=0", f"policy={policy}"])
    run_replication(loaded, 0)
    assert len(calls) > 5000 and max(calls) < INDEX_MIN_CANDIDATES
    if policy == "edwc":  # the latency-bound lists are the within-budget sites, shorter than every reachable site
        assert min(calls) < max(calls)


def test_edwc_long_budget_lists_stay_on_the_load_index(make_site: Any, make_context: Any) -> None:
    from workloads.job_class import JobClass

    n = INDEX_MIN_CANDIDATES + 6
    sites = [make_site(f"s{i}", gpus=10 + i % 3) for i in range(n)]
    cls = JobClass(arrival_rate_per_h=1.0, gpus={"dist": "constant", "value": 2}, work_gpu_h={"dist": "constant",
                   "value": 1.0}, latency_budget_ms=10.0)
    context = make_context(sites, [[1.0] * n], (cls,))
    policy = edwc_module.Edwc(context)
    for _ in range(3):
        site = policy.choose(0, 2, 0)
        assert site == scan(context.pools, policy.within_budget(0, 0), 2)
        context.pools[site].submit(site, 2, 100.0, 0.0, 0, 0)
    assert policy._near[0][0] is None  # no pool list cached: the index answers
    assert isinstance(context.pools[0].load_watch, set)
