"""Run a scenario: every replication, into Arrow tables.

:func:`run_scenario` is the one function both executors (serial and Ray) call; it
returns tables and never writes files.  Every table is assembled the same way: each
replication gives its columns (``runs`` and ``timings`` one row each, the others from
the model's producers, :meth:`sim.model.Model.producers`), and the replications'
columns are concatenated and typed by the table's schema (:mod:`sim.tables`).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias

import pyarrow as pa

from sim.model import Model
from sim.scenario import LoadedScenario
from sim.tables import build_table, concat_columns, flatten_params, param_unit, with_key
from workloads.arrivals import ArrivalBatch

if TYPE_CHECKING:
    from sim.engine import Engine

__all__ = ["ReplicationResult", "ScenarioResult", "TableParts", "run_replication", "run_scenario"]


@dataclass(frozen=True)
class ReplicationResult:
    """The outputs of one replication.

    Attributes
    ----------
    columns : dict of str to dict of str to list
        Every table of the replication by name (``runs`` and ``timings`` one row
        each), as column lists with the key columns.
    wall_time_s : float
        Wall-clock time of the simulation (seconds).
    model : Model
        The finished model, for checks that look inside (validation, tests).
    """

    columns: dict[str, dict[str, list[Any]]]
    wall_time_s: float
    model: Model

    @property
    def runs_row(self) -> dict[str, Any]:
        """The replication's row of the ``runs`` table (including ``param.*``)."""
        return {name: values[0] for name, values in self.columns["runs"].items()}


TableParts: TypeAlias = dict[str, tuple[dict[str, list[Any]], tuple[pa.Field, ...]]]
"""Each table of a scenario by name, as (columns of every replication, extra fields): what
:func:`sim.tables.build_table` takes, so that a sweep's batch can build one table of all its scenarios."""


@dataclass(frozen=True)
class ScenarioResult:
    """Every table of every replication of one scenario, and the replications themselves.

    ``runs``, ``sites``, ``timings`` and ``links`` are always there; ``jobs`` with
    ``jobs_sample > 0``, ``adoption`` with ``[adoption]``.  The Arrow tables are built
    on first use: a sweep's batch builds them from the :meth:`parts` of all its
    scenarios at once instead (``cluster.sweeps.batch.run_batch``).
    """

    replications: tuple[ReplicationResult, ...]

    @cached_property
    def tables_by_name(self) -> dict[str, pa.Table]:
        """The tables by name, built from :meth:`parts` on first use."""
        return {name: build_table(name, columns, extra) for name, (columns, extra) in self.parts().items()}

    def parts(self) -> TableParts:
        """Each table's columns (the replications' one after the other) and extra fields (``param.*`` of ``runs``)."""
        results = self.replications
        out: TableParts = {}
        for name in results[0].columns:
            # One replication (a sweep's tiny scenarios): its columns as they are, not copied (build_table only reads).
            columns = (results[0].columns[name] if len(results) == 1
                       else concat_columns([r.columns[name] for r in results]))
            out[name] = (columns, _param_fields(columns) if name == "runs" else ())
        return out

    def tables(self) -> dict[str, pa.Table]:
        """The tables by name."""
        return dict(self.tables_by_name)

    def table(self, name: str) -> pa.Table | None:
        """The table ``name``, or ``None`` when this scenario does not produce it (``jobs``, ``adoption``)."""
        return self.tables_by_name.get(name)

    @property
    def runs(self) -> pa.Table:
        """The ``runs`` table: one row per replication."""
        return self.tables_by_name["runs"]

    @property
    def sites(self) -> pa.Table:
        """The ``sites`` table: one row per site per metric interval."""
        return self.tables_by_name["sites"]

    @property
    def timings(self) -> pa.Table:
        """The ``timings`` table: wall time and speed of each replication."""
        return self.tables_by_name["timings"]


