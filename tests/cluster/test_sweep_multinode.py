"""A sweep on a two-node Ray cluster on 127.0.0.1, the second node killed mid-sweep (see ../shared/RAY.md).

The head and the second node are separate ``ray start --block`` processes with explicit
ports, short temp dirs and token auth, stopped by their own pids (never ``ray stop``).
Every listener stays on loopback (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``); that switch
also makes ``ray start --address`` refuse to add a node ("Multi-node Ray clusters are not
supported on Windows and OSX"), so the second node is started by a test-only launcher
that answers that one check in ``ray.scripts.scripts.start`` with true and every other
read of the constant (the bind address) with false.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pytest

from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from topology.plumbing import SchemaError

REPO = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))

pytestmark = pytest.mark.slow

# Runs `ray start ...` with the multi-node refusal lifted for that one check only.
LAUNCHER = """
import sys, types
import ray._private.ray_constants as constants

class _OneCheck(types.ModuleType):
    @property
    def ENABLE_RAY_CLUSTER(self):
        caller = sys._getframe(1).f_code
        return caller.co_name == "start" and caller.co_filename.endswith("scripts/scripts.py")

constants.__class__ = _OneCheck
from ray.scripts.scripts import main
sys.argv = ["ray", *sys.argv[1:]]
main()
"""

SPEC = """
seed = 5
replications = 1
[base]
name = "multinode"
horizon_h = 4000.0
metric_interval_h = 500.0
[base.workload.batch]
arrival_rate_per_h = 60.0
gpus = { dist = "choice", values = [1, 2, 4] }
work_gpu_h = { dist = "exponential", mean = 30.0 }
[[axis]]
key = "sites.cl_zhongwei.gpus"
grid = [256, 384, 512, 640, 768, 896, 1024, 1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048, 2176]
"""

KEYS = {"runs": ["scenario_id", "replication"], "sites": ["scenario_id", "replication", "site_id", "t_end_h"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node_ports() -> list[str]:
    return [f"--dashboard-agent-listen-port={_free_port()}", f"--metrics-export-port={_free_port()}"]


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)  # this pid only
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    table = table.sort_by([(k, "ascending") for k in keys])
    return table.select(sorted(table.column_names))


def test_a_sweep_survives_a_lost_node_and_equals_a_serial_run(tmp_path, wait_for_dashboard):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    head_dir = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # short: Unix socket paths are limited
    node_dir = tempfile.mkdtemp(prefix="rn", dir="/tmp")
    gcs, dashboard = _free_port(), _free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "AUTOSCALER_METRIC_PORT": str(_free_port()),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    head_log = open(Path(head_dir) / "out.log", "w")  # noqa: SIM115 - closed below
    node_log = open(Path(node_dir) / "out.log", "w")  # noqa: SIM115 - closed below
    head = subprocess.Popen(
        [RAY, "start", "--head", "--block", f"--port={gcs}", "--dashboard-host=127.0.0.1",
         f"--dashboard-port={dashboard}", f"--ray-client-server-port={_free_port()}", *_node_ports(),
         "--num-cpus=1", "--disable-usage-stats", f"--temp-dir={head_dir}"],
        env={**env, "DASHBOARD_METRIC_PORT": str(_free_port())}, stdout=head_log, stderr=subprocess.STDOUT)
    node: subprocess.Popen[bytes] | None = None
    job_id = None
    address = f"http://127.0.0.1:{dashboard}"
    try:
        head_log.flush()
        wait_for_dashboard(address, head, Path(head_dir) / "out.log")
        node = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "start", "--block", f"--address=127.0.0.1:{gcs}", *_node_ports(),
             "--num-cpus=1", "--disable-usage-stats", f"--temp-dir={node_dir}"],
            env={**env, "DASHBOARD_METRIC_PORT": str(_free_port())}, stdout=node_log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            status = subprocess.run([RAY, "status", "--address", f"127.0.0.1:{gcs}"], env=env, capture_output=True,
                                    text=True, timeout=60)
            if len(re.findall(r"^\s*1 node_", status.stdout, re.M)) == 2:
                break
            assert node.poll() is None and time.monotonic() < deadline, (Path(node_dir) / "out.log").read_text()
            time.sleep(1)

        out = tmp_path / "out"
        submit = subprocess.run(
            [RAY, "job", "submit", "--no-wait", "--address", address, "--working-dir", str(REPO), "--",
             "python", "-m", "cluster", "sweep", str(spec), "--out", str(out), "--batch-size", "1"],
            env=env, capture_output=True, text=True, timeout=120)
        assert submit.returncode == 0, submit.stdout + submit.stderr
        job_id = re.search(r"(raysubmit_\w+)", submit.stdout).group(1)  # type: ignore[union-attr]

        # Once work finished on both nodes, and before the sweep ends: the second node dies.
        deadline = time.monotonic() + 300
        nodes: set[str] = set()
        while len(nodes) < 2:
            assert time.monotonic() < deadline, "work never ran on both nodes"
            try:
                nodes = {n for n in read_table(out, "timings").column("node_id").to_pylist() if n}
                done = len(read_manifest(out).done or ())
            except (SchemaError, OSError, KeyError):
                done = 0
            time.sleep(0.2)
        assert done < 16, "the sweep ended before the node could be killed; make the scenarios longer"
        # SIGKILL to the second node's raylet (found by its unique temp dir): the node is lost, not
        # stopped politely; its `ray start --block` process then stops the rest of it (finally).
        raylets = subprocess.run(["pgrep", "-f", f"raylet.*{node_dir}"], capture_output=True, text=True).stdout
        assert raylets.split(), "the second node's raylet was not found"
        for pid in raylets.split():
            os.kill(int(pid), signal.SIGKILL)

        deadline = time.monotonic() + 600
        while True:
            status = subprocess.run([RAY, "job", "status", "--address", address, job_id], env=env,
                                    capture_output=True, text=True, timeout=60).stdout.lower()
            if any(word in status for word in ("succeeded", "failed", "stopped")):
                break
            assert time.monotonic() < deadline, status
            time.sleep(1)
        logs = subprocess.run([RAY, "job", "logs", "--address", address, job_id], env=env, capture_output=True,
                              text=True, timeout=60).stdout
        assert "succeeded" in status, logs[-4000:]
    finally:
        if node is not None:
            _stop(node)
        _stop(head)
        head_log.close()
        node_log.close()
        shutil.rmtree(head_dir, ignore_errors=True)
        shutil.rmtree(node_dir, ignore_errors=True)

    manifest = read_manifest(out)
    assert manifest.complete is True and manifest.failed == () and len(manifest.done or ()) == 16
    assert manifest.cpnsim.git_revision is None or manifest.cpnsim.revision_source != "git"  # no .git in a job
    timings = read_table(out, "timings").to_pylist()
    assert len({r["node_id"] for r in timings}) == 2, "timings name both nodes"
    assert len({r["ray_job_id"] for r in timings}) == 1
    serial = tmp_path / "serial"
    run_sweep(load_sweep(spec), serial, SerialExecutor())
    for name, keys in KEYS.items():
        assert _sorted(read_table(out, name), keys).equals(_sorted(read_table(serial, name), keys)), name
    assert "progress: " in logs  # plain progress lines in the job's log (not a terminal)
