"""``cpnsim run`` end to end, in subprocesses, as a user runs it."""

import json
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


def test_rerun_replaces_an_existing_dataset(run_cli, tmp_path):
    out = tmp_path / "o"
    assert run_cli("run", "--out", str(out), "--seed", "1", *SHORT).returncode == 0
    assert run_cli("run", "--out", str(out), "--seed", "2", *SHORT).returncode == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["o"]


def test_default_out_directory_is_named_after_the_scenario(run_cli, tmp_path):
    result = run_cli("run", *SHORT, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cpnsim-out" / "east-west" / "manifest.json").exists()
    assert "utilisation" in result.stdout and "cl_zhongwei" in result.stdout  # the summary tables


def test_national_run_prints_the_distance_from_published_figures(run_cli, tmp_path):
    national = run_cli("run", "--set", "network=national", *SHORT, "--out", str(tmp_path / "n"))
    assert national.returncode == 0, national.stderr
    assert "distance from published figures" in national.stdout
    assert "installed AI compute" in national.stdout and "788" in national.stdout
    assert "jobs_unmet" in national.stdout and "jobs_failed" in national.stdout
    default = run_cli("run", *SHORT, "--out", str(tmp_path / "d"))
    assert default.returncode == 0, default.stderr
    assert "distance from published figures" not in default.stdout
