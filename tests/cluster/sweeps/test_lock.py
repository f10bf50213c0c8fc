"""One writer per dataset: the lock file, stale locks, and which orphans a resumed writer removes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa
import pytest

from cluster.sweeps.journal import JOURNAL, read_journal
from cluster.sweeps.lock import LOCK, DatasetLock, LockHolder, ray_job_id
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import check_writable, read_table
from cluster.sweeps.writer import SweepWriter
from topology.plumbing import ConfigError


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_lock(out: Path, pid: int, host: str | None = None, writer: str = "deadbeef") -> None:
    out.mkdir(parents=True, exist_ok=True)
    holder = LockHolder(writer=writer, host=host or socket.gethostname(), pid=pid, ray_job_id="raysubmit_x",
                        started_utc="2026-12-02T10:00:00+00:00")
    (out / LOCK).write_text(json.dumps(asdict(holder)))


def test_the_lock_is_exclusive_and_names_its_holder(tmp_path):
    out = tmp_path / "d"
    first = DatasetLock(out)
    record = json.loads((out / LOCK).read_text())
    assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
    assert set(record) == {"writer", "host", "pid", "ray_job_id", "started_utc"}
    with pytest.raises(ConfigError, match=rf"another sweep is writing to it: pid {os.getpid()} on host "):
        DatasetLock(out)
    with pytest.raises(ConfigError, match="another sweep is writing"):
        check_writable(out)  # what the CLI checks before it simulates anything
    first.release()
    assert not out.exists()  # the lock made the directory and nothing was written: gone again
    DatasetLock(out).release()


def test_a_stale_lock_is_reported_not_stolen(tmp_path):
    out = tmp_path / "d"
    pid = _dead_pid()
    _write_lock(out, pid)
    lock = re.escape(str(out / LOCK))
    with pytest.raises(ConfigError, match=rf"stale lock left by pid {pid} on host .* \(Ray job raysubmit_x\) since "
                                          rf".*no longer running; .*delete {lock} and rerun with --resume"):
        SweepWriter(out, {"kind": "sweep", "spec": {}}, resume=True)
    assert (out / LOCK).exists()  # left in place for a human to judge


def test_a_lock_from_another_host_is_never_called_stale(tmp_path):
    out = tmp_path / "d"
    _write_lock(out, _dead_pid(), host="some-other-host")
    with pytest.raises(ConfigError, match=r"another sweep is writing to it: pid .* on host some-other-host"):
        DatasetLock(out)


def test_the_ray_job_id_comes_from_the_job_config(monkeypatch):
    monkeypatch.delenv("RAY_JOB_ID", raising=False)
    monkeypatch.delenv("RAY_JOB_CONFIG_JSON_ENV_VAR", raising=False)
    assert ray_job_id() is None
    monkeypatch.setenv("RAY_JOB_CONFIG_JSON_ENV_VAR", json.dumps({"metadata": {"job_submission_id": "raysubmit_7"}}))
    assert ray_job_id() == "raysubmit_7"


def _runs(ids: list[str]) -> dict[str, pa.Table]:
    return {"runs": pa.table({"scenario_id": ids})}


def test_parts_are_named_per_writer_and_committed_by_one_journal_line(tmp_path):
    out = tmp_path / "d"
    with SweepWriter(out, {"kind": "sweep", "spec": {}}) as writer:
        writer.add(_runs(["a"]), ["a"], [])
        writer.add(_runs(["b", "c"]), ["b"], ["c"])
        assert (out / LOCK).exists()
        me = writer.holder.writer
    assert not (out / LOCK).exists()
    records = read_journal(out)
    assert list(records.writers) == [me]
    assert [c.parts["runs"] for c in records.commits] == [(f"part-00000-{me}.arrow", 1),
                                                          (f"part-00001-{me}.arrow", 2)]
    manifest = read_manifest(out)  # not finished: the journal is folded into what readers see
    assert manifest.complete is False and manifest.done == ("a", "b") and manifest.failed == ("c",)
    assert manifest.tables["runs"].rows == 3 and read_table(out, "runs").num_rows == 3


def test_resume_removes_only_orphans_whose_writer_is_gone(tmp_path):
    out = tmp_path / "d"
    with SweepWriter(out, {"kind": "sweep", "spec": {}}) as writer:
        writer.add(_runs(["a"]), ["a"], [])
    folder = out / "runs"
    # A dead writer's part that never got its journal line, and a torn journal line.
    dead = LockHolder("0badf00d", socket.gethostname(), _dead_pid(), None, "2026-12-02T10:00:00+00:00")
    live = LockHolder("1234abcd", socket.gethostname(), os.getpid(), None, "2026-12-02T10:00:00+00:00")
    with (out / JOURNAL).open("a") as journal:
        for holder in (dead, live):
            journal.write(json.dumps({"writer": asdict(holder)}) + "\n")
        journal.write('{"commit": 1, "writer": "0badf00d", "parts": {"ru')  # killed mid-line
    (folder / "part-00001-0badf00d.arrow").write_bytes(b"half")
    (folder / "part-00001-1234abcd.arrow").write_bytes(b"a live writer whose lock was removed by hand")
    (folder / "part-00007.arrow").write_bytes(b"unknown writer")
    with SweepWriter(out, {"kind": "sweep", "spec": {}}, resume=True) as writer:
        assert writer.done_ids == {"a"}
        writer.add(_runs(["b"]), ["b"], [])
        writer.finish()
    names = sorted(p.name for p in folder.iterdir())
    assert "part-00001-1234abcd.arrow" in names and "part-00001-0badf00d.arrow" not in names
    assert "part-00007.arrow" not in names
    manifest = read_manifest(out)
    assert manifest.complete is True and manifest.done == ("a", "b") and manifest.journal_commits == 2
    assert read_table(out, "runs").column("scenario_id").to_pylist() == ["a", "b"]
    text = (out / JOURNAL).read_text()
    assert text.endswith("\n") and all(json.loads(line) for line in text.splitlines())  # torn tail truncated


@pytest.mark.slow
def test_a_second_driver_on_the_same_out_is_refused(tmp_path, eight_scenario_spec):
    spec = tmp_path / "spec.toml"
    spec.write_text(eight_scenario_spec("two-drivers", 3))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "cluster", "sweep", str(spec), "--out", str(out), "--executor", "serial",
               "--batch-size", "1", "--quiet"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / JOURNAL).exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.poll() is None, "the first driver ended before the second started"
        for extra in (["--resume"], []):
            second = subprocess.run([*command, *extra], capture_output=True, text=True, timeout=120)
            assert second.returncode == 2, second.stderr
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and f"another sweep is writing to it: pid {first.pid} on host" in lines[0], lines
        assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    runs = read_table(out, "runs")
    ids = runs.column("scenario_id").to_pylist()
    assert len(ids) == len(set(ids)) == 8  # every scenario once: the second driver wrote nothing
    assert not (out / LOCK).exists()
