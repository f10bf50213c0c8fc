"""The size check: events and memory estimated before a run, against hand counts and real runs."""

import math
import re

import pytest

from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.size import (
    BYTES_PER_ARRIVAL,
    BYTES_PER_ROW,
    EVENTS_PER_CLASS_STEP,
    EVENTS_PER_JOB,
    EVENTS_PER_ROW,
    check_size,
    estimate_size,
    memory_limit_gb,
)
from topology.plumbing import ConfigError

ONE_CLASS = [
    "workload={batch={arrival_rate_per_h=2.0, work_gpu_h={dist='exponential', mean=1.0}}}",
    "horizon_h=48",
    "metric_interval_h=24",
    "engine.arrival_step_h=12",
]


def test_estimate_matches_a_hand_count():
    loaded = load_scenario(None, ONE_CLASS)
    sites, links = len(loaded.network.sites), len(loaded.network.links)
    size = estimate_size(loaded.scenario, loaded.network)
    jobs = 2.0 * 48  # rate x horizon
    assert size.jobs == jobs
    # jobs x (arrival, finish) + 4 arrival steps x 1 class + 2 intervals x (sites + links + 1) rows
    assert size.events == jobs * EVENTS_PER_JOB + 4 * EVENTS_PER_CLASS_STEP + 2 * EVENTS_PER_ROW * (sites + links + 1)
    assert size.rows == {"sites": 2 * sites, "links": 2 * links, "adoption": 0, "jobs": 0}
    memory = 2 * sites * BYTES_PER_ROW["sites"] + 2 * links * BYTES_PER_ROW["links"] + 2.0 * 12 * BYTES_PER_ARRIVAL
    assert size.memory_gb == pytest.approx(memory / 1e9)


def test_replications_and_failures_scale_the_count():
    base = load_scenario(None, ONE_CLASS)
    one = estimate_size(base.scenario, base.network)
    three = load_scenario(None, [*ONE_CLASS, "replications=3"])
    assert estimate_size(three.scenario, three.network).events == pytest.approx(3 * one.events)
    failing = load_scenario(None, [*ONE_CLASS, "failures.gpu_failures_per_gpu_h=0.001"])
    gpus = sum(s.gpus for s in base.network.sites)
    extra = estimate_size(failing.scenario, failing.network).events - one.events
    assert extra == pytest.approx(2 * gpus * 0.001 * 48)  # every GPU busy, each failure restarts a job
    outages = load_scenario(None, [*ONE_CLASS, "failures.outage_mtbf_h=10", "failures.outage_mttr_h=2"])
    extra = estimate_size(outages.scenario, outages.network).events - one.events
    sites = outages.network.sites
    assert extra == pytest.approx(sum((2 * 48 / 12 + 2) * (1 + s.gpus) for s in sites))


def test_outages_every_few_seconds_are_refused():
    # Accepted before the size check counted the jobs an outage interrupts: 24 GB and an OOM kill.
    with pytest.raises(ConfigError, match=r"^--set: engine\.max_events: "):
        load_scenario(None, ["horizon_h=24", "failures.outage_mtbf_h=1e-6", "failures.outage_mttr_h=1e-6"])


def test_estimate_bounds_the_events_of_a_real_run():
    loaded = load_scenario(None, ["horizon_h=240"])
    size = estimate_size(loaded.scenario, loaded.network)
    runs = run_scenario(loaded).runs
    arrived, events = runs.column("jobs_arrived")[0].as_py(), runs.column("events")[0].as_py()
    assert abs(arrived - size.jobs) < 4 * math.sqrt(size.jobs)  # Poisson: the mean, within 4 sd
    assert events <= size.events <= 3 * events


