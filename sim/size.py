"""The size of a run, estimated before it starts: logical events and peak memory.

A scenario that is valid key by key can still be beyond what a machine can do (a rate of
10^15 jobs per hour, a metric interval of a nanosecond over a year).  :func:`estimate_size`
counts, from the configuration alone, what the run will simulate and hold; :func:`check_size`
refuses in one line a scenario above ``engine.max_events`` or ``engine.max_memory_gb``, with
the estimate, before anything runs.

The counts are upper bounds of the work the engine does (docs/model.md, "Bounds and the
size check"):

- jobs: the sum of the classes' Poisson rates times ``horizon_h``, plus adoption-driven
  jobs with every segment at its ceiling and the demand growth of the whole horizon;
  each job costs :data:`EVENTS_PER_JOB` events (one more when it moves input data);
- WAN flows (:func:`flow_groups`): when the moving classes keep more than 16 transfers in
  flight (slow flows, or more bytes offered than the links out of the demand regions
  carry, so that transfers pile up), each flow start and end re-solves max-min over the
  groups of concurrent flows (:mod:`sim.flows`), :data:`EVENTS_PER_FLOW_GROUP` per group;
- arrival steps (one draw per class per step, :data:`EVENTS_PER_CLASS_STEP` each), metric
  rows (one per site and link per interval) and adoption rows (one per segment per step),
  :data:`EVENTS_PER_ROW` each: these count what they cost, not their wake-ups;
- GPU failures with every GPU busy for the whole horizon (each candidate and the restart of
  the job it interrupts), and per outage its two changes of state and the interruption and
  restart of up to one job per GPU of the site.

Memory is the output tables (rows times a byte size per row), one arrival step's batch, and
a cancelled finish event per interruption; the jobs waiting in queues are not counted (they
depend on the load).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.config import Scenario
from sim.flows import BYTES_PER_GBIT_H, CACHED_FLOWS_MAX
from sim.transfers import LOCAL_LATENCY_MS, window_cap_gbps
from topology.model import Network
from topology.plumbing import ConfigError, located
from workloads.adoption import HOURS_PER_YEAR, Segments, build_segments

__all__ = [
    "BYTES_PER_ARRIVAL",
    "BYTES_PER_ROW",
    "BYTES_PER_STALE_EVENT",
    "EVENTS_PER_CLASS_STEP",
    "EVENTS_PER_FLOW_GROUP",
    "EVENTS_PER_JOB",
    "EVENTS_PER_ROW",
    "FLOW_EVENTS_PER_TRANSFER",
    "SizeEstimate",
    "check_size",
    "estimate_size",
    "flow_groups",
    "memory_limit_gb",
    "size_keys",
]

EVENTS_PER_JOB = 2
"""Logical events of one job as ``runs.events`` counts them: its arrival and its finish
(one more, a delivery, for a job that moves input data)."""
EVENTS_PER_ROW = 4
"""Cost of one metric or adoption row in events: measured, a row of the ``sites`` table takes
about 20 µs, a logical event about 5 µs (default scenario, 2-core runner, 2026-12)."""
EVENTS_PER_FLOW_GROUP = 0.7
"""Cost of one group of concurrent WAN flows at one flow start or end, in events: a re-solve and
reschedule over G groups took 12 + 2.4..3.5 x G µs (grouped mode, 1..256 groups of 1,024
flows; the exact mode about 2.5 µs per flow above 16 flows), against about 5 µs per event
(benchmarks/README.md, "Issue 20, fifth slice: the WAN max-min pathology", 2026-12-03)."""
FLOW_EVENTS_PER_TRANSFER = 2
"""Flow events of one transfer that re-solve max-min: its start and its end."""
EVENTS_PER_CLASS_STEP = 20
"""Cost of drawing one class's arrivals for one step, in events (about 90 µs measured)."""
BYTES_PER_ROW = {"sites": 320, "links": 96, "adoption": 256, "jobs": 160}
"""Bytes one output row takes in memory (about 8 bytes per column, with headroom)."""
BYTES_PER_ARRIVAL = 256
"""Bytes one drawn arrival takes while its step is walked: five numpy columns and five Python lists."""
BYTES_PER_STALE_EVENT = 200
"""Bytes a cancelled finish event keeps on the heap until its time passes (one per interrupted job)."""
FALLBACK_MEMORY_GB = 8.0
"""Machine memory assumed where the operating system does not report it, GB."""


