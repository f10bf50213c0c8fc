"""The energy model: power, energy, cost and CO2 per interval, and the per-GPU-hour figures, by hand."""

from __future__ import annotations

import pytest

from sim.energy import (
    busy_gpu_cost_cny_per_gpu_h,
    carbon_kg_per_ref_gpu_h,
    energy_cny_per_ref_gpu_h,
    interval_energy,
    it_power_mw,
)
from topology.model import Site


def _site(**figures: object) -> Site:
    return Site(id="s", lat=0, lon=0, **figures)  # type: ignore[arg-type]


def test_interval_energy_cost_and_co2():
    site = _site(gpus=1000, gpu_busy_w=700, gpu_idle_w=100, pue=1.25, price_cny_per_kwh=0.5,
                 carbon_kg_per_kwh=0.8, renewable_frac=0.5)
    # IT power: (250 x 700 W + 750 x 100 W) = 250 kW = 0.25 MW; x PUE 1.25 x 4 h = 1.25 MWh.
    assert it_power_mw(site, 250.0) == pytest.approx(0.25)
    energy = interval_energy(site, 250.0, 4.0)
    assert energy.energy_mwh == pytest.approx(1.25)
    assert energy.cost_cny == pytest.approx(1250.0 * 0.5)  # 1,250 kWh x 0.5 CNY/kWh
    assert energy.co2_t == pytest.approx(1.25 * 0.8 * 0.5)  # MWh x t/MWh (= kg/kWh) x non-renewable share


def test_an_idle_site_still_draws_idle_power():
    site = _site(gpus=10, gpu_busy_w=400, gpu_idle_w=80, pue=1.0)
    assert interval_energy(site, 0.0, 1.0).energy_mwh == pytest.approx(10 * 80 / 1e6)


def test_busy_gpu_hour_cost():
    # 400 W busy x PUE 1.5 = 0.6 kWh per GPU-hour, x 0.5 CNY/kWh.
    assert busy_gpu_cost_cny_per_gpu_h(_site(gpus=8, gpu_busy_w=400, pue=1.5, price_cny_per_kwh=0.5)) == (
        pytest.approx(0.3))


def test_scores_per_reference_gpu_hour():
    site = _site(gpus=100, price_cny_per_kwh=0.5, pue=1.2, gpu_busy_w=400, carbon_kg_per_kwh=0.6, renewable_frac=0.25,
                 sku_speed=2.0)
    # Cost: 0.5 CNY/kWh x 1.2 x 0.4 kW / 2 = 0.12 CNY per reference GPU-h.
    assert energy_cny_per_ref_gpu_h(site) == pytest.approx(0.12)
    # Carbon: 0.6 x (1 - 0.25) x 1.2 x 0.4 / 2 = 0.108 kg per reference GPU-h.
    assert carbon_kg_per_ref_gpu_h(site) == pytest.approx(0.108)
