"""The driver expands a spec as it runs: the first batch before the last point, resumable mid-expansion."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from cluster.sweeps import SweepInterrupted, load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.plan import plan_sweep
from cluster.sweeps.store import read_table

# 2 x 30 points; gpus 1..4 over 30 samples: integer rounding repeats points (duplicates).
SPEC = """
seed = 5
[base]
network = "default"
horizon_h = 6.0
metric_interval_h = 6.0
[base.workload.batch]
arrival_rate_per_h = 0.5
gpus = { dist = "choice", values = [1] }
work_gpu_h = { dist = "exponential", mean = 1.0 }
[[axis]]
key = "policy"
grid = ["nearest", "least_loaded"]
[[axis]]
key = "sites.cl_zhongwei.gpus"
method = "latin_hypercube"
low = 1
high = 4
samples = 30
"""

KEYS = {"runs": ["scenario_id", "replication"], "sites": ["scenario_id", "replication", "site_id", "t_end_h"]}


def _spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return path


def _tables(out: Path) -> dict[str, pa.Table]:
    return {name: read_table(out, name).sort_by([(k, "ascending") for k in keys]) for name, keys in KEYS.items()}


class _Spy(SerialExecutor):
    """A serial executor that notes how far the expansion had got when each batch reached it."""

    def __init__(self, expanded: list[int]) -> None:
        super().__init__()
        self.expanded = expanded
        self.seen: list[int] = []

    def map(self, batches):
        for batch in batches:
            self.seen.append(self.expanded[-1] if self.expanded else 0)
            yield from super().map([batch])


def test_the_first_batch_runs_before_the_expansion_is_through(tmp_path):
    expanded: list[int] = []
    spec = load_sweep(_spec_file(tmp_path), lambda done, total: expanded.append(done), lazy=True)
    assert spec.points == 60 and not spec.expanded  # known up front; nothing expanded yet
    spy = _Spy(expanded)
    report = run_sweep(spec, tmp_path / "out", spy, batch_size=4)
    # Progress fires at the end of the expansion only (60 < 1,000 points): no batch saw it.
    assert spy.seen[0] == 0 and expanded == [60]
    assert not spec.expanded  # the driver streamed the points: the spec kept none
    eager = load_sweep(_spec_file(tmp_path))
    assert report.total == eager.count < 60 and report.duplicates == eager.duplicates > 0
    manifest = read_manifest(tmp_path / "out")
    assert manifest.complete is True and (manifest.points, manifest.scenarios, manifest.duplicates) == (
        60, eager.count, eager.duplicates)
    assert list(manifest.done or ()) == eager.ids  # serial: expansion order, each id once
    run_sweep(eager, tmp_path / "eager", SerialExecutor(), batch_size=4)
    assert _tables(tmp_path / "out") == _tables(tmp_path / "eager")


def test_interrupted_mid_expansion_resumes_to_the_tables_of_a_clean_run(tmp_path):
    path = _spec_file(tmp_path)
    out = tmp_path / "out"
    batches: list[int] = []

    def stop_after_two(result):
        batches.append(len(result.done))
        if len(batches) == 2:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as stop:
        run_sweep(load_sweep(path, lazy=True), out, SerialExecutor(), batch_size=3, on_batch=stop_after_two)
    partial = read_manifest(out)
    assert partial.complete is False and len(partial.done or ()) == 6
    assert partial.points == 60 and partial.scenarios is None  # known only once the expansion is through
    assert stop.value.report.total > len(load_sweep(path).ids)  # an upper bound while expanding

    report = run_sweep(load_sweep(path, lazy=True), out, SerialExecutor(), resume=True, batch_size=3)
    eager = load_sweep(path)
    assert (report.skipped, report.done, report.total) == (6, eager.count - 6, eager.count)
    manifest = read_manifest(out)
    assert manifest.complete is True and sorted(manifest.done or ()) == sorted(eager.ids)
    assert manifest.scenarios == eager.count and manifest.duplicates == eager.duplicates
    run_sweep(eager, tmp_path / "clean", SerialExecutor())
    assert _tables(out) == _tables(tmp_path / "clean")


def test_dry_run_counts_as_the_whole_expansion_and_sizes_batches_as_a_run(tmp_path):
    path = _spec_file(tmp_path)
    eager = load_sweep(path)
    runs: list[str] = []

    def runner(loaded):
        runs.append(loaded.scenario_id)  # the probe: timed, its result not used

    plan = plan_sweep(load_sweep(path, lazy=True), tmp_path / "out", cpus=2, runner=runner)
    assert (plan.points, plan.duplicates, plan.scenarios, plan.to_run) == (60, eager.duplicates, eager.count,
                                                                          eager.count)
    # A run sizes batches from the 60 points (duplicates not known yet): ceil(60 / 8) = 8 per batch.
    assert plan.batch_size == 8 and plan.batches == -(-eager.count // 8)
    assert runs == [eager.ids[0]] and not (tmp_path / "out").exists()


def test_the_cli_streams_a_big_spec_and_expands_a_small_one_first(tmp_path, monkeypatch, capsys):
    import cluster.cli.sweep as cli_sweep
    from cluster.cli.main import main

    path = _spec_file(tmp_path)
    bad = tmp_path / "bad.toml"  # the second point does not validate (warmup_h >= horizon_h)
    bad.write_text(SPEC.split("[[axis]]")[0] + '[[axis]]\nkey = "warmup_h"\ngrid = [1.0, 50.0]\n')
    assert main(["sweep", str(bad), "--out", str(tmp_path / "bad"), "--executor", "serial"]) == 2
    assert not (tmp_path / "bad").exists()  # 2 points: expanded first, refused before anything is written
    first = capsys.readouterr().err.splitlines()
    assert len(first) == 1 and "axis[0]=50.0: warmup_h" in first[0]

    monkeypatch.setattr(cli_sweep, "EXPAND_FIRST_POINTS", 1)  # as if the spec were big: streamed
    assert main(["sweep", str(bad), "--out", str(tmp_path / "bad"), "--executor", "serial",
                 "--batch-size", "1"]) == 2
    lines = capsys.readouterr().err.splitlines()  # found where it was reached: one line, exit 2
    assert [line for line in lines if "error" in line] == first
    assert len(read_manifest(tmp_path / "bad").done or ()) == 1  # the batch before it stays, resumable

    assert main(["sweep", str(path), "--out", str(tmp_path / "cli"), "--executor", "serial", "--batch-size", "4"]) == 0
    err = capsys.readouterr().err
    eager = load_sweep(path)
    assert f"{eager.duplicates} of 60 points equal an earlier point" in err
    assert f"{eager.count} scenario(s) ran, 0 failed" in err
    assert read_manifest(tmp_path / "cli").scenarios == eager.count
