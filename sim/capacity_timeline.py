"""Capacity that changes over time: a site's GPU timeline on the scenario's calendar.

A site's ``timeline`` (:class:`topology.model.CapacityStep`) lists its GPU count at
dates.  The scenario's calendar is the one the adoption model and ``cpnsim search
capacity --by`` use: t = 0 is 00:00 of 1 January of ``start_year`` and every calendar
year is :data:`~workloads.adoption.HOURS_PER_YEAR` hours long (8766 h), so the end of
year ``start_year + k`` is ``(k + 1) × 8766`` h; a day inside a year lies at its share
of that year: 00:00 of ``date`` is ``(year − start_year + (day of year − 1) / days in
year) × 8766`` h.  The capacity at t is the level of the latest step dated on or before
t; before the first date it is the first step's level (the earliest figure, held
back in time).  A scenario without ``start_year`` has no calendar: timelines are not
applied and every site keeps ``gpus``.

In the simulation each later step is one engine event that calls the pool's
``set_capacity`` (:meth:`sim.site.GpuPool.set_capacity`): added GPUs are usable at
once (queued jobs may start); retired GPUs leave as they become free, taking the free
ones first, so no running job is killed and no job starts on a GPU that is retiring.

A site's ``power_envelope_mw`` caps the GPUs in force, with or without a calendar, at
:func:`envelope_gpus`: the largest ``n`` with ``n × gpu_busy_w × pue ≤ power_envelope_mw``
(W and MW), so the facility stays within its envelope even with every GPU in force busy.
Every level (``gpus`` and each timeline step) is cut to the cap; the GPUs beyond it are
dark: not in force, so they draw no idle power and count in no capacity or utilisation.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Sequence
from datetime import date

from sim.engine import Engine
from sim.pool import Pool
from topology.model import CapacityStep, Site
from workloads.adoption import HOURS_PER_YEAR

__all__ = ["capacity_at", "capacity_steps", "date_h", "envelope_gpus", "gpu_h_available", "install", "shifted"]


def date_h(day: date, start_year: int) -> float:
    """Simulated hours from t = 0 (1 January of ``start_year``) to 00:00 of ``day``.

    Examples
    --------
    >>> date_h(date(2026, 1, 1), 2025)
    8766.0
    >>> date_h(date(2025, 7, 2), 2025) == 182 / 365 * 8766
    True
    """
    into_year = (day - date(day.year, 1, 1)).days / (366 if calendar.isleap(day.year) else 365)
    return (day.year - start_year + into_year) * HOURS_PER_YEAR


def envelope_gpus(site: Site) -> int | None:
    """GPUs a site's ``power_envelope_mw`` allows in force: the largest n with n × gpu_busy_w × pue ≤ envelope.

    ``None`` without an envelope, or when a busy GPU draws nothing (no cap then).

    Examples
    --------
    >>> envelope_gpus(Site(id="s", lat=0, lon=0, gpus=10**5, gpu_busy_w=1000, pue=1.25, power_envelope_mw=10))
    8000
    >>> envelope_gpus(Site(id="s", lat=0, lon=0, gpus=10**5, gpu_busy_w=700, pue=1.3, power_envelope_mw=1))
    1098
    """
    if site.power_envelope_mw is None or site.gpu_busy_w <= 0:
        return None
    envelope_w, per_gpu_w = site.power_envelope_mw * 1e6, site.gpu_busy_w * site.pue
    n = math.floor(envelope_w / per_gpu_w)
    # The quotient may round across an integer: settle n on the exact inequality.
    while n > 0 and n * per_gpu_w > envelope_w:
        n -= 1
    while (n + 1) * per_gpu_w <= envelope_w:
        n += 1
    return n


def capacity_steps(site: Site, start_year: int | None) -> tuple[int, list[tuple[float, int]]]:
    """The GPUs in force at t = 0 and the later changes: ``(gpus at 0, [(t_h, gpus from t_h), ...])``.

    Parameters
    ----------
    site : Site
        ``gpus`` and the ``timeline``.
    start_year : int or None
        The calendar (t = 0 is 1 January of it); ``None``: no calendar, no changes.

    Examples
    --------
    >>> site = Site(id="s", lat=0, lon=0, gpus=99, timeline=[
    ...     {"date": "2024-06-01", "gpus": 15}, {"date": "2026-01-01", "gpus": 12}])
    >>> capacity_steps(site, 2025)
    (15, [(8766.0, 12)])
    >>> capacity_steps(site, 2023)
    (15, [(26298.0, 12)])

    Every level is cut to the site's power envelope (:func:`envelope_gpus`); a step
    that the cap leaves unchanged is no change.
    """
    cap = envelope_gpus(site)
    if start_year is None or not site.timeline:
        return (site.gpus if cap is None else min(site.gpus, cap)), []
    initial = site.timeline[0].gpus  # before the first date: the earliest level
    steps: list[tuple[float, int]] = []
    for step in site.timeline:
        t_h = date_h(step.date, start_year)
        if t_h > 0.0:
            if step.gpus != (steps[-1][1] if steps else initial):  # an unchanged level is no event
                steps.append((t_h, step.gpus))
        else:
            initial = step.gpus  # dated on or before t = 0: in force from the start
    if cap is not None:
        initial = min(initial, cap)
        capped: list[tuple[float, int]] = []
        for t_h, gpus in steps:
            if min(gpus, cap) != (capped[-1][1] if capped else initial):
                capped.append((t_h, min(gpus, cap)))
        steps = capped
    return initial, steps


def shifted(timeline: tuple[CapacityStep, ...], delta: int) -> tuple[CapacityStep, ...] | str:
    """Every level of ``timeline`` moved by ``delta`` GPUs, or why not (a level would go below zero).

    A scenario's ``[sites.<id>] gpus`` on a site with a timeline (and no timeline of
    its own) moves the whole timeline by the difference, so ``cpnsim search capacity``
    and "double a site" add the same GPUs at every date.

    Examples
    --------
    >>> steps = (CapacityStep(date="2025-01-01", gpus=10), CapacityStep(date="2026-01-01", gpus=20))
    >>> [s.gpus for s in shifted(steps, 5)], shifted(steps, -11)
    ([15, 25], 'lowers timeline[0].gpus to -1')
    """
    for k, step in enumerate(timeline):
        if step.gpus + delta < 0:
            return f"lowers timeline[{k}].gpus to {step.gpus + delta}"
    return tuple(step.model_copy(update={"gpus": step.gpus + delta}) for step in timeline)


def capacity_at(site: Site, start_year: int | None, t_h: float) -> int:
    """GPUs in force at ``site`` at ``t_h`` (h): the step function of its timeline (right-continuous)."""
    gpus, steps = capacity_steps(site, start_year)
    for at_h, after in steps:
        if at_h > t_h:
            break
        gpus = after
    return gpus


def gpu_h_available(site: Site, start_year: int | None, t0_h: float, t1_h: float) -> float:
    """GPU-hours in force at ``site`` over ``[t0_h, t1_h]``: the integral of :func:`capacity_at`.

    Examples
    --------
    >>> site = Site(id="s", lat=0, lon=0, gpus=9, timeline=[{"date": "2024-01-01", "gpus": 1},
    ...                                                   {"date": "2026-01-01", "gpus": 2}])
    >>> gpu_h_available(site, 2025, 0.0, 10000.0)
    11234.0
    """
    gpus, steps = capacity_steps(site, start_year)
    total = 0.0
    t = t0_h
    for at_h, after in steps:
        if at_h >= t1_h:
            break
        if at_h > t:
            total += gpus * (at_h - t)
            t = at_h
        gpus = after
    return total + gpus * (t1_h - t)


def install(pools: Sequence[Pool], engine: Engine, start_year: int | None, horizon_h: float) -> int:
    """Put every site's timeline into the run: changes at t <= 0 now, one engine event per later step.

    Parameters
    ----------
    pools : sequence of Pool
        One per site, with their sites.
    engine : Engine
        The event core; the steps are scheduled on it.
    start_year : int or None
        The scenario's calendar; ``None``: no timeline is installed (power envelopes still cap).
    horizon_h : float
        Steps at or after the horizon are not scheduled.

    Returns
    -------
    int
        Events scheduled.
    """
    scheduled = 0
    for pool in pools:
        timed = start_year is not None and bool(pool.site.timeline)
        if not timed and pool.site.power_envelope_mw is None:
            continue
        initial, steps = capacity_steps(pool.site, start_year)
        if initial != pool.total:
            _apply(engine, pool, initial)
        for t_h, gpus in steps:
            if t_h < horizon_h:
                engine.call_at(t_h, _step(engine, pool), gpus)
                scheduled += 1
    return scheduled


def _apply(engine: Engine, pool: Pool, gpus: int) -> None:
    pool.set_capacity(gpus, engine.now_h)
    # A least-loaded index keeps each site's capacity in an array: tell it (sim.placement.least_loaded).
    refresh = getattr(pool.load_watch, "capacity_changed", None)
    if refresh is not None:
        refresh(pool.index)


def _step(engine: Engine, pool: Pool) -> Callable[[int], None]:
    def step(gpus: int) -> None:
        engine.events += 1
        _apply(engine, pool, gpus)

    return step