@dataclass(frozen=True)
class SizeEstimate:
    """What a scenario will simulate and hold, over all its replications.

    Attributes
    ----------
    jobs : float
        Arrivals expected (upper bound, simulated jobs).
    events : float
        Logical events expected (upper bound), ``flow_events`` included.
    rows : dict of str to float
        Output rows per table.
    memory_gb : float
        Estimated peak memory, GB (10^9 bytes).
    flow_events : float
        Of ``events``, the cost of re-solving max-min over concurrent WAN flows, in events.
    """

    jobs: float
    events: float
    rows: dict[str, float]
    memory_gb: float
    flow_events: float = 0.0
    """The part of ``events`` that is max-min re-solves over many concurrent WAN flows (:func:`flow_groups`)."""


def _steps(horizon_h: float, step_h: float) -> float:
    return math.ceil(horizon_h / step_h) if horizon_h / step_h < 1e18 else horizon_h / step_h


def _adoption_jobs_per_rep(scenario: Scenario, network: Network,
                           segments: Segments | None = None) -> tuple[float, float, int, dict[str, float]]:
    """Adoption-driven (jobs over the horizon, highest rate per hour, segments, highest rate per hour of each class),
    every segment at its ceiling."""
    config = scenario.adoption
    if config is None:
        return 0.0, 0.0, 0, {}
    if segments is None:  # built here unless the caller built them already (sim.scenario.resolve_network)
        segments = build_segments(config, [r.id for r in network.regions],
                                  [r.demand_weight for r in network.regions], list(scenario.workload))
    with np.errstate(over="ignore", invalid="ignore"):
        adopters = segments.enterprises * np.maximum(segments.ceiling, segments.initial_frac)
        per_class_h = np.sum(adopters[:, None] * segments.jobs_per_adopter_per_h, axis=0)
        rate0_per_h = float(np.sum(per_class_h))
    rate0_per_h *= config.growth.work_scale()  # the start price of AI work scales work per adopter
    growth_per_yr = config.growth.cost_elasticity * config.growth.unit_cost_decline_per_yr
    horizon_yr = scenario.horizon_h / HOURS_PER_YEAR
    peak = math.exp(growth_per_yr * horizon_yr)
    # Integral of exp(g t) over the horizon, in hours: (exp(g T) - 1) / g, or T when g = 0.
    mean_factor = (peak - 1) / (growth_per_yr * horizon_yr) if growth_per_yr * horizon_yr > 1e-12 else 1.0
    scale = config.growth.work_scale() * peak
    by_class = {name: float(rate) * scale for name, rate in zip(segments.class_names, per_class_h, strict=True)}
    return rate0_per_h * mean_factor * scenario.horizon_h, rate0_per_h * peak, len(segments), by_class


def flow_groups(scenario: Scenario, network: Network, moving_per_h: float, bytes_per_h: float,
                moving_classes: int = 1) -> float:
    """Groups of concurrent WAN flows one flow event re-solves, averaged over the horizon (0: none worth counting).

    An upper-bound-minded estimate from the configuration alone.  A flow moves at most r =
    the fastest link out of a demand region (an *access link*; every transfer leaves its
    origin over one), or its TCP window over the shortest remote round trip
    (:func:`sim.transfers.window_cap_gbps` at ``LOCAL_LATENCY_MS``), so by Little's law at
    least ``moving_per_h`` × S / r flows are in flight (S = ``bytes_per_h`` /
    ``moving_per_h``, the mean input).  When the moving classes offer more than the access
    links carry (B > C bytes/h) the backlog also grows by (B − C) / S flows per hour: about
    (B − C) / S × H / 2 more on average over the horizon H.  Never more than the arrivals of
    the horizon.  The flows of one route form one group (:mod:`sim.flows`); placement sends
    a class's work from one origin to about one site at a time (the best-scored one), so the
    groups are taken as at most regions × moving classes (17 groups were measured with 16
    regions and one moving class, ``benchmarks/README.md``, "Issue 20, fifth slice: the WAN
    max-min pathology"), and never more than regions × sites; up to 16 flows a re-solve is a memoised look-up
    (:data:`sim.flows.CACHED_FLOWS_MAX`): 0 then.

    Parameters
    ----------
    scenario : Scenario
        The configuration (its horizon and ``[wan] tcp_window_mb``).
    network : Network
        The regions, sites and links.
    moving_per_h : float
        Arrivals per hour of the classes with ``input_gb`` (upper bound: every one moves).
    bytes_per_h : float
        Bytes per hour they offer (arrivals × mean input).
    moving_classes : int
        Classes with ``input_gb``.

    Returns
    -------
    float
        Groups of concurrent flows, a mean over the horizon.
    """
    if moving_per_h <= 0 or bytes_per_h <= 0:
        return 0.0
    region_ids = {r.id for r in network.regions}
    access = [link.bandwidth_gbps for link in network.links if link.a in region_ids or link.b in region_ids]
    if not access:
        return 0.0
    window_mb = scenario.wan.tcp_window_mb if scenario.wan is not None else None
    rate_bytes_h = min(max(access), window_cap_gbps(window_mb, LOCAL_LATENCY_MS)) * BYTES_PER_GBIT_H
    mean_bytes = bytes_per_h / moving_per_h
    flows = moving_per_h * mean_bytes / rate_bytes_h  # Little's law at the fastest rate
    capacity = sum(access) * BYTES_PER_GBIT_H
    if bytes_per_h > capacity:
        flows += (bytes_per_h - capacity) / mean_bytes * scenario.horizon_h / 2
    n_regions = len(network.regions)
    groups = min(flows, moving_per_h * scenario.horizon_h, n_regions * min(moving_classes, len(network.sites)))
    return groups if groups > CACHED_FLOWS_MAX else 0.0  # up to it a re-solve is a memoised look-up


