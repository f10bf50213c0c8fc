"""Trace loaders against small files written to each public schema (tests/data/traces).

Expected values are worked out by hand from the files: arrival = submission after the
first submission, GPUs rounded up to whole GPUs, run time from the format's rule.
"""

from pathlib import Path

import numpy as np
import pytest

from topology.model import Region
from topology.plumbing import ConfigError, CpnsimError
from workloads.traces import ClassRule, TraceError, TraceOptions, jsonstream, load_trace, parse_pairs

DATA = Path(__file__).resolve().parent.parent / "data" / "traces"
CLASSES = ["training", "finetune", "batch"]  # the default scenario's classes, in order
TRAINING, FINETUNE, BATCH = 0, 1, 2
REGIONS = [
    Region(id="east", lat=31.2, lon=121.5, demand_weight=2.0),
    Region(id="north", lat=39.9, lon=116.4, demand_weight=1.0),
    Region(id="south", lat=23.1, lon=113.3, demand_weight=1.0),
]

# Helios cluster_log.csv, kept jobs in arrival order: (job_id, arrival h, GPUs, run h, class).
HELIOS = [
    (1001, 0.0, 8, 2.0, FINETUNE),
    (1010, 10 / 60, 2, 1.0, BATCH),  # logged out of order: sorts second
    (1002, 0.5, 1, 10 / 60, BATCH),  # FAILED, kept by default
    (1004, 1.25, 64, 10.0, TRAINING),  # 64 GPUs: training
    (1005, 2.0, 16, 30.0, TRAINING),  # 16 GPUs for 30 h (>= 8 GPUs, >= 24 h): training
    (1006, 2.5, 2, 0.5, BATCH),  # CANCELLED
    (1008, 3.5, 4, 1.5, BATCH),  # empty duration: end - start
    (1009, 4.0, 1, 0.0, BATCH),  # zero run time, kept
    (1011, 4.5, 2, 1.0, BATCH),  # TIMEOUT
    (1013, 5.0, 1, 0.5, BATCH),
    (1014, 5.0, 1, 0.5, BATCH),  # same submission: file order
    (1015, 6.0, 32, 2.0, FINETUNE),  # NODE_FAIL
    (1017, 7.0, 32, 6.0, FINETUNE),
    (1018, 8.0, 8, 4.0, FINETUNE),
    (1019, 9.0, 4, 0.75, BATCH),
    (1020, 10.0, 128, 48.0, TRAINING),
    (1021, 11.0, 2, 1.0, BATCH),  # SUSPENDED: a status the format does not name, kept
    (1022, 12.0, 1, 0.25, BATCH),
    (1023, 24.0, 2, 1.0, BATCH),
    (1024, 48.0, 8, 6.0, FINETUNE),
]
HELIOS_FAILED = {1002, 1009, 1011, 1015}
HELIOS_KILLED = {1006}

# PAI (times from job jK's submission at 999000 s): (job, arrival h, GPUs, traced GPUs, run h, class).
PAI = [
    ("jK", 0.0, 1, 0.25, 1000 / 3600, BATCH),  # a quarter GPU holds one whole GPU
    ("jA", 1000 / 3600, 2, 2.0, 1.0, BATCH),  # 2 instances x 100 %
    ("jB", 1100 / 3600, 1, 0.5, 0.5, BATCH),  # half a GPU
    ("jC", 1200 / 3600, 1, 1.0, 7300 / 3600, BATCH),  # CPU ps + 2 x 50 % workers; first start to last end
    ("jF", 1500 / 3600, 8, 8.0, 1000 / 3600, FINETUNE),  # Failed, kept
    ("jH", 1700 / 3600, 1, 3 * 0.33333333333, 1.0, BATCH),  # 3 x 33.333...% sums to a hair under 1 GPU
    ("jI", 1800 / 3600, 128, 128.0, 24.0, TRAINING),  # 16 instances x 800 %
    ("jL", 2000 / 3600, 1, 1.0, 0.5, BATCH),
    ("jM", 2100 / 3600, 1, 1.0, 0.0, BATCH),  # zero run time
    ("jN", 2200 / 3600, 8, 8.0, 5.0, FINETUNE),
    ("jO", 2300 / 3600, 2, 2.0, 1000 / 3600, BATCH),
    ("jP", 2400 / 3600, 4, 4.0, 1.0, BATCH),  # ps without GPUs + 4 workers
]

