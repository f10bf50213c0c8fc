"""The calibration distance is the arithmetic it claims, on a run small enough to do by hand."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from sim.calibration_distance import calibration_distance, reference_figures
from sim.run import run_scenario
from sim.scenario import load_scenario
from topology.model import Network, Region, Site


def _network() -> Network:
    return Network(
        site=(
            Site(id="w", region="west", lat=37.5, lon=105.2, gpus=100, sku_speed=2.0, pue=1.2),
            Site(id="e", region="east", lat=31.2, lon=121.5, gpus=300, pue=1.5),
        ),
        region=(Region(id="r", lat=31.2, lon=121.5),),
    )


def _sites_table() -> pa.Table:
    # Two replications x one 10 h interval per site.
    return pa.table({
        "replication": [0, 0, 1, 1],
        "site_id": ["w", "e", "w", "e"],
        "t_start_h": [0.0, 0.0, 0.0, 0.0],
        "t_end_h": [10.0, 10.0, 10.0, 10.0],
        "gpu_h_busy": [500.0, 600.0, 700.0, 600.0],
        "energy_mwh": [1.2, 3.0, 2.4, 3.0],
    })


def test_distance_is_hand_arithmetic() -> None:
    tflops, figures = reference_figures()
    rows = {r.figure.key: r for r in calibration_distance(_network(), _sites_table())}
    assert set(rows) == {f.key for f in figures}
    # 100 GPUs x speed 2 + 300 x 1 = 500 reference GPUs x 312 TFLOPS = 0.156 EFLOPS.
    assert rows["installed_ai_eflops"].model == pytest.approx(500 * tflops / 1e6)
    ref = rows["installed_ai_eflops"].figure.value
    assert rows["installed_ai_eflops"].distance == pytest.approx(500 * tflops / 1e6 / ref - 1)
    # Facility 9.6 MWh; IT = 1.2/1.2 + 3/1.5 + 2.4/1.2 + 3/1.5 = 7 MWh.
    assert rows["mean_pue"].model == pytest.approx(9.6 / 7.0)
    assert rows["mean_pue"].distance == pytest.approx(9.6 / 7.0 - rows["mean_pue"].figure.value)
    # Busy 2,400 GPU-h of 2 x 10 h x 400 GPUs; the west: 1,200 of 2 x 10 x 100.
    assert rows["utilisation"].model == pytest.approx(2400 / 8000)
    assert rows["west_utilisation"].model == pytest.approx(1200 / 2000)
    # 4.8 MWh per replication-run of 10 h -> x 876 per year, in TWh.
    assert rows["energy_twh_per_year"].model == pytest.approx(4.8 * 876 / 1e6)


def test_no_west_sites_gives_nan_not_zero() -> None:
    net = Network(site=(Site(id="e", region="east", lat=31.2, lon=121.5, gpus=10),),
                  region=(Region(id="r", lat=31.2, lon=121.5),))
    table = _sites_table().filter(pa.compute.equal(_sites_table().column("site_id"), "e"))
    rows = {r.figure.key: r for r in calibration_distance(net, table)}
    assert math.isnan(rows["west_utilisation"].model)


def test_every_reference_figure_carries_a_source_and_unit() -> None:
    _, figures = reference_figures()
    for f in figures:
        assert f.source.startswith(("url:", "seed ", "derived:", "estimate:", "public knowledge:")), f.key
        assert f.unit and f.as_of and f.compare in ("ratio", "difference")


def test_on_a_real_run_the_energy_matches_the_sites_table() -> None:
    loaded = load_scenario(overrides=["horizon_h=48.0", "replications=2"])
    result = run_scenario(loaded)
    rows = {r.figure.key: r for r in calibration_distance(loaded.network, result.sites)}
    energy_mwh = sum(result.sites.column("energy_mwh").to_pylist())
    assert rows["energy_twh_per_year"].model == pytest.approx(energy_mwh / 2 / 1e6 * 8760 / 48.0)
    assert 0 < rows["utilisation"].model < 1
