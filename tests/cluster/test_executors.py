"""The serial and Ray executors give identical tables; an embedded Ray leaves no token behind."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from cluster.executors import SerialExecutor, run_batch
from cluster.store import read_manifest, read_table
from cluster.sweep import default_batch_size, load_sweep, run_sweep

SMALL = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "small-grid.toml"
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
    assert sorted(read_manifest(ray_out)["done"]) == sorted(read_manifest(serial_out)["done"])
    assert len(read_manifest(ray_out)["tables"]["runs"]["parts"]) == 6  # one part per batch
    for table, keys in KEYS.items():
        assert _sorted(read_table(ray_out, table), keys) == _sorted(read_table(serial_out, table), keys)


def test_embedded_ray_works_when_ray_was_imported_first(tmp_path):
    # Ray reads its auth settings at import; the executor must refresh them, or the driver
    # retries "Unauthenticated" for ever against the cluster it just started.
    code = (
        "import ray\n"
        "from cluster.executors import RayExecutor\n"
        "from cluster.sweep import load_sweep\n"
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
