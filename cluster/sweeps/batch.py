"""A batch of scenarios, the unit of work of every executor, and what it yields.

:func:`run_batch` calls :func:`sim.run.run_scenario` for each scenario of a batch and
concatenates their tables.  A scenario that raises becomes a ``runs`` row with
``status = "failed"`` and its error (:func:`failed_runs`), so one bad scenario does not
stop a sweep; a batch whose worker was lost for good becomes such rows for all its
scenarios (:func:`lost_batch`).  The ``timings`` rows record where the batch ran
(:func:`provenance`: Ray node id, worker pid, Ray job id); ``runs`` does not, so that it
stays identical on every executor.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import pyarrow as pa

from cluster.sweeps.points import PointBatch
from sim.run import ScenarioResult, run_scenario
from sim.scenario import LoadedScenario
from sim.tables import RUNS_COLUMNS, build_table, concat_columns, flatten_params, param_unit

__all__ = [
    "BatchResult", "Part", "Runner", "batch_tables", "concat_tables", "failed_runs", "lost_batch", "provenance",
    "run_batch",
]

Runner = Callable[[LoadedScenario], ScenarioResult]
"""Runs one scenario (:func:`sim.run.run_scenario`; tests substitute it)."""


@dataclass
class BatchResult:
    """The tables of one batch of scenarios.

    Attributes
    ----------
    index : int
        Position of the batch in the submitted sequence.
    tables : dict of str to pyarrow.Table
        ``runs``, ``sites`` and ``timings`` of every scenario of the batch.
    done : list of str
        Scenario ids that ran.
    failed : list of str
        Scenario ids that raised (their ``runs`` rows have ``status = "failed"``).
    """

    index: int
    tables: dict[str, pa.Table]
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def concat_tables(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate tables whose ``param.*`` columns may differ in set or type.

    Missing columns become nulls and types are promoted (``int64`` + ``double`` →
    ``double``; anything + ``null`` → that type).  The result is one chunk per column,
    which is what a Ray task ships back and a part file holds: far cheaper than one
    chunk per scenario.
    """
    return pa.concat_tables(list(tables), promote_options="permissive").combine_chunks()


def failed_runs(loaded: LoadedScenario, error: str) -> pa.Table:
    """The one ``runs`` row of a scenario that raised: keys, config and the error; metrics null.

    ``replication`` is null: the scenario failed as a whole.
    """
    s = loaded.scenario
    row: dict[str, Any] = {
        "scenario_id": loaded.scenario_id, "replication": None, "name": s.name, "seed": s.seed,
        "status": "failed", "error": error, "policy": s.policy, "network": loaded.network.name,
        "horizon_h": s.horizon_h, "warmup_h": s.warmup_h,
    }
    params = flatten_params(s.model_dump(mode="json"))
    cols = {name: [row.get(name)] for name, *_ in RUNS_COLUMNS}
    cols.update({k: [v] for k, v in params.items()})
    extra = [pa.field(k, pa.array([v]).type, metadata={"unit": param_unit(k), "description": "Scenario parameter"})
             for k, v in params.items()]
    return build_table("runs", cols, extra)


def provenance() -> tuple[str | None, int, str | None]:
    """Where this process runs: (Ray node id, pid, Ray job id); the Ray ids are None outside Ray.

    Ray is asked only if this process already imported and initialised it (a Ray worker,
    or a driver running the serial executor beside Ray); nothing is imported here.
    """
    ray: Any = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        context = ray.get_runtime_context()
        return context.get_node_id(), os.getpid(), context.get_job_id()
    return None, os.getpid(), None


def _with_provenance(timings: pa.Table) -> pa.Table:
    node, pid, job = provenance()
    for name, value in (("node_id", node), ("worker_pid", pid), ("ray_job_id", job)):
        i = timings.schema.get_field_index(name)
        if i >= 0:
            field = timings.schema.field(i)
            timings = timings.set_column(i, field, pa.array([value] * timings.num_rows, type=field.type))
    return timings


Part: TypeAlias = pa.Table | tuple[dict[str, list[Any]], tuple[pa.Field, ...]]
"""One scenario's share of a batch's table: a built table (a failed row, a substituted runner's
result), or the columns and extra fields :func:`sim.tables.build_table` takes (:meth:`ScenarioResult.parts`)."""


