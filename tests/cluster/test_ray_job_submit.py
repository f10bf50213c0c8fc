"""`ray job submit` of a sweep to a real head node bound to 127.0.0.1 (see ../shared/RAY.md):
as ``python -m cluster`` from the uploaded working directory, and as a bare ``cpnsim``
installed into the job by a pip runtime env that works offline."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table

REPO = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wildcard_listeners() -> set[str]:
    """Ports of TCP listeners bound to every interface (0.0.0.0 or ::), from /proc/net/tcp*."""
    out = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and set(address) == {"0"}:  # LISTEN on the wildcard address
                out.add(port)
    return out


@pytest.fixture(scope="module")
def head_node(wait_for_dashboard) -> Iterator[tuple[str, dict[str, str], set[str]]]:
    temp_dir = tempfile.mkdtemp(prefix="r", dir="/tmp")  # short: Unix socket paths are limited
    dashboard = _free_port()
    env = {
        **os.environ,
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # every listener on 127.0.0.1
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
        "DASHBOARD_METRIC_PORT": str(_free_port()),
        "AUTOSCALER_METRIC_PORT": str(_free_port()),
        # As a user who activated the project's venv before `ray start`: the job's `python`.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # Offline, and provably so: pip (in a pip runtime env, run by the head node's agent)
        # gets no configuration, no index, and a proxy that refuses every connection.
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for name in ("RAY_ADDRESS", "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        env.pop(name, None)
    for name in [k for k in env if k.lower() in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")]:
        if name.isupper() is False:
            env.pop(name)
    before = _wildcard_listeners()  # the machine's own services, not Ray's
    log = open(Path(temp_dir) / "head.log", "w")  # noqa: SIM115 - a file, not a pipe (nobody drains it); closed below
    head = subprocess.Popen(
        [RAY, "start", "--head", "--block", f"--port={_free_port()}", "--dashboard-host=127.0.0.1",
         f"--dashboard-port={dashboard}", f"--ray-client-server-port={_free_port()}",
         f"--dashboard-agent-listen-port={_free_port()}", "--num-cpus=2", "--disable-usage-stats",
         f"--temp-dir={temp_dir}"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    address = f"http://127.0.0.1:{dashboard}"
    try:
        log.flush()
        wait_for_dashboard(address, head, Path(temp_dir) / "head.log")
        yield address, env, before
    finally:
        head.send_signal(signal.SIGTERM)  # this pid only: `ray stop` would kill unrelated Ray instances
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_sweep_submitted_as_a_ray_job(head_node, tmp_path):
    address, env, before = head_node
    out = tmp_path / "sweep"
    job = subprocess.run(
        [RAY, "job", "submit", "--address", address, "--working-dir", str(REPO), "--",
         "python", "-m", "cluster", "sweep", "examples/sweeps/small-grid.toml", "--out", str(out), "--quiet"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
    assert "succeeded" in job.stdout.lower()
    manifest = read_manifest(out)
    assert manifest.complete is True
    runs = read_table(out, "runs")
    assert runs.num_rows == 12 and set(runs.column("status").to_pylist()) == {"ok"}
    # Provenance: where each scenario ran, and why the revision is what it is (no .git in a job).
    timings = read_table(out, "timings").to_pylist()
    assert all(r["node_id"] and r["ray_job_id"] and r["worker_pid"] for r in timings)
    assert manifest.cpnsim.revision_source is not None and manifest.cpnsim.revision_source != "git"
    assert not (out / "writer.lock").exists()
    # Nothing Ray started listens beyond loopback.
    assert _wildcard_listeners() - before == set()


def test_a_relative_out_in_a_job_is_refused(head_node):
    address, env, _ = head_node
    job = subprocess.run(
        [RAY, "job", "submit", "--address", address, "--working-dir", str(REPO), "--",
         "python", "-m", "cluster", "sweep", "examples/sweeps/small-grid.toml", "--out", "relative-out"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert job.returncode != 0
    assert "--out relative-out: a relative path inside Ray job raysubmit_" in job.stdout, job.stdout[-3000:]
    assert "Traceback" not in job.stdout


# The project installed from the uploaded working directory, offline: no index (only the
# directory itself), no dependencies (Ray's clone of the driver's venv has them all), and no
# build isolation (setuptools comes from that venv instead of being fetched).
PIP_OFFLINE = {
    "pip": {
        "packages": ["${RAY_RUNTIME_ENV_CREATE_WORKING_DIR}"],
        "pip_check": False,
        "pip_install_options": ["--no-index", "--no-deps", "--no-build-isolation", "--no-cache-dir",
                                "--disable-pip-version-check"],
    }
}


def _log(job: subprocess.CompletedProcess[str]) -> str:
    """The job's output without Ray's per-file packaging chatter (for assertion messages)."""
    lines = (job.stdout + job.stderr).splitlines()
    return "\n".join(line for line in lines if "Ignoring upload" not in line and "is now ignored" not in line)[-6000:]


def test_bare_cpnsim_through_an_offline_pip_runtime_env(head_node, tmp_path):
    address, env, _ = head_node
    out = tmp_path / "sweep"
    script = (f"cpnsim sweep examples/sweeps/small-grid.toml --out {out} --quiet && echo cpnsim is $(command -v cpnsim)"
              " && cd / && PYTHONPATH= python -c 'import cluster; print(\"cluster is\", cluster.__file__)'")
    job = subprocess.run(
        [RAY, "job", "submit", "--address", address, "--working-dir", str(REPO),
         "--runtime-env-json", json.dumps(PIP_OFFLINE), "--", "sh", "-c", script],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert job.returncode == 0, _log(job)
    assert "succeeded" in job.stdout.lower()
    # `cpnsim` is the runtime env's console script, and the package is installed in that env
    # (Ray puts the working directory on the job's PYTHONPATH too, so the job imports the same
    # uploaded sources either way; without PYTHONPATH it finds the installed copy).
    lines = job.stdout.splitlines()
    script_path = next(line for line in lines if line.startswith("cpnsim is "))
    package = next(line for line in lines if line.startswith("cluster is "))
    assert "/runtime_resources/pip/" in script_path and script_path.endswith("/virtualenv/bin/cpnsim"), script_path
    assert "/runtime_resources/pip/" in package and "/site-packages/cluster/" in package, package
    manifest = read_manifest(out)
    assert manifest.complete is True
    runs = read_table(out, "runs")
    assert runs.num_rows == 12 and set(runs.column("status").to_pylist()) == {"ok"}


def test_a_client_without_the_token_is_refused(head_node):
    address, env, _ = head_node
    bare = {k: v for k, v in env.items() if not k.startswith("RAY_AUTH")}
    job = subprocess.run([RAY, "job", "list", "--address", address], env=bare, capture_output=True, text=True,
                         timeout=120)
    assert job.returncode != 0