def _summary(model: Model) -> dict[str, Any]:
    s = model.scenario
    end = model.cumulative()
    start = model.warm_state
    window_h = s.horizon_h - s.warmup_h
    total_gpus = sum(p.total for p in model.pools)
    capacity_gpu_h = total_gpus * window_h
    if any(p.cap_t > 0.0 for p in model.pools):  # a capacity timeline changed GPUs in the run: the pools' integral
        capacity_gpu_h = end["capacity_gpu_h"] - start["capacity_gpu_h"]
    totals = model.metrics.totals
    counted = totals.waits.count
    n_transfers = end["transfers_delivered"] - start["transfers_delivered"]
    return {
        "jobs_arrived": model.jobs_arrived,
        "jobs_rejected": model.jobs_rejected,
        "jobs_started": sum(p.started for p in model.pools),
        "jobs_done": sum(p.finished for p in model.pools),
        "jobs_queued_end": sum(p.queue_length() for p in model.pools),
        "jobs_running_end": sum(len(p.running) for p in model.pools),
        "jobs_in_transfer_end": model.transfers.in_flight,
        "transfers_done": model.transfers.delivered,
        "transfer_mean_h": (
            (end["transfer_time_h"] - start["transfer_time_h"]) / n_transfers if n_transfers else math.nan
        ),
        "arrival_rate_per_h": model.window_arrived / window_h,
        "wait_mean_h": totals.wait_sum_h / counted if counted else math.nan,
        "wait_p95_h": totals.waits.quantile(0.95),
        "queue_len_mean": (end["queue_area"] - start["queue_area"]) / window_h,
        "utilisation": (end["busy_area"] - start["busy_area"]) / capacity_gpu_h,
        "gpu_h_busy": end["busy_area"] - start["busy_area"],
        "work_gpu_h_done": end["done_work"] - start["done_work"],
        "energy_mwh": totals.energy_mwh,
        "cost_cny": totals.cost_cny,
        "co2_t": totals.co2_t,
        **_outcomes(model),
        **_adoption_at_horizon(model),
        "jobs_rejected_residency": model.jobs_rejected_residency,
        "transfer_cost_cny": model.transfers.cost_cny,
        **_signal_summary(model, end["busy_area"] - start["busy_area"]),
    }


def _signal_summary(model: Model, gpu_h_busy: float) -> dict[str, Any]:
    """Cost and CO2 per busy GPU-hour, renewable share and deferrals of ``runs`` (time signals, :mod:`sim.signals`)."""
    totals = model.metrics.totals
    return {
        "cost_cny_per_gpu_h": totals.cost_cny / gpu_h_busy if gpu_h_busy > 0 else math.nan,
        "co2_kg_per_gpu_h": 1000.0 * totals.co2_t / gpu_h_busy if gpu_h_busy > 0 else math.nan,
        "renewable_share": totals.renewable_mwh / totals.energy_mwh if totals.energy_mwh > 0 else math.nan,
        "jobs_deferred": model.jobs_deferred,
        "deferral_mean_h": model.deferral_sum_h / model.jobs_deferred if model.jobs_deferred else math.nan,
        "jobs_held_end": model.jobs_held,
        "deadline_misses": model.deadlines.misses if model.deadlines is not None else 0,
        "deadline_misses_deferred": model.deadlines.misses_deferred if model.deadlines is not None else 0,
    }


def _adoption_at_horizon(model: Model) -> dict[str, Any]:
    """``adoption_frac_end`` and ``adopters_end`` of ``runs`` (NaN, i.e. null, without ``[adoption]``)."""
    if model.adoption is None:
        return {"adoption_frac_end": math.nan, "adopters_end": math.nan}
    frac, adopters = model.adoption.at_horizon()
    return {"adoption_frac_end": frac, "adopters_end": adopters}


