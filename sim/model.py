"""One replication of a scenario wired onto the event core.

Arrivals are drawn a step at a time as arrays and walked by a single chained
callback: each arrival schedules the next, so the heap holds one pending arrival, one
finish event per running job and the low-frequency actors (step, sampler, warm-up).
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Generator
from math import inf
from typing import Any, Final

import numpy as np
from simpy.events import Event

from sim.adoption import AdoptionDriver, AdoptionLog
from sim.calibration_distance import calibration_producer
from sim.deadlines import DeadlineWatch
from sim.engine import CALL, Engine, heappop, heappush, next_id
from sim.failures import start_failures
from sim.job_log import JobLog
from sim.metrics import MetricBuffers
from sim.placement import POLICIES, REJECT, PlacementContext
from sim.placement.residency import admissible_rows, transfer_price_matrix
from sim.pool import JobRecorder
from sim.scenario import LoadedScenario
from sim.signals import HourlyMeter, TimeAware, build_site_signals, demand_factors
from sim.site_pools import build_pools
from sim.tables import TableProducer
from sim.transfers import ResultLog, Transfers
from topology.graph import region_site_latency_ms
from topology.residency import country_of, effective_rules
from workloads.arrivals import ArrivalBatch, class_arrivals, merge_batches, profiled_arrivals, window

__all__ = ["Model", "stream_seed"]

_HELD: Final = -2
"""A site index no policy returns: the job was held for later hours ([signals] defer)."""


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

    __slots__ = ("cls", "first_id", "gpus", "i", "input_gb", "origin", "t", "work")

    def __init__(self, batch: ArrivalBatch, first_id: int, input_gb: list[float] | None = None) -> None:
        self.first_id = first_id  # job id of the first arrival; ids follow arrival order
        self.t: list[float] = batch.t_h.tolist()
        self.gpus: list[int] = batch.gpus.tolist()
        self.work: list[float] = batch.work_gpu_h.tolist()
        self.cls: list[int] = batch.cls.tolist()
        self.origin: list[int] = batch.origin.tolist()
        self.input_gb = input_gb  # input size (GB) of each arrival, when some class has input_gb
        self.i = 0


class Model:
    """The simulated network for one replication.

    Parameters
    ----------
    loaded : LoadedScenario
        Validated scenario and its network.
    replication : int
        Replication index (selects independent random streams).
    arrivals : ArrivalBatch, optional
        Pre-made arrivals sorted by time (a replayed trace, ``workloads.traces``); they
        replace the classes' Poisson draws.  Arrivals at or after ``horizon_h`` are ignored.
    """

    def __init__(self, loaded: LoadedScenario, replication: int = 0, arrivals: ArrivalBatch | None = None) -> None:
        scenario, network = loaded.scenario, loaded.network
        self.scenario = scenario
        self.network = network
        self.engine = Engine()
        self.replication = replication
        self.job_log = (
            JobLog(scenario.jobs_sample, list(scenario.workload), [r.id for r in network.regions],
                   [s.id for s in network.sites], [country_of(r) for r in network.regions],
                   [country_of(s) for s in network.sites])
            if scenario.jobs_sample > 0 else None
        )
        # [adoption]: the driver sees every job that ends through the pools' job recorder, and
        # is handed the pools where it measures them (its step process and close).
        self.adoption = (
            AdoptionDriver(scenario.adoption, network, scenario.workload, region_site_latency_ms(network),
                           self._stream, scenario.horizon_h)
            if scenario.adoption is not None else None
        )
        log: JobRecorder | None = (
            AdoptionLog(self.adoption, self.job_log) if self.adoption is not None else self.job_log)
        # Results sent home at finish (result_gb, sim.transfers.ResultLog): a recorder before the others.
        results = [c.result_gb for c in scenario.workload.values()]
        self.result_log = (
            ResultLog(results, {i: self._stream(f"results/{name}") for i, name in enumerate(scenario.workload)
                                if results[i] is not None}, log)
            if any(r is not None for r in results) else None
        )
        if self.result_log is not None:
            log = self.result_log
        self.pools = build_pools(scenario, network, self.engine, log)
        latency = region_site_latency_ms(network)
        # Data residency (sim.placement.residency): None unless a rule binds some class; then
        # policies see one row per (region, data kind) with the forbidden sites unreachable.
        self.admissibility = admissible_rows(network, list(scenario.workload.values()),
                                             effective_rules(scenario.residency), latency)
        rows = latency if self.admissibility is None else self.admissibility.latency_ms
        self.transfers = Transfers(
            network, self.engine, rows, None if self.admissibility is None else self.admissibility.allowed_nodes,
            scenario.wan.tcp_window_mb if scenario.wan is not None else None)
        context = PlacementContext(
            network, self.pools, rows, tuple(scenario.workload.values()),
            row_of=None if self.admissibility is None else self.admissibility.row_of,
            transfer_cny_per_gb=transfer_price_matrix(network, self.admissibility, self.transfers.remote))
        self.policy = POLICIES[scenario.policy](context)
        self.jobs_rejected_residency = 0
        # CNY per GB by (origin row, site) when some link has a price (the jobs table's transfer_cny).
        prices = context.transfer_cny_per_gb
        self._price_rows: list[list[float]] | None = (
            prices.tolist() if prices is not None and any(link.price_cny_per_gb for link in network.links) else None)
        if self.result_log is not None:
            self.result_log.attach(self.transfers, None if self.admissibility is None else self.admissibility.row_of,
                                   self._note_transfer if self._price_rows is not None else None)
        # [signals] (sim.signals): hourly energy accounting; time-aware placement and deferral when asked.
        self.signals = (build_site_signals(scenario.signals, network, loaded.source)
                        if scenario.signals is not None and scenario.signals.enabled else None)
        self.meter = HourlyMeter(self.signals, self.pools, self.engine) if self.signals is not None else None
        self._defer = None
        if self.signals is not None and self.signals.config.time_aware and isinstance(self.policy, TimeAware):
            self.policy.attach_signals(self.signals, self.engine)
            self._defer = self.policy.deferral_h if self.signals.config.defer else None
        self.jobs_deferred = 0
        self.jobs_held = 0  # held now (released jobs leave it)
        self.deferral_sum_h = 0.0
        self.deferred_h: dict[int, float] = {}  # job id -> hold, kept only with the jobs table (deadline checks)
        # Start-deadline misses (runs.deadline_misses, sim.deadlines): only when some class has deadline_h.
        self.deadlines = (DeadlineWatch([c.deadline_h for c in scenario.workload.values()])
                          if any(c.deadline_h is not None for c in scenario.workload.values()) else None)
        if self.deadlines is not None:
            for pool in self.pools:
                pool.deadline_watch = self.deadlines.started
        self.metrics = MetricBuffers(self.pools, scenario.warmup_h, self.meter)
        self.class_names = list(scenario.workload)
        self.classes = [scenario.workload[name] for name in self.class_names]
        # [signals.demand]: per class, relative rates by origin and clock hour of the week (None: constant).
        self.demand = (demand_factors(scenario.signals, network, self.class_names, loaded.source, scenario.start_year)
                       if scenario.signals is not None else [None] * len(self.classes))
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
        # Classes whose remote jobs move input data, with their own size streams.
        self.moves_input = [c.input_gb is not None for c in self.classes]
        self.input_rngs = {
            i: np.random.default_rng(stream_seed(scenario.seed, replication, f"input/{name}"))
            for i, name in enumerate(self.class_names)
            if self.moves_input[i]
        }
        self.jobs_arrived = 0
        self.jobs_rejected = 0
        self.rejected_real = 0.0  # rejected jobs in real units (each counts its class's scale)
        self.window_arrived = 0  # arrivals at or after warmup_h
        self.trace = arrivals
        # The arrival loop without the branches a model without deferral, residency rows and input
        # data never takes (REJECT is the only negative site index then).
        plain = self._defer is None and self.admissibility is None and not self.input_rngs
        self._on_arrival_bound = self._on_arrival_plain if plain else self._on_arrival
        # The arrival loops handle the events due before their next arrival themselves (see
        # _drain_before); False gives the loop of the fifth slice, which pushed the next arrival
        # and returned to Engine.run (kept for tests/sim/test_model.py, which compares the two).
        self._drain = True
        # Each site's submit bound once: the arrival loop then allocates no bound method per job.
        self._submit = [pool.submit for pool in self.pools]

    def producers(self) -> dict[str, TableProducer]:
        """The per-interval tables of this replication by name, each with its producer (tables that are on).

        One line per table: :mod:`sim.run` assembles them all the same way.
        """
        producers: dict[str, TableProducer | None] = {
            "sites": self.metrics,
            "links": self.transfers,
            "jobs": self.job_log,
            "adoption": self.adoption,
            "calibration": calibration_producer(self.network, self.metrics.columns),  # reads the finished run
        }
        return {name: producer for name, producer in producers.items() if producer is not None}

    # -- arrivals -----------------------------------------------------------------
    def _step_process(self) -> Generator[Event, Any, None]:
        horizon, step = self.scenario.horizon_h, self.scenario.engine.arrival_step_h
        k = 0
        while k * step < horizon:
            t0, t1 = k * step, min((k + 1) * step, horizon)
            if self.trace is None:
                batches = [self._class_arrivals(i, t0, t1) for i in range(len(self.classes))]
                batch = merge_batches(batches)
            else:
                batch = window(self.trace, t0, t1)  # the trace's arrivals in [t0, t1): nothing is drawn
            if self.adoption is not None:
                batch = self.adoption.extend(batch, t0, t1)  # adopters' jobs, and the step's demand counted
            if len(batch):
                chain = _Chain(batch, self.jobs_arrived, self._input_sizes(batch))
                # Every arrival of a step falls before the horizon, so count them now.
                self.jobs_arrived += len(batch)
                self.engine.events += len(batch)
                self.window_arrived += len(batch) - int(np.searchsorted(batch.t_h, self.scenario.warmup_h))
                self.engine.call_later(chain.t[0] - self.engine.now, self._on_arrival_bound, chain)
            k += 1
            if k * step < horizon:
                yield self.engine.timeout(k * step - self.engine.now)

    def _class_arrivals(self, i: int, t0: float, t1: float) -> ArrivalBatch:
        """Class ``i``'s arrivals in ``[t0, t1)``: Poisson, or thinned by its [signals.demand] profile."""
        c, factor = self.classes[i], self.demand[i]
        if factor is None:
            return class_arrivals(c, i, self.origin_p[i], c.arrival_rate_per_h, t0, t1, self.rngs[i])
        return profiled_arrivals(c, i, self.origin_p[i], c.arrival_rate_per_h, t0, t1, self.rngs[i], factor)

    def _input_sizes(self, batch: ArrivalBatch) -> list[float] | None:
        """Input size (GB) of every arrival of ``batch``; 0 for classes without ``input_gb``.

        Drawn for every arrival of a class, placed or not, so the sizes (like the other
        draws) do not depend on the policy.  A class's arrivals keep their order in the
        merged batch, so its i-th draw belongs to its i-th arrival.
        """
        if not self.input_rngs:
            return None
        sizes = np.zeros(len(batch))
        for i, rng in self.input_rngs.items():
            mask = batch.cls == i
            dist = self.classes[i].input_gb
            assert dist is not None
            sizes[mask] = dist.sample(rng, int(mask.sum()))
        out: list[float] = sizes.tolist()
        return out

    def _deliver(self, job: tuple[int, int, float, int, int, int]) -> None:
        """A job's input has arrived: submit it to its site."""
        self.engine.events += 1
        job_id, gpus, work, cls, origin, site = job
        self.pools[site].submit(job_id, gpus, work, self.engine.now, cls, origin)
        if self.deadlines is not None and self.deadlines.held and job_id in self.deadlines.held:
            self.deadlines.submitted(job_id, self.pools[site])

    def _rejected(self, job_id: int, row: int, gpus: int, work: float, cls: int) -> None:
        """A job the policy rejected under residency rules: count it as a residency rejection if the rules caused it.

        The rules caused it when the policy places the same job from its region's
        unrestricted row (rows ``0 .. R-1``, or the row of the class's SKU list without
        the rules); choosing has no side effect on the run.
        """
        assert self.admissibility is not None
        region = self.admissibility.region_of(row)
        unruled = self.admissibility.unruled_row_of
        base = region if unruled is None else unruled[cls][region]
        if row == base or self.policy.choose(base, gpus, cls) == REJECT:
            return
        self.jobs_rejected_residency += 1
        if self.job_log is not None:
            self.job_log.record_rejected(job_id, cls, region, gpus, work, self.engine.now_h)

    def _on_arrival_plain(self, chain: _Chain) -> None:
        """:meth:`_on_arrival` for a model with no deferral, no residency rows and no input data.

        The same loop with those branches taken out (each cost a test per job) and the
        re-chaining entry pushed inline (sim.engine's contract): ``benchmarks/README.md``,
        "Issue 20, fifth slice: the per-job path".  ``tests/sim/test_model.py`` checks both loops give the
        same tables.
        """
        t, gpus_of, work_of, cls_of, origin_of = chain.t, chain.gpus, chain.work, chain.cls, chain.origin
        n = len(t)
        i = chain.i
        engine = self.engine
        heap = engine.heap
        choose = self.policy.choose
        fixed_site, fixed_gpus = self.policy.fixed_site, self.policy.fixed_gpus
        submit = self._submit
        first_id = chain.first_id
        me, eid = self._on_arrival_bound, engine.eid
        until = engine.until_h if self._drain else -inf  # -inf: never drain (the fifth slice's push)
        now = t[i]
        while True:
            engine.now_h = now  # the clock follows the chain (the engine's fast-path contract)
            gpus, region, cls = gpus_of[i], origin_of[i], cls_of[i]
            # The policy's shortcut (Policy.fixed_site) where it has one: no call.
            site = fixed_site[region] if gpus <= fixed_gpus[region] else choose(region, gpus, cls)
            if site >= 0:
                submit[site](first_id + i, gpus, work_of[i], now, cls, region)
            else:
                self.jobs_rejected += 1
                self.rejected_real += self.classes[cls].scale
            i += 1
            if i == n:
                break
            now = t[i]
            # As in _on_arrival: the next arrival in this same callback, after the events due before it,
            # handled here as _drain_before does (written out: no frame per job; a call of _drain_before
            # instead, 180,000 customers, best of 3, three alternations: lean run 0.243-0.248 -> 0.247-0.259
            # CPU s, every-job run 0.318-0.319 -> 0.321-0.332).  M/M/10 at rho = 0.9,
            # 200,000 customers, the fifth slice's push (_drain False) against this: lean run 0.461 -> 0.377
            # CPU s, every-job run 0.558 -> 0.477 (benchmarks/README.md, "Issue 20, sixth slice: every job
            # recorded").
            if heap and now >= heap[0][0]:
                key = (now, CALL, next_id(eid))
                if now >= until:
                    heappush(heap, (*key, (me, chain)))
                    break
                while True:
                    entry = heappop(heap)
                    engine.now_h = entry[0]
                    event = entry[3]
                    if type(event) is tuple:
                        callback, value = event
                        if callback is me:  # another step's chain: both back to Engine.run, in heap order
                            heappush(heap, entry)
                            heappush(heap, (*key, (me, chain)))
                            chain.i = i
                            return
                        callback(value)
                    else:
                        engine.fire(event)
                    if not heap or heap[0] > key:
                        break
        chain.i = i

    def _drain_before(self, key: tuple[float, int, int], me: object) -> bool:
        """Handle the entries due before ``key`` (the next arrival's would-be heap key) as ``Engine.run`` would.

        Called by the arrival loops where the loop of the fifth slice pushed its next arrival
        with this key and returned to ``Engine.run``: the entries less than the key are
        exactly those ``Engine.run`` would have popped before it, in the same order, and the
        key took its event id at the same moment, so the run is the same event for event (and
        id for id).  What is saved is the push and pop of the arrival's entry and the arrival
        loop's set-up on re-entry (one per job at rho = 0.9).  ``key``'s time is before the
        engine's ``until_h`` (the caller checks), so every entry handled here is too.

        Returns True, with the entry put back, on meeting another step's arrival chain (two
        loops must not nest): the caller then pushes its own entry and returns.
        """
        engine = self.engine
        heap = engine.heap
        while True:
            entry = heappop(heap)
            engine.now_h = entry[0]
            event = entry[3]
            if type(event) is tuple:
                if event[0] is me:
                    heappush(heap, entry)
                    return True
                event[0](event[1])
            else:
                engine.fire(event)
            if not heap or heap[0] > key:
                return False

    def _on_arrival(self, chain: _Chain) -> None:
        t, gpus_of, work_of, cls_of, origin_of = chain.t, chain.gpus, chain.work, chain.cls, chain.origin
        n = len(t)
        i = chain.i
        engine = self.engine
        heap = engine.heap
        choose = self.policy.choose
        submit = self._submit
        first_id = chain.first_id
        # inputs is None when no class moves input data: a job then costs one identity test more.
        inputs, moves, remote = chain.input_gb, self.moves_input, self.transfers.remote
        # Under residency rules a job's origin row depends on its class (sim.placement.residency).
        row_of = None if self.admissibility is None else self.admissibility.row_of
        defer = self._defer
        me, eid = self._on_arrival_bound, engine.eid
        until = engine.until_h if self._drain else -inf  # -inf: never drain (the fifth slice's push)
        while True:
            now = t[i]
            engine.now_h = now  # the clock follows the chain (the engine's fast-path contract)
            gpus, region, cls = gpus_of[i], origin_of[i], cls_of[i]
            origin = region if row_of is None else row_of[cls][region]  # the policy's row (= region without rules)
            site = choose(origin, gpus, cls)
            if defer is not None and site != REJECT:
                hold = defer(origin, gpus, cls, site)
                if hold > 0.0:  # held for better hours: one engine event releases it (sim.signals)
                    self._hold(hold, (first_id + i, gpus, work_of[i], cls, region, origin, site,
                                      0.0 if inputs is None else inputs[i]))
                    site = _HELD
            # A placed job first (the usual case: one test); REJECT and _HELD are the negative indices.
            if site >= 0:
                if inputs is None or not moves[cls] or not remote[origin][site]:
                    submit[site](first_id + i, gpus, work_of[i], now, cls, region)
                else:
                    job = (first_id + i, gpus, work_of[i], cls, region, site)
                    self.transfers.send(origin, site, inputs[i], self._deliver, job)
                    if self._price_rows is not None:
                        self._note_transfer(first_id + i, origin, site, inputs[i])
            elif site == REJECT:
                self.jobs_rejected += 1
                self.rejected_real += self.classes[cls].scale
                if row_of is not None:
                    self._rejected(first_id + i, origin, gpus, work_of[i], cls)
            i += 1
            if i == n:
                break
            # Handle the next arrival in this same callback when nothing else is due
            # before it (strictly: an event at the same time was scheduled first and so
            # goes first, as SimPy would order it).  Same order as one event per
            # arrival, one heap push and pop fewer.
            # Since the sixth slice the events due before it are handled here, not by returning
            # (_drain_before: same order, same event ids).
            if heap and t[i] >= heap[0][0]:
                key = (t[i], CALL, next_id(eid))
                if key[0] >= until or self._drain_before(key, me):
                    heappush(heap, (*key, (me, chain)))  # call_at inlined
                    break
        chain.i = i

    def _hold(self, hold_h: float, job: tuple[int, int, float, int, int, int, int, float]) -> None:
        """Hold a deferrable job for ``hold_h`` hours ([signals] defer); :meth:`_release` submits it."""
        self.jobs_deferred += 1
        self.jobs_held += 1
        self.deferral_sum_h += hold_h
        if self.job_log is not None:
            self.deferred_h[job[0]] = hold_h
        if self.deadlines is not None:
            self.deadlines.held[job[0]] = hold_h
        self.engine.call_later(hold_h, self._release, job)

    def _release(self, job: tuple[int, int, float, int, int, int, int, float]) -> None:
        """A held job's hour has come: submit it (or send its input) as on arrival."""
        self.engine.events += 1
        self.jobs_held -= 1
        job_id, gpus, work, cls, region, origin, site, input_gb = job
        if not self.moves_input[cls] or not self.transfers.remote[origin][site]:
            self.pools[site].submit(job_id, gpus, work, self.engine.now, cls, region)
            if self.deadlines is not None:
                self.deadlines.submitted(job_id, self.pools[site])
        else:
            self.transfers.send(origin, site, input_gb, self._deliver, (job_id, gpus, work, cls, region, site))
            if self._price_rows is not None:
                self._note_transfer(job_id, origin, site, input_gb)

    def _note_transfer(self, job_id: int, row: int, site: int, size_gb: float) -> None:
        """Add the price of moving ``size_gb`` GB between origin row ``row`` and ``site`` to ``jobs.transfer_cny``."""
        assert self._price_rows is not None
        if self.job_log is not None:
            self.job_log.note_transfer(job_id, size_gb * self._price_rows[row][site])

    # -- low-frequency actors ----------------------------------------------------------
    def _sampler(self) -> Generator[Event, Any, None]:
        interval, horizon = self.scenario.metric_interval_h, self.scenario.horizon_h
        k = 1
        while k * interval < horizon:
            yield self.engine.timeout(k * interval - self.engine.now)
            self.metrics.sample(self.engine.now)
            self.transfers.sample(self.engine.now)
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
            "capacity_gpu_h": sum(p.capacity_gpu_h(now) for p in self.pools),
            "transfers_delivered": float(self.transfers.delivered),
            "transfer_time_h": self.transfers.time_sum_h,
        }

    def _stream(self, name: str) -> np.random.Generator:
        """The generator of the named random stream ``name`` of this replication."""
        return np.random.default_rng(stream_seed(self.scenario.seed, self.replication, name))

    def run(self) -> None:
        """Simulate up to ``horizon_h`` and close the last metric interval."""
        self.warm_state = self.cumulative()
        if self.scenario.warmup_h > 0:
            self.engine.call_later(self.scenario.warmup_h, self._warmup, None)
        if self.adoption is not None:  # first: each boundary's rates are set before that step's arrivals
            self.engine.process(self.adoption.process(self.engine, self.pools))
        self.engine.process(self._step_process())
        self.engine.process(self._sampler())
        if self.meter is not None:
            self.meter.start(self.scenario.horizon_h)
        start_failures(self.engine, self.pools, self.scenario.failures, self._stream, self.scenario.horizon_h)
        if self.job_log is not None:
            # Collect the young generation now, while the lists that grow through the run (the jobs
            # table's columns) are empty: they move to an older one, so the first young collection after
            # the run (sim.run pauses the collector during it) no longer walks their items, and an
            # earlier run's model (a cycle: its bound methods) is freed here, not there.  That collection
            # took 0.15-0.21 CPU s in 2 of 8 every-job M/M/10 runs of 200,000 customers; this one takes
            # 8-9 ms in every run but the first (benchmarks/README.md, "Issue 20, sixth slice: every job
            # recorded").  Not without the jobs table: a tiny scenario's run would pay it for nothing.
            gc.collect(0)
        self.engine.run(self.scenario.horizon_h)
        if self.adoption is not None:
            self.adoption.close(self.scenario.horizon_h, self.pools)
        self.metrics.sample(self.scenario.horizon_h)
        if self.deadlines is not None:
            self.deadlines.close(self.pools, self.scenario.horizon_h)
        if self.job_log is not None:
            self.job_log.close(self.pools, self.scenario.horizon_h)
        self.transfers.sample(self.scenario.horizon_h)
