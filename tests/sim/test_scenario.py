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
        ("warmup_h = 48\n" + MINIMAL, [], r"s\.toml: warmup_h: must be < horizon_h \(=48 h\), got 48$"),
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


# -- blame through network resolution ------------------------------------------------


def test_reference_errors_in_the_file_name_the_file_even_with_overrides(tmp_path):
    path = _write(tmp_path, MINIMAL + "[workload.batch.origins]\nnowhere = 1.0\n")
    with pytest.raises(ConfigError, match=r"s\.toml: workload\.batch\.origins\.nowhere: no region 'nowhere'"):
        load_scenario(path, ["horizon_h=24"])


def test_reference_errors_from_an_override_name_set(tmp_path):
    path = _write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError, match=r"^--set: workload\.batch\.origins\.nowhere: no region 'nowhere'"):
        load_scenario(path, ["workload.batch.origins={nowhere=1}"])
    with pytest.raises(ConfigError, match=r"^--set: workload\.batch\.origins\.nowhere: no region"):
        load_scenario(path, ["workload.batch.origins.nowhere=1"])


def test_adoption_reference_blame_follows_the_key(tmp_path):
    adoption = "[adoption.industries.retail]\njobs_per_adopter_per_h = { nope = 1e-6 }\n"
    path = _write(tmp_path, MINIMAL + adoption)
    key = r"adoption\.industries\.retail\.jobs_per_adopter_per_h\.nope: "
    with pytest.raises(ConfigError, match=r"s\.toml: " + key):
        load_scenario(path, ["horizon_h=24"])
    with pytest.raises(ConfigError, match=r"^--set: " + key):
        load_scenario(_write(tmp_path, MINIMAL, "t.toml"),
                      ["adoption.industries.retail.jobs_per_adopter_per_h={nope=1e-6}"])


def test_file_reference_error_named_against_the_file_when_network_is_overridden(tmp_path):
    # The unknown site is in the file; --set changed the network, but the key is the file's.
    path = _write(tmp_path, MINIMAL + "[sites.cl_zhongwei]\ngpus = 8\n")
    with pytest.raises(ConfigError, match=r"s\.toml: sites\.cl_zhongwei: no site 'cl_zhongwei'"):
        load_scenario(path, ["network=belt_and_road"])
    with pytest.raises(ConfigError, match=r"^--set: sites\.nope: no site 'nope'"):
        load_scenario(path, ["sites.nope.gpus=4"])


# -- messages describe the input -------------------------------------------------------


def test_control_characters_from_the_input_are_escaped(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_scenario(_write(tmp_path, MINIMAL), ['policy="near\\nest\\u001b[31m"'])
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message
    assert r"near\nest\x1b[31m" in message
    with pytest.raises(ConfigError) as info:
        load_scenario(_write(tmp_path, MINIMAL), ['"bad\\tkey"=1'])
    assert "\t" not in str(info.value)


def test_a_model_level_error_names_its_key_and_does_not_dump_the_scenario(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_scenario(None, ["warmup_h=720", "horizon_h=720"])
    message = str(info.value)
    assert message == "--set: warmup_h: must be < horizon_h (=720 h), got 720"
    with pytest.raises(ConfigError) as info:
        load_scenario(_write(tmp_path, MINIMAL), ["workload.batch.gpus=[1, 2]"])
    assert len(str(info.value)) < 300


def test_size_limits_do_not_change_the_scenario_id(tmp_path):
    path = _write(tmp_path, MINIMAL)
    base = load_scenario(path)
    assert load_scenario(path, ["engine.max_events=1000000", "engine.max_memory_gb=3"]).scenario_id == base.scenario_id
    assert load_scenario(path, ["engine.arrival_step_h=12"]).scenario_id != base.scenario_id


def test_blame_reaches_into_lists_an_override_replaced():
    segment = "adoption.segment=[{region='nowhere', industry='retail'}]"
    with pytest.raises(ConfigError, match=r"^--set: adoption\.segment\[0\]\.region: no region 'nowhere'"):
        load_scenario("examples/adoption.toml", [segment])


def test_odd_names_in_adoption_references_are_quoted(tmp_path):
    # Found by the input fuzz test: a class name with spaces and '=' broke the key path.
    adoption = '[adoption.industries.retail]\njobs_per_adopter_per_h = { "= =x" = 1e-6 }\n'
    path = _write(tmp_path, MINIMAL + adoption)
    with pytest.raises(ConfigError, match=r'adoption\.industries\.retail\.jobs_per_adopter_per_h\."= =x": '):
        load_scenario(path)


@pytest.mark.parametrize(("gpus", "low", "high"), [(100, None, 4_000), (20_000, 1_603, None), (2_000, 1_603, 4_000)])
def test_a_gpus_override_outside_the_published_range_drops_the_end_it_breaks(gpus, low, high):
    # gpu_cm_pool_beijing: 1,603 / 3,205 / 4,000 GPUs (low / central / high).  The resolved network is what
    # manifest.json records and `cpnsim report` reads back through validation: it must still validate.
    from topology.model import Network

    base = next(s for s in load_scenario("examples/national.toml").network.sites if s.id == "gpu_cm_pool_beijing")
    assert (base.gpus_low, base.gpus, base.gpus_high) == (1_603, 3_205, 4_000)
    network = load_scenario("examples/national.toml", [f"sites.gpu_cm_pool_beijing.gpus={gpus}"]).network
    site = next(s for s in network.sites if s.id == "gpu_cm_pool_beijing")
    assert (site.gpus_low, site.gpus, site.gpus_high) == (low, gpus, high)
    assert Network.model_validate(network.model_dump()) == network
