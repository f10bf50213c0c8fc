"""A site's power envelope in MW caps the GPUs in force (sim/capacity_timeline.py, envelope_gpus)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cluster.cli.main import main
from sim.capacity_timeline import capacity_steps, envelope_gpus
from sim.run import run_scenario
from sim.scenario import load_scenario
from topology.model import Site


def _site(**figures: object) -> Site:
    return Site(id="s", lat=0, lon=0, **{"gpus": 10_000, "gpu_busy_w": 400.0, "pue": 1.1, **figures})


def test_largest_n_within_the_envelope_by_hand() -> None:
    # 400 W x 1.1 = 440 W per busy GPU: 0.2 MW / 440 W = 454.5 -> 454 (454 x 440 = 199,760 W <= 200,000 W).
    assert envelope_gpus(_site(power_envelope_mw=0.2)) == 454
    # Exactly on the boundary: 1,000 W x 1.25 = 1,250 W; 10 MW / 1,250 W = 8,000 exactly -> 8,000.
    assert envelope_gpus(_site(gpu_busy_w=1000.0, pue=1.25, power_envelope_mw=10.0)) == 8000
    # 0.1 MW / (700 W x 1.3 = 910 W) = 109.89 -> 109; one GPU more would draw 100,100 W.
    assert envelope_gpus(_site(gpu_busy_w=700.0, pue=1.3, power_envelope_mw=0.1)) == 109
    assert envelope_gpus(_site()) is None  # no envelope, no cap
    assert envelope_gpus(_site(gpu_busy_w=0.0, power_envelope_mw=1.0)) is None  # a GPU that draws nothing


def test_every_level_is_cut_to_the_cap() -> None:
    # Cap 454 (above).  Timeline 300 -> 500 -> 600 -> 400: levels 300, 454, 454 (no change, no step), 400.
    site = _site(power_envelope_mw=0.2, timeline=[{"date": "2025-01-01", "gpus": 300},
                                                  {"date": "2025-07-02", "gpus": 500},
                                                  {"date": "2026-01-01", "gpus": 600},
                                                  {"date": "2027-01-01", "gpus": 400}])
    initial, steps = capacity_steps(site, 2025)
    assert initial == 300
    assert [g for _, g in steps] == [454, 400]
    # Without a calendar the timeline is not applied, but the envelope still caps gpus (10,000 -> 454).
    assert capacity_steps(site, None) == (454, [])
    assert capacity_steps(_site(power_envelope_mw=100.0), None) == (10_000, [])  # a loose envelope changes nothing


def test_a_run_keeps_busy_gpus_and_energy_within_the_envelope() -> None:
    # cl_zhongwei of the default network: 1,024 GPUs, 400 W busy, 60 W idle, PUE 1.1; envelope 0.2 MW -> 454 GPUs.
    common = ["horizon_h=200", "warmup_h=0", "metric_interval_h=10", "workload.batch.arrival_rate_per_h=120"]
    capped = run_scenario(load_scenario(None, [*common, "sites.cl_zhongwei.power_envelope_mw=0.2"]))
    sites = capped.sites.to_pandas()
    rows = sites[sites.site_id == "cl_zhongwei"]
    assert (rows.gpus_total == 454).all()
    dt = rows.t_end_h - rows.t_start_h
    assert (rows.gpu_h_busy <= 454 * dt + 1e-9).all()
    assert rows.utilisation.max() > 0.9  # loaded: the cap binds
    # Facility energy: busy GPUs at 400 W, the other 454 in force idle at 60 W; the 570 dark GPUs draw nothing.
    expected = (rows.gpu_h_busy * 400.0 + (454 * dt - rows.gpu_h_busy) * 60.0) * 1.1 / 1e6
    assert np.allclose(rows.energy_mwh, expected, rtol=1e-9, atol=0)
    assert (rows.energy_mwh / dt <= 0.2 + 1e-12).all()  # mean facility power within the envelope, MW
    # The other sites are untouched.
    free = run_scenario(load_scenario(None, common)).sites.to_pandas()
    assert (free[free.site_id == "cl_zhongwei"].gpus_total == 1024).all()
    assert sites[sites.site_id != "cl_zhongwei"].gpus_total.tolist() == \
        free[free.site_id != "cl_zhongwei"].gpus_total.tolist()


@pytest.mark.parametrize("value", ["-1", "0"])
def test_non_positive_envelope_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  value: str) -> None:
    out = tmp_path / "out"
    status = main(["run", "--set", f"sites.cl_zhongwei.power_envelope_mw={value}", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and not out.exists()
    assert len(err) == 1 and "--set" in err[0] and "power_envelope_mw" in err[0], err


def test_non_positive_envelope_in_a_scenario_file_names_the_file(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text("horizon_h = 48.0\n[sites.cl_zhongwei]\npower_envelope_mw = 0.0\n")
    out = tmp_path / "out"
    status = main(["run", str(scenario), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and not out.exists()
    assert len(err) == 1 and str(scenario) in err[0] and "sites.cl_zhongwei.power_envelope_mw" in err[0], err
