"""Run a scenario: every replication, into Arrow tables.

:func:`run_scenario` is the one function both executors (serial and Ray) call; it
returns tables and never writes files.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from sim.metrics import JOB_COLUMNS, SITE_COLUMNS
from sim.model import Model
from sim.scenario import LoadedScenario
from sim.tables import build_table, flatten_params, param_unit
from sim.transfers import LINK_COLUMNS
from workloads.arrivals import ArrivalBatch

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
    links : dict of str to list
        Columns of the ``links`` table.
    """

    runs_row: dict[str, Any]
    sites: dict[str, list[Any]]
    wall_time_s: float
    model: Model
    links: dict[str, list[Any]] = field(default_factory=dict)
    jobs: dict[str, list[Any]] | None = None
    adoption: dict[str, list[Any]] | None = None


@dataclass(frozen=True)
class ScenarioResult:
    """Tables of every replication of one scenario: ``runs``, ``sites``, ``timings``, ``links``."""

    runs: pa.Table
    sites: pa.Table
    timings: pa.Table
    replications: tuple[ReplicationResult, ...]
    links: pa.Table | None = None
    jobs: pa.Table | None = None
    adoption: pa.Table | None = None

    def tables(self) -> dict[str, pa.Table]:
        """The tables by name."""
        tables = {"runs": self.runs, "sites": self.sites, "timings": self.timings}
        if self.links is not None:
            tables["links"] = self.links
        if self.jobs is not None:
            tables["jobs"] = self.jobs
        if self.adoption is not None:
            tables["adoption"] = self.adoption
        return tables


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
    n_links = len(model.transfers.columns["link_id"])
    links: dict[str, list[Any]] = {
        "scenario_id": [loaded.scenario_id] * n_links, "replication": [replication] * n_links,
    }
    links.update({name: model.transfers.columns[name] for name in LINK_COLUMNS})
    jobs: dict[str, list[Any]] | None = None
    if model.job_log is not None:
        n_jobs = len(model.job_log.columns["job_id"])
        jobs = {"scenario_id": [loaded.scenario_id] * n_jobs, "replication": [replication] * n_jobs}
        jobs.update({name: model.job_log.columns[name] for name in JOB_COLUMNS})
    adoption: dict[str, list[Any]] | None = None
    if model.adoption is not None:
        n_adopt = len(model.adoption.columns["step"])
        adoption = {"scenario_id": [loaded.scenario_id] * n_adopt, "replication": [replication] * n_adopt}
        adoption.update(model.adoption.columns)
    return ReplicationResult(row, sites, wall, model, links, jobs, adoption)


def run_scenario(loaded: LoadedScenario, arrivals: ArrivalBatch | None = None) -> ScenarioResult:
    """Run every replication of ``loaded`` (each replaying ``arrivals`` if given) and assemble the output tables."""
    results = tuple(run_replication(loaded, r, arrivals) for r in range(loaded.scenario.replications))
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
    link_cols: dict[str, list[Any]] = {}
    for r in results:
        for k, v in r.links.items():
            link_cols.setdefault(k, []).extend(v)
    links = build_table("links", link_cols)
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
    jobs = None
    if results[0].jobs is not None:
        job_cols: dict[str, list[Any]] = {}
        for r in results:
            for k, v in (r.jobs or {}).items():
                job_cols.setdefault(k, []).extend(v)
        jobs = build_table("jobs", job_cols)
    adoption = None
    if results[0].adoption is not None:
        adoption_cols: dict[str, list[Any]] = {}
        for r in results:
            for k, v in (r.adoption or {}).items():
                adoption_cols.setdefault(k, []).extend(v)
        adoption = build_table("adoption", adoption_cols)
    return ScenarioResult(runs, sites, timings, results, links, jobs, adoption)
