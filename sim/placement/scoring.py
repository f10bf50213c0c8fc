"""The score of the load-aware policies (``cheapest``, ``greenest``, ``edwc``): a job's cost at a site, wait included.

One rule, :func:`best_scored`, for every load-aware policy::

    score_s = W_k × u_s + v × g × wait_s + m_k,s

* ``W_k``: the mean work of the job's class, reference GPU-h (``E[work_gpu_h]``);
* ``u_s``: what a reference GPU-hour costs at site *s* in the policy's unit
  (electricity CNY for ``cheapest`` and ``edwc``, kg CO2 for ``greenest``);
* ``v``: the value of a GPU-hour of waiting in the same unit
  (:data:`WAIT_VALUE_CNY_PER_GPU_H`, or :data:`WAIT_VALUE_KG_CO2_PER_GPU_H`);
* ``g``: the job's GPUs, so ``g × wait_s`` is the GPU-hours the job spends waiting;
* ``wait_s``: :func:`expected_wait_h`, the site's work ahead of the job beyond its GPUs,
  over its GPUs and speed;
* ``m_k,s``: for ``cheapest`` and ``edwc`` (CNY), the expected price of moving the job's
  data to *s* and its result back, :class:`TransferCosts`; 0 when no link has a price.

The job goes to the site with the lowest score, so cheap (or green) sites take work until
their backlog costs more in waiting than the price gap to the next site saves.  See
``docs/model.md`` (Placement).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.placement.base import REJECT, PlacementContext
from sim.signals import SiteSignals
from sim.site import GpuPool
from workloads.distributions import Distribution
from workloads.job_class import JobClass

__all__ = [
    "CARBON_PRICE_CNY_PER_KG",
    "WAIT_VALUE_CNY_PER_GPU_H",
    "WAIT_VALUE_KG_CO2_PER_GPU_H",
    "TransferCosts",
    "best_delay_h",
    "best_scored",
    "best_scored_timed",
    "class_means",
    "expected_wait_h",
    "mean_or_bound",
    "moved_gb",
]

WAIT_VALUE_CNY_PER_GPU_H = 10.0
"""Value of one GPU-hour of waiting, CNY.  Estimate: the order of the hourly rental of a
data-centre GPU in China (about 1–3 USD, i.e. 7–21 CNY); not a published figure.  A job
of *g* GPUs that waits *w* hours loses ``10 × g × w`` CNY of its users' time."""

CARBON_PRICE_CNY_PER_KG = 190.0 * 7.2 / 1000.0
"""Social cost of carbon, CNY per kg CO2 (1.368).  Derived: 190 USD per t CO2 (US EPA 2023
estimate at a 2 % discount rate, public knowledge) × 7.2 CNY per USD (public knowledge)."""

WAIT_VALUE_KG_CO2_PER_GPU_H = WAIT_VALUE_CNY_PER_GPU_H / CARBON_PRICE_CNY_PER_KG
"""Value of one GPU-hour of waiting in kg CO2 (≈ 7.31), for ``greenest``.  Derived:
:data:`WAIT_VALUE_CNY_PER_GPU_H` / :data:`CARBON_PRICE_CNY_PER_KG`."""


def mean_or_bound(dist: Distribution) -> float:
    """The mean of ``dist``; its upper bound where the mean is infinite; 1 where both are.

    The class work ``W_k`` and run time of the score need a finite figure also for a
    heavy-tailed class without a finite mean.

    Examples
    --------
    >>> from workloads.distributions import Constant
    >>> mean_or_bound(Constant(dist="constant", value=4.0))
    4.0
    """
    for value in (dist.expected(), dist.upper()):
        if math.isfinite(value):
            return value
    return 1.0


def class_means(classes: Sequence[JobClass]) -> tuple[list[float], list[float]]:
    """Per class: the mean work ``W_k`` (reference GPU-h) and mean run time at ``sku_speed = 1``, ``W_k / E[gpus]`` (h).

    Both from :func:`mean_or_bound`; ``E[gpus]`` is taken as at least 1.
    """
    work = [mean_or_bound(c.work_gpu_h) for c in classes]
    run = [w / max(mean_or_bound(c.gpus), 1.0) for w, c in zip(work, classes, strict=True)]
    return work, run


def moved_gb(job_class: JobClass) -> float:
    """GB a job of ``job_class`` moves when placed away from its origin: ``E[input_gb] + E[result_gb]``.

    Each term counts only when the class has it (:func:`mean_or_bound`); 0 for a class that
    moves nothing.

    Examples
    --------
    >>> from workloads.job_class import JobClass
    >>> c = JobClass(arrival_rate_per_h=1.0, gpus={"dist": "constant", "value": 1},
    ...              work_gpu_h={"dist": "constant", "value": 1.0}, input_gb={"dist": "constant", "value": 200.0},
    ...              result_gb={"dist": "constant", "value": 20.0})
    >>> moved_gb(c)
    220.0
    """
    return sum(mean_or_bound(d) for d in (job_class.input_gb, job_class.result_gb) if d is not None)


