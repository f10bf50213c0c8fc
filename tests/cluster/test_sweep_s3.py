"""Sweeps to an object store: ``--out s3://bucket/x`` through pyarrow's real S3 client.

The S3 server is moto's (PyPI ``moto[server]``, :class:`moto.server.ThreadedMotoServer`),
started by this module on 127.0.0.1 with a free port; credentials and endpoint reach
pyarrow (in this process and in the drivers it starts) through the standard ``AWS_*``
variables.  Checked: a sweep's tables read back equal a local run's (cpnsim's reader,
pyarrow.dataset, polars, DuckDB over the pyarrow dataset), ``schema.json`` and the
parts' key-value metadata, a driver killed mid-sweep and resumed, and a second driver
refused with one line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

pytest.importorskip("moto.server")  # the S3 server of tests/cluster/conftest.py (s3_server)

from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.objectstore import ObjectStorage
from cluster.sweeps.store import read_table, write_table
from cluster.sweeps.writer import SweepWriter
from topology.plumbing import ConfigError, SchemaError

SMALL = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "small-grid.toml"
BUCKET = "cpnsim-test"
KEYS = {"runs": ["scenario_id", "replication"], "sites": ["scenario_id", "replication", "site_id", "t_end_h"]}


@pytest.fixture(scope="module")
def s3_env(s3_server: Any) -> dict[str, str]:
    """The ``AWS_*`` variables that reach the module's S3 server (``tests/cluster/conftest.py``)."""
    return s3_server.env


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    table = table.sort_by([(k, "ascending") for k in keys])
    return table.select(sorted(table.column_names))


def _assert_same_tables(remote: str, local: Path) -> None:
    for name, keys in KEYS.items():
        a, b = _sorted(read_table(remote, name), keys), _sorted(read_table(local, name), keys)
        assert a.num_rows == b.num_rows > 0, name
        assert a.equals(b), name


def _sweep(spec: Path, out: str, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cluster", "sweep", str(spec), "--out", out, "--executor", "serial",
         "--batch-size", "1", "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env},
    )


