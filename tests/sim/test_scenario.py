from pathlib import Path

import pytest

from sim.scenario import DEFAULT_SCENARIO, apply_overrides, load_scenario
from topology.plumbing import ConfigError, TopologyError

MINIMAL = """
name = "tiny"
horizon_h = 48.0
[workload.batch]
arrival_rate_per_h = 2.0
work_gpu_h = { dist = "exponential", mean = 1.0 }
"""


def _write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_scenario_loads():
    loaded = load_scenario()
    assert loaded.source == DEFAULT_SCENARIO
    assert loaded.network.name == "default"
    assert set(loaded.scenario.workload) == {"training", "finetune", "batch", "inference"}


def test_minimal_file_gets_defaults(tmp_path):
    loaded = load_scenario(_write(tmp_path, MINIMAL))
    assert loaded.scenario.policy == "least_loaded"
    assert loaded.scenario.workload["batch"].gpus.expected() == 1


def test_overrides_are_typed_and_seed_replaces(tmp_path):
    loaded = load_scenario(_write(tmp_path, MINIMAL), ["horizon_h=100", "policy=nearest",
                                                        "workload.batch.arrival_rate_per_h=3.5"], seed=9)
    assert loaded.scenario.horizon_h == 100.0
    assert loaded.scenario.policy == "nearest"
    assert loaded.scenario.workload["batch"].arrival_rate_per_h == 3.5
    assert loaded.scenario.seed == 9


def test_site_override_changes_the_network(tmp_path):
    loaded = load_scenario(_write(tmp_path, MINIMAL), ["sites.cl_zhongwei.gpus=4096"])
    gpus = {s.id: s.gpus for s in loaded.network.sites}
    assert gpus["cl_zhongwei"] == 4096
    assert gpus["cl_guian"] == 1024


@pytest.mark.parametrize(
    ("text", "overrides", "pattern"),
    [
        ("horizn_h = 3\n" + MINIMAL, [], r"s\.toml: horizn_h: unknown key \(did you mean 'horizon_h'\?\)"),
        (MINIMAL.replace("work_gpu_h", "work_gpu_hours"), [],
         r"s\.toml: workload\.batch\.work_gpu_hours: unknown key \(did you mean 'work_gpu_h'\?\)"),
        (MINIMAL.replace('mean = 1.0', 'mean = 1.0, sigma = 2'), [],
         r"s\.toml: workload\.batch\.work_gpu_h\.sigma: unknown key; valid keys: dist, mean"),
        (MINIMAL.replace("48.0", '"two days"'), [], r"s\.toml: horizon_h: .*number.*'two days'"),
        (MINIMAL.replace("48.0", "-5"), [], r"s\.toml: horizon_h: Input should be greater than 0, got -5"),
        ("policy = 'nearst'\n" + MINIMAL, [],
         r"s\.toml: policy: .*unknown policy 'nearst' \(did you mean 'nearest'\?\)"),
        ("warmup_h = 48\n" + MINIMAL, [], r"warmup_h \(=48.0\) must be < horizon_h"),
        (MINIMAL, ["sites.cl_zhongwe.gpus=10"], r"--set: sites\.cl_zhongwe: no site 'cl_zhongwe' in network "
                                                r"\(did you mean 'cl_zhongwei'\?\)"),
        (MINIMAL, ["sites.cl_zhongwei.gpus=-10"], r"--set: sites\.cl_zhongwei\.gpus: Input should be greater than 0"),
        (MINIMAL, ["horizn_h=1"], r"--set: horizn_h: unknown key \(did you mean 'horizon_h'\?\)"),
        (MINIMAL, ["horizon_h"], r"--set: horizon_h: expected key\.path=value"),
        (MINIMAL + "[workload.batch.origins]\ndr_cn_btth = 1.0\n", [],
         r"workload\.batch\.origins\.dr_cn_btth: no region 'dr_cn_btth' in network \(did you mean 'dr_cn_bth'\?\)"),
        ("name = 'x'\nhorizon_h = [\n", [], r"s\.toml: malformed TOML"),
        ("name = 'x'\n", [], r"s\.toml: workload: required key is missing"),
    ],
)
def test_bad_input_is_one_line_naming_file_and_key(tmp_path, text, overrides, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        load_scenario(_write(tmp_path, text), overrides)
    assert "\n" not in str(info.value)


def test_missing_scenario_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: file not found"):
        load_scenario(tmp_path / "nope.toml")


def test_network_file_relative_to_scenario(tmp_path):
    (tmp_path / "nets").mkdir()
    _write(tmp_path / "nets", """
name = "two"
[[site]]
id = "a"
lat = 0
lon = 0
gpus = 4
[[region]]
id = "r"
lat = 0
lon = 1
[[link]]
id = "l"
a = "r"
b = "zz"
""", "two.toml")
    pattern = r"s\.toml: network: .*two\.toml: link\[0\]\.b: 'zz' is not a site or region id"
    with pytest.raises(TopologyError, match=pattern):
        load_scenario(_write(tmp_path, 'network = "nets/two.toml"\n' + MINIMAL))


def test_scenario_id_is_stable_and_sensitive(tmp_path):
    path = _write(tmp_path, MINIMAL)
    a, b = load_scenario(path), load_scenario(path)
    assert a.scenario_id == b.scenario_id and len(a.scenario_id) == 16
    assert load_scenario(path, seed=2).scenario_id != a.scenario_id
    assert load_scenario(path, ["sites.cl_guian.gpus=8"]).scenario_id != a.scenario_id


def test_apply_overrides_does_not_touch_its_input():
    data = {"a": {"b": 1}}
    assert apply_overrides(data, ["a.c=[1, 2]", "x.y.z=true"]) == {"a": {"b": 1, "c": [1, 2]}, "x": {"y": {"z": True}}}
    assert data == {"a": {"b": 1}}