class TransferCosts:
    """What moving a job's data from its origin row to each site is expected to cost, CNY (``m_k,s``).

    ``m_k,s = (E[input_gb] + E[result_gb]) × p_r,s`` (:func:`moved_gb`), with ``p_r,s``
    the context's :attr:`~sim.placement.base.PlacementContext.transfer_cny_per_gb`: the
    summed ``price_cny_per_gb`` of the route from the job's origin row *r* to site *s*,
    0 where the site is co-located with the origin (nothing moves).  The policy cannot see
    the job's own sizes (only its class), so it weighs the class means.

    :meth:`of` gives ``None`` (nothing to add) for every row when no route has a price,
    and for a class that moves nothing, so a network without prices scores exactly as
    before.
    """

    def __init__(self, context: PlacementContext) -> None:
        prices = context.transfer_cny_per_gb
        priced = prices is not None and bool(np.nansum(prices) > 0.0)
        self._prices = np.nan_to_num(prices, nan=math.inf) if priced and prices is not None else None
        self._gb = [moved_gb(c) for c in context.classes]
        self._cache: dict[tuple[int, int], list[float] | None] = {}

    @property
    def active(self) -> bool:
        """Does some route have a price (else :meth:`of` is ``None`` everywhere)?"""
        return self._prices is not None

    def of(self, row: int, cls: int) -> list[float] | None:
        """CNY per site for a job of class ``cls`` from origin row ``row``; ``None``: 0 everywhere (cached)."""
        key = (row, cls)
        if key in self._cache:
            return self._cache[key]
        costs: list[float] | None = None
        if self._prices is not None and self._gb[cls] > 0.0 and bool(np.any(self._prices[row] > 0.0)):
            costs = (self._gb[cls] * self._prices[row]).tolist()
        self._cache[key] = costs
        return costs


def expected_wait_h(pool: GpuPool, gpus: int, run_h: float) -> float:
    """Expected wait (h) of a job of ``gpus`` GPUs at ``pool``: the work ahead of it beyond the GPUs, over the GPUs.

    The GPUs held by running jobs, those asked for by queued jobs and the job's own
    together exceed the pool by ``overflow = busy + queued_gpus + gpus − total`` GPUs;
    each of those GPUs holds about ``run_h`` hours of work (the class's mean run time at
    the pool's speed), so the backlog beyond the GPUs is ``overflow × run_h`` GPU-hours
    and drains in ``overflow × run_h / total`` hours.  Zero when the job fits at once.

    Parameters
    ----------
    pool : GpuPool
        The site's live state (``total``, ``free``, ``queued_gpus``).
    gpus : int
        GPUs the job asks for.
    run_h : float
        Mean run time of the job's class at this site, h (``E[work] / E[gpus] / speed``).

    Examples
    --------
    >>> from sim.engine import Engine
    >>> from sim.site import GpuPool
    >>> from topology.model import Site
    >>> pool = GpuPool(0, Site(id="s", lat=0, lon=0, gpus=10), Engine())
    >>> pool.free, pool.queued_gpus = 0, 10  # 10 GPUs busy, 10 more asked for by queued jobs
    >>> expected_wait_h(pool, 2, 50.0)  # 12 GPUs over, 50 h each, 10 GPUs draining
    60.0
    """
    overflow = pool.total - pool.free + pool.queued_gpus + gpus - pool.total
    if overflow <= 0:
        return 0.0
    return overflow / pool.total * run_h


def best_scored(
    pools: Sequence[GpuPool],
    candidates: Sequence[int],
    unit: Sequence[float],
    gpus: int,
    work_gpu_h: float,
    run_ref_h: float,
    wait_value: float,
    max_wait_h: float = math.inf,
    extra: Sequence[float] | None = None,
) -> int:
    """The candidate site with the lowest score ``work_gpu_h × unit[s] + extra[s] + wait_value × gpus × wait_s``.

    Parameters
    ----------
    pools : sequence of GpuPool
        Every site's live state, in network order.
    candidates : sequence of int
        Site indices in ascending ``unit`` (ties in the order to break them by).
    unit : sequence of float
        Cost of a reference GPU-hour at each site (the policy's unit, e.g. CNY), >= 0.
    gpus : int
        GPUs the job asks for; sites with fewer GPUs are skipped.
    work_gpu_h : float
        Mean work of the job's class, reference GPU-h.
    run_ref_h : float
        Mean run time of the class at ``sku_speed = 1``, h; divided by each site's speed.
    wait_value : float
        Value of one GPU-hour of waiting, in the unit of ``unit``.
    max_wait_h : float
        Sites whose :func:`expected_wait_h` exceeds this are not admissible (a deadline), h.
    extra : sequence of float, optional
        A cost added at each site, >= 0, in the unit of ``unit`` (the expected price of
        moving the job's data there, :class:`TransferCosts`); ``None``: nothing added.

    Returns
    -------
    int
        The site index; ties go to the earlier candidate; :data:`REJECT` when no
        candidate is large enough and within ``max_wait_h``.
    """
    best, best_score = REJECT, math.inf
    for j in candidates:
        base = work_gpu_h * unit[j]
        if base >= best_score:
            break  # candidates ascend in unit and a wait or extra only adds: no later site can score lower
        pool = pools[j]
        if pool.total < gpus:
            continue
        wait = expected_wait_h(pool, gpus, run_ref_h / pool.speed)
        if wait > max_wait_h:
            continue
        score = base + wait_value * gpus * wait
        if extra is not None:
            score += extra[j]
        if score < best_score:
            best, best_score = j, score
    return best


