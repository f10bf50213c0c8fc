"""``cpnsim run --trace`` end to end, in subprocesses, as a user runs it."""

import json
from pathlib import Path

import pyarrow.dataset as ds

DATA = Path(__file__).resolve().parents[2] / "data" / "traces"
HELIOS = DATA / "helios_cluster_log.csv"
SHORT = ["--set", "horizon_h=30", "--set", "metric_interval_h=6"]


def test_run_replays_a_trace_and_records_it_in_the_manifest(run_cli, tmp_path):
    out = tmp_path / "o"
    result = run_cli("run", "--trace", str(HELIOS), "--trace-format", "helios", "--out", str(out), *SHORT)
    assert result.returncode == 0, result.stderr
    assert "24 job record(s), 19 replayed" in result.stderr
    assert "1 job(s) submitted at or after horizon_h = 30 h dropped" in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    trace = manifest["trace"]
    assert trace["format"] == "helios" and trace["source"] == str(HELIOS)
    assert (trace["records"], trace["jobs"], trace["bad_rows"]) == (24, 19, 0)
    assert trace["dropped"] == {"beyond_horizon": 1, "cpu_only": 2, "no_run_time": 2}
    runs = ds.dataset(out / "runs", format="ipc").to_table().to_pylist()
    assert runs[0]["jobs_arrived"] == 19


def test_bad_row_is_one_line_exit_2_and_no_output(run_cli, tmp_path):
    out = tmp_path / "o"
    bad = DATA / "helios_cluster_log_bad.csv"
    result = run_cli("run", "--trace", str(bad), "--trace-format", "helios", "--out", str(out), *SHORT)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"cpnsim: error: {bad}:3: gpu_num: expected a number, got 'two'"
    assert not out.exists()

    result = run_cli("run", "--trace", str(bad), "--trace-format", "helios", "--skip-bad-rows", "--out", str(out),
                     *SHORT)
    assert result.returncode == 0, result.stderr
    assert "skipped 6 malformed row(s)" in result.stderr
    assert json.loads((out / "manifest.json").read_text())["trace"]["bad_rows"] == 6


def test_trace_options_from_the_command_line(run_cli, tmp_path):
    out = tmp_path / "o"
    result = run_cli(
        "run", "--trace", str(DATA / "pai"), "--trace-format", "pai", "--trace-drop-failed",
        "--trace-origin", "*=dr_cn_bth", "--trace-class-column", "user", "--trace-class", "user01=training",
        "--out", str(out), "--quiet", *SHORT,
    )
    assert result.returncode == 0, result.stderr
    trace = json.loads((out / "manifest.json").read_text())["trace"]
    assert trace["jobs"] == 10 and trace["dropped"]["failed"] == 2  # jF and jO


def test_trace_flag_errors(run_cli, tmp_path):
    out = str(tmp_path / "o")
    cases = [
        (["--trace", str(HELIOS)], "--trace-format: required with --trace"),
        (["--skip-bad-rows"], "need --trace FILE"),
        (["--trace", str(HELIOS), "--trace-format", "helios", "--trace-origin", "vcA=mars"],
         "trace: origin_map.vcA: no region 'mars'"),
        (["--trace", str(DATA / "none.csv"), "--trace-format", "helios"], "none.csv: no such file"),
    ]
    for args, message in cases:
        result = run_cli("run", *args, "--out", out, *SHORT)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
    result = run_cli("run", "--trace", str(HELIOS), "--trace-format", "slurm", "--out", out)
    assert result.returncode == 2 and "invalid choice: 'slurm'" in result.stderr
