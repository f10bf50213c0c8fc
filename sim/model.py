"""One replication of a scenario wired onto the event core.

Arrivals are drawn a step at a time as arrays and walked by a single chained
callback: each arrival schedules the next, so the heap holds one pending arrival, one
finish event per running job and the low-frequency actors (step, sampler, warm-up).
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from heapq import heappush
from typing import Any

import numpy as np
from simpy.events import NORMAL, Event

from sim.engine import Engine
from sim.metrics import MetricBuffers
from sim.placement import POLICIES, REJECT, PlacementContext
from sim.scenario import LoadedScenario
from sim.site import GpuPool
from topology.graph import region_site_latency_ms
from workloads.arrivals import ArrivalBatch, class_arrivals, merge_batches

__all__ = ["Model", "stream_seed"]


def stream_seed(seed: int, replication: int, stream: str) -> np.random.SeedSequence:
    """The seed sequence of one named random stream of one replication.

    Streams are keyed by name, not position, so adding a job class leaves the other
    classes' draws unchanged (common random numbers across scenario variants).
    """
    key = int.from_bytes(hashlib.sha256(stream.encode()).digest()[:8], "little")
    return np.random.SeedSequence(seed, spawn_key=(replication, key))


class _Chain:
    """One step's arrivals as Python lists (fast scalar access) and the next index.

    Each step's chain travels as its event's value, so two steps' chains can never
    mix even if float rounding lets one run past the step boundary.
    """

    __slots__ = ("cls", "first_id", "gpus", "i", "origin", "t", "work")

    def __init__(self, batch: ArrivalBatch, first_id: int) -> None:
        self.first_id = first_id  # job id of the first arrival; ids follow arrival order
        self.t: list[float] = batch.t_h.tolist()
        self.gpus: list[int] = batch.gpus.tolist()
        self.work: list[float] = batch.work_gpu_h.tolist()
        self.cls: list[int] = batch.cls.tolist()
        self.origin: list[int] = batch.origin.tolist()
        self.i = 0


class Model:
    """The simulated network for one replication.

    Parameters
    ----------
    loaded : LoadedScenario
        Validated scenario and its network.
    replication : int
        Replication index (selects independent random streams).
    """

    def __init__(self, loaded: LoadedScenario, replication: int = 0) -> None:
        scenario, network = loaded.scenario, loaded.network
        self.scenario = scenario
        self.network = network
        self.engine = Engine()
        self.pools = [GpuPool(i, site, self.engine) for i, site in enumerate(network.sites)]
        latency = region_site_latency_ms(network)
        self.policy = POLICIES[scenario.policy](PlacementContext(network, self.pools, latency))
        self.metrics = MetricBuffers(self.pools, scenario.warmup_h)
        self.class_names = list(scenario.workload)
        self.classes = [scenario.workload[name] for name in self.class_names]
        self.rngs = [
            np.random.default_rng(stream_seed(scenario.seed, replication, f"arrivals/{name}"))
            for name in self.class_names
        ]
        region_ids = [r.id for r in network.regions]
        self.origin_p = []
        for job_class in self.classes:
            if job_class.origins is None:
                w = np.array([r.demand_weight for r in network.regions], float)
            else:
                w = np.array([job_class.origins.get(rid, 0.0) for rid in region_ids], float)
            self.origin_p.append(w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w)))
        self.jobs_arrived = 0
        self.jobs_rejected = 0
        self.window_arrived = 0  # arrivals at or after warmup_h
        self._on_arrival_bound = self._on_arrival

    # -- arrivals -----------------------------------------------------------------
    def _step_process(self) -> Generator[Event, Any, None]:
        horizon, step = self.scenario.horizon_h, self.scenario.engine.arrival_step_h
        k = 0
        while k * step < horizon:
            t0, t1 = k * step, min((k + 1) * step, horizon)
            batches = [
                class_arrivals(c, i, self.origin_p[i], c.arrival_rate_per_h, t0, t1, self.rngs[i])
                for i, c in enumerate(self.classes)
            ]
            batch = merge_batches(batches)
            if len(batch):
                chain = _Chain(batch, self.jobs_arrived)
                # Every arrival of a step falls before the horizon, so count them now.
                self.jobs_arrived += len(batch)
                self.engine.events += len(batch)
                self.window_arrived += len(batch) - int(np.searchsorted(batch.t_h, self.scenario.warmup_h))
                self.engine.call_later(chain.t[0] - self.engine.now, self._on_arrival, chain)
            k += 1
            if k * step < horizon:
                yield self.engine.timeout(k * step - self.engine.now)

    def _on_arrival(self, chain: _Chain) -> None:
        t, gpus_of, work_of, cls_of, origin_of = chain.t, chain.gpus, chain.work, chain.cls, chain.origin
        n = len(t)
        i = chain.i
        env = self.engine.env
        heap = self.engine.queue
        choose = self.policy.choose
        pools = self.pools
        first_id = chain.first_id
        while True:
            now = t[i]
            env._now = now
            gpus, origin, cls = gpus_of[i], origin_of[i], cls_of[i]
            site = choose(origin, gpus, cls)
            if site == REJECT:
                self.jobs_rejected += 1
            else:
                pools[site].submit(first_id + i, gpus, work_of[i], now, cls, origin)
            i += 1
            if i == n:
                break
            # Handle the next arrival in this same callback when nothing else is due
            # before it (strictly: an event at the same time was scheduled first and so
            # goes first, as SimPy would order it).  Same order as one event per
            # arrival, one heap push and pop fewer.
            if heap and t[i] >= heap[0][0]:
                heappush(heap, (t[i], NORMAL, next(self.engine.eid), (self._on_arrival_bound, chain)))
                break
        chain.i = i

    # -- low-frequency actors ----------------------------------------------------------
    def _sampler(self) -> Generator[Event, Any, None]:
        interval, horizon = self.scenario.metric_interval_h, self.scenario.horizon_h
        k = 1
        while k * interval < horizon:
            yield self.engine.timeout(k * interval - self.engine.now)
            self.metrics.sample(self.engine.now)
            k += 1

    def _warmup(self, _: None) -> None:
        self.engine.events += 1
        self.metrics.mark_warmup()
        self.warm_state = self.cumulative()

    def cumulative(self) -> dict[str, float]:
        """Time integrals and finished work of all sites, brought up to now (for window statistics)."""
        now = self.engine.now
        for pool in self.pools:
            pool.advance(now)
        return {
            "busy_area": sum(p.busy_area for p in self.pools),
            "queue_area": sum(p.queue_area for p in self.pools),
            "done_work": sum(p.done_work_gpu_h for p in self.pools),
        }

    def run(self) -> None:
        """Simulate up to ``horizon_h`` and close the last metric interval."""
        self.warm_state = self.cumulative()
        if self.scenario.warmup_h > 0:
            self.engine.call_later(self.scenario.warmup_h, self._warmup, None)
        self.engine.process(self._step_process())
        self.engine.process(self._sampler())
        self.engine.run(self.scenario.horizon_h)
        self.metrics.sample(self.scenario.horizon_h)
