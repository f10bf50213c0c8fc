"""Replay check: with unlimited capacity every traced job finishes at its arrival plus its run time.

The trace's arrivals replace the Poisson draws (``Model(..., arrivals=...)``); with a
million GPUs per site nothing waits, so each finish time is known by hand from the
trace file (tests/data/traces, hand values in test_traces.py).  Finish times are read
from the ``jobs`` rows (``jobs_sample = 1``).
"""

import pytest

from sim.model import Model
from sim.run import run_replication, run_scenario
from sim.scenario import load_scenario
from sim.site import GpuPool
from workloads.traces import TraceOptions, load_trace

from .test_traces import DATA, HELIOS, PAI, _philly_expected

SITES = ["cl_zhangjiakou", "cl_wuhu", "cl_shaoguan", "cl_zhongwei", "cl_guian"]  # the default network


def _unlimited(speed: float = 1.0, *extra: str):
    overrides = ["horizon_h=100", "metric_interval_h=10", "jobs_sample=1.0"]
    for site in SITES:
        overrides += [f"sites.{site}.gpus=1000000", f"sites.{site}.sku_speed={speed}"]
    loaded = load_scenario(None, [*overrides, *extra])
    assert [s.id for s in loaded.network.sites] == SITES
    return loaded


def _trace(loaded, name, fmt, **options):
    return load_trace(DATA / name, fmt, list(loaded.scenario.workload), loaded.network.regions,
                      TraceOptions(**options)).clip(loaded.scenario.horizon_h)


def _jobs(loaded, trace):
    """The ``jobs`` rows of one replication replaying ``trace``, by job id (= arrival order)."""
    model = run_replication(loaded, 0, trace.batch).model
    assert model.job_log is not None and model.jobs_rejected == 0
    cols = model.job_log.columns
    keys = ("job_id", "arrival_h", "finish_h", "wait_h", "gpus", "status")
    rows = sorted(zip(*(cols[k] for k in keys), strict=True))
    assert [r[0] for r in rows] == list(range(len(trace.batch)))
    return rows


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("helios_cluster_log.csv", "helios", [(r[1], r[2], r[3]) for r in HELIOS]),
        ("pai", "pai", [(r[1], r[2], r[4]) for r in PAI]),
        ("philly_cluster_job_log", "philly", [(r[1], r[2], r[3]) for r in _philly_expected()]),
    ],
)
def test_every_job_finishes_at_arrival_plus_run_time(name, fmt, expected):
    loaded = _unlimited()
    rows = _jobs(loaded, _trace(loaded, name, fmt))
    assert len(rows) == len(expected)
    for (_, arrival_h, finish_h, wait_h, gpus, status), (t, g, run_h) in zip(rows, expected, strict=True):
        assert status == "done" and wait_h == 0.0 and gpus == g
        assert arrival_h == pytest.approx(t, abs=1e-9)
        assert finish_h == pytest.approx(t + run_h, rel=1e-12, abs=1e-9)


def test_gpu_speed_against_site_speed():
    # Trace GPUs twice the reference speed: twice the reference work per traced hour.  On
    # sites of speed 2 a job takes its traced time; on sites of speed 1, twice as long.
    for site_speed, stretch in ((2.0, 1.0), (1.0, 2.0)):
        loaded = _unlimited(site_speed)
        rows = _jobs(loaded, _trace(loaded, "helios_cluster_log.csv", "helios", gpu_speed=2.0))
        for (_, _, finish_h, _, _, status), (_, t, _, run_h, _) in zip(rows, HELIOS, strict=True):
            if t + run_h * stretch < 100:
                assert status == "done"
                assert finish_h == pytest.approx(t + run_h * stretch, rel=1e-12, abs=1e-9)
            else:
                assert status == "running" and finish_h is None  # 1020 (48 h from 10 h) at speed 1


def test_replay_runs_row_shows_no_wait_and_all_work_done():
    loaded = _unlimited()
    trace = _trace(loaded, "helios_cluster_log.csv", "helios")
    row = run_scenario(loaded, trace.batch).runs.to_pylist()[0]
    assert row["jobs_arrived"] == row["jobs_started"] == row["jobs_done"] == len(HELIOS)
    assert row["wait_mean_h"] == 0.0 and row["wait_p95_h"] == 0.0
    assert row["work_gpu_h_done"] == pytest.approx(sum(r[2] * r[3] for r in HELIOS), rel=1e-12)
    assert row["gpu_h_busy"] == pytest.approx(sum(r[2] * r[3] for r in HELIOS), rel=1e-12)
    assert row["jobs_queued_end"] == row["jobs_running_end"] == 0


def test_lean_fifo_pool_replays_without_wait(tmp_path):
    # A workload without scheduling features runs the lean FIFO pool: replay through it too.
    scenario = tmp_path / "plain.toml"
    classes = "".join(
        f'[workload.{c}]\narrival_rate_per_h = 1.0\nwork_gpu_h = {{ dist = "constant", value = 1.0 }}\n'
        for c in ("training", "finetune", "batch")
    )
    sites = "".join(f"[sites.{site}]\ngpus = 1000000\n" for site in SITES)
    scenario.write_text(f"horizon_h = 100.0\nmetric_interval_h = 10.0\n{sites}{classes}")
    loaded = load_scenario(scenario)
    model = Model(loaded, 0, _trace(loaded, "helios_cluster_log.csv", "helios").batch)
    assert all(type(pool) is GpuPool for pool in model.pools)
    model.run()
    assert sum(p.finished for p in model.pools) == model.jobs_arrived == len(HELIOS)
    assert sum(p.done_work_gpu_h for p in model.pools) == pytest.approx(sum(r[2] * r[3] for r in HELIOS), rel=1e-12)
    assert sum(p.busy_area for p in model.pools) == pytest.approx(sum(r[2] * r[3] for r in HELIOS), rel=1e-12)
    assert sum(len(p.queue) + len(p.running) for p in model.pools) == 0
    assert model.metrics.totals.wait_sum_h == 0.0


def test_trace_beyond_the_horizon_is_not_replayed():
    loaded = load_scenario(None, ["horizon_h=24", "metric_interval_h=6"])
    trace = _trace(loaded, "helios_cluster_log.csv", "helios")
    row = run_scenario(loaded, trace.batch).runs.to_pylist()[0]
    assert row["jobs_arrived"] == 18 and trace.stats.dropped["beyond_horizon"] == 2


def test_replay_is_deterministic_and_replications_replay_the_same_jobs():
    loaded = load_scenario(None, ["horizon_h=60", "metric_interval_h=12", "replications=2"])
    trace = _trace(loaded, "philly_cluster_job_log", "philly")
    a = run_scenario(loaded, trace.batch)
    b = run_scenario(loaded, trace.batch)
    assert a.sites.equals(b.sites) and a.runs.column("jobs_arrived").to_pylist() == [18, 18]
