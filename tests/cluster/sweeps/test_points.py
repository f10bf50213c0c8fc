"""Scenario transport as base + overrides: same scenarios and ids as a full resolve, a few hundred bytes each."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

from cluster.sweeps import load_sweep
from cluster.sweeps.digest import Digester
from cluster.sweeps.points import PointBatch, overlay
from cluster.sweeps.schema import sweep_schema
from sim.scenario import LoadedScenario, load_scenario, set_key

SPEC = """
seed = 5
replications = 2
[base]
name = "points"
network = "national"
horizon_h = 12.0
metric_interval_h = 12.0
[base.sites.cl_wuhu]
gpus = 300
[base.workload.batch]
arrival_rate_per_h = 1.0
gpus = {{ dist = "choice", values = [1, 2] }}
work_gpu_h = {{ dist = "exponential", mean = 4.0 }}
[[axis]]
key = "sites.cl_zhongwei.gpus"
method = "random"
low = 1
high = {high}
samples = {samples}
[[axis]]
key = "workload.batch.work_gpu_h"
grid = [{{ dist = "exponential", mean = 4.0 }}, {{ dist = "lognormal", median = 3.0, sigma = 1.0 }}]
"""


def _spec(tmp_path: Path, high: int = 5000, samples: int = 6) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.format(high=high, samples=samples))
    return path


def test_overlay_equals_a_deep_copy_with_set_key_and_leaves_the_base_alone():
    base = {"a": {"b": {"c": 1, "d": [1, 2]}, "e": 2}, "f": {"g": 3}}
    before = copy.deepcopy(base)
    overrides = [("a.b.c", 9), ("a.x.y", {"z": 1}), ("h", 4), ("f", 5)]
    expected = copy.deepcopy(base)
    for key, value in overrides:
        set_key(expected, key, value)
    assert overlay(base, overrides) == expected
    assert base == before  # nothing of the base was written to
    out = overlay(base, overrides)
    assert out["a"]["b"]["d"] is base["a"]["b"]["d"]  # untouched tables are shared, not copied


def test_the_fast_digest_is_sims_digest(tmp_path):
    spec = load_sweep(_spec(tmp_path))
    digester = Digester(spec.base.network)
    others = [load_scenario(None), load_scenario(None, ["sites.cl_zhongwei.gpus=7", "network='national'"])]
    for loaded in [*spec.scenarios, spec.base, *others]:
        assert digester.digest(loaded) == loaded.digest()
        assert digester.digest(loaded, frozenset({"seed"})) == loaded.digest(frozenset({"seed"}))
        state = digester.network_state(loaded.network)  # twice: the memoised prefix states give the same
        assert digester.digest(loaded, state=state) == loaded.digest()


def test_points_rebuild_the_scenarios_they_stand_for(tmp_path):
    spec = load_sweep(_spec(tmp_path))
    assert spec.count == len(spec.scenario_points) == 12 and spec.duplicates == 0
    for point in spec.scenario_points:
        loaded = spec.sweep_base.scenario(point)
        assert loaded.scenario_id == point.scenario_id  # the id is recomputed from the rebuilt scenario
        assert loaded.scenario.seed == point.seed
        zhongwei = next(s for s in loaded.network.sites if s.id == "cl_zhongwei")
        wuhu = next(s for s in loaded.network.sites if s.id == "cl_wuhu")
        assert zhongwei.gpus == dict(point.overrides)["sites.cl_zhongwei.gpus"] and wuhu.gpus == 300
    assert [s.scenario_id for s in spec.scenarios] == spec.ids


def test_a_batch_ships_a_few_hundred_bytes_per_scenario(tmp_path):
    spec = load_sweep(_spec(tmp_path, samples=32))
    whole = len(pickle.dumps(list(spec.scenarios)))
    batch = PointBatch(spec.sweep_base, spec.scenario_points)
    shipped = batch.by_reference("a-ref")  # what a Ray task receives: the base stays in the object store
    assert isinstance(shipped, PointBatch)
    per_scenario = len(pickle.dumps(shipped)) / spec.count
    assert per_scenario <= 5_000 and whole / spec.count > 20 * per_scenario
    assert [s.scenario_id for s in batch] == batch.ids == spec.ids
    assert batch[1].scenario_id == spec.ids[1] and [s.scenario_id for s in batch[:2]] == spec.ids[:2]


def test_a_network_file_travels_in_the_base_read_once(tmp_path, monkeypatch):
    import pickle

    import topology.load as load

    (tmp_path / "net.toml").write_text(Path("topology/data/default.toml").read_text())
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text('[base]\nnetwork = "net.toml"\nhorizon_h = 12.0\n'
                         '[base.workload.batch]\narrival_rate_per_h = 1.0\n'
                         'gpus = { dist = "choice", values = [1] }\nwork_gpu_h = { dist = "exponential", mean = 1.0 }\n'
                         '[[axis]]\nkey = "policy"\ngrid = ["nearest", "least_loaded"]\n'
                         '[[axis]]\nkey = "sites.cl_zhongwei.gpus"\ngrid = [64, 128, 256]\n')
    reads: list[Path] = []
    real = load.load_network_file
    monkeypatch.setattr(load, "load_network_file", lambda path: reads.append(path) or real(path))
    spec = load_sweep(spec_path)
    assert spec.count == 6 and len(reads) == 2  # the base's resolve and the sweep's copy: not once per point
    assert spec.sweep_base.portable and spec.sweep_base.network is not None
    shipped = PointBatch(spec.sweep_base, spec.scenario_points).by_reference("a-ref")
    assert isinstance(shipped, PointBatch) and shipped.base is None  # points only; the base goes by reference
    # A worker that cannot see the file: the base it receives rebuilds every scenario, same ids and networks.
    (tmp_path / "net.toml").unlink()
    worker_base = pickle.loads(pickle.dumps(spec.sweep_base))
    rebuilt = [worker_base.scenario(p) for p in spec.scenario_points]
    assert [s.scenario_id for s in rebuilt] == spec.ids
    assert [s.network for s in rebuilt] == [s.network for s in spec.scenarios]
    assert len(reads) == 2 and load_sweep(_spec(tmp_path)).sweep_base.network is None  # a built-in: not carried


def test_one_scenario_per_shape_gives_the_whole_sweep_schema(tmp_path):
    spec = load_sweep(_spec(tmp_path, samples=8))
    assert len(spec.schema_scenarios) == 2  # exponential and lognormal work: two shapes
    assert sweep_schema(spec.schema_scenarios).equals(sweep_schema(spec.scenarios), check_metadata=True)


def test_duplicates_are_counted_and_progress_is_reported(tmp_path):
    calls: list[tuple[int, int]] = []
    spec = load_sweep(_spec(tmp_path, high=2, samples=10), lambda done, total: calls.append((done, total)))
    assert spec.points == 20 and spec.count <= 4 and spec.duplicates == 20 - spec.count
    assert calls == [(20, 20)]
    assert isinstance(spec.base, LoadedScenario)
