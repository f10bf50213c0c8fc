"""Why a site started no jobs: one reason per idle site, for ``cpnsim run``'s summary and the report.

A site that starts no job over a run is either unusable (no GPUs in force, down all
along, smaller than every job), given jobs it never started (they waited past their
``max_wait_h`` or were still queued at the horizon), or never chosen by the placement
policy.  The reasons are read off the run's ``sites`` table and the scenario's network
and job classes, after the run: nothing in the simulation counts them.  Checks are tried
in :data:`CHECKS` order and the first that applies is the reason; a policy whose choices
follow from the network alone (``nearest``) can say more through :data:`POLICY_HINTS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from topology.graph import region_site_latency_ms
from topology.model import Network
from workloads.job_class import JobClass

__all__ = ["CHECKS", "COLUMNS", "POLICY_HINTS", "IdleSite", "SiteFacts", "idle_sites"]

COLUMNS = ("site_id", "replication", "t_end_h", "gpus_total", "down_h", "jobs_arrived", "jobs_started", "jobs_unmet",
           "queue_len_end")
"""The ``sites`` columns the reasons are read from."""


@dataclass(frozen=True)
class SiteFacts:
    """What the run's ``sites`` rows say of one site, summed over intervals and replications.

    Attributes
    ----------
    site_id : str
        The site's id (a partition's ``<site>/<sku>``).
    gpus_max : int
        Most GPUs in force at the end of any interval, GPUs.
    down_h : float
        Hours down, mean over replications, h.
    horizon_h : float
        End of the last interval, h.
    arrived : int
        Jobs placed at the site, mean over replications (rounded down), jobs.
    unmet : int
        Of those, jobs that left its queue unserved (``max_wait_h``), mean over replications, jobs.
    queued_end : int
        Jobs waiting at the horizon, mean over replications, jobs.
    """

    site_id: str
    gpus_max: int
    down_h: float
    horizon_h: float
    arrived: int
    unmet: int
    queued_end: int


@dataclass(frozen=True)
class IdleSite:
    """A site that started no job in any replication, and why."""

    site_id: str
    reason: str


@dataclass(frozen=True)
class Placement:
    """The scenario as the placement saw it: its network, policy and job classes."""

    network: Network | None
    policy: str
    classes: Mapping[str, JobClass]

    @cached_property
    def latency_ms(self) -> np.ndarray:
        """One-way latency from each region (rows) to each site, ms: computed once for every idle site's reason."""
        assert self.network is not None
        return region_site_latency_ms(self.network)

    @cached_property
    def by_latency(self) -> list[np.ndarray]:
        """Per region, the site indices nearest first (ties by network order, as the policies sort them)."""
        return [np.argsort(row, kind="stable") for row in self.latency_ms]


Check = Callable[[SiteFacts, Placement], str | None]


def _no_gpus(site: SiteFacts, _: Placement) -> str | None:
    return "no GPUs in force during the run (its capacity timeline starts later)" if site.gpus_max <= 0 else None


def _down(site: SiteFacts, _: Placement) -> str | None:
    return "down for the whole run (outages)" if site.down_h >= site.horizon_h else None


def _placed_not_started(site: SiteFacts, _: Placement) -> str | None:
    if site.arrived <= 0:
        return None
    return (f"{site.arrived:,} jobs were placed here and none started: {site.unmet:,} left unserved "
            f"(max_wait_h), {site.queued_end:,} still queued at the horizon")


def _too_small(site: SiteFacts, placement: Placement) -> str | None:
    if not placement.classes:
        return None
    smallest = min(c.min_gpus() for c in placement.classes.values())
    if site.gpus_max >= smallest:
        return None
    return (f"smaller than every job: it holds {site.gpus_max:,} GPUs and the smallest job any class asks for "
            f"is {smallest:,} GPUs")


def _policy(site: SiteFacts, placement: Placement) -> str | None:
    hint = POLICY_HINTS.get(placement.policy)
    reason = hint(site, placement) if hint is not None else None
    return reason or f"the {placement.policy} policy placed none of the run's jobs here (it chose other sites)"


CHECKS: tuple[Check, ...] = (_no_gpus, _down, _placed_not_started, _too_small, _policy)
"""The reasons in the order they are tried; the last always applies."""


