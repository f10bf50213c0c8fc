"""``cpnsim sweep --address`` against a real ``ray start`` head with token auth (see ../shared/RAY.md).

* A missing or wrong token, or nothing listening, is one line and exit 2 within seconds
  (``ray.init`` alone retries for ~20 s and ends in a traceback).
* The driver ships its code to the workers: a driver run from a modified copy of the
  project (its workers would otherwise import the installed one) completes, with the
  tables of a serial run; with shipping off, the workers' other code is one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from cluster.sweeps.code import PACKAGES
from cluster.sweeps.store import read_table

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
SMALL = REPO / "examples" / "sweeps" / "small-grid.toml"
KEYS = {"runs": ["scenario_id", "replication"], "sites": ["scenario_id", "replication", "site_id", "t_end_h"]}


def _cli(args: list[str], env: dict[str, str], cwd: Path,
         timeout: float = 300) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "cluster", *args], capture_output=True, text=True, env=env,
                            cwd=cwd, timeout=timeout)
    return result, time.monotonic() - t0


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    table = table.sort_by([(k, "ascending") for k in keys])
    return table.select(sorted(table.column_names))


@pytest.mark.parametrize(("token", "reason"), [
    (None, "this driver sends no token: set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN"),
    ("f" * 64, "the token in RAY_AUTH_TOKEN/RAY_AUTH_TOKEN_PATH is not the cluster's"),
])
def test_a_missing_or_wrong_token_is_one_line_within_seconds(ray_head, tmp_path, token, reason):
    env = {k: v for k, v in ray_head.env.items() if k not in ("RAY_AUTH_TOKEN", "RAY_AUTH_MODE")}
    if token is not None:
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    out = tmp_path / "out"
    result, took_s = _cli(["sweep", str(SMALL), "--out", str(out), "--address", ray_head.gcs], env, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith(f"cpnsim: error: --address {ray_head.gcs}: the Ray cluster refused authentication; "
                                f"{reason}"), lines
    assert len(lines) == 2 and lines[0].startswith("sweep "), lines  # the banner, then the one error line
    assert took_s < 15, f"took {took_s:.1f} s"
    assert not out.exists()


def test_nothing_listening_at_the_address_is_one_line(ray_head, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    result, took_s = _cli(["sweep", str(SMALL), "--out", str(tmp_path / "o"), "--address", address, "--quiet"],
                          ray_head.env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
    assert result.stderr.startswith(f"cpnsim: error: --address {address}: no Ray cluster answers there"), result.stderr
    assert took_s < 15


def _modified_copy(tmp_path: Path) -> Path:
    """The four packages copied, one comment added: other source, so another code identity."""
    copy = tmp_path / "copy"
    for name in PACKAGES:
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "cluster" / "sweeps" / "__init__.py", "a", encoding="utf-8") as handle:
        handle.write("# a copy shipped by tests/cluster/sweeps/test_address.py\n")
    return copy


def test_the_driver_ships_its_code_and_a_worker_with_other_code_is_refused(ray_head, tmp_path):
    copy = _modified_copy(tmp_path)
    # cwd without the packages: Ray adds the driver's cwd to its workers' sys.path, and the
    # workers would then import the copy whether it was shipped or not.
    work = tmp_path / "work"
    work.mkdir()
    env = {**ray_head.env, "PYTHONPATH": str(copy)}

    out = tmp_path / "shipped"
    result, _ = _cli(["sweep", str(SMALL), "--out", str(out), "--address", ray_head.gcs, "--quiet"], env, work)
    assert result.returncode == 0, result.stderr
    serial = tmp_path / "serial"
    reference, _ = _cli(["sweep", str(SMALL), "--out", str(serial), "--executor", "serial", "--quiet"],
                        ray_head.env, work)
    assert reference.returncode == 0, reference.stderr
    for name, keys in KEYS.items():
        assert _sorted(read_table(out, name), keys).equals(_sorted(read_table(serial, name), keys)), name

    # Shipping off: the workers import the installed cpnsim, not the driver's copy.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from cluster.sweeps import load_sweep, run_sweep\n"
        "from cluster.sweeps.executors import RayExecutor\n"
        "from topology.plumbing import ConfigError\n"
        "try:\n"
        f"    run_sweep(load_sweep(Path({str(SMALL)!r})), Path(sys.argv[1]), RayExecutor({ray_head.gcs!r}, "
        "ship=False))\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(2)\n"
    )
    refused = subprocess.run([sys.executable, "-c", script, str(tmp_path / "unshipped")], capture_output=True,
                             text=True, env=env, cwd=work, timeout=300)
    assert refused.returncode == 2, refused.stderr
    line = refused.stdout.strip()
    assert line.startswith(f"--address {ray_head.gcs}: a worker (pid ") and ", the driver cpnsim " in line, line
    assert "ship the same code to every node" in line and os.linesep not in line, line
