"""Power, energy, electricity cost and CO2 of a site: per metric interval, and per GPU-hour.

One home for the energy model (``docs/model.md``, Energy):

* facility power = (busy GPUs × ``gpu_busy_w`` + idle GPUs × ``gpu_idle_w``) × ``pue``;
* energy over an interval = facility power × its length;
* cost = energy × ``price_cny_per_kwh``;
* emissions = energy × ``carbon_kg_per_kwh`` × (1 − ``renewable_frac``).

:func:`interval_energy` gives the ``sites`` table's ``energy_mwh``, ``cost_cny`` and
``co2_t``; the per-GPU-hour figures rank sites for placement (:mod:`sim.placement`) and
price the work adopters meet (:mod:`sim.adoption`).  Each keeps the exact order of
operations the outputs were defined with, so results stay bit-identical.
"""

from __future__ import annotations

from typing import NamedTuple

from topology.model import Site

__all__ = [
    "IntervalEnergy",
    "busy_gpu_cost_cny_per_gpu_h",
    "carbon_kg_per_ref_gpu_h",
    "energy_cny_per_ref_gpu_h",
    "interval_energy",
    "it_power_mw",
]


class IntervalEnergy(NamedTuple):
    """Energy, cost and emissions of one site over one interval.

    Attributes
    ----------
    energy_mwh : float
        Facility energy (IT energy × PUE), MWh.
    cost_cny : float
        Electricity cost, CNY.
    co2_t : float
        Emissions of the non-renewable share, t CO2.
    """

    energy_mwh: float
    cost_cny: float
    co2_t: float


def it_power_mw(site: Site, busy_gpus: float, gpus: float | None = None) -> float:
    """IT power (before PUE) of ``site`` with ``busy_gpus`` GPUs busy and the rest idle, MW.

    ``gpus`` is the GPUs in force (a capacity timeline's value, or its mean over an
    interval); ``None``: the site's ``gpus``.

    Examples
    --------
    >>> site = Site(id="s", lat=0, lon=0, gpus=1000, gpu_busy_w=700, gpu_idle_w=100)
    >>> round(it_power_mw(site, 500.0), 6)
    0.4
    """
    in_force = site.gpus if gpus is None else gpus
    return (busy_gpus * site.gpu_busy_w + (in_force - busy_gpus) * site.gpu_idle_w) / 1e6


def interval_energy(site: Site, busy_gpus_mean: float, dt_h: float, gpus_mean: float | None = None) -> IntervalEnergy:
    """Energy, cost and CO2 of ``site`` over an interval of ``dt_h`` hours with ``busy_gpus_mean`` GPUs busy on average.

    Parameters
    ----------
    site : Site
        GPU count and power, PUE, price, carbon and renewable figures.
    busy_gpus_mean : float
        Time-average GPUs busy over the interval.
    dt_h : float
        Length of the interval, hours.
    gpus_mean : float, optional
        Time-average GPUs in force over the interval (a capacity timeline,
        :mod:`sim.capacity_timeline`); ``None``: the site's ``gpus``.  The GPUs in force
        beyond the busy ones draw idle power.

    Examples
    --------
    >>> site = Site(id="s", lat=0, lon=0, gpus=1000, gpu_busy_w=700, gpu_idle_w=100, pue=1.25,
    ...             price_cny_per_kwh=0.5, carbon_kg_per_kwh=0.8, renewable_frac=0.5)
    >>> [round(x, 6) for x in interval_energy(site, 500.0, 10.0)]
    [5.0, 2500.0, 2.0]
    """
    energy_mwh = it_power_mw(site, busy_gpus_mean, gpus_mean) * site.pue * dt_h
    cost = energy_mwh * 1000.0 * site.price_cny_per_kwh
    co2 = energy_mwh * site.carbon_kg_per_kwh * (1.0 - site.renewable_frac)
    return IntervalEnergy(energy_mwh, cost, co2)


def busy_gpu_cost_cny_per_gpu_h(site: Site) -> float:
    """Electricity cost of one busy GPU-hour at ``site`` (facility energy, PUE included), CNY.

    Examples
    --------
    >>> round(busy_gpu_cost_cny_per_gpu_h(Site(id="s", lat=0, lon=0, gpus=8, gpu_busy_w=400, pue=1.5,
    ...                                        price_cny_per_kwh=0.5)), 6)
    0.3
    """
    return site.gpu_busy_w / 1000.0 * site.pue * site.price_cny_per_kwh


def energy_cny_per_ref_gpu_h(site: Site) -> float:
    """Electricity cost of one reference GPU-hour of work at ``site``, CNY (facility energy, PUE included).

    A reference GPU-hour is one hour of work of the reference GPU (``sku_speed = 1``)
    on a busy GPU: ``price_cny_per_kwh × pue × gpu_busy_w / 1000 / sku_speed``.  Between
    sites with the same GPU (power and speed), the order is that of ``price × pue``.
    """
    return site.price_cny_per_kwh * site.pue * site.gpu_busy_w / 1000.0 / site.sku_speed


def carbon_kg_per_ref_gpu_h(site: Site) -> float:
    """Emissions of one reference GPU-hour of work at ``site``, kg CO2 (non-renewable share only).

    ``carbon_kg_per_kwh × (1 − renewable_frac) × pue × gpu_busy_w / 1000 / sku_speed``.
    """
    return site.carbon_kg_per_kwh * (1.0 - site.renewable_frac) * site.pue * site.gpu_busy_w / 1000.0 / site.sku_speed