# Philly (times from job 9's submission at 2017-10-02 23:50): (jobid suffix, arrival h, GPUs, run h, class).
PHILLY_FIRST = [
    (9, 0.0, 1, 0.5, BATCH),
    (1, 10 / 60, 8, 2.0, FINETUNE),
    (2, 25 / 60, 4, 4.0, BATCH),  # Killed; two attempts of 1 h and 3 h: the re-queueing gap is not run time
    (5, 1.0, 1, 0.5, BATCH),  # first attempt has no start_time: left out
    (6, 70 / 60, 4, 2.5, BATCH),  # 2 GPUs x 1 h + 4 GPUs x 2 h = 10 GPU-h on 4 GPUs
    (8, 100 / 60, 16, 30.0, TRAINING),  # 2 servers x 8 GPUs
]


def _load(name, fmt, **options):
    return load_trace(DATA / name, fmt, CLASSES, REGIONS, TraceOptions(**options))


def _check(trace, expected_t, expected_gpus, expected_run_h, expected_cls, speed=1.0):
    b = trace.batch
    np.testing.assert_allclose(b.t_h, expected_t, rtol=0, atol=1e-9)
    assert b.gpus.tolist() == expected_gpus
    np.testing.assert_allclose(trace.run_h, expected_run_h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.work_gpu_h, np.array(expected_gpus) * np.array(expected_run_h) * speed, rtol=1e-12)
    assert b.cls.tolist() == expected_cls
    assert b.t_h.dtype == np.float64 and b.gpus.dtype == np.int64 and b.cls.dtype == np.int64
    assert b.origin.dtype == np.int64 and np.all(np.diff(b.t_h) >= 0)


# -- Helios ------------------------------------------------------------------------------
def test_helios_jobs_are_normalised_by_hand():
    trace = _load("helios_cluster_log.csv", "helios")
    _check(trace, [r[1] for r in HELIOS], [r[2] for r in HELIOS], [r[3] for r in HELIOS], [r[4] for r in HELIOS])
    s = trace.stats
    assert (s.records, s.jobs, s.bad_rows) == (24, 20, 0)
    assert s.dropped == {"cpu_only": 2, "no_run_time": 2}  # 1003, 1012 without GPUs; 1007, 1016 never ended
    assert s.gpu_h_simulated == pytest.approx(sum(r[2] * r[3] for r in HELIOS), rel=1e-12)
    assert s.span_h == 48.0


def test_helios_gpu_speed_scales_work_not_time():
    trace = _load("helios_cluster_log.csv", "helios", gpu_speed=2.5)
    _check(trace, [r[1] for r in HELIOS], [r[2] for r in HELIOS], [r[3] for r in HELIOS], [r[4] for r in HELIOS],
           speed=2.5)


def test_failed_and_killed_jobs_can_be_dropped():
    trace = _load("helios_cluster_log.csv", "helios", keep_failed=False)
    kept = [r for r in HELIOS if r[0] not in HELIOS_FAILED | HELIOS_KILLED]
    assert trace.batch.gpus.tolist() == [r[2] for r in kept]
    assert trace.stats.dropped == {"cpu_only": 2, "no_run_time": 2, "failed": 4, "killed": 1}
    # The time line still starts at the first submission, not the first kept one.
    np.testing.assert_allclose(trace.batch.t_h, [r[1] for r in kept], atol=1e-9)


def test_helios_malformed_row_names_file_and_line():
    path = DATA / "helios_cluster_log_bad.csv"
    with pytest.raises(TraceError) as info:
        load_trace(path, "helios", CLASSES, REGIONS)
    assert str(info.value) == f"{path}:3: gpu_num: expected a number, got 'two'"
    assert isinstance(info.value, CpnsimError)


