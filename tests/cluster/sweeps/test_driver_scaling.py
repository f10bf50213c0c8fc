"""The driver at scale: built-in networks parsed once, duplicate points counted, the dry-run plan."""

from __future__ import annotations

from pathlib import Path

import pytest

import topology.load as load
from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.plan import plan_sweep
from sim.run import run_scenario
from topology.load import load_network

SPEC = """
seed = 1
replications = 2
[base]
name = "driver"
network = "national"
horizon_h = 24.0
metric_interval_h = 24.0
[base.workload.batch]
arrival_rate_per_h = 1.0
gpus = {{ dist = "choice", values = [1, 2] }}
work_gpu_h = {{ dist = "exponential", mean = 4.0 }}
[[axis]]
key = "sites.cl_zhongwei.gpus"
method = "random"
low = {low}
high = {high}
samples = {samples}
"""


def _spec(tmp_path: Path, low: int, high: int, samples: int) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.format(low=low, high=high, samples=samples))
    return path


def test_a_builtin_network_is_parsed_once_per_process(tmp_path, monkeypatch):
    calls: list[str] = []
    real = load._load_builtin

    def counting(name, stack):
        calls.append(name)
        return real(name, stack)

    monkeypatch.setattr(load, "_load_builtin", counting)
    load._builtin_network.cache_clear()
    load_network("national")
    per_parse = len(calls)  # national includes the other built-ins: one parse reads each once
    assert per_parse >= 1
    spec = load_sweep(_spec(tmp_path, 256, 4096, 24))
    assert len(spec.scenarios) == 24
    assert len(calls) == per_parse  # 24 points and the base: no further parse
    assert spec.scenarios[0].network is not None
    load._builtin_network.cache_clear()


def test_duplicate_points_are_counted_not_silently_merged(tmp_path):
    spec = load_sweep(_spec(tmp_path, 1, 3, 20))  # 20 integer draws from {1, 2, 3}
    gpus = {next(s.gpus for s in sc.network.sites if s.id == "cl_zhongwei") for sc in spec.scenarios}
    assert len(spec.scenarios) == len(gpus) <= 3
    assert spec.points == 20 and spec.duplicates == 20 - len(spec.scenarios)


def test_the_plan_counts_batches_and_times_one_scenario(tmp_path):
    spec = load_sweep(_spec(tmp_path, 256, 4096, 10))
    probed: list[str] = []

    def runner(loaded):
        probed.append(loaded.scenario_id)
        return run_scenario(loaded)

    out = tmp_path / "out"
    plan = plan_sweep(spec, out, cpus=2, batch_size=3, runner=runner)
    assert (plan.points, plan.duplicates, plan.scenarios, plan.replications) == (10, 0, 10, 2)
    assert (plan.to_run, plan.done, plan.batch_size, plan.batches) == (10, 0, 3, 4)
    assert probed == [spec.ids[0]] and plan.probe_s is not None and plan.probe_s >= 0
    assert plan.cpu_s == pytest.approx(plan.probe_s * 10)
    assert plan.wall_s == pytest.approx(plan.probe_s * 3 * 2)  # 4 batches of 3 on 2 CPUs: 2 rounds
    assert not out.exists()

    # Resumed: what the dataset holds is not counted again.
    few = load_sweep(_spec(tmp_path, 256, 4096, 10))
    run_sweep(few, out, SerialExecutor(), batch_size=10)
    done = plan_sweep(few, out, cpus=2, resume=True)
    assert (done.to_run, done.done, done.probe_s, done.cpu_s) == (0, 10, None, None)
    assert done.lines()[-1] == "dry run: nothing written"