def batch_tables(parts: dict[str, list[Part]]) -> dict[str, pa.Table]:
    """Each table of a batch from its scenarios' parts, in order: as :func:`concat_tables` of the scenarios' own tables.

    Consecutive column parts with the same extra fields (the same tuple: ``sim.run`` gives one per
    ``param.*`` layout) and the same column names become one table by one :func:`build_table` call,
    so a table is converted once per batch instead of once per scenario: building the four tables
    of a tiny scenario (``runs`` has 140 columns of one row) took 0.35 of its 1.4 CPU ms outside the
    simulation; built per batch of 64 they cost 0.045 ms a scenario (``benchmarks/README.md``, "Issue
    20, fifth slice").  The same values and types in the same order, so the same table as before
    (``tests/cluster/sweeps/test_batch_tables.py``): the struct and column conversions of
    :func:`build_table` give the same arrays, and :func:`concat_tables` unifies the same sequence of
    schemas.
    """
    out: dict[str, pa.Table] = {}
    for name, items in parts.items():
        tables: list[pa.Table] = []
        group: list[dict[str, list[Any]]] = []
        extra: tuple[pa.Field, ...] = ()
        for item in items:
            if isinstance(item, pa.Table) or not group or item[1] is not extra or item[0].keys() != group[0].keys():
                if group:
                    tables.append(build_table(name, group[0] if len(group) == 1 else concat_columns(group), extra))
                    group = []
                if isinstance(item, pa.Table):
                    tables.append(item)
                    continue
            group.append(item[0])
            extra = item[1]
        if group:
            tables.append(build_table(name, group[0] if len(group) == 1 else concat_columns(group), extra))
        if tables:
            out[name] = concat_tables(tables)
    return out


def run_batch(index: int, batch: Sequence[LoadedScenario], runner: Runner = run_scenario) -> BatchResult:
    """Run every scenario of ``batch`` and concatenate their tables (the unit of work of every executor)."""
    parts: dict[str, list[Part]] = {"runs": [], "sites": [], "timings": []}
    result = BatchResult(index, {})
    # A batch of points knows its ids: not hashed again (a national scenario's id costs ~1 ms).
    ids = iter(batch.ids) if isinstance(batch, PointBatch) else None
    for loaded in batch:
        scenario_id = loaded.known_as(next(ids)).scenario_id if ids is not None else loaded.scenario_id
        try:
            ran = runner(loaded)
            # Columns, not tables, from sim.run: batch_tables converts the whole batch at once.
            own: dict[str, Part] = dict(ran.parts()) if isinstance(ran, ScenarioResult) else dict(ran.tables())
        except Exception as exc:  # a failed scenario is data, not the end of the sweep
            tail = traceback.format_exception_only(exc)[-1].strip()
            parts["runs"].append(failed_runs(loaded, tail))
            result.failed.append(scenario_id)
            continue
        for name, part in own.items():
            parts.setdefault(name, []).append(part)
        result.done.append(scenario_id)
    result.tables = batch_tables(parts)
    if "timings" in result.tables:
        result.tables["timings"] = _with_provenance(result.tables["timings"])
    return result


def lost_batch(index: int, batch: Sequence[LoadedScenario], error: str) -> BatchResult:
    """The result of a batch whose worker was lost for good: one failed ``runs`` row per scenario."""
    scenarios = list(batch)
    tables = concat_tables([failed_runs(loaded, error) for loaded in scenarios])
    ids = batch.ids if isinstance(batch, PointBatch) else [loaded.scenario_id for loaded in scenarios]
    return BatchResult(index, {"runs": tables}, failed=ids)


def checked_batch(identity: str, index: int, batch: Sequence[LoadedScenario],
                  runner: Runner = run_scenario) -> BatchResult:
    """:func:`run_batch`, after checking that this worker runs the driver's code (``identity``).

    Raises
    ------
    cluster.sweeps.code.CodeMismatch
        This process imports other cpnsim code (:func:`cluster.sweeps.code.code_identity`).
    """
    from cluster.sweeps.code import check_code

    check_code(identity)
    return run_batch(index, batch, runner)
