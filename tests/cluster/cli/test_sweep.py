"""``cpnsim sweep`` in subprocesses: option checks (one line, exit status 2, nothing written), no
progress bar off a terminal, and Ctrl-C (SIGINT) stopping cleanly so that ``--resume`` completes
the sweep to the tables of a clean run, on the serial and the Ray executor."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from topology.plumbing import SchemaError

KEYS = {"runs": ["scenario_id", "replication"], "sites": ["scenario_id", "replication", "site_id", "t_end_h"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-retries", "-1"], "cpnsim: error: --max-retries: must be >= 0, got -1\n"),
        (["--batch-size", "0"], "cpnsim: error: --batch-size: must be >= 1, got 0\n"),
        (["--num-cpus", "0"], "cpnsim: error: --num-cpus: must be >= 1, got 0\n"),
        (["--resume", "--overwrite"], "cpnsim: error: --resume and --overwrite: choose one\n"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(run_cli, tmp_path, args, message):
    spec = Path(__file__).resolve().parents[3] / "examples" / "sweeps" / "small-grid.toml"
    result = run_cli("sweep", str(spec), "--out", str(tmp_path / "out"), *args)
    assert result.returncode == 2 and result.stderr == message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("bound", "text"), [("high", "inf"), ("low", "-inf"), ("low", "nan")])
def test_a_non_finite_axis_bound_is_one_line_and_exit_2(run_cli, tmp_path, bound, text):
    # round(inf) raised OverflowError from the integer probe and the sampler: a traceback (found by the fuzz test).
    spec = tmp_path / "spec.toml"
    base = Path(__file__).resolve().parents[3] / "examples" / "east_west_nearest.toml"
    bounds = {"low": "1", "high": "2", bound: text}
    spec.write_text(f'base = "{base}"\nreplications = 1\n[[axis]]\nkey = "sites.cl_zhongwei.gpus"\n'
                    f'method = "random"\nlow = {bounds["low"]}\nhigh = {bounds["high"]}\nsamples = 4\n')
    result = run_cli("sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "serial", "--dry-run")
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"cpnsim: error: {spec}: axis[0].{bound}: expected a finite number, got {float(text)!r}\n"
    assert not (tmp_path / "out").exists()


def test_help_lists_max_retries(run_cli):
    result = run_cli("sweep", "--help")
    assert result.returncode == 0 and "--max-retries N" in result.stdout and "never retried" in result.stdout


def test_the_cli_draws_no_bar_off_a_terminal(run_cli, tmp_path):
    spec = tmp_path / "spec.toml"
    base = Path(__file__).resolve().parents[3] / "examples" / "east_west_nearest.toml"
    spec.write_text(f'base = "{base}"\nreplications = 1\n[[axis]]\nkey = "horizon_h"\ngrid = [12.0]\n'
                    '[[axis]]\nkey = "policy"\ngrid = ["nearest", "least_loaded"]\n')
    result = run_cli("sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "serial")
    assert result.returncode == 0, result.stderr
    assert "━" not in result.stderr and "\r" not in result.stderr and "\x1b" not in result.stderr
    assert "2 scenario(s) ran, 0 failed" in result.stderr
    quiet = run_cli("sweep", str(spec), "--out", str(tmp_path / "q"), "--executor", "serial", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == f"wrote {tmp_path / 'q'}\n"


def test_dry_run_prints_the_plan_and_writes_nothing(run_cli, tmp_path):
    spec = tmp_path / "spec.toml"
    base = Path(__file__).resolve().parents[3] / "examples" / "east_west_nearest.toml"
    spec.write_text(f'base = "{base}"\nreplications = 1\n[[axis]]\nkey = "horizon_h"\ngrid = [12.0]\n'
                    '[[axis]]\nkey = "sites.cl_zhongwei.gpus"\nmethod = "random"\nlow = 1\nhigh = 2\nsamples = 6\n')
    result = run_cli("sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "serial", "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    match = re.fullmatch(r"6 point\(s\), (\d) duplicate\(s\) \(equal to an earlier point, run once\), (\d) "
                         r"scenario\(s\) x 1 replication\(s\)", lines[0])
    assert match and int(match.group(1)) + int(match.group(2)) == 6 and int(match.group(2)) <= 2, lines
    n = int(match.group(2))
    # A run sizes its batches from the 6 points (duplicates are known only as the points expand): 2 a batch.
    assert lines[1] == f"{n} to run (0 already done) in {-(-n // 2)} batch(es) of up to 2 scenario(s)"
    assert re.fullmatch(rf"estimate: one scenario took [\d.]+ CPU-s here; {n} take about \d+ CPU-s, \d+ s on "
                        r"1 CPU\(s\)", lines[2]), lines
    assert lines[3] == "dry run: nothing written" and not (tmp_path / "out").exists()
    real = run_cli("sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "serial")
    assert real.returncode == 0 and f"{6 - n} of 6 points equal an earlier point" in real.stderr, real.stderr


@pytest.fixture(scope="module")
def clean(tmp_path_factory, eight_scenario_spec) -> tuple[Path, Path]:
    """The spec file and a clean, uninterrupted run of it."""
    root = tmp_path_factory.mktemp("interrupt")
    spec = root / "spec.toml"
    spec.write_text(eight_scenario_spec("interrupt", 11), encoding="utf-8")
    run_sweep(load_sweep(spec), root / "clean", SerialExecutor())
    return spec, root / "clean"


def _done(out: Path) -> list[str]:
    try:  # the manifest with the journal's commits folded in
        return list(read_manifest(out).done or ())
    except SchemaError:
        return []


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    table = table.sort_by([(k, "ascending") for k in keys])
    return table.select(sorted(table.column_names))


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _driver_with_two_done(spec, out, executor, extra):
    """A real sweep driver (one scenario per batch), returned once >= 2 scenarios are committed or it ended."""
    driver = subprocess.Popen(
        [sys.executable, "-m", "cluster", "sweep", str(spec), "--out", str(out), "--executor", executor,
         "--batch-size", "1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell starts background jobs with SIGINT ignored, and a driver that inherits that
        # ignores Ctrl-C (as nohup'd programs should): give it the disposition an interactive
        # user's driver has, so the tests do not depend on how the suite was launched.
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and driver.poll() is None and len(_done(out)) < 2:
        time.sleep(0.05)
    return driver


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["serial", "ray"])
def test_sigint_stops_cleanly_and_resume_equals_a_clean_run(clean, tmp_path, executor):
    spec, reference = clean
    out = tmp_path / "out"
    extra = ["--num-cpus", "2"] if executor == "ray" else []
    driver = _driver_with_two_done(spec, out, executor, extra)
    assert driver.poll() is None, "the sweep ended before it could be interrupted: " + driver.stderr.read()
    driver.send_signal(signal.SIGINT)
    _, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 130, stderr

    # One line says what is kept and how to go on.
    last = stderr.strip().splitlines()[-1]
    match = re.fullmatch(r"cpnsim: interrupted: (\d) of 8 scenario\(s\) done \(0 failed this run\), kept in (.+); "
                         r"resume with: (cpnsim sweep .+ --resume.*)", last)
    assert match, stderr
    assert "Traceback" not in stderr
    # The manifest lists exactly the parts on disk, and they hold exactly the scenarios it says are done.
    manifest = read_manifest(out)
    done = manifest.done or ()
    assert int(match.group(1)) == len(done) and 2 <= len(done) < 8 and manifest.complete is False
    for name, entry in manifest.tables.items():
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(entry.parts), name
    runs = read_table(out, "runs")
    assert sorted(runs.column("scenario_id").to_pylist()) == sorted(done)

    # The printed command resumes it (cpnsim = python -m cluster here).
    words = shlex.split(match.group(3))
    assert words[:2] == ["cpnsim", "sweep"] and ("--executor" in words) == (executor == "serial")
    resumed = subprocess.run([sys.executable, "-m", "cluster", *words[1:], *extra], capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {len(done)} scenario(s) already done" in resumed.stderr
    manifest = read_manifest(out)
    assert manifest.complete is True and sorted(manifest.done or ()) == sorted(read_manifest(reference).done or ())
    for name, keys in KEYS.items():
        assert _sorted(read_table(out, name), keys).equals(_sorted(read_table(reference, name), keys)), name


@pytest.mark.parametrize(
    ("out", "env", "message"),
    [
        ("nosuch://bucket/x", {}, "cpnsim: error: --out nosuch://bucket/x: pyarrow cannot open it ("),
        ("rel-out", {"RAY_JOB_CONFIG_JSON_ENV_VAR": '{"metadata": {"job_submission_id": "raysubmit_9"}}'},
         "cpnsim: error: --out rel-out: a relative path inside Ray job raysubmit_9 would land in Ray's cached copy"),
    ],
)
def test_out_locations_that_would_lose_the_dataset_are_refused(tmp_path, out, env, message):
    spec = Path(__file__).resolve().parents[3] / "examples" / "sweeps" / "small-grid.toml"
    result = subprocess.run([sys.executable, "-m", "cluster", "sweep", str(spec), "--out", out, "--executor",
                             "serial"], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **env},
                            timeout=120)
    assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1 and list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["serial", "ray"])
def test_sigterm_prints_the_resume_line_and_exits_143(clean, tmp_path, executor):
    spec, _ = clean
    out = tmp_path / "out"
    extra = ["--num-cpus", "2"] if executor == "ray" else []
    driver = _driver_with_two_done(spec, out, executor, extra)
    assert driver.poll() is None, "the sweep ended before it could be stopped: " + driver.stderr.read()
    driver.send_signal(signal.SIGTERM)  # what `ray job stop` sends
    _, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 143, stderr
    last = stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"cpnsim: interrupted: \d of 8 scenario\(s\) done \(0 failed this run\), kept in .+; "
                        r"resume with: cpnsim sweep .+ --resume.*", last), stderr
    assert "Traceback" not in stderr and not (out / "writer.lock").exists()
    manifest = read_manifest(out)
    assert sorted(read_table(out, "runs").column("scenario_id").to_pylist()) == sorted(manifest.done or ())