def estimate_size(scenario: Scenario, network: Network, segments: Segments | None = None) -> SizeEstimate:
    """Estimate the events and memory of a run of ``scenario`` on ``network`` (all replications).

    Parameters
    ----------
    scenario : Scenario
        The configuration.
    network : Network
        The resolved network (its sites, links and regions count).
    segments : Segments, optional
        The adoption segments of ``scenario`` on ``network``'s regions, if already built
        (:func:`workloads.adoption.build_segments`; built here otherwise).

    Returns
    -------
    SizeEstimate
        Upper bounds of the events and rows, and the peak memory in GB.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> loaded = load_scenario(None, ["horizon_h=100", "workload.batch.arrival_rate_per_h=10"])
    >>> rates = sum(c.arrival_rate_per_h for c in loaded.scenario.workload.values())
    >>> estimate_size(loaded.scenario, loaded.network).jobs == rates * 100
    True
    """
    horizon = scenario.horizon_h
    reps = scenario.replications
    classes = scenario.workload.values()
    rate_per_h = sum(c.arrival_rate_per_h for c in classes)
    adoption_jobs, adoption_peak_per_h, n_segments, adoption_by_class = _adoption_jobs_per_rep(
        scenario, network, segments)
    jobs = rate_per_h * horizon + adoption_jobs
    moves = any(c.input_gb is not None for c in classes)
    # Max-min re-solves over concurrent WAN flows: the moving classes' arrivals (their own rates
    # and their adoption-driven work at its peak), all assumed to move.
    moving = {name: c.arrival_rate_per_h + adoption_by_class.get(name, 0.0)
              for name, c in scenario.workload.items() if c.input_gb is not None}
    moving_per_h = sum(moving.values())
    bytes_per_h = 0.0
    for name, rate in moving.items():
        size_gb = scenario.workload[name].input_gb
        assert size_gb is not None
        bytes_per_h += rate * size_gb.expected() * 1e9
    flow_events = moving_per_h * horizon * FLOW_EVENTS_PER_TRANSFER * EVENTS_PER_FLOW_GROUP * flow_groups(
        scenario, network, moving_per_h, bytes_per_h, len(moving))
    intervals = _steps(horizon, scenario.metric_interval_h)
    arrival_steps = _steps(horizon, scenario.engine.arrival_step_h)
    n_sites, n_links = len(network.sites), len(network.links)
    adoption_steps = _steps(horizon, scenario.adoption.step_h) if scenario.adoption is not None else 0.0
    failures = 0.0
    for site in network.sites:
        spec = scenario.failures.for_site(site.id)
        # A failure candidate, and the restart of the job it interrupts.
        failures += 2 * site.gpus * spec.gpu_failures_per_gpu_h * horizon
        if spec.has_outages and spec.outage_mtbf_h is not None:
            # Each change of state, and an outage interrupts (then restarts) up to one job per GPU.
            changes = 2 * horizon / (spec.outage_mtbf_h + spec.outage_mttr_h) + 2
            failures += changes * (1 + site.gpus)
    per_rep = (
        jobs * (EVENTS_PER_JOB + (1 if moves else 0))
        + arrival_steps * EVENTS_PER_CLASS_STEP * (len(scenario.workload) + (1 if n_segments else 0))
        + intervals * EVENTS_PER_ROW * (n_sites + n_links + 1)
        + adoption_steps * EVENTS_PER_ROW * (n_segments + 1)
        + failures
        + flow_events
    )
    rows = {
        "sites": reps * intervals * n_sites,
        "links": reps * intervals * n_links,
        "adoption": reps * adoption_steps * n_segments,
        "jobs": reps * jobs * scenario.jobs_sample,
    }
    step_arrivals = (rate_per_h + adoption_peak_per_h) * min(scenario.engine.arrival_step_h, horizon)
    memory = (sum(BYTES_PER_ROW[name] * n for name, n in rows.items()) + BYTES_PER_ARRIVAL * step_arrivals
              + BYTES_PER_STALE_EVENT * failures)
    return SizeEstimate(jobs=reps * jobs, events=reps * per_rep, rows=rows, memory_gb=memory / 1e9,
                        flow_events=reps * flow_events)