def test_adoption_estimate_is_an_upper_bound_of_adoption_arrivals():
    loaded = load_scenario("examples/adoption.toml", ["horizon_h=2000", "metric_interval_h=500"])
    size = estimate_size(loaded.scenario, loaded.network)
    arrived = run_scenario(loaded).runs.column("jobs_arrived")[0].as_py()
    classes = sum(c.arrival_rate_per_h for c in loaded.scenario.workload.values()) * 2000
    assert size.jobs > classes  # adopters add jobs
    assert arrived <= size.jobs + 4 * math.sqrt(size.jobs)


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        (["workload.batch.arrival_rate_per_h=1e8"],
         r"^--set: engine\.max_events: the run would simulate about 1\.44e\+11 events \(7\.2e\+10 jobs over 720 h"),
        (["metric_interval_h=1e-6"], r"^--set: engine\.max_events: .*1\.08e\+10 output rows"),  # 7.2e8 x 15
        (["workload.batch.arrival_rate_per_h=1e8", "engine.max_events=1e12"],
         r"^--set: engine\.max_memory_gb: the run would need about 6\d\d GB .*above"),
        (["engine.max_memory_gb=1e-9"], r"^--set: engine\.max_memory_gb: .*above 1e-09 GB;"),
    ],
)
def test_runs_beyond_the_limits_are_refused_with_the_estimate(overrides, pattern):
    with pytest.raises(ConfigError, match=pattern):
        load_scenario(None, overrides)


def test_the_limit_is_overridable():
    small = [*ONE_CLASS, "engine.max_events=100"]
    with pytest.raises(ConfigError, match=r"engine\.max_events"):
        load_scenario(None, small)
    loaded = load_scenario(None, [*small[:-1], "engine.max_events=100000"])
    assert check_size(loaded.scenario, loaded.network, "x").events < 100_000


def test_a_file_over_the_limit_is_blamed_on_the_file(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text("horizon_h = 8760\n[workload.batch]\narrival_rate_per_h = 1e6\n"
                    "work_gpu_h = { dist = 'exponential', mean = 1.0 }\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"big\.toml: engine\.max_events: .*8\.76e\+09 jobs"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("overrides", "blamed"),
    [
        ([], "file"),
        (["policy=least_loaded", "seed=4", "sites.cl_zhongwei.pue=1.3", "workload.batch.scale=2"], "file"),
        (["horizon_h=8000"], "--set"),  # the key that drives the estimate
        (["replications=3"], "--set"),
        (["workload.batch.arrival_rate_per_h=2e6"], "--set"),
        (["workload.batch={arrival_rate_per_h=1e6, work_gpu_h={dist='exponential', mean=1.0}}"], "--set"),
        (["engine.max_events=1e9"], "--set"),  # the limit itself
        (["policy=least_loaded", "horizon_h=8000"], "--set"),
    ],
)
def test_the_size_error_names_set_only_when_an_override_drives_the_estimate(tmp_path, overrides, blamed):
    path = tmp_path / "big.toml"
    path.write_text("horizon_h = 8760\n[workload.batch]\narrival_rate_per_h = 1e6\n"
                    "work_gpu_h = { dist = 'exponential', mean = 1.0 }\n", encoding="utf-8")
    source = re.escape(str(path)) if blamed == "file" else "--set"
    with pytest.raises(ConfigError, match=rf"^{source}: engine\.max_events: the run would simulate"):
        load_scenario(path, overrides)


def test_the_memory_error_names_set_only_when_an_override_drives_it(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text("horizon_h = 48\n[engine]\nmax_memory_gb = 1e-9\n[workload.batch]\narrival_rate_per_h = 1.0\n"
                    "work_gpu_h = { dist = 'exponential', mean = 1.0 }\n", encoding="utf-8")
    pattern = r"^{}: engine\.max_memory_gb: .*above 1e-09 GB"
    with pytest.raises(ConfigError, match=pattern.format(re.escape(str(path)))):
        load_scenario(path, ["policy=nearest"])
    with pytest.raises(ConfigError, match=pattern.format("--set")):
        load_scenario(path, ["metric_interval_h=1"])


def test_machine_memory_is_known():
    assert 0.1 < memory_limit_gb() < 1e6
