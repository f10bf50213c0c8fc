"""Site outages and GPU failures: the low-frequency actors that inject them.

Their configuration, the ``[failures]`` table, is :class:`sim.config.Failures`.

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
from collections.abc import Callable, Generator, Sequence
from typing import Any

import numpy as np
from simpy.events import Event

from sim.config import Failures, FailureSpec
from sim.engine import Engine
from sim.pool import Pool

__all__ = ["SEED_STREAM", "start_failures"]

SEED_STREAM = "failures/{kind}/{site}"
"""Name pattern of the failure streams (see ``sim.model.stream_seed``)."""


def _draw_h(rng: np.random.Generator, mean_h: float, spec: FailureSpec) -> float:
    """One up or down time (h) with mean ``mean_h``."""
    if spec.outage_dist == "weibull":
        k = spec.weibull_shape
        return float(rng.weibull(k)) * mean_h / math.gamma(1.0 + 1.0 / k)
    return float(rng.exponential(mean_h))


def _outages(engine: Engine, pool: Pool, spec: FailureSpec, rng: np.random.Generator,
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


def _gpu_failures(engine: Engine, pool: Pool, rate_per_gpu_h: float, rng: np.random.Generator,
                  horizon_h: float) -> Generator[Event, Any, None]:
    """GPU failures by thinning: candidates at rate × all GPUs, kept when the GPU drawn is busy."""
    mean_h = 1.0 / (rate_per_gpu_h * pool.total)
    while True:
        dt = float(rng.exponential(mean_h))
        if engine.now + dt >= horizon_h:
            return
        yield engine.timeout(dt)
        gpu = float(rng.random()) * pool.total  # busy GPUs are [0, busy) laid end to end
        pool.interrupt_gpu(gpu, engine.now)  # nothing happens while the site is down


def start_failures(engine: Engine, pools: Sequence[Pool], failures: Failures,
                   stream: Callable[[str], np.random.Generator], horizon_h: float) -> None:
    """Start the failure actors of every site that has failures (none when ``failures`` is all default).

    Parameters
    ----------
    engine : Engine
        The event core.
    pools : sequence of Pool
        The sites; those with failures are :class:`~sim.scheduling.SchedPool`
        (see :func:`sim.site_pools.build_pools`).
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
        if spec.has_outages:
            rng = stream(SEED_STREAM.format(kind="outage", site=pool.site.id))
            engine.process(_outages(engine, pool, spec, rng, horizon_h))
        if spec.gpu_failures_per_gpu_h > 0:
            rng = stream(SEED_STREAM.format(kind="gpu", site=pool.site.id))
            engine.process(_gpu_failures(engine, pool, spec.gpu_failures_per_gpu_h, rng, horizon_h))
