"""The Python API, ``cluster.run`` and ``cluster.sweep``: every input form gives the CLI's tables."""

import json
import re
import tomllib
from pathlib import Path

import pyarrow.dataset as ds
import pytest

import cluster
from sim.scenario import load_scenario
from topology.plumbing import ConfigError, CpnsimError

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "edwc.toml"
SHORT = {"horizon_h": 48, "metric_interval_h": 12, "warmup_h": 0}
SHORT_SET = ["horizon_h=48", "metric_interval_h=12", "warmup_h=0"]


def _same(a, b):
    assert sorted(a) == sorted(b)
    for name in set(a) - {"timings"}:  # timings are wall-clock measurements
        assert a[name].equals(b[name], check_metadata=True), name


def test_path_dict_and_scenario_give_the_same_tables():
    by_path = cluster.run(EXAMPLE, SHORT, seed=3)
    data = tomllib.loads(EXAMPLE.read_text())
    by_dict = cluster.run(data, SHORT, seed=3)
    _same(by_path, by_dict)
    loaded = load_scenario(EXAMPLE, SHORT_SET, seed=3)
    _same(by_path, cluster.run(loaded.scenario))
    # --set strings are accepted as overrides too
    _same(by_path, cluster.run(str(EXAMPLE), SHORT_SET, seed=3))


def test_result_equals_the_cli_dataset(run_cli, tmp_path):
    out = tmp_path / "cli"
    sets = [word for item in SHORT_SET for word in ("--set", item)]
    result = run_cli("run", str(EXAMPLE), *sets, "--seed", "3", "--out", str(out), "--set", "replications=2")
    assert result.returncode == 0, result.stderr
    tables = cluster.run(EXAMPLE, SHORT, seed=3, replications=2)
    assert tables["runs"].num_rows == 2
    for name in ("runs", "sites", "links"):
        on_disk = ds.dataset(out / name, format="ipc").to_table()
        assert on_disk.drop_columns([]).equals(tables[name], check_metadata=True), name


