"""Sweep specs, the serial sweep loop, failed scenarios, resume, and the sweep dataset."""

import json
from pathlib import Path

import pyarrow as pa
import pytest

from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.batch import concat_tables
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from cluster.sweeps.writer import SweepWriter
from sim.run import run_scenario
from topology.plumbing import ConfigError

SMALL = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "small-grid.toml"

BASE = '''
base = "{base}"
seed = 5
replications = 1
'''


def _spec(tmp_path, axes, top=None, name="spec.toml"):
    text = top if top is not None else BASE.format(base=str(SMALL.parent.parent / "east_west_nearest.toml"))
    path = tmp_path / name
    path.write_text(text + axes, encoding="utf-8")
    return path


TINY = '''
[[axis]]
key = "horizon_h"
grid = [48.0]

[[axis]]
key = "policy"
grid = ["nearest", "least_loaded"]

[[axis]]
key = "sites.cl_zhongwei.gpus"
grid = [256, 1024]
'''


def test_small_grid_expands_to_six_distinct_scenarios():
    spec = load_sweep(SMALL)
    assert len(spec.scenarios) == 6 and len(set(spec.ids)) == 6
    assert {s.scenario.policy for s in spec.scenarios} == {"nearest", "least_loaded"}
    gpus = {next(x.gpus for x in s.network.sites if x.id == "cl_zhongwei") for s in spec.scenarios}
    assert gpus == {512, 1024, 2048}
    assert all(s.scenario.replications == 2 and s.scenario.horizon_h == 240 for s in spec.scenarios)
    assert load_sweep(SMALL).ids == spec.ids


def test_ids_and_seeds_do_not_depend_on_axis_order_or_position(tmp_path):
    a = load_sweep(_spec(tmp_path, TINY, name="a.toml"))
    reordered = TINY.replace('grid = ["nearest", "least_loaded"]', 'grid = ["least_loaded", "nearest"]')
    b = load_sweep(_spec(tmp_path, reordered, name="b.toml"))
    assert sorted(a.ids) == sorted(b.ids) and a.ids != b.ids
    seeds = {s.scenario.seed for s in a.scenarios}
    assert len(seeds) == 4  # each scenario its own seed, derived from the sweep seed
    c = load_sweep(_spec(tmp_path, TINY.replace("[256, 1024]", "[256, 1024, 2048]"), name="c.toml"))
    assert set(a.ids) < set(c.ids)


@pytest.mark.parametrize("method", ["random", "latin_hypercube", "sobol"])
def test_sampled_axes_are_joint_in_range_and_rounded(tmp_path, method):
    axes = f'''
[[axis]]
key = "policy"
grid = ["nearest", "least_loaded"]

[[axis]]
key = "sites.cl_zhongwei.gpus"
method = "{method}"
low = 256
high = 4096
samples = 4

[[axis]]
key = "workload.batch.arrival_rate_per_h"
method = "{method}"
low = 10.0
high = 30.0
samples = 4
'''
    spec = load_sweep(_spec(tmp_path, axes))
    assert len(spec.scenarios) == 8
    gpus = [next(x.gpus for x in s.network.sites if x.id == "cl_zhongwei") for s in spec.scenarios]
    rates = [s.scenario.workload["batch"].arrival_rate_per_h for s in spec.scenarios]
    assert all(isinstance(g, int) and 256 <= g <= 4096 for g in gpus)
    assert all(10.0 <= r <= 30.0 for r in rates) and len(set(rates)) == 4
    assert load_sweep(_spec(tmp_path, axes, name="again.toml")).ids == spec.ids


@pytest.mark.parametrize(
    ("axis", "match"),
    [
        ('key = "sites.cl_zhongwe.gpus"\ngrid = [1]', r"axis\[0\]\.key: .*did you mean 'cl_zhongwei'"),
        ('key = "horizn_h"\ngrid = [1.0]', r"axis\[0\]\.key: .*did you mean 'horizon_h'"),
        ('key = "policy"\ngrid = []', r"axis\[0\]\.grid: expected a non-empty list"),
        ('key = "horizon_h"\nmethod = "random"\nlow = 5.0\nhigh = 5.0\nsamples = 2', r"axis\[0\]\.low: must be <"),
        ('key = "horizon_h"\nmethod = "random"\nlow = 1.0\nhigh = 5.0\nsamples = 0', r"axis\[0\]\.samples"),
        ('key = "horizon_h"\nmethod = "sobolo"\nlow = 1.0\nhigh = 5.0\nsamples = 2', r"did you mean 'sobol'"),
        ('key = "horizon_h"\ngrid = [1.0]\nstep = 2', r"axis\[0\]\.step: unknown key"),
        ('key = "seed"\ngrid = [1]', r"axis\[0\]\.key: 'seed' cannot be swept"),
    ],
)
def test_invalid_specs_name_file_and_key(tmp_path, axis, match):
    path = _spec(tmp_path, f"\n[[axis]]\n{axis}\n")
    with pytest.raises(ConfigError, match=match) as info:
        load_sweep(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_cli_rejects_a_bad_spec_with_exit_2_and_writes_nothing(run_cli, tmp_path):
    path = _spec(tmp_path, '\n[[axis]]\nkey = "policy"\ngrid = []\n')
    result = run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "serial")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "axis[0].grid" in result.stderr
    assert not (tmp_path / "out").exists()


