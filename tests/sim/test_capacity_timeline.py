"""Capacity timelines: GPUs added and retired at dates, hand-computed schedules and conservation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sim.capacity_timeline import capacity_at, capacity_steps, date_h, gpu_h_available, install
from sim.engine import Engine
from sim.metrics import MetricBuffers
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.scheduling import SchedPool
from sim.site import GpuPool
from sim.task import ClassRules
from topology.load import load_network_file
from topology.model import Site
from topology.plumbing import ConfigError, TopologyError

DAY1 = 8766.0 / 365  # 2025-01-02 00:00 on the model calendar (t = 0 is 2025-01-01)
RULES = ClassRules(level=[0], max_wait_h=[None], checkpoint_h=[None], scale=[1.0])


def _site(gpus: int, *steps: dict[str, object]) -> Site:
    return Site(id="s", lat=0, lon=0, gpus=gpus, timeline=list(steps) or None)


def _pool(kind: str, site: Site, horizon_h: float = 1e6) -> tuple[Engine, GpuPool]:
    engine = Engine()
    pool = GpuPool(0, site, engine) if kind == "fifo" else SchedPool(0, site, engine, RULES)
    install([pool], engine, 2025, horizon_h)
    return engine, pool


def _submit_at(engine: Engine, pool: GpuPool, t: float, job_id: int, gpus: int, work: float) -> None:
    engine.call_at(t, lambda _: pool.submit(job_id, gpus, work, t, 0, 0), None)


def test_calendar_matches_the_adoption_years():
    assert date_h(date(2025, 1, 1), 2025) == 0.0
    assert date_h(date(2028, 1, 1), 2025) == 3 * 8766.0
    assert date_h(date(2025, 1, 2), 2025) == DAY1


@pytest.mark.parametrize("kind", ["fifo", "sched"])
def test_added_gpu_lets_the_queued_job_start_at_once(kind):
    # 1 GPU busy 0..100 h with job 0; job 1 (1 GPU, 10 h) arrives at 1 h and queues; one GPU is
    # added on 2025-01-02 (t = DAY1 = 24.016 h): job 1 starts then and ends at DAY1 + 10.
    engine, pool = _pool(kind, _site(1, {"date": "2025-01-01", "gpus": 1}, {"date": "2025-01-02", "gpus": 2}))
    _submit_at(engine, pool, 0.0, 0, 1, 100.0)
    _submit_at(engine, pool, 1.0, 1, 1, 10.0)
    engine.run(until_h=DAY1 - 1e-9)
    assert pool.total == 1 and pool.queue_length() == 1
    engine.run(until_h=200.0)
    assert pool.waits == [0.0, DAY1 - 1.0]
    assert pool.finished == 2 and pool.total == 2 and pool.free == 2
    pool.advance(200.0)
    assert pool.busy_area == 110.0
    assert pool.capacity_gpu_h(200.0) == pytest.approx(DAY1 + 2 * (200.0 - DAY1))


@pytest.mark.parametrize("kind", ["fifo", "sched"])
def test_retirement_while_busy_drains_at_job_end(kind):
    # 2 GPUs, both busy: job 0 runs 0..100 h, job 1 runs 0..50 h.  One GPU retires at DAY1 (24 h):
    # nothing is killed, the first GPU to free up (job 1's, at 50 h) leaves, so job 2 (arrives at
    # 30 h, 1 GPU, 5 h) waits for job 0's GPU at 100 h and ends at 105 h.
    engine, pool = _pool(kind, _site(2, {"date": "2025-01-01", "gpus": 2}, {"date": "2025-01-02", "gpus": 1}))
    _submit_at(engine, pool, 0.0, 0, 1, 100.0)
    _submit_at(engine, pool, 0.0, 1, 1, 50.0)
    _submit_at(engine, pool, 30.0, 2, 1, 5.0)
    engine.run(until_h=60.0)
    assert pool.total == 1 and pool.free == 0 and pool.queue_length() == 1  # the drained GPU left at 50 h
    engine.run(until_h=110.0)
    assert pool.waits == [0.0, 0.0, 70.0]
    assert pool.finished == 3 and pool.free == 1
    pool.advance(110.0)
    assert pool.busy_area == 155.0
    # Conservation: busy GPU-h within the GPUs installed (2 until the drain at 50 h, then 1).
    assert pool.busy_area <= 2 * 50.0 + 1 * 60.0


def test_retirement_takes_free_gpus_first_and_never_starts_on_retiring_ones():
    # 3 GPUs, 1 busy 0..100 h; 2 retire at DAY1: both free ones go at once, the busy one stays.
    # A 1-GPU job arriving at 30 h must wait for the busy GPU (100 h): the site has 1 GPU.
    engine, pool = _pool("fifo", _site(3, {"date": "2025-01-01", "gpus": 3}, {"date": "2025-01-02", "gpus": 1}))
    _submit_at(engine, pool, 0.0, 0, 1, 100.0)
    _submit_at(engine, pool, 30.0, 1, 1, 1.0)
    engine.run(until_h=50.0)
    assert (pool.total, pool.free) == (1, 0)
    engine.run(until_h=200.0)
    assert pool.waits == [0.0, 70.0]


def test_gpu_h_available_integrates_the_step_function():
    site = _site(10, {"date": "2024-07-01", "gpus": 15}, {"date": "2025-01-02", "gpus": 25},
                 {"date": "2026-01-01", "gpus": 5})
    # Dated before t = 0: 15 GPUs in force from the start; 25 from DAY1; 5 from 8766 h.
    assert capacity_steps(site, 2025) == (15, [(DAY1, 25), (8766.0, 5)])
    assert [capacity_at(site, 2025, t) for t in (0.0, DAY1 - 1e-6, DAY1, 8765.0, 8766.0)] == [15, 15, 25, 25, 5]
    expected = 15 * DAY1 + 25 * (8766.0 - DAY1) + 5 * 1000.0
    assert gpu_h_available(site, 2025, 0.0, 9766.0) == pytest.approx(expected, rel=1e-15)
    # Without a calendar the timeline is not applied; before the first date the first level holds.
    assert capacity_steps(site, None) == (10, [])
    assert capacity_steps(site, 2024) == (15, [((1 + 1 / 365) * 8766.0, 25), (2 * 8766.0, 5)])


def test_no_calendar_no_change():
    engine = Engine()
    pool = GpuPool(0, _site(4, {"date": "2025-01-02", "gpus": 8}), engine)
    assert install([pool], engine, None, 1e6) == 0
    engine.run(until_h=100.0)
    assert pool.total == 4


def test_metrics_use_the_capacity_in_force():
    # 1 GPU kept busy all the time (one long job); +1 GPU at DAY1 (24.016 h).  Over [0, 48] h the
    # capacity averages (DAY1 * 1 + (48 - DAY1) * 2) / 48 GPUs; busy is 1.
    engine, pool = _pool("fifo", _site(1, {"date": "2025-01-01", "gpus": 1}, {"date": "2025-01-02", "gpus": 2}))
    metrics = MetricBuffers([pool], warmup_h=0.0)
    _submit_at(engine, pool, 0.0, 0, 1, 1000.0)
    engine.call_at(48.0, lambda _: metrics.sample(48.0), None)
    engine.call_at(72.0, lambda _: metrics.sample(72.0), None)
    engine.run(until_h=100.0)
    mean = (DAY1 + 2 * (48.0 - DAY1)) / 48.0
    assert metrics.columns["gpus_total"] == [2, 2]
    assert metrics.columns["utilisation"][0] == pytest.approx(1.0 / mean, rel=1e-12)
    assert metrics.columns["utilisation"][1] == 0.5
    # Idle power of the GPUs in force: energy = (busy 400 W + idle 80 W × (mean - 1)) × PUE 1.3 × 48 h.
    assert metrics.columns["energy_mwh"][0] == pytest.approx((400 + 80 * (mean - 1)) * 1.3 * 48 / 1e6, rel=1e-12)


def _write(tmp_path: Path, timeline: str) -> Path:
    path = tmp_path / "net.toml"
    path.write_text(f"""