def best_scored_timed(
    pools: Sequence[GpuPool],
    candidates: Sequence[int],
    signals: SiteSignals,
    row: int,
    now: float,
    gpus: int,
    work_gpu_h: float,
    run_ref_h: float,
    wait_value: float,
    max_wait_h: float = math.inf,
    extra: Sequence[float] | None = None,
) -> int:
    """As :func:`best_scored`, with each site's unit taken over the hours the job is expected to run there.

    A job starting after its expected wait ``w_s`` runs over ``[now + w_s, now + w_s + run_s)``
    (``run_s`` the class's mean run time at the site's speed); its unit is the mean price
    (``row = 0``, CNY) or effective carbon (``row = 1``, kg) over those hours, per reference
    GPU-hour (:meth:`sim.signals.SiteSignals.unit_per_ref_gpu_h`).  Every candidate is scored
    (units change with the hour, so the annual order cannot cut the scan short); ties go to
    the earlier candidate.
    """
    best, best_score = REJECT, math.inf
    unit = signals.unit_per_ref_gpu_h
    for j in candidates:
        pool = pools[j]
        if pool.total < gpus:
            continue
        run_h = run_ref_h / pool.speed
        wait = expected_wait_h(pool, gpus, run_h)
        if wait > max_wait_h:
            continue
        start = now + wait
        score = work_gpu_h * unit(j, row, start, start + run_h) + wait_value * gpus * wait
        if extra is not None:
            score += extra[j]
        if score < best_score:
            best, best_score = j, score
    return best


def best_delay_h(pool: GpuPool, site: int, signals: SiteSignals, row: int, now: float, gpus: int,
                 run_ref_h: float, deadline_h: float) -> float:
    """Hours to hold a deferrable job before submitting it at ``site``: the reachable start hour of least unit.

    The job may be held while its expected wait ``w`` and the hold together stay within
    ``defer_max_frac × (deadline_h − w)`` of arrival.  Candidate holds are 0 and every
    whole clock hour in reach; the one whose run window ``[now + d + w, now + d + w + run)``
    has the lowest mean price (``row = 0``) or effective carbon (``row = 1``) wins, ties to
    the shortest.  Holding costs no waiting value: the class's deadline says it can wait.

    Examples
    --------
    >>> import numpy as np
    >>> from topology.model import Site
    >>> from topology.signals import SignalsConfig
    >>> from sim.engine import Engine
    >>> from sim.signals import SiteSignals
    >>> from sim.site import GpuPool
    >>> site = Site(id="s", lat=0, lon=0, gpus=4)
    >>> prices = np.array([[1.0] * 12 + [0.5] * 12, [0.5] * 24, [0.0] * 24])
    >>> sig = SiteSignals([prices], [site], SignalsConfig(time_aware=True, defer=True))
    >>> pool = GpuPool(0, site, Engine())  # 4 GPUs free, nothing queued, speed 1
    >>> best_delay_h(pool, 0, sig, 0, 3.5, 1, 2.0, 24.0)  # hold from 03:30 to the cheap 12:00
    8.5
    """
    run_h = run_ref_h / pool.speed
    wait = expected_wait_h(pool, gpus, run_h)
    reach = signals.config.defer_max_frac * (deadline_h - wait)
    if reach < 1.0:
        return 0.0
    start = now + wait
    unit = signals.window_mean
    best_d, best_u = 0.0, unit(site, row, start, start + run_h)
    first = math.ceil(now) - now
    for k in range(int(reach - first) + 1):
        d = first + k
        if d <= 0.0:
            continue
        u = unit(site, row, start + d, start + d + run_h)
        if u < best_u - 1e-12 * abs(best_u):
            best_d, best_u = d, u
    return best_d
