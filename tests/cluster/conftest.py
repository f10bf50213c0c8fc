"""Fixtures shared by the cluster tests."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_EIGHT_SCENARIOS = """
seed = {seed}
replications = 1
[base]
name = "{name}"
horizon_h = 4000.0
metric_interval_h = 500.0
[base.workload.batch]
arrival_rate_per_h = 60.0
gpus = {{ dist = "choice", values = [1, 2, 4] }}
work_gpu_h = {{ dist = "exponential", mean = 30.0 }}
[[axis]]
key = "sites.cl_zhongwei.gpus"
grid = [256, 512, 768, 1024, 1280, 1536, 1792, 2048]
"""


@pytest.fixture(scope="session")
def eight_scenario_spec() -> Callable[[str, int], str]:
    """Sweep spec text of 8 scenarios of about a second each, for interrupt-and-resume tests."""

    def _spec(name: str, seed: int) -> str:
        return _EIGHT_SCENARIOS.format(name=name, seed=seed)

    return _spec


def _wait_for_dashboard(address: str, head: subprocess.Popen[bytes], log: Path, timeout_s: float = 90.0) -> None:
    """Return once the Ray head at ``address`` answers HTTP (401 without the token counts as up).

    Raises RuntimeError with the tail of ``log`` when the head exits or ``timeout_s`` passes.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{address}/api/version", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (401 without the token): it is up
        except OSError:
            if head.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:] if log.exists() else "(no log)"
                raise RuntimeError(f"ray head did not come up: {tail}") from None
            time.sleep(0.5)


@pytest.fixture(scope="session")
def wait_for_dashboard() -> Callable[..., None]:
    """The wait for a ``ray start --head`` process to answer on its dashboard port (see the function)."""
    return _wait_for_dashboard


@dataclass(frozen=True)
class RayHead:
    """A ``ray start --head`` on 127.0.0.1 with token auth: its GCS address, dashboard URL and token."""

    gcs: str
    dashboard: str
    token: str
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ray_head() -> Iterator[RayHead]:
    """A one-node Ray cluster for the module (2 CPUs, token auth, loopback only; see ../shared/RAY.md).

    Started as ``ray start --head --block`` with explicit free ports and a short temp dir,
    stopped with SIGTERM to its own pid (never ``ray stop``).  ``env`` is what a driver
    needs to join it (the token included); the test process's own environment is untouched.
    """
    ray = str(Path(sys.executable).with_name("ray"))
    temp = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # short: Unix socket paths are limited
    gcs, dashboard = _free_port(), _free_port()
    token = secrets.token_hex(32)
    env = {**{k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN_PATH")},
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log_path = Path(temp) / "out.log"
    with open(log_path, "w") as log:
        head = subprocess.Popen(
            [ray, "start", "--head", "--block", f"--port={gcs}", "--dashboard-host=127.0.0.1",
             f"--dashboard-port={dashboard}", f"--ray-client-server-port={_free_port()}",
             f"--dashboard-agent-listen-port={_free_port()}", f"--metrics-export-port={_free_port()}",
             "--num-cpus=2", "--disable-usage-stats", f"--temp-dir={temp}"],
            env={**env, "AUTOSCALER_METRIC_PORT": str(_free_port()), "DASHBOARD_METRIC_PORT": str(_free_port())},
            stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_dashboard(f"http://127.0.0.1:{dashboard}", head, log_path)
        yield RayHead(gcs=f"127.0.0.1:{gcs}", dashboard=f"http://127.0.0.1:{dashboard}", token=token, env=env)
    finally:
        if head.poll() is None:
            head.send_signal(signal.SIGTERM)  # this pid only
            try:
                head.wait(timeout=60)
            except subprocess.TimeoutExpired:
                head.kill()
                head.wait()
        shutil.rmtree(temp, ignore_errors=True)


@dataclass(frozen=True)
class S3Server:
    """A moto S3 server on 127.0.0.1 (PyPI ``moto[server]``) with the calling module's ``BUCKET``.

    ``env`` holds the ``AWS_*`` variables that reach it (set in ``os.environ`` while it
    runs, so subprocesses and pyarrow's URI parsing find it); ``fs`` is a
    ``pyarrow.fs.S3FileSystem`` on it.
    """

    env: dict[str, str]
    fs: object


@pytest.fixture(scope="module")
def s3_server(request: pytest.FixtureRequest) -> Iterator[S3Server]:
    """One S3 server per test module, stopped (and the environment restored) after it."""
    moto_server = pytest.importorskip("moto.server")
    import pyarrow.fs as pafs

    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_EC2_METADATA_DISABLED": "true"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        fs = pafs.S3FileSystem(access_key="testing", secret_key="testing", endpoint_override=f"127.0.0.1:{port}",
                               scheme="http", region="us-east-1", allow_bucket_creation=True)
        fs.create_dir(request.module.BUCKET)
        yield S3Server(env=env, fs=fs)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()