def _sorted(table, keys=("scenario_id", "replication")):
    return table.sort_by([(k, "ascending") for k in keys]).to_pylist()


def test_serial_sweep_writes_one_part_per_batch(tmp_path):
    spec = load_sweep(_spec(tmp_path, TINY))
    report = run_sweep(spec, tmp_path / "out", SerialExecutor(), batch_size=3)
    assert (report.total, report.done, report.failed, report.skipped) == (4, 4, 0, 0)
    manifest = read_manifest(tmp_path / "out")
    assert manifest.kind == "sweep" and manifest.complete is True
    assert sorted(manifest.done or ()) == sorted(spec.ids)
    writer = json.loads((tmp_path / "out" / "journal.jsonl").read_text().splitlines()[0])["writer"]["writer"]
    assert manifest.tables["runs"].parts == (f"part-00000-{writer}.arrow", f"part-00001-{writer}.arrow")
    assert manifest.journal_commits == 2 and not (tmp_path / "out" / "writer.lock").exists()
    runs = read_table(tmp_path / "out", "runs")
    assert runs.num_rows == 4 and set(runs.column("status").to_pylist()) == {"ok"}


def test_a_failing_scenario_becomes_a_failed_row_and_the_sweep_goes_on(tmp_path):
    spec = load_sweep(_spec(tmp_path, TINY))
    bad = spec.ids[1]

    def runner(loaded):
        if loaded.scenario_id == bad:
            raise RuntimeError("boom at t=3 h")
        return run_scenario(loaded)

    report = run_sweep(spec, tmp_path / "out", SerialExecutor(runner), batch_size=2)
    assert (report.done, report.failed) == (3, 1)
    runs = read_table(tmp_path / "out", "runs")
    failed = [r for r in runs.to_pylist() if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["scenario_id"] == bad
    assert failed[0]["error"] == "RuntimeError: boom at t=3 h" and failed[0]["jobs_done"] is None
    assert failed[0]["param.policy"] in {"nearest", "least_loaded"}
    assert read_manifest(tmp_path / "out").failed == (bad,)
    assert bad not in set(read_table(tmp_path / "out", "sites").column("scenario_id").to_pylist())


def test_resume_retry_failed_replaces_the_failed_rows(tmp_path):
    spec = load_sweep(_spec(tmp_path, TINY))
    bad = {spec.ids[1], spec.ids[2]}  # one in each batch of 2, each beside an ok scenario

    def runner(loaded):
        if loaded.scenario_id in bad:
            raise RuntimeError("node lost")
        return run_scenario(loaded)

    out, clean = tmp_path / "out", tmp_path / "clean"
    run_sweep(spec, out, SerialExecutor(runner), batch_size=2)
    assert set(read_manifest(out).failed or ()) == bad
    with pytest.raises(ConfigError, match="--retry-failed: only with --resume"):
        run_sweep(spec, out, SerialExecutor(), retry_failed=True)
    plain = run_sweep(spec, out, SerialExecutor(), resume=True)  # a failed row counts as done...
    assert (plain.skipped, plain.done, plain.retried) == (4, 0, 0)
    report = run_sweep(spec, out, SerialExecutor(), resume=True, retry_failed=True, batch_size=1)
    assert (report.retried, report.skipped, report.done, report.failed) == (2, 2, 2, 0)  # ...until retried
    manifest = read_manifest(out)
    assert manifest.complete is True and manifest.failed == () and sorted(manifest.done or ()) == sorted(spec.ids)
    run_sweep(spec, clean, SerialExecutor())
    for table, keys in (("runs", ("scenario_id", "replication")),
                        ("sites", ("scenario_id", "replication", "site_id", "t_end_h"))):
        assert _sorted(read_table(out, table), keys) == _sorted(read_table(clean, table), keys), table
    for name, entry in manifest.tables.items():  # the replaced parts are gone from disk too
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(entry.parts), name
    assert manifest.tables["runs"].rows == read_table(out, "runs").num_rows == 4


class _Interrupted(SerialExecutor):
    """Runs only the first ``n`` batches, then stops as a killed driver would."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def map(self, batches):
        for i, result in enumerate(super().map(batches)):
            if i == self.n:
                raise KeyboardInterrupt
            yield result


def test_resume_skips_done_ids_and_equals_a_clean_run(tmp_path):
    spec = load_sweep(_spec(tmp_path, TINY))
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out, _Interrupted(2), batch_size=1)
    assert len(read_manifest(out).done or ()) == 2 and read_manifest(out).complete is False
    (out / "runs" / "part-00009.arrow").write_bytes(b"half-written")  # an orphan from a killed driver
    with pytest.raises(ConfigError, match="--resume"):
        run_sweep(spec, out, SerialExecutor())
    report = run_sweep(spec, out, SerialExecutor(), resume=True, batch_size=1)
    assert (report.skipped, report.done) == (2, 2)
    assert not (out / "runs" / "part-00009.arrow").exists()
    clean = tmp_path / "clean"
    run_sweep(spec, clean, SerialExecutor())
    for table, keys in (("runs", ("scenario_id", "replication")),
                        ("sites", ("scenario_id", "replication", "site_id", "t_end_h"))):
        assert _sorted(read_table(out, table), keys) == _sorted(read_table(clean, table), keys)
    run_sweep(spec, out, SerialExecutor(), overwrite=True)
    assert read_manifest(out).tables["runs"].rows == 4


def test_resume_refuses_a_different_spec(tmp_path):
    out = tmp_path / "out"
    run_sweep(load_sweep(_spec(tmp_path, TINY)), out, SerialExecutor())
    other = load_sweep(_spec(tmp_path, TINY.replace("[256, 1024]", "[256]"), name="other.toml"))
    with pytest.raises(ConfigError, match="another spec"):
        run_sweep(other, out, SerialExecutor(), resume=True)


def test_parts_with_different_param_columns_are_unified_on_read(tmp_path):
    writer = SweepWriter(tmp_path / "d", {"kind": "sweep", "spec": {}})
    writer.add({"runs": pa.table({"scenario_id": ["a"], "param.x": pa.array([1], pa.int64())})}, ["a"], [])
    writer.add({"runs": pa.table({"scenario_id": ["b"], "param.x": [2.5], "param.y": ["z"]})}, ["b"], [])
    runs = read_table(tmp_path / "d", "runs")
    assert runs.column("param.x").to_pylist() == [1.0, 2.5]
    assert runs.column("param.y").to_pylist() == [None, "z"]
    assert concat_tables([pa.table({"a": [1]}), pa.table({"b": [None]})]).num_rows == 2


def test_a_finished_sweep_has_schema_json_and_stamped_parts(tmp_path):
    from cluster.dataset_schema import SCHEMA_JSON
    from cluster.sweeps.schema import sweep_schema
    from cluster.sweeps.store import read_part

    spec = load_sweep(_spec(tmp_path, TINY))
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):  # a first session stops after one batch: no schema.json yet
        run_sweep(spec, out, SerialExecutor(), batch_size=1, on_batch=_interrupt_after(1))
    assert not (out / SCHEMA_JSON).exists()
    run_sweep(spec, out, SerialExecutor(), resume=True, batch_size=1)

    manifest = read_manifest(out)
    document = json.loads((out / SCHEMA_JSON).read_text())
    assert document["scenario_ids"] == sorted(spec.ids) == sorted(manifest.done or ())
    assert document["tables"] == sorted(manifest.tables)
    runs_columns = [c["name"] for c in document["columns"] if c["table"] == "runs"]
    assert runs_columns == sweep_schema(spec.scenarios).names  # the sweep-wide schema, every param.* column
    units = {c["name"]: c["unit"] for c in document["columns"] if c["table"] == "sites"}
    assert units["utilisation"] == read_table(out, "sites").schema.field("utilisation").metadata[b"unit"].decode()
    assert {c["table"] for c in document["columns"]} == set(manifest.tables)
    # A session that runs nothing describes the tables of earlier sessions (read back from a part) the same way.
    (out / SCHEMA_JSON).unlink()
    assert run_sweep(spec, out, SerialExecutor(), resume=True).done == 0
    assert json.loads((out / SCHEMA_JSON).read_text()) == document

    for name, entry in manifest.tables.items():
        ids: list[str] = []
        for part in entry.parts:
            table = read_part(out / name / part)
            meta = table.schema.metadata
            assert meta[b"cpnsim.version"].decode() == manifest.cpnsim.version
            part_ids = json.loads(meta[b"cpnsim.scenario_ids"])
            assert set(table.column("scenario_id").to_pylist()) <= set(part_ids)
            ids += part_ids
        if name == "runs":
            assert sorted(ids) == sorted(spec.ids)  # each scenario in exactly one part


def _interrupt_after(n):
    seen = []

    def on_batch(result):
        seen.append(result)
        if len(seen) >= n:
            raise KeyboardInterrupt

    return on_batch