def test_helios_bad_rows_skipped_and_counted():
    path = DATA / "helios_cluster_log_bad.csv"
    trace = load_trace(path, "helios", CLASSES, REGIONS, TraceOptions(skip_bad_rows=True))
    s = trace.stats
    assert (s.records, s.jobs, s.bad_rows) == (9, 3, 6)
    assert s.bad_row_examples == (
        f"{path}:3: gpu_num: expected a number, got 'two'",
        f"{path}:5: expected 13 fields, got 6",
        f"{path}:6: end_time: before start_time (2020-06-01 01:00:00 < 2020-06-01 02:00:00)",
    )
    assert trace.batch.gpus.tolist() == [2, 1, 4]
    np.testing.assert_allclose(trace.batch.t_h, [0.0, 20 / 60, 80 / 60])
    assert "skipped 6 malformed row(s)" in s.summary()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (7, "submit_time: expected a time YYYY-MM-DD HH:MM:SS, got 'June 1st'"),
        (8, "gpu_num: expected a whole number of GPUs, got '0.5'"),
        (9, "duration: expected a number >= 0, got '-5'"),
    ],
)
def test_helios_each_kind_of_bad_field(tmp_path, line, message):
    lines = (DATA / "helios_cluster_log_bad.csv").read_text().splitlines()
    path = tmp_path / "one_bad.csv"
    path.write_text("\n".join([lines[0], lines[1], lines[line - 1]]) + "\n")
    with pytest.raises(TraceError, match=f"^{path}:3: {message}$".replace("(", r"\(").replace(")", r"\)")):
        load_trace(path, "helios", CLASSES, REGIONS)


def test_helios_missing_column_is_fatal_even_when_skipping():
    path = DATA / "helios_no_gpu_column.csv"
    with pytest.raises(TraceError, match=r"helios_no_gpu_column.csv:1: missing column\(s\) gpu_num \(header has"):
        load_trace(path, "helios", CLASSES, REGIONS, TraceOptions(skip_bad_rows=True))