def _nearest(site: SiteFacts, placement: Placement) -> str | None:
    """``nearest`` sends a job to the closest site that fits it: name the sites it prefers, if this is none of them.

    From each region with demand, the sites a job of ``g`` GPUs can go to are, in latency
    order (ties by network order, as :class:`sim.placement.nearest.Nearest` breaks them),
    each site larger than every nearer one: the first that fits.  Capacities are the
    network's GPU counts (a capacity timeline changes them during the run, and then this
    may be wrong).  Residency or SKU rules change the rows the policy reads, so this says nothing
    under them.
    """
    network = placement.network
    classes = list(placement.classes.values())
    if network is None or any(c.skus is not None or c.data_kind != "none" for c in classes):
        return None
    ids = [s.id for s in network.sites]
    if site.site_id not in ids:
        return None
    latency = placement.latency_ms
    gpus = np.array([s.gpus for s in network.sites], float)
    target = ids.index(site.site_id)
    closest: tuple[float, int, int] | None = None  # (latency to this site, region row, the site its jobs go to)
    for c in classes:
        weights = ([r.demand_weight for r in network.regions] if c.origins is None
                   else [c.origins.get(r.id, 0.0) for r in network.regions])
        low, high = c.min_gpus(), c.max_gpus()
        for row in range(len(network.regions)):
            if weights[row] <= 0:
                continue
            largest = 0.0  # the largest site nearer than the one looked at
            first = -1  # where this region's smallest jobs of the class go
            for j in placement.by_latency[row]:
                if not np.isfinite(latency[row, j]) or largest >= high:
                    break
                if gpus[j] > largest and gpus[j] >= low:
                    if j == target:
                        return None  # some job of this class from this region comes here
                    first = int(j) if first < 0 else first
                largest = max(largest, gpus[j])
            here = float(latency[row, target])
            if first >= 0 and np.isfinite(here) and (closest is None or here < closest[0]):
                closest = (here, row, first)
    if closest is None:
        return None
    here, row, chosen = closest
    return (f"no region with demand has it as the nearest site that fits its jobs: the closest such region, "
            f"{network.regions[row].id} ({here:.1f} ms one way), sends them to {ids[chosen]} "
            f"({latency[row, chosen]:.1f} ms), the nearest site large enough")


POLICY_HINTS: dict[str, Check] = {"nearest": _nearest}
"""Per policy, a reason that names what the policy did instead (None: fall back to the generic one)."""


def _facts(sites: pa.Table) -> list[SiteFacts]:
    """One :class:`SiteFacts` per site of ``sites`` (one scenario, any number of replications), in first-seen order."""
    cols = {name: sites.column(name).to_pylist() for name in COLUMNS}
    reps = max(1, len(set(cols["replication"])))
    horizon = max(cols["t_end_h"], default=0.0)
    acc: dict[str, dict[str, float]] = {}
    last: dict[tuple[str, int], tuple[float, int]] = {}  # (site, replication) -> last (t_end_h, queue_len_end)
    for i, site_id in enumerate(cols["site_id"]):
        a = acc.setdefault(site_id, {"gpus": 0.0, "down": 0.0, "arrived": 0.0, "started": 0.0, "unmet": 0.0})
        a["gpus"] = max(a["gpus"], cols["gpus_total"][i] or 0)
        a["down"] += cols["down_h"][i] or 0.0
        a["arrived"] += cols["jobs_arrived"][i] or 0
        a["started"] += cols["jobs_started"][i] or 0
        a["unmet"] += cols["jobs_unmet"][i] or 0
        key = (site_id, cols["replication"][i])
        if key not in last or cols["t_end_h"][i] >= last[key][0]:
            last[key] = (cols["t_end_h"][i], cols["queue_len_end"][i] or 0)
    queued_end: dict[str, int] = {}
    for (site_id, _), (_, queued) in last.items():
        queued_end[site_id] = queued_end.get(site_id, 0) + queued
    return [SiteFacts(site_id, int(a["gpus"]), a["down"] / reps, horizon, int(a["arrived"] // reps),
                      int(a["unmet"] // reps), queued_end[site_id] // reps)
            for site_id, a in acc.items() if a["started"] == 0]


def idle_sites(sites: pa.Table, network: Network | None, policy: str,
               classes: Mapping[str, JobClass]) -> Sequence[IdleSite]:
    """The sites that started no job in any replication of one scenario, each with the reason.

    Parameters
    ----------
    sites : pyarrow.Table
        The scenario's ``sites`` rows (every interval of every replication).
    network : Network or None
        The network it ran on (partitions of mixed sites as sites); None when not known,
        which leaves out the reasons that need it.
    policy : str
        The placement policy's name.
    classes : mapping of str to JobClass
        The scenario's job classes.

    Returns
    -------
    sequence of IdleSite
        In the order the sites first appear in ``sites`` (network order); empty when every
        site started jobs.
    """
    placement = Placement(network, policy, classes)
    out = []
    for site in _facts(sites):
        reason = next(r for r in (check(site, placement) for check in CHECKS) if r is not None)
        out.append(IdleSite(site.site_id, reason))
    return out
