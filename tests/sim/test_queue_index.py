"""The EASY index (sim.queue_index): it mirrors the queue, and the indexed pass decides as the scan does."""

from __future__ import annotations

import random
from collections import deque
from typing import Any

import pyarrow as pa
import pytest

import sim.scheduling
from sim.queue_index import ANY_H, Bucket, IndexedQueue
from sim.run import run_scenario
from sim.scenario import LoadedScenario, scenario_from_dict
from sim.task import Task
from topology.model import Link, Network, Region, Site


def _task(job_id: int, gpus: int, run_h: float, progress_h: float = 0.0) -> Task:
    task = Task(job_id, gpus, run_h, 0.0, 0, 0, run_h * gpus, 0)
    task.progress_h = progress_h
    return task


def _check_mirror(q: IndexedQueue) -> None:
    """Each bucket holds exactly the queue's tasks of its GPU count, in queue order, keys increasing."""
    for gpus, bucket in q.buckets.items():
        items = bucket.items()
        assert [t for _, t in items] == [t for t in q if t.gpus == gpus]
        keys = [k for k, _ in items]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert bucket.live == len(items)
    assert sum(b.live for b in q.buckets.values()) == len(q)
    # sequence numbers order the buckets as the deque is ordered
    merged = sorted((k, t.id) for b in q.buckets.values() for k, t in b.items())
    assert [job_id for _, job_id in merged] == [t.id for t in q]


def test_indexed_queue_mirrors_a_deque_under_every_operation() -> None:
    rng = random.Random(5)
    q, plain = IndexedQueue(), deque[Task]()
    next_id = 0
    for step in range(3000):  # enough appends to outgrow the first slots several times
        op = rng.random()
        if op < 0.5 or not plain:
            task = _task(next_id, rng.choice([1, 2, 8]), rng.expovariate(1.0))
            next_id += 1
            (q.append if rng.random() < 0.9 else q.appendleft)(task)
            (plain.append if q[-1] is task else plain.appendleft)(task)
        elif op < 0.65:
            assert q.popleft() is plain.popleft()
        elif op < 0.75:
            assert q.pop() is plain.pop()
        else:
            victim = plain[rng.randrange(len(plain))]
            q.remove(victim)
            plain.remove(victim)
        assert list(q) == list(plain)
        if step % 97 == 0:
            _check_mirror(q)
    _check_mirror(q)
    with pytest.raises(NotImplementedError):
        q.insert(0, _task(-1, 1, 1.0))


def test_bucket_first_finds_the_first_short_enough_task() -> None:
    rng = random.Random(11)
    tasks = [_task(i, 1, rng.uniform(0.0, 10.0), progress_h=rng.choice([0.0, 0.5])) for i in range(300)]
    bucket = Bucket([(i + 1, t) for i, t in enumerate(tasks)])
    gone: set[int] = set()
    for t in rng.sample(tasks, 120):
        bucket.discard(t)
        gone.add(t.id)
    for _ in range(500):
        start, limit = rng.randrange(0, 320), rng.uniform(-1.0, 11.0)
        expect = next((i for i in range(start, len(tasks))
                       if tasks[i].id not in gone and tasks[i].run_h - tasks[i].progress_h <= limit), -1)
        assert bucket.first(start, limit) == expect
    assert bucket.first(0, ANY_H) == min(i for i, t in enumerate(tasks) if t.id not in gone)


def _overloaded(priorities: bool, failures: bool) -> LoadedScenario:
    """One 64-GPU site under EASY at about twice its capacity: the queue grows to hundreds of jobs."""
    workload: dict[str, Any] = {
        f"c{g}": {"arrival_rate_per_h": 40.0 / 3, "gpus": {"dist": "constant", "value": g},
                  "work_gpu_h": {"dist": "exponential", "mean": 3.0}}
        for g in (1, 8, 32)
    }
    if priorities:
        workload["c1"]["priority"] = 1
        workload["c8"]["max_wait_h"] = 5.0
    data: dict[str, Any] = {"name": "easy-index", "network": "default", "policy": "nearest", "horizon_h": 60.0,
                            "warmup_h": 0.0, "metric_interval_h": 10.0, "seed": 4, "scheduler": "easy",
                            "jobs_sample": 1.0, "workload": workload}
    if failures:
        data["failures"] = {"outage_mtbf_h": 15.0, "outage_mttr_h": 1.0, "gpu_failures_per_gpu_h": 0.002}
    net = Network(name="one", site=(Site(id="s", lat=30.0, lon=110.0, gpus=64),),
                  region=(Region(id="r", lat=30.0, lon=110.0),),
                  link=(Link(id="l", a="r", b="s", bandwidth_gbps=100.0),))
    return LoadedScenario(scenario_from_dict(data, "test"), net, "test")


@pytest.mark.parametrize(("priorities", "failures"), [(False, False), (True, False), (True, True)])
def test_indexed_pass_gives_the_tables_of_the_scan(monkeypatch: pytest.MonkeyPatch, priorities: bool,
                                                   failures: bool) -> None:
    loaded = _overloaded(priorities, failures)
    indexed = run_scenario(loaded).tables()
    monkeypatch.setattr(sim.scheduling, "IndexedQueue", deque)  # plain deques: the pass scans the queue
    scanned = run_scenario(loaded).tables()
    jobs = indexed["jobs"]
    assert jobs.num_rows > 1000
    assert pa.compute.max(pa.compute.subtract(jobs["start_h"], jobs["arrival_h"])).as_py() > 5.0  # long queues
    if failures:
        assert indexed["runs"]["interruptions"][0].as_py() > 0
    for name in ("runs", "sites", "jobs"):
        cols = [c for c in indexed[name].column_names if "wall" not in c]
        assert indexed[name].select(cols).equals(scanned[name].select(cols)), name
