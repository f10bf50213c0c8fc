"""The published figures of the calibration table: the rows issue 17 asks for, sourced, and their values on national."""

from __future__ import annotations

import math

import pytest

from sim.calibration_distance import calibration_columns, reference_figures
from topology.load import load_network

PREFIXES = ("url:", "seed ", "derived:", "estimate:", "public knowledge")

REQUIRED = {
    "installed_ai_eflops", "china_mobile_ai_eflops",  # installed AI compute, national and China Mobile
    "hub_ai_eflops", "nonhub_ai_eflops",  # the national figure split: the eight hubs and the rest of China
    "cl_zhangjiakou_ai_eflops", "cl_qingyang_ai_eflops", "cl_wuhu_ai_eflops", "cl_tianfu_ai_eflops",
    "inner_mongolia_ai_eflops", "guizhou_ai_eflops", "cl_zhongwei_ai_eflops",  # EDWC cluster capacities
    "energy_twh_per_year", "cl_zhangjiakou_energy_twh_per_year", "cl_shaoguan_energy_twh_per_year",
    "mean_pue", "hub_pue", "utilisation", "west_utilisation",
    "interhub_latency_mean_ms", "interhub_latency_max_ms", "green_dc_count", "green_dc_mean_pue", "hub_racks",
}


def test_every_required_figure_is_there_with_sources_and_a_note():
    figures = {f.key: f for f in reference_figures().figure}
    assert set(figures) >= REQUIRED
    for f in figures.values():
        assert f.source.startswith(PREFIXES) and f.band_source.startswith(PREFIXES), f.key
        assert f.note, f.key


def _sites(network, hours: float, busy_share: float) -> dict[str, list]:
    """A ``sites`` table of one interval, every site busy ``busy_share`` of its GPUs (energy at full power model)."""
    rows: dict[str, list] = {k: [] for k in ("site_id", "t_start_h", "t_end_h", "gpus_total", "gpu_h_busy",
                                             "energy_mwh")}
    for s in network.sites:
        busy = s.gpus * busy_share
        it_mwh = (busy * s.gpu_busy_w + (s.gpus - busy) * s.gpu_idle_w) * hours / 1e6
        for key, value in zip(rows, (s.id, 0.0, hours, s.gpus, busy * hours, it_mwh * s.pue), strict=True):
            rows[key].append(value)
    return rows


def test_new_rows_on_national_by_hand():
    net = load_network("national")
    columns = calibration_columns(net, _sites(net, 8760.0, 1.0))
    model = dict(zip(columns["figure"], columns["model"], strict=True))
    within = dict(zip(columns["figure"], columns["within"], strict=True))
    gpus = {s.id: s.gpus for s in net.sites}
    # Capacity: GPUs x 312 TFLOPS (A100-equivalents, sku_speed 1), in EFLOPS.
    assert model["cl_wuhu_ai_eflops"] == pytest.approx(gpus["cl_wuhu"] * 312e-6)
    assert model["inner_mongolia_ai_eflops"] == pytest.approx((gpus["cl_horinger"] + gpus["gpu_cm_hohhot"]) * 312e-6)
    for key in ("cl_wuhu_ai_eflops", "cl_tianfu_ai_eflops", "inner_mongolia_ai_eflops", "guizhou_ai_eflops",
                "cl_zhongwei_ai_eflops"):
        assert within[key] is True, key  # central = half the published upper bound
    # Shaoguan's GPUs were sized from 0.17 TWh at busy power: all busy all year gives the bound back.
    shaoguan = next(s for s in net.sites if s.id == "cl_shaoguan")
    assert model["cl_shaoguan_energy_twh_per_year"] == pytest.approx(
        shaoguan.gpus * shaoguan.gpu_busy_w * shaoguan.pue * 8760 / 1e12)
    assert model["cl_shaoguan_energy_twh_per_year"] == pytest.approx(0.17, rel=0.001)
    # The green data centres' PUE row measures the PUE all sites ran at, as mean_pue does.
    assert model["green_dc_mean_pue"] == model["mean_pue"]
    assert math.isnan(model["green_dc_count"]) and within["green_dc_count"] is None
