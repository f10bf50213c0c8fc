"""The load index behind least_loaded_of on long candidate lists gives the scan's answer, ties included."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import Engine
from sim.job_log import JobLog
from sim.placement import REJECT
from sim.placement.least_loaded import INDEX_MIN_CANDIDATES, least_loaded_of
from sim.pool import Pool
from sim.scheduling import SchedPool
from sim.site import GpuPool, LoggedGpuPool
from sim.task import ClassRules
from topology.model import Site


def scan(pools: list[Pool], candidates: list[int], gpus: int) -> int:
    """The definition: lowest (busy + queued + gpus) / total, first candidate on ties."""
    best, best_load = REJECT, float("inf")
    for j in candidates:
        pool = pools[j]
        if pool.total >= gpus:
            load = (pool.total - pool.free + pool.queued_gpus + gpus) / pool.total
            if load < best_load:
                best, best_load = j, load
    return best


def _pools(kind: str, n: int, rng: np.random.Generator, engine: Engine) -> list[Pool]:
    # Sizes from a few values, so equal loads (ties) are common.
    sizes = rng.choice([8, 16, 16, 32, 64], n)
    sites = [Site(id=f"s{i}", lat=0, lon=0, gpus=int(g)) for i, g in enumerate(sizes)]
    if kind == "fifo":
        return [GpuPool(i, s, engine) for i, s in enumerate(sites)]
    if kind == "logged":
        log = JobLog(1.0, ["a", "b"], ["r0"], [s.id for s in sites])
        return [LoggedGpuPool(i, s, engine, log.fifo_columns()) for i, s in enumerate(sites)]
    # Two priorities, a maximum wait on the low one (jobs leave the queue: load falls), EASY.
    rules = ClassRules(level=[0, 1], max_wait_h=[None, 0.3], checkpoint_h=[None, None], scale=[1.0, 1.0])
    return [SchedPool(i, s, engine, rules, easy=True, max_restarts=1) for i, s in enumerate(sites)]


@pytest.mark.parametrize("kind", ["fifo", "logged", "sched"])
def test_index_agrees_with_the_scan_through_a_busy_run(kind):
    rng = np.random.default_rng(20)
    engine = Engine()
    n = 3 * INDEX_MIN_CANDIDATES
    pools = _pools(kind, n, rng, engine)
    # Three overlapping long lists in different orders (the tie-break), one short one (the scan path).
    lists = [list(rng.permutation(n)[: 2 * INDEX_MIN_CANDIDATES]) for _ in range(3)] + [list(range(10))]
    lists = [[int(j) for j in c] for c in lists]
    checked = 0
    job = 0

    def arrive(_: None) -> None:
        nonlocal job, checked
        candidates = lists[int(rng.integers(len(lists)))]
        gpus = int(rng.choice([1, 8, 16, 48]))  # 48 fits only the 64-GPU sites
        site = least_loaded_of(pools, candidates, gpus)
        assert site == scan(pools, candidates, gpus)
        checked += 1
        if site != REJECT:
            job += 1
            pools[site].submit(job, gpus, float(rng.exponential(4.0)) * gpus, engine.now_h, job % 2, 0)
        if kind == "sched" and rng.random() < 0.1:
            # Failures change loads too: a GPU failure (a requeue, or a failed job after 1
            # restart) or an outage starting or ending.
            pool = pools[int(rng.integers(n))]
            if rng.random() < 0.5:
                pool.interrupt_gpu(float(rng.uniform(0, pool.total - pool.free + 1)), engine.now_h)
            else:
                pool.set_down(not pool.down, engine.now_h)
        engine.call_later(float(rng.exponential(0.005)), arrive, None)

    engine.call_later(0.0, arrive, None)
    engine.run(12.0)
    assert checked > 2000
    # The run reached loads above 1 (queues) and back down (finishes), so both directions were exercised.
    assert any(p.queued_gpus for p in pools) or kind == "sched"
    assert sum(p.finished for p in pools) > 500
    if kind == "sched":
        failed, interrupted = sum(p.failed for p in pools), sum(p.interruptions for p in pools)  # type: ignore[attr-defined]
        assert 0 < failed < interrupted and sum(p.unmet for p in pools) > 0  # type: ignore[attr-defined]


def test_index_rejects_when_no_candidate_fits_and_breaks_ties_by_position():
    engine = Engine()
    n = INDEX_MIN_CANDIDATES
    pools: list[Pool] = [GpuPool(i, Site(id=f"s{i}", lat=0, lon=0, gpus=10), engine) for i in range(n)]
    forward, backward = list(range(n)), list(range(n - 1, -1, -1))
    # Every site empty: all loads equal, the first candidate wins in either order.
    assert least_loaded_of(pools, forward, 4) == 0
    assert least_loaded_of(pools, backward, 4) == n - 1
    assert least_loaded_of(pools, forward, 11) == REJECT  # larger than every site
    # Load every site but one after the index exists: the index must see the changes.
    for j in range(1, n):
        pools[j].submit(j, 2, 100.0, 0.0, 0, 0)
    assert least_loaded_of(pools, backward, 4) == 0
