"""``cpnsim run`` end to end, in subprocesses, as a user runs it."""

import json
import os
import re
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from sim.tables import SCHEMA_VERSION, TABLES

SHORT = ["--set", "horizon_h=96", "--set", "metric_interval_h=12"]


def _table(out: Path, name: str, fmt: str = "ipc") -> pa.Table:
    return ds.dataset(out / name, format=fmt).to_table()


def test_run_twice_with_the_same_seed_gives_identical_tables(run_cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        result = run_cli("run", "--out", str(out), "--seed", "7", *SHORT)
        assert result.returncode == 0, result.stderr
        assert f"wrote {out}" in result.stdout
    for name in ("runs", "sites"):
        assert _table(a, name).equals(_table(b, name), check_metadata=True)
    # ... and the seed matters.
    c = tmp_path / "c"
    assert run_cli("run", "--out", str(c), "--seed", "8", *SHORT).returncode == 0
    assert not _table(a, "sites").equals(_table(c, "sites"))


def test_dataset_reads_back_with_every_library(run_cli, tmp_path):
    out = tmp_path / "o"
    result = run_cli("run", "--out", str(out), "--set", "replications=2", *SHORT)
    assert result.returncode == 0, result.stderr

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["cpnsim"]["schema_version"] == SCHEMA_VERSION
    assert manifest["scenario"]["horizon_h"] == 96 and manifest["replications"] == 2
    assert manifest["tables"]["runs"]["rows"] == 2
    assert read_manifest(out).scenario_id == manifest["scenario_id"]

    runs = _table(out, "runs")
    assert runs.schema.metadata[b"cpnsim.schema_version"] == SCHEMA_VERSION.encode()
    assert runs.schema.field("wait_mean_h").metadata[b"unit"] == b"h"
    for column in TABLES["runs"]:
        assert column[0] in runs.column_names
    assert runs.num_rows == 2 and set(runs.column("replication").to_pylist()) == {0, 1}

    sites = pd.DataFrame(_table(out, "sites").to_pandas())
    n_sites = 5
    assert len(sites) == 2 * n_sites * (96 // 12)
    assert sites["utilisation"].between(0, 1).all()

    polars_sites = pl.read_ipc(str(out / "sites" / "part-00000.arrow"))
    assert polars_sites.height == len(sites)
    assert polars_sites["jobs_started"].sum() == sites["jobs_started"].sum()

    sites_ds = ds.dataset(out / "sites", format="ipc")  # noqa: F841 - DuckDB finds it by name
    started = duckdb.sql("SELECT sum(jobs_started) FROM sites_ds").fetchall()[0][0]
    assert started == runs.column("jobs_started").to_pylist()[0] + runs.column("jobs_started").to_pylist()[1]
    assert read_table(out, "sites").num_rows == len(sites)


def test_parquet_format(run_cli, tmp_path):
    out = tmp_path / "p"
    assert run_cli("run", "--out", str(out), "--format", "parquet", *SHORT).returncode == 0
    assert (out / "runs" / "part-00000.parquet").exists()
    assert pl.read_parquet(str(out / "sites" / "*.parquet")).height == 5 * 8
    assert read_table(out, "runs").num_rows == 1


@pytest.mark.parametrize(
    ("args", "files", "pattern"),
    [
        (["--set", "horizn_h=10"], {}, r"--set: horizn_h: unknown key \(did you mean 'horizon_h'\?\)"),
        (["--set", "horizon_h=-1"], {}, r"--set: horizon_h: Input should be greater than 0"),
        (["--set", "sites.cl_guian.gpus=-8"], {}, r"--set: sites\.cl_guian\.gpus: Input should be greater than 0"),
        (["bad.toml"], {"bad.toml": "name = [\n"}, r"bad\.toml: malformed TOML"),
        (["typo.toml"], {"typo.toml": "horizon = 5\n[workload.a]\narrival_rate_per_h = 1\n"
                                      "work_gpu_h = {dist='constant', value=1}\n"},
         r"typo\.toml: horizon: unknown key \(did you mean 'horizon_h'\?\)"),
        (["net.toml"], {"net.toml": "network = 'n.toml'\n[workload.a]\narrival_rate_per_h = 1\n"
                                    "work_gpu_h = {dist='constant', value=1}\n",
                        "n.toml": "[[site]]\nid='s'\nlat=0\nlon=0\ngpus=4\n[[region]]\nid='r'\nlat=0\nlon=0\n"
                                  "[[link]]\nid='l'\na='r'\nb='t'\n"},
         r"net\.toml: network: .*n\.toml: link\[0\]\.b: 't' is not a site or region id"),
        (["neg.toml"], {"neg.toml": "network = 'n.toml'\n[workload.a]\narrival_rate_per_h = 1\n"
                                    "work_gpu_h = {dist='constant', value=1}\n",
                        "n.toml": "[[site]]\nid='s'\nlat=0\nlon=0\ngpus=-4\n[[region]]\nid='r'\nlat=0\nlon=0\n"},
         r"n\.toml: site\[0\]\.gpus: Input should be greater than 0, got -4"),
        (["missing.toml"], {}, r"missing\.toml: file not found"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(run_cli, tmp_path, args, files, pattern):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = run_cli("run", *args, "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cpnsim: error: ")
    import re

    assert re.search(pattern, lines[0]), lines[0]
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)  # no temporary directories either


def test_refuses_to_replace_a_directory_that_is_not_a_dataset(run_cli, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = run_cli("run", "--out", str(out), *SHORT)
    assert result.returncode == 2 and "not a cpnsim dataset" in result.stderr
    assert (out / "notes.txt").read_text() == "keep me"


def test_rerun_refuses_an_existing_dataset_unless_overwrite(run_cli, tmp_path):
    out = tmp_path / "o"
    assert run_cli("run", "--out", str(out), "--seed", "1", *SHORT).returncode == 0
    refused = run_cli("run", "--out", str(out), "--seed", "2", *SHORT)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"cpnsim: error: --out {out}: already holds a cpnsim dataset; pass --overwrite to replace it"]
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1  # untouched
    assert run_cli("run", "--out", str(out), "--seed", "2", "--overwrite", *SHORT).returncode == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["o"]


def test_summary_job_counts_add_up_to_arrived(run_cli, tmp_path):
    import re

    # Short enough that jobs are still running and queued at the horizon.
    result = run_cli("run", "examples/east_west_nearest.toml", "--set", "horizon_h=300", "--set",
                     "metric_interval_h=50", "--out", str(tmp_path / "o"), cwd=Path(__file__).parents[3])
    assert result.returncode == 0, result.stderr
    printed = {m.group(1): int(m.group(2).replace(",", ""))
               for m in re.finditer(r"│\s+(jobs_\w+)\s+│ jobs\s+│\s+([\d,]+) │", result.stdout)}
    outcomes = ["jobs_done", "jobs_unmet", "jobs_failed", "jobs_rejected", "jobs_running_end", "jobs_queued_end",
                "jobs_in_transfer_end"]
    assert set(outcomes) <= set(printed), result.stdout
    assert printed["jobs_running_end"] > 0 and printed["jobs_queued_end"] > 0  # the terms the sum needs
    assert printed["jobs_arrived"] == sum(printed[k] for k in outcomes)
    line = next(x for x in result.stdout.splitlines() if x.startswith("jobs: "))  # one line, not wrapped
    assert line.startswith(f"jobs: {printed['jobs_arrived']:,} arrived = {printed['jobs_done']:,} done + ")
    assert "off by" not in line and line.endswith(" in transfer")
    assert re.search(r"│ utilisation\s+│ %\s+│\s+\d+\.\d+ │", result.stdout)  # percent, as in the report
    header = result.stderr.splitlines()[0]
    assert header.startswith("running ") and header.endswith("seed 1")  # not wrapped off a terminal


def test_tables_carry_version_and_scenario_id_in_file_metadata(run_cli, tmp_path):
    out = tmp_path / "o"
    assert run_cli("run", "--out", str(out), "--format", "parquet", *SHORT).returncode == 0
    scenario_id = json.loads((out / "manifest.json").read_text())["scenario_id"]
    kv = dict(duckdb.sql(f"SELECT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata('{out}/runs/*.parquet')")
              .fetchall())
    assert kv["cpnsim.scenario_id"] == scenario_id
    from cluster.version import package_version

    assert kv["cpnsim.version"] == package_version()


def test_default_out_directory_is_named_after_the_scenario(run_cli, tmp_path):
    result = run_cli("run", *SHORT, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cpnsim-out" / "east-west" / "manifest.json").exists()
    assert "utilisation" in result.stdout and "cl_zhongwei" in result.stdout  # the summary tables
    # The default folder is scratch: `make run` twice replaces it without --overwrite.
    again = run_cli("run", *SHORT, "--seed", "5", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "cpnsim-out" / "east-west" / "manifest.json").read_text())["seed"] == 5


def test_national_run_writes_and_prints_the_calibration_table(run_cli, tmp_path):
    national = run_cli("run", "--set", "network=national", *SHORT, "--out", str(tmp_path / "n"))
    assert national.returncode == 0, national.stderr
    assert "calibration: model vs published" in national.stdout
    assert "installed AI compute" in national.stdout and "788" in national.stdout
    assert "jobs_unmet" in national.stdout and "jobs_failed" in national.stdout
    assert (tmp_path / "n" / "calibration").is_dir()
    default = run_cli("run", *SHORT, "--out", str(tmp_path / "d"))
    assert default.returncode == 0, default.stderr
    assert "calibration: model vs published" not in default.stdout
    assert not (tmp_path / "d" / "calibration").exists()


def _run_in_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``python -m cluster ARGS`` in a pseudo-terminal; its exit status and everything it drew."""
    import os
    import pty
    import sys

    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout and stderr are the terminal
        os.chdir(cwd)
        os.execv(sys.executable, [sys.executable, "-m", "cluster", *args])
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace")


def test_progress_in_simulated_time_on_a_terminal_only_and_tables_unchanged(run_cli, tmp_path):
    long = ["--set", "horizon_h=4000", "--set", "metric_interval_h=500", "--set", "replications=2", "--seed", "3"]
    code, drawn = _run_in_terminal(["run", "--out", str(tmp_path / "tty"), *long], Path.cwd())
    assert code == 0, drawn
    assert re.search(r"simulating, replication [12]/2 .*[\d,]+ / 4,000 h simulated", drawn), drawn[-2000:]
    plain = run_cli("run", "--out", str(tmp_path / "plain"), *long)
    assert plain.returncode == 0 and "h simulated" not in plain.stderr + plain.stdout  # off a terminal: silent
    code, drawn = _run_in_terminal(["run", "--quiet", "--out", str(tmp_path / "quiet"), *long], Path.cwd())
    assert code == 0 and "h simulated" not in drawn  # --quiet: silent
    for name in ("runs", "sites", "links"):  # the bar reads the clock, it schedules nothing
        assert _table(tmp_path / "tty", name).equals(_table(tmp_path / "plain", name), check_metadata=True)


def test_run_progress_counts_simulated_hours_over_replications():
    from types import SimpleNamespace

    from rich.console import Console

    from cluster.cli.run_progress import RunProgress

    with RunProgress(Console(file=open(os.devnull, "w"), force_terminal=True), 100.0, 3, enabled=True) as bar:
        bar.watch(1, SimpleNamespace(now_h=40.0))
        bar._update()
        task = bar._progress.tasks[0]
        assert task.completed == 140.0 and task.total == 300.0 and task.fields["done_h"] == 40.0
        bar.watch(2, SimpleNamespace(now_h=1e9))  # shown capped at the horizon
        bar._update()
        assert task.completed == 300.0
    assert RunProgress(Console(), 1.0, 1, enabled=False).__enter__() is not None
