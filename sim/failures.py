"""Site outages and GPU failures: the configuration and the low-frequency actors that inject them.

Two kinds of failure, both optional, per site or for every site:

* **Outages** (``outage_mtbf_h``, ``outage_mttr_h``): the site alternates between up
  and down periods, exponential or Weibull.  Going down interrupts every running job
  and starts nothing until the site is back.
* **GPU failures** (``gpu_failures_per_gpu_h``): each busy GPU fails at this rate;
  the job holding it is interrupted (the GPU is replaced at once, so capacity is
  unchanged).

An interrupted job restarts from its last checkpoint (``checkpoint_interval_h`` of its
class) at the head of its queue; see :class:`sim.scheduling.SchedPool`.  Each site has its
own random streams, ``failures/outage/<site id>`` and ``failures/gpu/<site id>``, so
adding failures changes no other draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any, Literal

import numpy as np
from pydantic import Field
from simpy.events import Event

from sim.engine import Engine
from sim.scheduling import SchedPool
from sim.site import GpuPool
from topology.plumbing import StrictModel

__all__ = ["FailureSpec", "Failures", "SiteFailures", "start_failures"]

SEED_STREAM = "failures/{kind}/{site}"
"""Name pattern of the failure streams (see ``sim.model.stream_seed``)."""


class FailureSpec(StrictModel):
    """Failure figures of one site.

    Attributes
    ----------
    outage_mtbf_h : float, optional
        Mean time between outages: mean up time, h; ``None`` (default) or ``inf``: no outages.
    outage_mttr_h : float
        Mean time to repair: mean length of an outage, h.
    outage_dist : {"exponential", "weibull"}
        Distribution of up and down times (each with its own mean).
    weibull_shape : float
        Shape k of the Weibull distribution (k < 1: early failures, k = 1: exponential).
    gpu_failures_per_gpu_h : float
        Failures per busy GPU-hour, each interrupting the job on that GPU.
    max_restarts : int, optional
        A job interrupted more than this many times fails; ``None``: always restarts.
    """

    outage_mtbf_h: float | None = Field(default=None, gt=0)
    outage_mttr_h: float = Field(default=4.0, gt=0)
    outage_dist: Literal["exponential", "weibull"] = "exponential"
    weibull_shape: float = Field(default=1.0, gt=0)
    gpu_failures_per_gpu_h: float = Field(default=0.0, ge=0)
    max_restarts: int | None = Field(default=None, ge=0)

    @property
    def active(self) -> bool:
        """Whether any failure happens at all."""
        return self.has_outages or self.gpu_failures_per_gpu_h > 0

    @property
    def has_outages(self) -> bool:
        """Whether the site has outages (a finite ``outage_mtbf_h``)."""
        return self.outage_mtbf_h is not None and math.isfinite(self.outage_mtbf_h)


class SiteFailures(StrictModel):
    """Changes to the failure figures of one site (``[failures.sites.<site id>]``); unset keys inherit.

    ``outage_mtbf_h = inf`` switches outages off at the site.
    """

    outage_mtbf_h: float | None = Field(default=None, gt=0)
    outage_mttr_h: float | None = Field(default=None, gt=0)
    outage_dist: Literal["exponential", "weibull"] | None = None
    weibull_shape: float | None = Field(default=None, gt=0)
    gpu_failures_per_gpu_h: float | None = Field(default=None, ge=0)
    max_restarts: int | None = Field(default=None, ge=0)


class Failures(FailureSpec):
    """The ``[failures]`` table: figures for every site, and per-site changes under ``sites``."""

    sites: dict[str, SiteFailures] = Field(default_factory=dict)

    def for_site(self, site_id: str) -> FailureSpec:
        """The figures of ``site_id``: the table's, with that site's changes applied."""
        base = self.model_dump(exclude={"sites"})
        change = self.sites.get(site_id)
        if change is not None:
            base.update(change.model_dump(exclude_none=True))
        return FailureSpec(**base)


def _draw_h(rng: np.random.Generator, mean_h: float, spec: FailureSpec) -> float:
    """One up or down time (h) with mean ``mean_h``."""
    if spec.outage_dist == "weibull":
        k = spec.weibull_shape
        return float(rng.weibull(k)) * mean_h / math.gamma(1.0 + 1.0 / k)
    return float(rng.exponential(mean_h))


def _outages(engine: Engine, pool: SchedPool, spec: FailureSpec, rng: np.random.Generator,
             horizon_h: float) -> Generator[Event, Any, None]:
    """Up, down, up, ... until the horizon; each change is one event."""
    assert spec.outage_mtbf_h is not None
    while True:
        for down, mean_h in ((True, spec.outage_mtbf_h), (False, spec.outage_mttr_h)):
            dt = _draw_h(rng, mean_h, spec)
            if engine.now + dt >= horizon_h:
                return
            yield engine.timeout(dt)
            pool.set_down(down, engine.now)


def _gpu_failures(engine: Engine, pool: SchedPool, rate_per_gpu_h: float, rng: np.random.Generator,
                  horizon_h: float) -> Generator[Event, Any, None]:
    """GPU failures by thinning: candidates at rate × all GPUs, kept when the GPU drawn is busy."""
    mean_h = 1.0 / (rate_per_gpu_h * pool.total)
    while True:
        dt = float(rng.exponential(mean_h))
        if engine.now + dt >= horizon_h:
            return
        yield engine.timeout(dt)
        gpu = float(rng.random()) * pool.total  # busy GPUs are [0, busy) laid end to end
        if not pool.down:
            pool.interrupt_gpu(gpu, engine.now)


def start_failures(engine: Engine, pools: list[GpuPool], failures: Failures,
                   stream: Callable[[str], np.random.Generator], horizon_h: float) -> None:
    """Start the failure actors of every site that has failures (none when ``failures`` is all default).

    Parameters
    ----------
    engine : Engine
        The event core.
    pools : list of GpuPool
        The sites; those with failures are :class:`SchedPool` (see ``build_pools``).
    failures : Failures
        The scenario's ``[failures]`` table.
    stream : callable
        The random generator of a named stream of this replication (``sim.model.stream_seed``).
    horizon_h : float
        No failure is scheduled at or after this time (h).
    """
    for pool in pools:
        spec = failures.for_site(pool.site.id)
        if not spec.active:
            continue
        assert isinstance(pool, SchedPool), "build_pools gives sites with failures a SchedPool"
        if spec.has_outages:
            rng = stream(SEED_STREAM.format(kind="outage", site=pool.site.id))
            engine.process(_outages(engine, pool, spec, rng, horizon_h))
        if spec.gpu_failures_per_gpu_h > 0:
            rng = stream(SEED_STREAM.format(kind="gpu", site=pool.site.id))
            engine.process(_gpu_failures(engine, pool, spec.gpu_failures_per_gpu_h, rng, horizon_h))
