"""Poisson arrivals generated a step at a time, as arrays (struct of arrays).

The engine asks for the arrivals in ``[t0, t1)`` once per step and walks them with a
single chained event, so a job costs no Python object until it reaches a site.  Each
job class draws from its own random stream, so adding a class leaves the arrivals of
the others unchanged (common random numbers across policies and capacities).  A
pre-made stream (a replayed trace) is served a step at a time by :func:`window`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from topology.plumbing import ConfigError
from workloads.job_class import JobClass

__all__ = ["MAX_ARRIVALS_PER_STEP", "ArrivalBatch", "class_arrivals", "merge_batches", "profiled_arrivals", "window"]

MAX_ARRIVALS_PER_STEP = 1e9
"""Most arrivals one class may expect in one step (about 40 GB of arrays): beyond it the draw
would exhaust memory or overflow numpy's Poisson sampler (lam > ~9e18)."""


@dataclass(frozen=True)
class ArrivalBatch:
    """Arrivals of one step, sorted by time.

    Attributes
    ----------
    t_h : numpy.ndarray
        Arrival times in hours since the start of the run (float64).
    cls : numpy.ndarray
        Index of the job class (int64).
    gpus : numpy.ndarray
        GPUs asked for (int64, >= 1).
    work_gpu_h : numpy.ndarray
        Work in reference GPU-hours (float64).
    origin : numpy.ndarray
        Index of the origin region (int64).
    """

    t_h: np.ndarray
    cls: np.ndarray
    gpus: np.ndarray
    work_gpu_h: np.ndarray
    origin: np.ndarray

    def __len__(self) -> int:
        return int(self.t_h.shape[0])


def class_arrivals(
    job_class: JobClass,
    cls_index: int,
    origin_p: np.ndarray,
    rate_per_h: float,
    t0_h: float,
    t1_h: float,
    rng: np.random.Generator,
) -> ArrivalBatch:
    """Draw one class's Poisson arrivals in ``[t0_h, t1_h)``.

    Parameters
    ----------
    job_class : JobClass
        Sizes are drawn from its distributions.
    cls_index : int
        Written into ``cls``.
    origin_p : numpy.ndarray
        Probability of each region as the origin (sums to 1).
    rate_per_h : float
        Arrival rate over the step, per hour.
    t0_h, t1_h : float
        The step, in hours.
    rng : numpy.random.Generator
        This class's stream; drawn in a fixed order (count, times, gpus, work, origin).

    Raises
    ------
    ConfigError
        More than :data:`MAX_ARRIVALS_PER_STEP` arrivals expected in the step (a guard for
        callers that skip the size check of :func:`sim.scenario.load_scenario`).
    """
    mean = rate_per_h * (t1_h - t0_h)
    if not mean <= MAX_ARRIVALS_PER_STEP:
        raise ConfigError(f"arrivals: {mean:.3g} expected in one step of {t1_h - t0_h:g} h (rate {rate_per_h:.3g}/h), "
                          f"more than {MAX_ARRIVALS_PER_STEP:.0e}; lower the rate or shorten engine.arrival_step_h")
    n = int(rng.poisson(mean)) if rate_per_h > 0 else 0
    t = np.sort(rng.uniform(t0_h, t1_h, n))
    gpus = np.maximum(1, np.ceil(job_class.gpus.sample(rng, n))).astype(np.int64)
    work = job_class.work_gpu_h.sample(rng, n)
    origin = rng.choice(origin_p.shape[0], size=n, p=origin_p).astype(np.int64)
    return ArrivalBatch(t, np.full(n, cls_index, np.int64), gpus, work, origin)


def profiled_arrivals(
    job_class: JobClass,
    cls_index: int,
    origin_p: np.ndarray,
    rate_per_h: float,
    t0_h: float,
    t1_h: float,
    rng: np.random.Generator,
    factor: np.ndarray,
) -> ArrivalBatch:
    """Non-homogeneous Poisson arrivals by thinning: rate ``rate_per_h × factor[origin, hour]``.

    Arrivals are drawn at the peak rate ``rate_per_h × factor.max()`` (:func:`class_arrivals`)
    and each is kept with probability ``factor[origin, floor(t) mod period] / factor.max()``
    (one uniform per drawn arrival, from the same stream, after the sizes), so a region's
    rate is piecewise constant by clock hour.

    Parameters
    ----------
    job_class, cls_index, origin_p, rate_per_h, t0_h, t1_h, rng
        As for :func:`class_arrivals`; ``rate_per_h`` is the mean rate (factor 1).
    factor : numpy.ndarray
        Relative rate by origin region (rows) and clock hour of the period (columns), >= 0.

    Examples
    --------
    >>> c = JobClass(arrival_rate_per_h=10.0, work_gpu_h={"dist": "constant", "value": 1.0})
    >>> factor = np.array([[2.0, 0.0]])  # busy even hours, empty odd hours, mean 1
    >>> b = profiled_arrivals(c, 0, np.array([1.0]), 10.0, 0.0, 2000.0, np.random.default_rng(1), factor)
    >>> bool(np.all(np.floor(b.t_h) % 2 == 0)), abs(len(b) / 20000 - 1) < 0.03
    (True, True)
    """
    peak = float(factor.max())
    batch = class_arrivals(job_class, cls_index, origin_p, rate_per_h * peak, t0_h, t1_h, rng)
    hour = np.floor(batch.t_h).astype(np.int64) % factor.shape[1]
    keep = rng.random(len(batch)) * peak < factor[batch.origin, hour]
    return ArrivalBatch(batch.t_h[keep], batch.cls[keep], batch.gpus[keep], batch.work_gpu_h[keep], batch.origin[keep])


def merge_batches(batches: Sequence[ArrivalBatch]) -> ArrivalBatch:
    """Merge per-class batches into one, ordered by time (ties by class order)."""
    if len(batches) == 1:
        return batches[0]
    t = np.concatenate([b.t_h for b in batches])
    order = np.argsort(t, kind="stable")
    return ArrivalBatch(
        t[order],
        np.concatenate([b.cls for b in batches])[order],
        np.concatenate([b.gpus for b in batches])[order],
        np.concatenate([b.work_gpu_h for b in batches])[order],
        np.concatenate([b.origin for b in batches])[order],
    )


def window(batch: ArrivalBatch, t0_h: float, t1_h: float) -> ArrivalBatch:
    """The arrivals of ``batch`` (sorted by time) in ``[t0_h, t1_h)``, as views, not copies.

    Examples
    --------
    >>> b = ArrivalBatch(np.array([0.0, 1.0, 2.0]), np.zeros(3, np.int64), np.ones(3, np.int64),
    ...                  np.ones(3), np.zeros(3, np.int64))
    >>> window(b, 1.0, 2.0).t_h.tolist()
    [1.0]
    """
    lo, hi = (int(i) for i in np.searchsorted(batch.t_h, (t0_h, t1_h), side="left"))
    return ArrivalBatch(batch.t_h[lo:hi], batch.cls[lo:hi], batch.gpus[lo:hi], batch.work_gpu_h[lo:hi],
                        batch.origin[lo:hi])
