"""Time signals at run time (sim/signals.py): hourly accounting conserves energy, hand-computed hours, deferral."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sim.metrics import MetricBuffers
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.signals import HourlyMeter, SiteSignals
from topology.model import Site
from topology.signals import SignalsConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "edwc_hourly.toml"
ENERGY = ("energy_mwh", "cost_cny", "co2_t")


class _Pool:
    """A site whose busy GPU-hours are set by hand (``advance`` changes nothing)."""

    def __init__(self, site: Site) -> None:
        self.site, self.total, self.busy_area, self.t_last, self.queue_area = site, site.gpus, 0.0, 0.0, 0.0
        self.free = site.gpus  # busy_area is set by hand: nothing accrues beyond it
        self.arrived = self.started = self.finished = 0
        self.waits: list[float] = []
        self.running: list[object] = []

    def advance(self, now: float) -> None:
        pass

    cap_t = 0.0  # no capacity timeline: the GPUs in force never changed

    def capacity_gpu_h(self, now: float) -> float:
        return float(self.total) * now

    def queue_length(self) -> int:
        return 0

    def outcome(self, now: float) -> SimpleNamespace:
        return SimpleNamespace(unmet=0, lost_gpu_h=0.0, down_h=0.0)


def test_two_hours_by_hand() -> None:
    site = Site(id="s", lat=0, lon=0, gpus=10, gpu_busy_w=500, gpu_idle_w=100, pue=1.5)
    series = np.array([[0.2, 0.8], [0.5, 1.0], [0.0, 0.5]])  # price, carbon, renewable share by hour
    pool = _Pool(site)
    meter = HourlyMeter(SiteSignals([series], [site], SignalsConfig()), [pool], SimpleNamespace())  # type: ignore[arg-type, list-item]
    buffers = MetricBuffers([pool], 0.0, meter)  # type: ignore[list-item]
    # Hour 0: 4 busy GPU-h, in two segments.  (4 x 500 + 6 x 100) W h x 1.5 = 3.9 kWh.
    pool.busy_area = 1.0
    meter.advance(0.5)
    pool.busy_area = 4.0
    meter.advance(1.0)
    # Hour 1: all 10 busy.  10 x 500 W h x 1.5 = 7.5 kWh.
    pool.busy_area = 14.0
    meter.advance(2.0)
    assert meter.energy_mwh[0] == pytest.approx(0.0039 + 0.0075, rel=1e-12)
    assert meter.cost_cny[0] == pytest.approx(3.9 * 0.2 + 7.5 * 0.8, rel=1e-12)  # 0.78 + 6.0 CNY
    assert meter.co2_t[0] == pytest.approx(0.0039 * 0.5 + 0.0075 * 1.0 * 0.5, rel=1e-12)
    assert meter.renewable_mwh[0] == pytest.approx(0.0075 * 0.5, rel=1e-12)
    # The sites row of a two-hour interval: energy-weighted price and carbon, renewable share.
    buffers.sample(2.0)
    row = {name: values[0] for name, values in buffers.columns.items()}
    assert row["price_cny_per_kwh"] == pytest.approx(6.78 / 11.4, rel=1e-12)
    assert row["carbon_kg_per_kwh"] == pytest.approx((3.9 * 0.5 + 7.5 * 1.0) / 11.4, rel=1e-12)
    assert row["renewable_share"] == pytest.approx(3.75 / 11.4, rel=1e-12)
    assert row["cost_cny"] == pytest.approx(6.78, rel=1e-12)


def test_window_mean_wraps_the_period() -> None:
    site = Site(id="s", lat=0, lon=0, gpus=1)
    series = np.array([np.arange(24.0), np.ones(24), np.zeros(24)])
    signals = SiteSignals([series], [site], SignalsConfig())
    # Hours 23 and 24 (= hour 0 of the next day): (23 + 0) / 2; a window of 3 days spans whole cycles.
    assert signals.window_mean(0, 0, 23.0, 25.0) == pytest.approx(11.5)
    assert signals.window_mean(0, 0, 5.0, 5.0 + 72.0) == pytest.approx(11.5)
    assert signals.window_mean(0, 0, 1e4 + 0.25, 1e4 + 0.75) == pytest.approx(1e4 % 24)


def _flat_profiles(tmp_path: Path) -> str:
    """A profile set with no site mapped: every site keeps its annual figures every hour."""
    path = tmp_path / "flat.toml"
    path.write_text('description = "no profiles"\n')
    return str(path)


@pytest.mark.parametrize("interval", [1.0, 7.3, 24.0])
def test_flat_signals_conserve_the_annual_totals(tmp_path: Path, interval: float) -> None:
    common = ["horizon_h=100.5", "warmup_h=10.25", f"metric_interval_h={interval}"]
    off = run_scenario(load_scenario(None, common))
    on = run_scenario(load_scenario(None, [*common, "signals.enabled=true",
                                           f'signals.profiles="{_flat_profiles(tmp_path)}"']))
    # Placement and queues do not see the signals: the same jobs run in the same places.
    assert on.sites.column("gpu_h_busy").to_pylist() == off.sites.column("gpu_h_busy").to_pylist()
    for name in ENERGY:
        assert np.allclose(on.sites.column(name).to_numpy(), off.sites.column(name).to_numpy(), rtol=1e-9, atol=0)
        assert on.runs.column(name)[0].as_py() == pytest.approx(off.runs.column(name)[0].as_py(), rel=1e-9)
    assert on.runs.column("cost_cny_per_gpu_h")[0].as_py() == pytest.approx(
        off.runs.column("cost_cny_per_gpu_h")[0].as_py(), rel=1e-9)


def test_example_prices_vary_within_a_day_at_western_sites() -> None:
    loaded = load_scenario(EXAMPLE, ["replications=1", "horizon_h=48"])
    sites = run_scenario(loaded).sites.to_pandas()
    for site_id in ("cl_horinger", "cl_zhongwei", "cl_qingyang"):
        day = sites[(sites.site_id == site_id) & (sites.t_start_h < 24)]
        assert len(day) == 24
        assert day.price_cny_per_kwh.max() / day.price_cny_per_kwh.min() == pytest.approx(3.0)  # 1.5 / 0.5
        assert day.carbon_kg_per_kwh.max() > day.carbon_kg_per_kwh.min()


def test_deferral_holds_within_the_deadline_and_is_deterministic() -> None:
    overrides = ["replications=1", "horizon_h=120", "jobs_sample=1"]
    first = run_scenario(load_scenario(EXAMPLE, overrides))
    again = run_scenario(load_scenario(EXAMPLE, overrides))
    assert first.runs.equals(again.runs) and first.sites.equals(again.sites)
    model = first.replications[0].model
    assert model.jobs_deferred > 0 and len(model.deferred_h) == model.jobs_deferred
    # Every arrival is accounted for: rejected, at a site (started, queued), moving its input, or still held.
    row = first.runs.to_pylist()[0]
    assert row["jobs_arrived"] == (row["jobs_rejected"] + row["jobs_started"] + row["jobs_queued_end"]
                                   + row["jobs_in_transfer_end"] + row["jobs_held_end"] + row["jobs_unmet"])
    deadline = {name: c.deadline_h for name, c in model.scenario.workload.items()}
    jobs = first.table("jobs")
    assert jobs is not None
    cls_of = dict(zip(jobs.column("job_id").to_pylist(), jobs.column("class").to_pylist(), strict=True))
    frac = model.scenario.signals.defer_max_frac  # type: ignore[union-attr]
    longest = max(d for d in deadline.values() if d is not None)
    checked = 0
    for job_id, hold in model.deferred_h.items():
        # Jobs still held or moving their input at the horizon have no jobs row: the longest deadline bounds them.
        limit = deadline[cls_of[job_id]] if job_id in cls_of else longest
        assert limit is not None and 0 < hold <= frac * limit + 1e-9
        checked += job_id in cls_of
    assert checked > 0.5 * len(model.deferred_h)
    assert first.runs.column("deferral_mean_h")[0].as_py() == pytest.approx(
        sum(model.deferred_h.values()) / model.jobs_deferred)


def test_time_blind_runs_defer_nothing() -> None:
    runs = run_scenario(load_scenario(EXAMPLE, ["replications=1", "horizon_h=72", "signals.time_aware=false",
                                                "signals.defer=false"])).runs
    assert runs.column("jobs_deferred")[0].as_py() == 0
    assert math.isnan(runs.column("deferral_mean_h")[0].as_py() or math.nan)


def test_bad_series_file_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cluster.cli import main

    series = tmp_path / "bad.csv"
    series.write_text("price_cny_per_kwh,carbon_kg_per_kwh,renewable_frac\n" + "0.3,0.5,0.1\n" * 23)
    scenario = tmp_path / "s.toml"
    scenario.write_text(EXAMPLE.read_text() + '\n[signals.sites.cl_horinger]\nseries = "bad.csv"\n')
    out = tmp_path / "out"
    argv = sys.argv
    sys.argv = ["cpnsim", "run", str(scenario), "--out", str(out)]
    try:
        status = main()
    finally:
        sys.argv = argv
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and not out.exists()
    # The series is read when the scenario loads (sim.scenario.resolve_network), before the
    # "running ..." progress line: the error is the only line; it names the file and what is wrong.
    assert len(err) == 1 and str(series) in err[0] and "wrong length: 23 rows" in err[0]


def _arrivals(overrides: list[str]) -> dict[str, np.ndarray]:
    result = run_scenario(load_scenario(EXAMPLE, ["replications=1", "horizon_h=336", "jobs_sample=1",
                                                  "signals.time_aware=false", "signals.defer=false", *overrides]))
    jobs = result.table("jobs")
    assert jobs is not None
    frame = jobs.to_pandas()
    # Inference is served at once (latency budget, no input): its arrival at the site is its arrival.
    return {name: np.sort(frame.arrival_h[frame["class"] == name].to_numpy()) for name in ("inference", "batch")}


def test_demand_profile_shapes_inference_by_local_hour_and_leaves_other_classes_alone() -> None:
    shaped = _arrivals([])
    flat = _arrivals(["signals.demand.diurnal=" + str([1.0] * 24)])
    # Other classes draw from their own streams: the same batch jobs either way.
    assert np.array_equal(shaped["batch"], flat["batch"])
    hours = np.floor(shaped["inference"]).astype(int) % 24
    night = np.isin(hours, [2, 3, 4]).sum()  # profile 0.35 + 0.3 + 0.3 = 0.95 of a mean hour's 3
    evening = np.isin(hours, [19, 20, 21]).sum()  # 1.45 + 1.55 + 1.5 = 4.5
    # Expected ratio 4.5 / 0.95 = 4.74; with ~170 night arrivals a 5-sigma band is about +-40 %.
    assert 4.74 * 0.6 < evening / night < 4.74 * 1.4
    # The weekly mean rate is kept: the count is Poisson around 3.2 x 336 = 1075 (+-5 sigma: 164).
    assert abs(len(shaped["inference"]) - 3.2 * 336) < 5 * math.sqrt(3.2 * 336)


def test_demand_profile_naming_an_unknown_class_is_one_line(tmp_path: Path) -> None:
    from topology.plumbing import ConfigError

    with pytest.raises(ConfigError, match=r"signals\.demand\.classes\[0\]: no class 'serving'"):
        run_scenario(load_scenario(EXAMPLE, ["replications=1", "horizon_h=48", 'signals.demand.classes=["serving"]']))


def test_demand_follows_each_regions_local_time() -> None:
    from sim.signals import demand_factors

    network = load_scenario(EXAMPLE).network
    region = network.regions[0].id
    diurnal = [0.0] * 24
    diurnal[20] = 1.0  # demand only at 20:00-21:00 local time
    config = SignalsConfig(demand={"diurnal": diurnal, "timezones": {region: "Asia/Karachi"}})  # UTC+5
    (factor,) = demand_factors(config, network, ["c"], "s.toml", 2025)
    assert factor is not None and factor.shape == (len(network.regions), 168)
    # Clock (Beijing, UTC+8) 23:00 is 20:00 in Karachi; other regions keep Beijing time.
    assert set(np.flatnonzero(factor[0]) % 24) == {23}
    assert set(np.flatnonzero(factor[1]) % 24) == {20}
    assert factor.mean(axis=1) == pytest.approx(np.ones(len(network.regions)))  # the weekly mean rate is kept


def test_flat_signals_conserve_energy_across_capacity_timeline_steps(tmp_path: Path) -> None:
    # Two steps inside clock hours (00:00 of 2 and 3 January are 24.0 h and 48.0 h on the 8766-h
    # calendar only to within rounding): the hourly meter must charge idle power for the GPUs in
    # force on each side of the step, as sim.energy does per interval.
    common = ["horizon_h=100.5", "warmup_h=10.25", "metric_interval_h=7.3", "start_year=2025",
              'sites.cl_wuhu.timeline=[{date="2025-01-01", gpus=3000}, {date="2025-01-02", gpus=9000},'
              ' {date="2025-01-03", gpus=5000}]']
    off = run_scenario(load_scenario(None, common))
    on = run_scenario(load_scenario(None, [*common, "signals.enabled=true",
                                           f'signals.profiles="{_flat_profiles(tmp_path)}"']))
    for name in ENERGY:
        assert np.allclose(on.sites.column(name).to_numpy(), off.sites.column(name).to_numpy(), rtol=1e-9, atol=0)