def memory_limit_gb() -> float:
    """Half the physical memory of this machine, GB (:data:`FALLBACK_MEMORY_GB` if unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return FALLBACK_MEMORY_GB / 2
    return total / 2 / 1e9 if total > 0 else FALLBACK_MEMORY_GB / 2


def size_keys(scenario: Scenario) -> tuple[str, ...]:
    """The scenario keys :func:`estimate_size` depends on (a key set above one counts too).

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> keys = size_keys(load_scenario(None, ["sites.cl_zhongwei.pue=1.2"]).scenario)
    >>> "horizon_h" in keys, "workload.batch.arrival_rate_per_h" in keys, "sites.cl_zhongwei.gpus" in keys
    (True, True, True)
    >>> "policy" in keys or "sites.cl_zhongwei.pue" in keys
    False
    """
    per_class = [f"workload.{name}.{key}" for name in scenario.workload for key in ("arrival_rate_per_h", "input_gb")]
    return ("horizon_h", "replications", "metric_interval_h", "jobs_sample", "network", "engine.arrival_step_h",
            *per_class, "adoption", "failures", "wan", *(f"sites.{site}.gpus" for site in scenario.sites))


def _blamed(source: str | Callable[[str], str], keys: tuple[str, ...]) -> str:
    """The source a refusal names: ``source`` itself, or the first source other than the
    scenario's own (``source("")``) that ``source(key)`` gives for one of ``keys``."""
    if isinstance(source, str):
        return source
    own = source("")
    return next((source(key) for key in keys if source(key) != own), own)


def check_size(scenario: Scenario, network: Network, source: str | Callable[[str], str],
               segments: Segments | None = None) -> SizeEstimate:
    """Refuse a run above ``engine.max_events`` or ``engine.max_memory_gb``, naming the estimate.

    Parameters
    ----------
    scenario : Scenario
        The configuration.
    network : Network
        The resolved network.
    source : str or callable
        Named in the error: a source, or ``key -> source`` (the scenario file for keys it set,
        ``--set`` for keys an override set; ``""`` gives the file).  The error names the
        override's source only when an override set a key of :func:`size_keys` or the limit
        exceeded; an override of anything else (the policy, a site's PUE) leaves the blame on
        the file.
    segments : Segments, optional
        As :func:`estimate_size`'s: the segments the caller already built.

    Returns
    -------
    SizeEstimate
        The estimate, when the run fits.

    Raises
    ------
    ConfigError
        ``source: engine.max_events: ...`` or ``source: engine.max_memory_gb: ...``.
    """
    size = estimate_size(scenario, network, segments)
    what = (f"{size.jobs:.3g} jobs over {scenario.horizon_h:g} h x {scenario.replications} replication(s), "
            f"{sum(size.rows.values()):.3g} output rows")
    limit = scenario.engine.max_events
    if not size.events <= limit:
        raise ConfigError(located(_blamed(source, (*size_keys(scenario), "engine.max_events")), "engine.max_events", (
            f"the run would simulate about {size.events:.3g} events ({what}), above the limit {limit:.3g}; "
            "shorten horizon_h, lower the rates, lengthen the steps, or raise engine.max_events")))
    given = scenario.engine.max_memory_gb
    memory_gb = given if given is not None else memory_limit_gb()
    if not size.memory_gb <= memory_gb:
        limit_text = f"{memory_gb:.3g} GB" + ("" if given is not None else " (half this machine's memory)")
        blamed = _blamed(source, (*size_keys(scenario), "engine.max_memory_gb"))
        raise ConfigError(located(blamed, "engine.max_memory_gb", (
            f"the run would need about {size.memory_gb:.3g} GB ({what}), above {limit_text}; "
            "shorten horizon_h, lengthen metric_interval_h or engine.arrival_step_h, or raise "
            "engine.max_memory_gb")))
    return size
