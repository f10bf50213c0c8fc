"""What a tiny scenario keeps instead of recomputing (issue 20) goes stale nowhere.

The scenario id is hashed once per scenario object (or handed over by a sweep's batch),
the ``param.*`` names and fields are kept per layout, and the tables are built on first
use: each test changes one thing and checks that what is kept follows it.
"""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pytest

from sim.run import _param_fields, run_scenario
from sim.scenario import LoadedScenario, load_scenario
from sim.tables import flatten_params


def _id_by_hand(loaded: LoadedScenario) -> str:
    """The id as docs/model.md defines it, computed here without LoadedScenario.digest."""
    config = loaded.scenario.model_dump(mode="json", exclude={"network"})
    for limit in ("max_events", "max_memory_gb"):
        config.get("engine", {}).pop(limit, None)
    payload = {"scenario": config, "network": loaded.network.model_dump(mode="json")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def test_two_scenarios_one_parameter_apart_get_their_own_ids_and_params_rows():
    a = load_scenario(None, ["horizon_h=1"])
    b = load_scenario(None, ["horizon_h=1", "workload.batch.arrival_rate_per_h=7.25"])
    assert a.scenario_id == _id_by_hand(a) and b.scenario_id == _id_by_hand(b)
    assert a.scenario_id != b.scenario_id
    runs_a, runs_b = run_scenario(a).runs, run_scenario(b).runs
    assert runs_a["scenario_id"].to_pylist() == [a.scenario_id]
    assert runs_b["scenario_id"].to_pylist() == [b.scenario_id]
    key = "param.workload.batch.arrival_rate_per_h"
    assert runs_b[key].to_pylist() == [7.25] and runs_a[key].to_pylist() != [7.25]
    # Every other parameter is the same in both rows.
    params = [n for n in runs_a.column_names if n.startswith("param.") and n != key]
    assert runs_a.select(params).equals(runs_b.select(params))


def test_the_id_is_kept_per_object_not_per_content_seen_before():
    a = load_scenario(None, ["horizon_h=1"])
    first = a.scenario_id
    b = LoadedScenario(a.scenario.model_copy(update={"seed": a.scenario.seed + 1}), a.network, a.source)
    assert b.scenario_id == _id_by_hand(b) != first  # a new object hashes its own content
    assert a.scenario_id == first


def test_a_handed_over_id_is_used_and_only_by_its_object():
    a = load_scenario(None, ["horizon_h=1"])
    b = LoadedScenario(a.scenario, a.network, a.source)
    assert b.known_as("0123456789abcdef") is b and b.scenario_id == "0123456789abcdef"
    assert run_scenario(b).runs["scenario_id"].to_pylist() == ["0123456789abcdef"]
    assert a.scenario_id == _id_by_hand(a)


def test_flatten_params_follows_a_changed_layout_under_the_same_keys():
    # The same key names, but a value turns into a table, a list, or another list: names are kept
    # per layout, values never.
    assert flatten_params({"a": 1, "b": {"c": 2}}) == {"param.a": 1, "param.b.c": 2}
    assert flatten_params({"a": 1, "b": {"d": 2}}) == {"param.a": 1, "param.b.d": 2}
    assert flatten_params({"a": {"x": 1}, "b": 3}) == {"param.a.x": 1, "param.b": 3}
    assert flatten_params({"a": [1, 2], "b": 3}) == {"param.a": "[1, 2]", "param.b": 3}
    assert flatten_params({"a": [1.0, 2], "b": 3}) == {"param.a": "[1.0, 2]", "param.b": 3}
    assert flatten_params({"a": [True], "b": 3}) == {"param.a": "[true]", "param.b": 3}
    assert flatten_params({"a": [{"k": 1}], "b": None}) == {"param.a": '[{"k": 1}]', "param.b": None}
    assert flatten_params({"a": 1}, "x.") == {"x.a": 1}


def test_param_fields_follow_a_value_type_change():
    # Same parameter names, an int in one scenario and a float in the next: each runs table has its own type.
    a = run_scenario(load_scenario(None, ["horizon_h=1", "seed=5"])).runs
    b = run_scenario(load_scenario(None, ["horizon_h=1", "seed=5", "workload.batch.arrival_rate_per_h=3"])).runs
    c = run_scenario(load_scenario(None, ["horizon_h=1", "seed=5", "sites.cl_zhongwei.gpus=600"])).runs
    assert a.schema.field("param.seed").type == pa.int64()
    assert b.schema.field("param.workload.batch.arrival_rate_per_h").type == pa.float64()  # pydantic made it float
    assert "param.sites.cl_zhongwei.gpus" in c.column_names and "param.sites.cl_zhongwei.gpus" not in a.column_names
    assert c.schema.field("param.sites.cl_zhongwei.gpus").type == pa.int64()
    assert c["param.sites.cl_zhongwei.gpus"].to_pylist() == [600]


def test_tables_are_built_once_and_equal_the_parts():
    result = run_scenario(load_scenario(None, ["horizon_h=1", "replications=2"]))
    assert result.tables_by_name is result.tables_by_name  # built on first use, then kept
    assert result.runs.num_rows == 2 and result.runs["replication"].to_pylist() == [0, 1]
    columns, extra = result.parts()["runs"]
    assert [f.name for f in extra] == [n for n in result.runs.column_names if n.startswith("param.")]
    assert columns["replication"] == [0, 1]


def test_param_fields_kept_per_layout_follow_the_value_classes():
    ints = {"scenario_id": ["x"], "param.a_h": [1], "param.b": [None]}
    kept = _param_fields(ints)
    assert [(f.name, f.type, f.metadata[b"unit"]) for f in kept] == [("param.a_h", pa.int64(), b"h"),
                                                                    ("param.b", pa.null(), b"")]
    assert _param_fields(dict(ints)) is kept  # the same layout: the kept tuple
    floats = _param_fields({"scenario_id": ["x"], "param.a_h": [1.5], "param.b": [None]})
    assert [f.type for f in floats] == [pa.float64(), pa.null()]
    strings = _param_fields({"scenario_id": ["x"], "param.a_h": [2], "param.b": ["s"]})
    assert [f.type for f in strings] == [pa.int64(), pa.string()]
    # An int beyond int64 under the kept layout is not given the kept int64 field: Arrow refuses it.
    with pytest.raises((OverflowError, pa.ArrowInvalid)):
        _param_fields({"scenario_id": ["x"], "param.a_h": [2**63], "param.b": [None]})
    assert _param_fields(ints) is kept
