"""One pool per site of a scenario: the lean FIFO pool, or a scheduling pool where a feature needs it."""

from __future__ import annotations

from sim.capacity_timeline import install
from sim.config import Scenario
from sim.engine import Engine
from sim.job_log import JobLog
from sim.pool import JobRecorder
from sim.scheduling import SchedPool
from sim.site import GpuPool, LoggedGpuPool
from sim.task import ClassRules
from topology.model import Network

__all__ = ["build_pools", "class_rules"]


def class_rules(scenario: Scenario) -> ClassRules:
    """The per-class scheduling rules of ``scenario``'s workload (classes in file order)."""
    classes = list(scenario.workload.values())
    priorities = sorted({c.priority for c in classes}, reverse=True)
    return ClassRules(
        level=[priorities.index(c.priority) for c in classes],
        max_wait_h=[c.max_wait_h for c in classes],
        checkpoint_h=[c.checkpoint_interval_h for c in classes],
        scale=[c.scale for c in classes],
    )


def build_pools(scenario: Scenario, network: Network, engine: Engine, log: JobRecorder | None = None) -> list[GpuPool]:
    """One pool per site: the lean FIFO :class:`GpuPool`, or a :class:`SchedPool` where a feature needs it.

    A site gets a ``SchedPool`` when it backfills (``scheduler = "easy"``), has
    failures, or the workload has more than one priority, a maximum wait or a scale
    other than 1, or a job recorder other than the jobs table (adoption) is given;
    otherwise the FIFO pool, whose schedule is the same: a :class:`LoggedGpuPool` when
    ``log`` is the :class:`~sim.job_log.JobLog`, else a :class:`GpuPool`.

    Parameters
    ----------
    scenario : Scenario
        Workload, scheduler, ``[sites.<id>]`` and ``[failures]`` settings.
    network : Network
        The sites, in order.
    engine : Engine
        The event core the pools schedule on.
    log : JobRecorder, optional
        Receives a row for each job that ends.

    Sites with a capacity ``timeline`` get their steps as engine events
    (:func:`sim.capacity_timeline.install`; only with the scenario's ``start_year``).
    """
    rules = class_rules(scenario)
    workload_needs = (
        rules.levels > 1 or any(w is not None for w in rules.max_wait_h) or any(x != 1.0 for x in rules.scale)
    )
    # The jobs table alone does not need task records: a FIFO site logs through the lean pool.
    fifo_log = isinstance(log, JobLog)
    pools: list[GpuPool] = []
    for i, site in enumerate(network.sites):
        override = scenario.sites.get(site.id)
        scheduler = (override.scheduler if override is not None else None) or scenario.scheduler
        failures = scenario.failures.for_site(site.id)
        if workload_needs or scheduler == "easy" or failures.active or (log is not None and not fifo_log):
            pools.append(SchedPool(i, site, engine, rules, easy=scheduler == "easy",
                                   max_restarts=failures.max_restarts, log=log))
        elif isinstance(log, JobLog):
            pools.append(LoggedGpuPool(i, site, engine, log.fifo_columns()))
        else:
            pools.append(GpuPool(i, site, engine))
    install(pools, engine, scenario.start_year, scenario.horizon_h)
    return pools