[[site]]
id = "s"
lat = 0
lon = 0
gpus = 10
timeline = {timeline}

[[region]]
id = "r"
lat = 0
lon = 0

[[link]]
id = "l"
a = "s"
b = "r"
""")
    return path


@pytest.mark.parametrize(("timeline", "key", "words"), [
    ('[{date = "2026-01-01", gpus = 1}, {date = "2025-01-01", gpus = 1}]', "site[0].timeline[1].date",
     "out of order"),
    ('[{date = "2026-01-01", gpus = 1}, {date = "2026-01-01", gpus = 2}]', "site[0].timeline[1].date",
     "duplicate date"),
    ('[{date = "2026-01-01", gpus = -1}]', "site[0].timeline[0].gpus", "greater than or equal to 0"),
    ('[{date = "2026-13-01", gpus = 1}]', "site[0].timeline[0].date", "date"),
    ('[{date = "2026-01-01"}]', "site[0].timeline[0].gpus", "missing"),
])
def test_bad_timelines_are_one_line_errors_naming_file_and_key(tmp_path, timeline, key, words):
    path = _write(tmp_path, timeline)
    with pytest.raises(TopologyError) as err:
        load_network_file(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and key in message and words in message


def test_a_good_timeline_loads_and_keeps_toml_dates(tmp_path):
    network = load_network_file(_write(tmp_path, '[{date = 2026-01-01, gpus = 5, source = "estimate: test"}]'))
    step = network.sites[0].timeline[0]
    assert (str(step.date), step.gpus) == ("2026-01-01", 5)


def test_network_without_timeline_dumps_as_before():
    assert "timeline" not in Site(id="s", lat=0, lon=0, gpus=1).model_dump(mode="json")


def test_scenario_timeline_override_is_checked():
    with pytest.raises(ConfigError) as err:
        load_scenario(None, ["start_year=2025",
                             'sites.cl_wuhu.timeline=[{date="2025-06-01", gpus=1}, {date="2025-05-01", gpus=2}]'])
    message = str(err.value)
    assert "\n" not in message and "sites.cl_wuhu.timeline[1].date" in message and "out of order" in message


def test_a_gpus_override_moves_the_network_timeline(tmp_path):
    _write(tmp_path, '[{date = 2025-01-01, gpus = 2}, {date = 2026-01-01, gpus = 30}]')
    scenario = tmp_path / "s.toml"
    scenario.write_text('network = "net.toml"\nstart_year = 2025\nhorizon_h = 10\n[workload.a]\n'
                        'arrival_rate_per_h = 1\ngpus = {dist = "constant", value = 1}\n'
                        'work_gpu_h = {dist = "constant", value = 1}\n')
    moved = load_scenario(scenario, ["sites.s.gpus=15"]).network.sites[0]  # 10 -> 15: +5 at every date
    assert [step.gpus for step in moved.timeline] == [7, 35]
    with pytest.raises(ConfigError) as err:
        load_scenario(scenario, ["sites.s.gpus=5"])  # 10 -> 5: the 2025 level would be -3
    assert "sites.s.gpus" in str(err.value) and "timeline[0].gpus to -3" in str(err.value)


@pytest.mark.parametrize("policy", ["least_loaded", "edwc"])
def test_end_to_end_busy_never_exceeds_capacity_and_tables_follow_the_timeline(policy):
    loaded = load_scenario(None, [
        "horizon_h=1500", "metric_interval_h=100", "start_year=2025", "seed=5", f"policy={policy}",
        'sites.cl_guian.timeline=[{date="2025-01-01", gpus=1024}, {date="2025-01-15", gpus=2048}, '
        '{date="2025-02-10", gpus=548}]',
    ])
    result = run_scenario(loaded)
    rows = result.sites.filter(result.sites.column("site_id").to_numpy(zero_copy_only=False) == "cl_guian").to_pylist()
    t_add, t_retire = 14 / 365 * 8766.0, 40 / 365 * 8766.0
    for row in rows:
        expected = 1024 if row["t_end_h"] < t_add else 2048 if row["t_end_h"] < t_retire else 548
        assert row["gpus_total"] == expected
        assert 0.0 <= row["utilisation"] <= 1.0
    site = loaded.network.sites[[s.id for s in loaded.network.sites].index("cl_guian")]
    busy = sum(r["gpu_h_busy"] for r in rows)
    # Busy GPU-h within the capacity integral plus what may still drain (at most the retired GPUs
    # over the longest run, bounded here by the whole window after the retirement).
    available = gpu_h_available(site, 2025, 0.0, 1500.0)
    assert busy <= available + 1500 * (1500.0 - t_retire)
    assert busy > 0
    # The runs table divides by the GPU-h in force over the window: the pools' own integral,
    # checked against the closed form of every site's timeline.
    warmup = loaded.scenario.warmup_h
    in_force = sum(gpu_h_available(s, 2025, warmup, 1500.0) for s in loaded.network.sites)
    runs = result.runs.to_pylist()[0]
    assert runs["utilisation"] == pytest.approx(runs["gpu_h_busy"] / in_force, rel=1e-12)


def test_builtin_build_out_is_sourced_and_grows_qingyang():
    from topology.load import load_network

    prefixes = ("url: ", "seed ", "public knowledge", "estimate: ", "derived: ")
    network = load_network("national")
    with_timeline = {s.id: s for s in network.sites if s.timeline}
    assert {"cl_qingyang", "gpu_cm_wuhan"} <= set(with_timeline)
    for site in with_timeline.values():
        for step in site.timeline or ():
            clauses = step.source.split(" | ")
            assert clauses and all(c.startswith(prefixes) for c in clauses), (site.id, step.date)
    qingyang = with_timeline["cl_qingyang"]
    # 51,000 P (end-2024) and 100,000 P (end-2025) at 0.312 PFLOPS per A100-equivalent.
    assert capacity_steps(qingyang, 2025) == (round(51000 / 0.312), [(8766.0, round(100000 / 0.312)),
                                                                      (2 * 8766.0, round(150000 / 0.312))])
    assert capacity_steps(qingyang, None) == (qingyang.gpus, [])


@pytest.mark.parametrize(("kind", "seed"), [("fifo", 1), ("sched", 2), ("easy", 3)])
def test_random_load_conserves_gpu_hours_and_kills_nothing(kind, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    levels = [8, 16, 4, 12, 2]  # additions and retirements, one every 5 days from 2025-01-06
    steps = [{"date": f"2025-01-{6 + 5 * k:02d}", "gpus": g} for k, g in enumerate(levels)]
    site = _site(8, *steps)
    engine = Engine()
    pool = (GpuPool(0, site, engine) if kind == "fifo"
            else SchedPool(0, site, engine, RULES, easy=kind == "easy"))
    install([pool], engine, 2025, 1e6)
    max_run_h, n = 0.0, 400
    for job_id in range(n):
        t = float(rng.uniform(0, 700))
        gpus = int(rng.integers(1, 3))
        work = float(rng.exponential(20.0)) * gpus
        max_run_h = max(max_run_h, work / gpus)
        _submit_at(engine, pool, t, job_id, gpus, work)
    # No start on a retiring GPU: while busy GPUs exceed the GPUs in force, busy never grows.
    seen: list[int] = []

    def check(_: None) -> None:
        busy = pool.total - pool.free
        if seen and busy > pool.total:
            assert busy <= seen[-1]
        seen.append(busy)
        if engine.now_h < 900.0:
            engine.call_at(engine.now_h + 0.25, check, None)

    engine.call_at(0.125, check, None)
    horizon = 1e5
    engine.run(until_h=horizon)
    assert any(busy > 0 for busy in seen)
    assert pool.finished == n and pool.free == pool.total == 2  # every job ran to its end, nothing lost
    pool.advance(horizon)
    available = gpu_h_available(site, 2025, 0.0, horizon)
    retired = sum(max(0, a - b) for a, b in zip([8, *levels], levels, strict=False))
    # Busy GPU-h within the GPUs in force, plus at most the retired GPUs' drain (each ≤ the longest run).
    assert pool.busy_area <= available + retired * max_run_h
    assert pool.busy_area == pytest.approx(pool.done_gpu_h, rel=1e-12)
