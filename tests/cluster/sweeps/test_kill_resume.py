"""A sweep driver killed with SIGKILL mid-sweep resumes to the tables of a clean run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from topology.plumbing import SchemaError

pytestmark = pytest.mark.slow



def _sweep(spec: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cluster", "sweep", str(spec), "--out", str(out), "--executor", "serial",
         "--batch-size", "1", "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


def test_sigkill_then_resume_equals_a_clean_run(tmp_path, eight_scenario_spec):
    spec = tmp_path / "spec.toml"
    spec.write_text(eight_scenario_spec("kill-resume", 7))
    killed, clean = tmp_path / "killed", tmp_path / "clean"

    driver = _sweep(spec, killed)
    deadline = time.monotonic() + 120
    done: list[str] = []
    while time.monotonic() < deadline and driver.poll() is None:
        try:  # the manifest with the journal's commits folded in
            done = list(read_manifest(killed).done or ())
        except SchemaError:
            done = []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    assert driver.poll() is None, "the sweep finished before it could be killed; make the scenarios longer"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert 2 <= len(done) < 8
    partial = read_manifest(killed)  # 8 points: expanded whole before the first batch (cluster.cli.sweep)
    assert (partial.points, partial.scenarios, partial.complete) == (8, 8, False)

    # The killed driver's lock stays: reported as stale with the way to clear it, never taken over.
    refused = _sweep(spec, killed, "--resume")
    _, stderr = refused.communicate(timeout=120)
    assert refused.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert f"stale lock left by pid {driver.pid} on host" in stderr and "no longer running" in stderr, stderr
    assert f"delete {killed / 'writer.lock'} and rerun with --resume" in stderr, stderr
    (killed / "writer.lock").unlink()

    resumed = _sweep(spec, killed, "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read() if resumed.stderr else ""
    reference = _sweep(spec, clean)
    assert reference.wait(timeout=300) == 0

    manifest = json.loads((killed / "manifest.json").read_text())
    assert manifest["complete"] is True and len(manifest["done"]) == 8
    assert (manifest["points"], manifest["scenarios"], manifest["duplicates"]) == (8, 8, 0)
    for name, keys in (("runs", ["scenario_id", "replication"]),
                       ("sites", ["scenario_id", "replication", "site_id", "t_end_h"])):
        a, b = _sorted(read_table(killed, name), keys), _sorted(read_table(clean, name), keys)
        assert a.num_rows == b.num_rows
        assert a.select(sorted(a.column_names)).equals(b.select(sorted(b.column_names))), name