def _outcomes(model: Model) -> dict[str, Any]:
    """Whole-run columns of ``runs`` on what became of the jobs: unmet, failed, lost work, real units."""
    now = model.scenario.horizon_h
    out = [p.outcome(now) for p in model.pools]
    return {
        "jobs_unmet": sum(o.unmet for o in out),
        "jobs_failed": sum(o.failed for o in out),
        "interruptions": sum(o.interruptions for o in out),
        "work_gpu_h_unmet": sum(o.unmet_work_gpu_h for o in out),
        "gpu_h_served": sum(p.busy_area for p in model.pools),
        "gpu_h_useful": sum(o.useful_gpu_h for o in out),
        "gpu_h_lost": sum(o.lost_gpu_h for o in out),
        "site_down_h": sum(o.down_h for o in out),
        "jobs_arrived_real": sum(o.arrived_real for o in out) + model.rejected_real,
        "jobs_done_real": sum(o.done_real for o in out),
        "jobs_unmet_real": sum(o.unmet_real for o in out),
        "jobs_failed_real": sum(o.failed_real for o in out),
        "work_gpu_h_done_real": sum(o.done_work_real_gpu_h for o in out),
        "work_gpu_h_unmet_real": sum(o.unmet_work_real_gpu_h for o in out),
    }


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the simulation runs.

    A run allocates a task, a heap entry and a log row per job and keeps many of them
    (queues, the jobs table), so the collector's passes traverse a growing heap over
    and over: with every job recorded that was about 40 % of the run
    (``benchmarks/mmc.py``, contestant "cpnsim, every job recorded").  The simulation
    leaves no cyclic garbage while it runs (``tests/sim/test_run.py`` checks that a
    collection right after a run, its result alive, finds nothing), so reference counting
    frees what a run drops as before and memory is unchanged.  The model's own object graph
    is one cycle (bound methods held by the model, its pools and the engine's heap): the
    collector frees it once the result is dropped (about 19,000 objects for the national
    example at 300 h).  The collector's previous state is restored on exit.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_replication(
    loaded: LoadedScenario, replication: int = 0, arrivals: ArrivalBatch | None = None, *,
    watch: Callable[[int, Engine], None] | None = None,
) -> ReplicationResult:
    """Simulate one replication of ``loaded``.

    Parameters
    ----------
    loaded : LoadedScenario
        From :func:`sim.scenario.load_scenario`.
    replication : int
        Index selecting the replication's independent random streams.
    arrivals : ArrivalBatch, optional
        A replayed trace (``workloads.traces``) instead of the scenario's Poisson arrivals.
    watch : callable, optional
        Called as ``watch(replication, engine)`` before the simulation starts, so that a
        progress display (another thread) can read ``engine.now_h``; it must not schedule
        anything (``cluster.cli.progress``).
    """
    scenario = loaded.scenario
    t0 = time.perf_counter()
    model = Model(loaded, replication, arrivals)
    if watch is not None:
        watch(replication, model.engine)
    with _no_cyclic_gc():
        model.run()
    wall = time.perf_counter() - t0
    summary = _summary(model)
    row: dict[str, Any] = {  # the key columns come from with_key, as for every table
        "name": scenario.name,
        "seed": scenario.seed,
        "status": "ok",
        "error": None,
        "policy": scenario.policy,
        "network": loaded.network.name,
        "horizon_h": scenario.horizon_h,
        "warmup_h": scenario.warmup_h,
        "events": model.engine.events + sum(p.finished for p in model.pools),
        **summary,
        **flatten_params(scenario.model_dump(mode="json")),
    }
    timings = {
        "wall_time_s": wall, "events": row["events"], "events_per_s": row["events"] / max(wall, 1e-9),
        "jobs_per_s": row["jobs_arrived"] / max(wall, 1e-9),
    }
    columns = {
        "runs": {name: [value] for name, value in row.items()},
        **{name: producer.columns for name, producer in model.producers().items()},
        "timings": {name: [value] for name, value in timings.items()},
    }
    scenario_id = loaded.scenario_id  # a digest of the whole config: computed once, not per table
    keyed = {name: with_key(cols, scenario_id, replication) for name, cols in columns.items()}
    return ReplicationResult(keyed, wall, model)


def run_scenario(loaded: LoadedScenario, arrivals: ArrivalBatch | None = None, *,
                 watch: Callable[[int, Engine], None] | None = None) -> ScenarioResult:
    """Run every replication of ``loaded`` (each replaying ``arrivals`` if given); the tables are built on first use.

    ``watch`` is passed to :func:`run_replication`.
    """
    return ScenarioResult(tuple(run_replication(loaded, r, arrivals, watch=watch)
                                for r in range(loaded.scenario.replications)))


