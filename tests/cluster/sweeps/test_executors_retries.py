"""A Ray batch whose worker process dies is retried (``--max-retries``); without retries its
scenarios become failed rows naming the lost worker, and the sweep goes on."""

import os
import re
from pathlib import Path

import pytest

from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import RayExecutor, SerialExecutor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from sim.run import run_scenario

BASE = Path(__file__).resolve().parents[3] / "examples" / "east_west_nearest.toml"
TINY = f"""
base = "{BASE}"
seed = 3
replications = 1
[[axis]]
key = "horizon_h"
grid = [24.0]
[[axis]]
key = "sites.cl_zhongwei.gpus"
grid = [256, 512, 768, 1024]
"""

KEYS = ("scenario_id", "replication")


def _crash_once(marker: Path):
    """A scenario runner whose first call, on any worker, kills that worker as if it were lost.

    The worker that creates ``marker`` dies (``os._exit``); a retry finds the file and runs
    normally.  A closure, so Ray pickles it by value and workers need not import this module.
    """

    def runner(loaded):
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return run_scenario(loaded)
        os._exit(70)

    return runner


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    """One embedded Ray for the module; yields the crash marker's path."""
    marker = tmp_path_factory.mktemp("hook") / "crashed"
    with RayExecutor(num_cpus=2):
        yield marker


def _spec(tmp_path: Path):
    path = tmp_path / "spec.toml"
    path.write_text(TINY, encoding="utf-8")
    return load_sweep(path)


def test_a_lost_worker_is_retried_and_the_tables_equal_a_serial_run(ray_session, tmp_path):
    ray_session.unlink(missing_ok=True)
    spec = _spec(tmp_path)
    executor = RayExecutor(runner=_crash_once(ray_session), max_retries=1)
    report = run_sweep(spec, tmp_path / "ray", executor, batch_size=2)
    assert ray_session.exists(), "the hook did not fire: the test proves nothing"
    errors = [r["error"] for r in read_table(tmp_path / "ray", "runs").to_pylist()]
    assert (report.done, report.failed) == (4, 0), errors
    run_sweep(spec, tmp_path / "serial", SerialExecutor(), batch_size=2)
    ray_runs = read_table(tmp_path / "ray", "runs").sort_by([(k, "ascending") for k in KEYS])
    serial_runs = read_table(tmp_path / "serial", "runs").sort_by([(k, "ascending") for k in KEYS])
    assert ray_runs.to_pylist() == serial_runs.to_pylist()


def test_without_retries_the_lost_batch_becomes_failed_rows(ray_session, tmp_path):
    ray_session.unlink(missing_ok=True)
    spec = _spec(tmp_path)
    executor = RayExecutor(runner=_crash_once(ray_session), max_retries=0)
    report = run_sweep(spec, tmp_path / "ray", executor, batch_size=2)
    assert ray_session.exists()
    # The crashed batch is lost; so, now and then, is a batch Ray had queued on the same
    # worker.  Either way whole batches become failed rows and nothing goes missing.
    assert report.done + report.failed == 4 and report.failed in (2, 4)
    runs = read_table(tmp_path / "ray", "runs").to_pylist()
    failed = [r for r in runs if r["status"] == "failed"]
    assert len(failed) == report.failed and {r["replication"] for r in failed} == {None}
    for row in failed:
        assert row["error"].startswith("lost worker (WorkerCrashedError)"), row["error"]
        assert re.search(r"pid \d+ on 127\.0\.0\.1, worker id [0-9a-f]{12} \(SYSTEM_ERROR", row["error"]), row["error"]
        assert row["jobs_done"] is None and row["param.policy"] == spec.scenarios[0].scenario.policy
    assert sorted(read_manifest(tmp_path / "ray").failed or ()) == sorted(r["scenario_id"] for r in failed)
    ok = {r["scenario_id"] for r in runs if r["status"] == "ok"}
    assert len(ok) == report.done and ok | {r["scenario_id"] for r in failed} == set(spec.ids)
    assert read_manifest(tmp_path / "ray").complete is True  # the sweep went on to the end


def test_max_retries_must_not_be_negative():
    with pytest.raises(ValueError, match="max_retries must be >= 0, got -1"):
        RayExecutor(max_retries=-1)
