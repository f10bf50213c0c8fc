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
from typing import Any

import pyarrow as pa

from cluster.sweeps.points import PointBatch
from sim.run import ScenarioResult, run_scenario
from sim.scenario import LoadedScenario
from sim.tables import RUNS_COLUMNS, build_table, flatten_params, param_unit

__all__ = ["BatchResult", "Runner", "concat_tables", "failed_runs", "lost_batch", "provenance", "run_batch"]

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


def run_batch(index: int, batch: Sequence[LoadedScenario], runner: Runner = run_scenario) -> BatchResult:
    """Run every scenario of ``batch`` and concatenate their tables (the unit of work of every executor)."""
    parts: dict[str, list[pa.Table]] = {"runs": [], "sites": [], "timings": []}
    result = BatchResult(index, {})
    # A batch of points knows its ids: not hashed again (a national scenario's id costs ~1 ms).
    ids = iter(batch.ids) if isinstance(batch, PointBatch) else None
    for loaded in batch:
        scenario_id = next(ids) if ids is not None else loaded.scenario_id
        try:
            tables = runner(loaded).tables()
        except Exception as exc:  # a failed scenario is data, not the end of the sweep
            tail = traceback.format_exception_only(exc)[-1].strip()
            parts["runs"].append(failed_runs(loaded, tail))
            result.failed.append(scenario_id)
            continue
        for name, table in tables.items():
            parts.setdefault(name, []).append(table)
        result.done.append(scenario_id)
    result.tables = {name: concat_tables(ts) for name, ts in parts.items() if ts}
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