def test_a_sweep_to_s3_reads_back_as_a_local_run_does(s3_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs

    spec = load_sweep(SMALL)
    uri = f"s3://{BUCKET}/small"
    report = run_sweep(spec, uri, SerialExecutor())
    assert report.done == len(spec.scenarios) and report.failed == 0
    local = tmp_path / "local"
    run_sweep(spec, local, SerialExecutor())

    manifest = read_manifest(uri)
    assert manifest.complete is True and sorted(manifest.done or ()) == sorted(read_manifest(local).done or ())
    _assert_same_tables(uri, local)

    # Without cpnsim: pyarrow.dataset over the S3 prefix, polars, DuckDB (over the pyarrow dataset).
    fs, root = pafs.FileSystem.from_uri(uri)
    dataset = pads.dataset(f"{root}/runs", filesystem=fs, format="ipc")
    runs = dataset.to_table()
    assert runs.num_rows == read_table(local, "runs").num_rows
    assert dataset.schema.names == read_table(local, "runs").schema.names
    assert sorted(runs.column("scenario_id").unique().to_pylist()) == sorted(manifest.done or ())

    import duckdb

    con = duckdb.connect()
    con.register("runs_s3", dataset)
    (count,) = con.execute("SELECT count(DISTINCT scenario_id) FROM runs_s3").fetchone()  # type: ignore[misc]
    assert count == len(spec.scenarios)

    import polars as pl

    options = {"aws_endpoint_url": s3_env["AWS_ENDPOINT_URL"], "aws_access_key_id": "testing",
               "aws_secret_access_key": "testing", "aws_region": "us-east-1", "aws_allow_http": "true"}
    frame = pl.scan_ipc(f"{uri}/runs/*.arrow", storage_options=options).collect()
    assert frame.height == runs.num_rows and sorted(frame.columns) == sorted(runs.column_names)

    # schema.json beside the dataset, the parts' key-value metadata.
    document = json.loads(fs.open_input_stream(f"{root}/schema.json").read())
    assert document["scenario_ids"] == sorted(manifest.done or ())
    columns = {(c["table"], c["name"]): c for c in document["columns"]}
    assert {name for name, _ in columns} == set(manifest.tables)
    assert columns[("runs", "scenario_id")]["type"] == "string"
    part = fs.get_file_info(pafs.FileSelector(f"{root}/runs"))[0].path
    with fs.open_input_file(part) as handle:
        meta = pa.ipc.open_file(handle).schema.metadata
    assert meta[b"cpnsim.version"] and set(json.loads(meta[b"cpnsim.scenario_ids"])) <= set(manifest.done or ())

    # A table written beside it (as `cpnsim analyze` does) is uploaded, not put in a local folder "s3:".
    extra = write_table(pa.table({"x": [1.5]}), Path(f"{uri}/extra.arrow"))
    assert not Path("s3:").exists() and str(extra) == f"s3:/{BUCKET}/small/extra.arrow"
    with fs.open_input_file(f"{root}/extra.arrow") as handle:
        assert pa.ipc.open_file(handle).read_all().column("x").to_pylist() == [1.5]

    # A second writer is refused while the first holds the lock; nothing is written by it.
    with SweepWriter(ObjectStorage(f"s3://{BUCKET}/held"), {"kind": "sweep"}):
        second = _sweep(SMALL, f"s3://{BUCKET}/held", s3_env)
        _, stderr = second.communicate(timeout=120)
    assert second.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith(f"cpnsim: error: --out s3://{BUCKET}/held: another sweep is writing to it: pid "), stderr
    assert not ObjectStorage(f"s3://{BUCKET}/held").exists()  # the first released its lock; the second wrote nothing


def test_an_object_store_lock_is_confirmed_by_reading_it_back(s3_env):
    store = ObjectStorage(f"s3://{BUCKET}/race")
    first = store.take_lock()
    # Another driver overwrites the lock object (the race the module documents): the first
    # notices at its next confirmation and stops, and does not delete the other's lock.
    from cluster.sweeps.lock import LockHolder

    other = LockHolder(writer="0badc0de", host="elsewhere", pid=1, ray_job_id=None, started_utc="2026-01-01T00:00:00")
    store.put_lock(other)
    with pytest.raises(ConfigError, match="another sweep took the lock"):
        first.confirm()
    first.release()
    assert store.holder() == other
    with pytest.raises(ConfigError, match="another sweep is writing to it: pid 1 on host elsewhere"):
        store.take_lock()
    store.delete_lock()


def test_a_uri_pyarrow_cannot_open_and_an_absent_dataset_are_one_line(s3_env):
    with pytest.raises(ConfigError, match=r"^--out nosuch://b/x: pyarrow cannot open it \("):
        run_sweep(load_sweep(SMALL), "nosuch://b/x", SerialExecutor())
    with pytest.raises(SchemaError, match=rf"^s3://{BUCKET}/absent: not a cpnsim dataset \(no manifest.json\)$"):
        read_manifest(Path(f"s3://{BUCKET}/absent"))  # as argparse hands it over: "//" collapsed


@pytest.mark.slow
def test_a_driver_killed_mid_sweep_resumes_to_a_local_serial_run(s3_env, tmp_path, eight_scenario_spec):
    spec = tmp_path / "spec.toml"
    spec.write_text(eight_scenario_spec("s3-kill-resume", 11))
    uri = f"s3://{BUCKET}/killed"

    driver = _sweep(spec, uri, s3_env)
    deadline, done = time.monotonic() + 120, []
    while time.monotonic() < deadline and driver.poll() is None:
        try:
            done = list(read_manifest(uri).done or ())
        except SchemaError:
            done = []
        if len(done) >= 2:
            break
        time.sleep(0.1)
    assert driver.poll() is None, "the sweep finished before it could be killed: " + driver.stderr.read()
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert 2 <= len(done) < 8

    refused = _sweep(spec, uri, s3_env, "--resume")
    _, stderr = refused.communicate(timeout=120)
    assert refused.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert f"stale lock left by pid {driver.pid} on host" in stderr and f"delete {uri}/writer.lock" in stderr, stderr
    ObjectStorage(uri).delete_lock()

    resumed = _sweep(spec, uri, s3_env, "--resume")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    local = tmp_path / "local"
    reference = _sweep(spec, str(local), s3_env)
    assert reference.wait(timeout=300) == 0

    manifest = read_manifest(uri)
    assert manifest.complete is True and len(manifest.done or ()) == 8
    _assert_same_tables(uri, local)
    store = ObjectStorage(uri)
    listed = {(name, part) for name, entry in manifest.tables.items() for part in entry.parts}
    assert set(store.part_files()) == listed  # the killed driver's unlisted parts were removed


def test_two_commits_with_one_number_are_reported_not_folded(s3_env):
    # What two drivers that both passed the lock check would leave: the reader refuses to guess.
    store = ObjectStorage(f"s3://{BUCKET}/twice")
    for writer in ("aaaa0001", "bbbb0002"):
        store.put_record(f"00000-{writer}.json", {"commit": 0, "writer": writer, "parts": {}, "done": [writer],
                                                  "failed": []})
    with pytest.raises(SchemaError, match=r"journal: commit 1 is missing or written twice \(00000-bbbb0002.json\)"):
        store.read_journal()
    store.clear()