def test_out_writes_the_dataset_and_refuses_to_replace_it(tmp_path):
    out = tmp_path / "o"
    tables = cluster.run(overrides=SHORT, out=out, seed=1)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "run" and manifest["seed"] == 1
    assert cluster.read_table(out, "sites").equals(tables["sites"])
    with pytest.raises(ConfigError, match="already holds a cpnsim dataset; pass --overwrite"):
        cluster.run(overrides=SHORT, out=out, seed=2)
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1
    cluster.run(overrides=SHORT, out=out, seed=2, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2


def test_schema_json_is_in_the_dataset_before_the_rename_that_commits_it(tmp_path, monkeypatch):
    import cluster.api as api

    seen_at_commit: list[list[str]] = []
    real = api._replace_dir

    def spy(new, out):
        seen_at_commit.append(sorted(p.name for p in new.iterdir()))
        real(new, out)

    monkeypatch.setattr(api, "_replace_dir", spy)
    out = tmp_path / "o"
    cluster.run(overrides=SHORT, out=out, seed=1)
    assert len(seen_at_commit) == 1 and "schema.json" in seen_at_commit[0] and "manifest.json" in seen_at_commit[0]
    document = json.loads((out / "schema.json").read_text())
    assert document["scenario_ids"] == [json.loads((out / "manifest.json").read_text())["scenario_id"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no staging or old directory left


@pytest.mark.parametrize("existing", [False, True], ids=["new", "replacing"])
def test_a_failure_before_the_rename_leaves_nothing_new(tmp_path, monkeypatch, existing):
    import cluster.dataset_schema

    out = tmp_path / "o"
    if existing:
        cluster.run(overrides=SHORT, out=out, seed=1)
    before = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cluster.dataset_schema, "write_schema_json", fail)
    with pytest.raises(OSError, match="disk full"):
        cluster.run(overrides=SHORT, out=out, seed=2, overwrite=True)
    after = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # the old dataset (or nothing) as it was, no staging directory
    assert sorted(p.name for p in tmp_path.iterdir()) == (["o"] if existing else [])


@pytest.mark.parametrize(
    ("scenario", "overrides", "pattern"),
    [
        (None, {"horizn_h": 10}, r"^overrides: horizn_h: unknown key \(did you mean 'horizon_h'\?\)$"),
        (None, {"horizon_h": -1}, r"^overrides: horizon_h: Input should be greater than 0"),
        ({"horizon_h": "long"}, None, r"^<dict>: horizon_h: "),
        (None, {"": 1}, r"^overrides: '': expected a dotted key path"),
        (None, ["horizon_h"], r"--set: horizon_h: expected key\.path=value"),
        (42, None, r"^scenario: expected a TOML file path, a dict or a Scenario, got int$"),
        ("missing.toml", None, r"^missing\.toml: file not found"),
    ],
)
def test_bad_input_raises_one_line_cpnsim_error(scenario, overrides, pattern):
    with pytest.raises(CpnsimError) as info:
        cluster.run(scenario, overrides)
    assert "\n" not in str(info.value)
    assert re.search(pattern, str(info.value)), str(info.value)


def test_network_reference_errors_name_the_overrides():
    with pytest.raises(ConfigError, match=r"^overrides: sites\.nowhere: no site 'nowhere' in network"):
        cluster.run(EXAMPLE, {"sites.nowhere.gpus": 8})


def test_errors_found_with_the_network_name_the_overrides_only_for_keys_they_set():
    data = tomllib.loads(EXAMPLE.read_text())
    data["workload"]["batch"]["origins"] = {"nowhere": 1.0}
    for overrides in (SHORT, SHORT_SET, None):
        with pytest.raises(ConfigError, match=r"^<dict>: workload\.batch\.origins\.nowhere: no region"):
            cluster.run(data, overrides, seed=3)
    big = {"horizon_h": 8760, "workload": {"batch": {"arrival_rate_per_h": 1e6,
                                                      "work_gpu_h": {"dist": "exponential", "mean": 1.0}}}}
    with pytest.raises(ConfigError, match=r"^<dict>: engine\.max_events: "):
        cluster.run(big, {"policy": "nearest"})
    with pytest.raises(ConfigError, match=r"^overrides: engine\.max_events: "):
        cluster.run(big, {"replications": 2})


BASE = str(ROOT / "examples" / "east_west_nearest.toml")
SPEC = {"seed": 5, "base": BASE, "replications": 1,
        "axis": [{"key": "policy", "grid": ["nearest", "least_loaded"]},
                 {"key": "sites.cl_zhongwei.gpus", "grid": [256, 512]}]}


def test_sweep_from_dict_equals_the_cli_sweep_from_the_same_spec_file(run_cli, tmp_path):
    spec_file = tmp_path / "spec.toml"  # written by hand, as a user would
    spec_file.write_text(
        f'seed = 5\nbase = "{BASE}"\nreplications = 1\n'
        '[[axis]]\nkey = "policy"\ngrid = ["nearest", "least_loaded"]\n'
        '[[axis]]\nkey = "sites.cl_zhongwei.gpus"\ngrid = [256, 512]\n')
    assert tomllib.loads(spec_file.read_text()) == SPEC
    out = tmp_path / "cli"
    result = run_cli("sweep", str(spec_file), "--out", str(out), "--executor", "serial", "--quiet")
    assert result.returncode == 0, result.stderr
    tables = cluster.sweep(SPEC)
    assert tables["runs"].num_rows == 4
    key = ["scenario_id", "replication"]
    for name in ("runs", "sites"):
        on_disk = cluster.read_table(out, name).sort_by([(k, "ascending") for k in key])
        mine = tables[name].sort_by([(k, "ascending") for k in key])
        assert on_disk.drop_columns(["wall_time_s"] if "wall_time_s" in on_disk.column_names else []).equals(
            mine.drop_columns(["wall_time_s"] if "wall_time_s" in mine.column_names else [])), name


def test_sweep_writes_when_out_is_given_and_errors_are_cpnsim_errors(tmp_path):
    out = tmp_path / "s"
    tables = cluster.sweep(SPEC, out=out)
    assert sorted(cluster.read_table(out, "runs").column("scenario_id").to_pylist()) == sorted(
        tables["runs"].column("scenario_id").to_pylist())
    with pytest.raises(ConfigError, match="already holds a cpnsim dataset"):
        cluster.sweep(SPEC, out=out)
    with pytest.raises(ConfigError, match=r"^<dict>: axis\[0\]\.key"):
        cluster.sweep({"axis": [{"key": "horizn_h", "grid": [1, 2]}]})
    with pytest.raises(ConfigError, match="spec: expected a sweep spec TOML file path or a dict"):
        cluster.sweep(3)  # type: ignore[arg-type]


def _readme_block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    after = text[text.index(f"<!-- test:{marker} -->"):]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_python_api_example_runs(tmp_path, monkeypatch, capsys):
    code = _readme_block("python-api").replace('"examples/', f'"{ROOT}/examples/')
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["runs"].shape[0] == 2
    assert namespace["by_policy"].shape == (3, 2)  # three sizes x two policies
    assert (tmp_path / "cpnsim-out" / "notebook-sweep" / "manifest.json").exists()
    printed = capsys.readouterr().out
    assert "least_loaded" in printed and "wait_mean_h" in printed


@pytest.mark.slow
def test_sweep_on_ray_equals_serial():
    serial = cluster.sweep(SPEC, executor="serial")
    ray = cluster.sweep(SPEC, executor="ray", num_cpus=2)
    key = [("scenario_id", "ascending"), ("replication", "ascending")]
    for name in set(serial) - {"timings"}:
        a, b = serial[name], ray[name]
        if "t_start_h" in a.column_names:
            key_t = [*key, ("t_start_h", "ascending")] + ([("site_id", "ascending")] if "site_id" in a.column_names
                                                          else [("link_id", "ascending")])
        else:
            key_t = key
        assert a.sort_by(key_t).equals(b.sort_by(key_t)), name
