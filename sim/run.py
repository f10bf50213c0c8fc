"""Run a scenario: every replication, into Arrow tables.

:func:`run_scenario` is the one function both executors (serial and Ray) call; it
returns tables and never writes files.  Every table is assembled the same way: each
replication gives its columns (``runs`` and ``timings`` one row each, the others from
the model's producers, :meth:`sim.model.Model.producers`), and the replications'
columns are concatenated and typed by the table's schema (:mod:`sim.tables`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sim.model import Model
from sim.scenario import LoadedScenario
from sim.tables import build_table, concat_columns, flatten_params, param_unit, with_key
from workloads.arrivals import ArrivalBatch

__all__ = ["ReplicationResult", "ScenarioResult", "run_replication", "run_scenario"]


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


@dataclass(frozen=True)
class ScenarioResult:
    """Every table of every replication of one scenario, and the replications themselves.

    ``runs``, ``sites``, ``timings`` and ``links`` are always there; ``jobs`` with
    ``jobs_sample > 0``, ``adoption`` with ``[adoption]``.
    """

    tables_by_name: dict[str, pa.Table]
    replications: tuple[ReplicationResult, ...]

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
        "utilisation": (end["busy_area"] - start["busy_area"]) / (total_gpus * window_h),
        "gpu_h_busy": end["busy_area"] - start["busy_area"],
        "work_gpu_h_done": end["done_work"] - start["done_work"],
        "energy_mwh": totals.energy_mwh,
        "cost_cny": totals.cost_cny,
        "co2_t": totals.co2_t,
        **_outcomes(model),
        **_adoption_at_horizon(model),
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


def run_replication(
    loaded: LoadedScenario, replication: int = 0, arrivals: ArrivalBatch | None = None
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
    """
    scenario = loaded.scenario
    t0 = time.perf_counter()
    model = Model(loaded, replication, arrivals)
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
    keyed = {name: with_key(cols, loaded.scenario_id, replication) for name, cols in columns.items()}
    return ReplicationResult(keyed, wall, model)


def run_scenario(loaded: LoadedScenario, arrivals: ArrivalBatch | None = None) -> ScenarioResult:
    """Run every replication of ``loaded`` (each replaying ``arrivals`` if given) and assemble the output tables."""
    results = tuple(run_replication(loaded, r, arrivals) for r in range(loaded.scenario.replications))
    tables: dict[str, pa.Table] = {}
    for name in results[0].columns:
        columns = concat_columns([r.columns[name] for r in results])
        extra = _param_fields(columns) if name == "runs" else ()
        tables[name] = build_table(name, columns, extra)
    return ScenarioResult(tables, results)


def _param_fields(runs: dict[str, list[Any]]) -> list[pa.Field]:
    """The ``param.*`` fields of the ``runs`` table, with units from the key names."""
    return [
        pa.field(k, pa.array(values).type, metadata={"unit": param_unit(k), "description": "Scenario parameter"})
        for k, values in runs.items() if k.startswith("param.")
    ]
