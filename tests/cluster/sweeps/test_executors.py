"""The serial and Ray executors give identical tables; an embedded Ray leaves no token behind."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cluster.sweeps import default_batch_size, load_sweep, run_sweep
from cluster.sweeps.batch import run_batch
from cluster.sweeps.executors import RayExecutor, SerialExecutor, make_executor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from topology.plumbing import ConfigError

SMALL = Path(__file__).resolve().parents[3] / "examples" / "sweeps" / "small-grid.toml"
KEYS = {"runs": ("scenario_id", "replication"), "sites": ("scenario_id", "replication", "site_id", "t_end_h")}


def _sorted(table, keys):
    return table.sort_by([(k, "ascending") for k in keys]).to_pylist()


def test_run_batch_concatenates_scenarios():
    spec = load_sweep(SMALL)
    result = run_batch(3, spec.scenarios[:2])
    assert result.index == 3 and result.done == spec.ids[:2] and result.failed == []
    assert result.tables["runs"].num_rows == 4 and result.tables["timings"].num_rows == 4


def test_default_batch_size():
    assert default_batch_size(6, 2) == 1
    assert default_batch_size(1000, 2) == 64
    assert default_batch_size(100, 4) == 7


def test_ray_and_serial_give_identical_tables_and_no_token_file(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["HOME"] = str(home)
    ray_out = tmp_path / "ray"
    result = subprocess.run(
        [sys.executable, "-m", "cluster", "sweep", str(SMALL), "--out", str(ray_out), "--num-cpus", "2"],
        capture_output=True, text=True, env=env, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "6 scenario(s) ran, 0 failed" in result.stderr
    # Ray must not have written ~/.ray/auth_token (mode 0644) or any other readable secret.
    for path in home.rglob("*"):
        assert "token" not in path.name, path
        if path.is_file():
            assert not path.stat().st_mode & stat.S_IROTH or "auth" not in str(path), path
    serial_out = tmp_path / "serial"
    run_sweep(load_sweep(SMALL), serial_out, SerialExecutor())
    assert sorted(read_manifest(ray_out).done or ()) == sorted(read_manifest(serial_out).done or ())
    assert len(read_manifest(ray_out).tables["runs"].parts) == 6  # one part per batch
    for table, keys in KEYS.items():
        assert _sorted(read_table(ray_out, table), keys) == _sorted(read_table(serial_out, table), keys)
    # Where each scenario ran is in timings (not runs): Ray's node and job ids and a worker pid.
    on_ray, here = read_table(ray_out, "timings").to_pylist(), read_table(serial_out, "timings").to_pylist()
    assert all(len(r["node_id"]) == 56 and r["ray_job_id"] and r["worker_pid"] > 0 for r in on_ray), on_ray[0]
    assert len({r["ray_job_id"] for r in on_ray}) == 1
    assert all(r["node_id"] is None and r["ray_job_id"] is None and r["worker_pid"] == os.getpid() for r in here)
    assert not any(c in read_table(ray_out, "runs").column_names for c in ("node_id", "worker_pid", "ray_job_id"))


def test_embedded_ray_works_when_ray_was_imported_first(tmp_path):
    # Ray reads its auth settings at import; the executor must refresh them, or the driver
    # retries "Unauthenticated" for ever against the cluster it just started.
    code = (
        "import ray\n"
        "from cluster.sweeps.executors import RayExecutor\n"
        "from cluster.sweeps import load_sweep\n"
        f"spec = load_sweep({str(SMALL)!r})\n"
        "with RayExecutor(num_cpus=1) as ex:\n"
        "    (result,) = list(ex.map([spec.scenarios[:1]]))\n"
        "print('ok', len(result.done))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["HOME"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok 1", result.stderr[-2000:]
    assert not (tmp_path / ".ray" / "auth_token").exists()


def test_make_executor_builds_either_and_checks_the_options():
    assert isinstance(make_executor("serial", num_cpus=8, max_retries=0), SerialExecutor)
    ray_executor = make_executor("ray", address="127.0.0.1:1", num_cpus=2, max_retries=5)
    assert isinstance(ray_executor, RayExecutor)
    assert (ray_executor.address, ray_executor.num_cpus, ray_executor.max_retries) == ("127.0.0.1:1", 2, 5)
    with pytest.raises(ConfigError, match="--num-cpus: must be >= 1, got 0"):
        make_executor("ray", num_cpus=0)
    with pytest.raises(ConfigError, match="--max-retries: must be >= 0, got -1"):
        make_executor("serial", max_retries=-1)
    with pytest.raises(ConfigError, match="--executor: unknown executor 'dask' \\(choose ray or serial\\)"):
        make_executor("dask")


def test_the_embedded_ray_puts_the_environment_back(tmp_path):
    # The auth token is a secret of the Ray this executor started: once it is shut down, the
    # variables it set are as they were (RAY_AUTH_MODE kept as the caller set it).  Ray itself
    # sets others (RAY_USAGE_STATS_ENABLED, ...) at import: not the executor's to undo.
    code = (
        "import os\n"
        "from cluster.sweeps.executors import RayExecutor\n"
        "os.environ['RAY_AUTH_MODE'] = 'token'\n"
        "names = ('RAY_AUTH_TOKEN', 'RAY_AUTH_MODE', 'RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER')\n"
        "before = {k: os.environ.get(k) for k in names}\n"
        "with RayExecutor(num_cpus=1):\n"
        "    assert len(os.environ['RAY_AUTH_TOKEN']) == 64\n"
        "after = {k: os.environ.get(k) for k in names}\n"
        "print('same' if after == before == {**after, 'RAY_AUTH_MODE': 'token'} else f'changed: {after}')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["HOME"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "same", result.stdout + result.stderr[-2000:]


@pytest.mark.parametrize(("env", "niceness"), [({}, 15), ({"RAY_worker_niceness": "0"}, 0)])
def test_ray_workers_run_at_the_niceness_the_readme_states(env: dict[str, str], niceness: int) -> None:
    # README, "Running on a Ray cluster": workers start at niceness 15 unless RAY_worker_niceness says
    # otherwise (a sweep on a shared machine then gets only the CPU other work leaves).
    code = ("import os, ray\nray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)\n"
            "print(os.nice(0), ray.get(ray.remote(lambda: os.nice(0)).remote()))\nray.shutdown()\n")
    clean = {k: v for k, v in os.environ.items() if k != "RAY_worker_niceness" and not k.startswith("RAY_ADDRESS")}
    result = subprocess.run([sys.executable, "-c", code], env=clean | env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    driver, worker = map(int, result.stdout.strip().splitlines()[-1].split())
    assert worker == min(19, driver + niceness)  # an increment on the driver's own niceness, at most 19
