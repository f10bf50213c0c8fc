"""Run a scenario: every replication, into Arrow tables.

:func:`run_scenario` is the one function both executors (serial and Ray) call; it
returns tables and never writes files.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sim.metrics import SITE_COLUMNS
from sim.model import Model
from sim.scenario import LoadedScenario
from sim.tables import build_table, flatten_params, param_unit

__all__ = ["ReplicationResult", "ScenarioResult", "run_replication", "run_scenario"]


@dataclass(frozen=True)
class ReplicationResult:
    """The outputs of one replication.

    Attributes
    ----------
    runs_row : dict
        One row of the ``runs`` table (including ``param.*``).
    sites : dict of str to list
        Columns of the ``sites`` table.
    wall_time_s : float
        Wall-clock time of the simulation (seconds).
    model : Model
        The finished model, for checks that look inside (validation, tests).
    """

    runs_row: dict[str, Any]
    sites: dict[str, list[Any]]
    wall_time_s: float
    model: Model


@dataclass(frozen=True)
class ScenarioResult:
    """Tables of every replication of one scenario: ``runs``, ``sites``, ``timings``."""

    runs: pa.Table
    sites: pa.Table
    timings: pa.Table
    replications: tuple[ReplicationResult, ...]

    def tables(self) -> dict[str, pa.Table]:
        """The tables by name."""
        return {"runs": self.runs, "sites": self.sites, "timings": self.timings}


def _summary(model: Model) -> dict[str, Any]:
    s = model.scenario
    end = model.cumulative()
    start = model.warm_state
    window_h = s.horizon_h - s.warmup_h
    total_gpus = sum(p.total for p in model.pools)
    totals = model.metrics.totals
    counted = totals.waits.count
    return {
        "jobs_arrived": model.jobs_arrived,
        "jobs_rejected": model.jobs_rejected,
        "jobs_started": sum(p.started for p in model.pools),
        "jobs_done": sum(p.finished for p in model.pools),
        "jobs_queued_end": sum(len(p.queue) for p in model.pools),
        "jobs_running_end": sum(len(p.running) for p in model.pools),
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
    }


def run_replication(loaded: LoadedScenario, replication: int = 0) -> ReplicationResult:
    """Simulate one replication of ``loaded``.

    Parameters
    ----------
    loaded : LoadedScenario
        From :func:`sim.scenario.load_scenario`.
    replication : int
        Index selecting the replication's independent random streams.
    """
    scenario = loaded.scenario
    t0 = time.perf_counter()
    model = Model(loaded, replication)
    model.run()
    wall = time.perf_counter() - t0
    summary = _summary(model)
    row: dict[str, Any] = {
        "scenario_id": loaded.scenario_id,
        "replication": replication,
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
    n_rows = len(model.metrics.columns["site_id"])
    sites: dict[str, list[Any]] = {"scenario_id": [loaded.scenario_id] * n_rows, "replication": [replication] * n_rows}
    sites.update({name: model.metrics.columns[name] for name in SITE_COLUMNS})
    return ReplicationResult(row, sites, wall, model)


def run_scenario(loaded: LoadedScenario) -> ScenarioResult:
    """Run every replication of ``loaded`` and assemble the output tables."""
    results = tuple(run_replication(loaded, r) for r in range(loaded.scenario.replications))
    param_names = [k for k in results[0].runs_row if k.startswith("param.")]
    runs_cols = {k: [r.runs_row[k] for r in results] for k in results[0].runs_row}
    params = [
        pa.field(k, pa.array(runs_cols[k]).type, metadata={"unit": param_unit(k), "description": "Scenario parameter"})
        for k in param_names
    ]
    runs = build_table("runs", runs_cols, params)
    site_cols: dict[str, list[Any]] = {}
    for r in results:
        for k, v in r.sites.items():
            site_cols.setdefault(k, []).extend(v)
    sites = build_table("sites", site_cols)
    timings = build_table(
        "timings",
        {
            "scenario_id": [loaded.scenario_id] * len(results),
            "replication": [r.runs_row["replication"] for r in results],
            "wall_time_s": [r.wall_time_s for r in results],
            "events": [r.runs_row["events"] for r in results],
            "events_per_s": [r.runs_row["events"] / max(r.wall_time_s, 1e-9) for r in results],
            "jobs_per_s": [r.runs_row["jobs_arrived"] / max(r.wall_time_s, 1e-9) for r in results],
        },
    )
    return ScenarioResult(runs, sites, timings, results)