def _param_fields(runs: dict[str, list[Any]]) -> tuple[pa.Field, ...]:
    """The ``param.*`` fields of the ``runs`` table, with units from the key names.

    The same tuple for the same names and types (the scenarios of a sweep share a few
    layouts), so :func:`sim.tables.build_table` can keep the schema made from it: the
    fields and schema of a tiny scenario's ``runs`` table took 0.28 of its 3.1 CPU ms
    (``benchmarks/national.py``, "tiny scenario").  Primitive Arrow types are singletons,
    so a type's ``id`` names it; any other type makes fresh fields.
    """
    if len(next(iter(runs.values()), ())) == 1:  # one row (a sweep's tiny scenarios): by the values' classes
        # The classes of a row's values fix their Arrow types (ints aside: beyond int64 pa.array decides), so
        # the fields are kept per column names and classes: 0.041 -> 0.007 CPU ms for the built-in default's
        # 82 parameters (benchmarks/README.md, "Issue 20, fifth slice").
        key = (tuple(runs), tuple([values[0].__class__ for values in runs.values()]))
        known = _ONE_ROW.get(key)
        if known is not None and all(_INT64[0] <= runs[name][0] <= _INT64[1] for name in known[1]):
            return known[0]
        fields, kept = _typed_param_fields(runs)
        if kept and known is None:
            if len(_ONE_ROW) >= 256:
                _ONE_ROW.clear()
            ints = tuple(k for k, values in runs.items() if k.startswith("param.") and values[0].__class__ is int)
            _ONE_ROW[key] = (fields, ints)
        return fields
    return _typed_param_fields(runs)[0]


def _typed_param_fields(runs: dict[str, list[Any]]) -> tuple[tuple[pa.Field, ...], bool]:
    """:func:`_param_fields` from each column's values, and whether the tuple is the one kept for its layout."""
    pairs = [(k, _scalar_type(values)) for k, values in runs.items() if k.startswith("param.")]
    if all(id(dtype) in _CACHED_TYPES for _, dtype in pairs):
        return _param_fields_of(tuple((k, id(dtype)) for k, dtype in pairs)), True
    return tuple(_param_field(k, dtype) for k, dtype in pairs), False


_ONE_ROW: dict[tuple[tuple[str, ...], tuple[type, ...]], tuple[tuple[pa.Field, ...], tuple[str, ...]]] = {}
"""One-row ``runs`` layouts (column names, value classes) -> (their param.* fields, the int params to range-check)."""


def _param_field(name: str, dtype: pa.DataType) -> pa.Field:
    return pa.field(name, dtype, metadata={"unit": _param_unit(name), "description": "Scenario parameter"})


@lru_cache(maxsize=256)
def _param_fields_of(key: tuple[tuple[str, int], ...]) -> tuple[pa.Field, ...]:
    return tuple(_param_field(k, _CACHED_TYPES[type_id]) for k, type_id in key)


_param_unit = lru_cache(maxsize=8192)(param_unit)  # the same few hundred names in every scenario of a sweep
_SCALAR_TYPES = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}
_INT64 = (-(2**63), 2**63 - 1)
_CACHED_TYPES = {id(t): t for t in (*_SCALAR_TYPES.values(), pa.null())}


def _scalar_type(values: list[Any]) -> pa.DataType:
    """The Arrow type ``pa.array(values)`` would infer, for columns of one Python scalar type (or int and float).

    Inferring it by building an array took most of the table time of a tiny scenario
    (hundreds of ``param.*`` columns; ``benchmarks/sweep.py``, "overhead"); anything
    else (mixed types, ints beyond int64) is still left to ``pa.array``.
    """
    if len(values) == 1 and (kind := values[0].__class__) in _SCALAR_TYPES and kind is not int:
        return _SCALAR_TYPES[kind]  # one replication (a sweep's tiny scenarios): one look-up
    kinds = {v.__class__ for v in values if v is not None}
    if not kinds:
        return pa.null()
    if kinds == {int, float} or (kinds == {int} and _INT64[0] <= min(values) and max(values) <= _INT64[1]):
        return pa.float64() if float in kinds else pa.int64()
    if len(kinds) == 1 and (kind := next(iter(kinds))) in _SCALAR_TYPES and kind is not int:
        return _SCALAR_TYPES[kind]
    return pa.array(values).type