def test_helios_without_jobname_column_loads(tmp_path):
    # The HeliosData README's table has no jobname column; columns are found by name.
    lines = (DATA / "helios_cluster_log.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines[:3]]
    path = tmp_path / "cluster_log.csv"
    path.write_text("\n".join(",".join(r[:3] + r[4:]) for r in rows) + "\n")
    trace = load_trace(path, "helios", CLASSES, REGIONS)
    assert trace.batch.gpus.tolist() == [8, 1] and trace.run_h.tolist() == [2.0, 600 / 3600]


# -- PAI ---------------------------------------------------------------------------------
def test_pai_jobs_join_their_tasks_by_hand():
    trace = _load("pai", "pai")
    _check(trace, [r[1] for r in PAI], [r[2] for r in PAI], [r[4] for r in PAI], [r[5] for r in PAI])
    np.testing.assert_allclose(trace.gpus_traced, [r[3] for r in PAI], rtol=1e-9)
    s = trace.stats
    assert (s.records, s.jobs) == (16, 12)
    # jD asks for 0 % GPU; jE is Running and jJ Waiting; jG has no task rows; jZ's task has no job.
    assert s.dropped == {"cpu_only": 1, "no_run_time": 2, "no_tasks": 1}
    assert s.gpu_h_traced == pytest.approx(sum(r[3] * r[4] for r in PAI), rel=1e-9)
    assert s.gpu_h_simulated == pytest.approx(sum(r[2] * r[4] for r in PAI), rel=1e-12)
    assert s.gpu_h_simulated > s.gpu_h_traced  # fractional GPUs rounded up


def test_pai_accepts_the_job_table_path_and_a_header_row():
    by_dir = _load("pai", "pai")
    by_file = load_trace(DATA / "pai" / "pai_job_table.csv", "pai", CLASSES, REGIONS)
    assert np.array_equal(by_dir.batch.work_gpu_h, by_file.batch.work_gpu_h)
    # pai_bad/ has header rows (as pai_*.header describes); its good job jA loads.
    trace = _load("pai_bad", "pai", skip_bad_rows=True)
    assert trace.batch.gpus.tolist() == [2] and trace.run_h.tolist() == [1.0]


def test_pai_bad_rows_name_the_table_and_line():
    with pytest.raises(TraceError) as info:
        _load("pai_bad", "pai")
    tasks = DATA / "pai_bad" / "pai_task_table.csv"
    assert str(info.value) == f"{tasks}:4: plan_gpu: expected a number >= 0, got '-50.0'"
    trace = _load("pai_bad", "pai", skip_bad_rows=True)
    assert trace.stats.bad_rows == 3
    assert trace.stats.bad_row_examples[1:] == (
        f"{DATA / 'pai_bad' / 'pai_task_table.csv'}:5: expected 10 fields, got 5",
        f"{DATA / 'pai_bad' / 'pai_job_table.csv'}:3: start_time: expected a number, got 'soon'",
    )
    assert trace.stats.dropped == {"no_tasks": 1}  # jC: its only GPU task row was malformed


def test_pai_needs_the_task_table(tmp_path):
    (tmp_path / "pai_job_table.csv").write_text("j,i,u,Terminated,1.0,2.0\n")
    with pytest.raises(TraceError, match=r"pai_task_table\.csv: no such file"):
        load_trace(tmp_path, "pai", CLASSES, REGIONS)


# -- Philly ------------------------------------------------------------------------------
def _philly_expected():
    rows = list(PHILLY_FIRST)
    base = 10 / 60  # 2017-10-03 00:00 is 10 min after the first submission
    for i in range(10, 22):  # the generated one-attempt jobs: 1 h on 1 + i % 3 GPUs
        h, m = 2 + i // 4, (i * 7) % 60
        rows.append((i, base + h + m / 60, 1 + i % 3, 1.0, BATCH))
    return sorted(rows, key=lambda r: r[1])


def test_philly_jobs_and_attempts_by_hand():
    trace = _load("philly_cluster_job_log", "philly")
    rows = _philly_expected()
    _check(trace, [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows])
    s = trace.stats
    assert (s.records, s.jobs, s.bad_rows) == (21, 18, 0)
    # 3 has no attempts and 4's last attempt never ended (no run time); 7 ran on no GPUs.
    assert s.dropped == {"no_run_time": 2, "cpu_only": 1}


def test_philly_streams_across_tiny_read_chunks(monkeypatch):
    whole = _load("philly_cluster_job_log", "philly")
    monkeypatch.setattr(jsonstream, "CHUNK", 7)
    chunked = _load("philly_cluster_job_log", "philly")
    for name in ("t_h", "cls", "gpus", "work_gpu_h", "origin"):
        assert np.array_equal(getattr(whole.batch, name), getattr(chunked.batch, name))
    with pytest.raises(TraceError, match=r"philly_bad.json:3: submitted_time"):
        _load("philly_bad.json", "philly")


def test_philly_json_lines_load():
    trace = _load("philly_jobs.jsonl", "philly")
    assert trace.batch.gpus.tolist() == [2, 1] and trace.run_h.tolist() == [1.0, 0.25]
    assert trace.batch.t_h.tolist() == [0.0, 0.5]


def test_philly_bad_objects_name_the_line():
    path = DATA / "philly_bad.json"
    trace = load_trace(path, "philly", CLASSES, REGIONS, TraceOptions(skip_bad_rows=True))
    s = trace.stats
    assert (s.records, s.jobs, s.bad_rows) == (6, 2, 4)
    assert s.bad_row_examples == (
        f"{path}:3: submitted_time: missing value",
        f"{path}:4: attempts[0].detail[0].gpus: expected a list of GPUs, got 4",
        f"{path}:5: attempts[0].start_time: expected a time YYYY-MM-DD HH:MM:SS, got 'yesterday'",
    )
    assert trace.batch.gpus.tolist() == [2, 1] and trace.run_h.tolist() == [1.0, 2.0]


def test_philly_json_syntax_error_is_fatal_even_when_skipping():
    path = DATA / "philly_syntax_error.json"
    for skip in (False, True):
        with pytest.raises(TraceError, match=f"^{path}:3: invalid JSON: Expecting value$"):
            load_trace(path, "philly", CLASSES, REGIONS, TraceOptions(skip_bad_rows=skip))


@pytest.mark.parametrize("text", ['[{"a": 1}', '[{"a": 1} {"b": 2}]'])
def test_philly_broken_array_structure(tmp_path, text):
    path = tmp_path / "log.json"
    path.write_text(text)
    with pytest.raises(TraceError, match="invalid JSON"):
        load_trace(path, "philly", CLASSES, REGIONS, TraceOptions(skip_bad_rows=True))


# -- mapping -----------------------------------------------------------------------------
def test_origin_by_stable_hash_is_per_value_and_weighted():
    a = _load("helios_cluster_log.csv", "helios")
    b = _load("helios_cluster_log.csv", "helios")
    assert np.array_equal(a.batch.origin, b.batch.origin)
    vcs = [line.split(",")[2] for line in (DATA / "helios_cluster_log.csv").read_text().splitlines()[1:]]
    by_job = dict(zip([1001 + i for i in range(len(vcs))], vcs, strict=True))
    region_of = {}
    for (job, *_), origin in zip(HELIOS, a.batch.origin.tolist(), strict=True):
        assert region_of.setdefault(by_job[job], origin) == origin  # one region per vc
    # A region of weight 0 gets nothing.
    regions = [REGIONS[0].model_copy(update={"demand_weight": 0.0}), *REGIONS[1:]]
    trace = load_trace(DATA / "helios_cluster_log.csv", "helios", CLASSES, regions)
    assert 0 not in trace.batch.origin.tolist()


def test_origin_map_and_default_region():
    trace = _load("helios_cluster_log.csv", "helios", origin_map={"vcAlpha": "south"}, default_region="north")
    vc_alpha = {1001, 1006, 1008, 1013, 1014, 1017, 1018, 1022}
    assert trace.batch.origin.tolist() == [2 if r[0] in vc_alpha else 1 for r in HELIOS]
    by_user = _load("helios_cluster_log.csv", "helios", origin_column="user", origin_map={"uA01": "east"},
                    default_region="south")
    assert by_user.batch.origin.tolist()[:3] == [0, 2, 2]


def test_class_map_by_column_falls_back_to_rules():
    trace = _load("helios_cluster_log.csv", "helios", class_column="vc", class_map={"vcBeta": "training"})
    vc_beta = {1002, 1005, 1009, 1011, 1019, 1023}
    assert trace.batch.cls.tolist() == [TRAINING if r[0] in vc_beta else r[4] for r in HELIOS]


def test_rules_for_classes_the_scenario_lacks_are_skipped():
    trace = load_trace(DATA / "helios_cluster_log.csv", "helios", ["inference", "batch"], REGIONS)
    assert set(trace.batch.cls.tolist()) == {1}  # the batch rule takes every job
    trace = load_trace(DATA / "helios_cluster_log.csv", "helios", ["only"], REGIONS)
    assert set(trace.batch.cls.tolist()) == {0}  # no rule applies: the first class
    rules = (ClassRule("big", min_gpus=32), ClassRule("small"))
    trace = load_trace(DATA / "helios_cluster_log.csv", "helios", ["small", "big"], REGIONS,
                       TraceOptions(class_rules=rules))
    assert trace.batch.cls.tolist() == [1 if r[2] >= 32 else 0 for r in HELIOS]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"class_column": "vc", "class_map": {"vcA": "trainng"}},
            "class_map.vcA: no class 'trainng' (did you mean 'training'?)",
        ),
        ({"origin_map": {"vcA": "est"}}, "origin_map.vcA: no region 'est' (did you mean 'east'?)"),
        ({"default_region": "nowhere"}, "default_region: no region 'nowhere'"),
        ({"origin_column": "queue_name"}, "origin_column: no column 'queue_name'"),
    ],
)
def test_bad_options_are_config_errors(options, message):
    with pytest.raises(ConfigError) as info:
        _load("helios_cluster_log.csv", "helios", **options)
    assert message in str(info.value)


def test_option_and_format_checks():
    with pytest.raises(ConfigError, match="gpu_speed: must be a number > 0"):
        TraceOptions(gpu_speed=0)
    with pytest.raises(ConfigError, match="class_map: needs class_column"):
        TraceOptions(class_map={"a": "b"})
    with pytest.raises(ConfigError, match="unknown trace format 'slurm'"):
        load_trace(DATA / "helios_cluster_log.csv", "slurm", CLASSES, REGIONS)
    with pytest.raises(TraceError, match=r"no_such\.csv: no such file"):
        load_trace(DATA / "no_such.csv", "helios", CLASSES, REGIONS)
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_pairs(["novalue"], "--trace-origin")


def test_clip_drops_jobs_at_or_after_the_horizon():
    trace = _load("helios_cluster_log.csv", "helios").clip(24.0)
    assert trace.stats.jobs == len(trace.batch) == 18  # 1023 at exactly 24 h and 1024 at 48 h go
    assert trace.stats.dropped["beyond_horizon"] == 2
    assert trace.stats.gpu_h_simulated == pytest.approx(sum(r[2] * r[3] for r in HELIOS[:18]), rel=1e-12)
    full = _load("helios_cluster_log.csv", "helios")
    assert full.clip(100.0) is full
