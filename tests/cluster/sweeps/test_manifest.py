"""manifest.json as a typed model: written by every dataset, read back, old (version 1) manifests still read."""

import json
import os
import stat

import pyarrow as pa
import pytest

from cluster.sweeps.manifest import MANIFEST_VERSION, network_record, read_manifest
from cluster.sweeps.store import write_dataset
from sim.scenario import load_scenario
from topology.plumbing import SchemaError


def _runs():
    return {"runs": pa.table({"scenario_id": ["a"], "x": [1.0]})}


def test_the_resolved_network_round_trips(tmp_path):
    loaded = load_scenario(None, ["sites.cl_zhongwei.gpus=777"])
    record = network_record(loaded.network, loaded.scenario.network)
    out = write_dataset(tmp_path / "d", _runs(), {"kind": "run", "resolved_network": record})
    manifest = read_manifest(out)
    assert manifest.cpnsim.manifest_version == MANIFEST_VERSION == 2
    assert manifest.resolved_network == record and manifest.resolved_network.network == loaded.network
    assert {s.id: s.gpus for s in manifest.resolved_network.network.sites}["cl_zhongwei"] == 777
    assert record.source == "default" and len(record.digest) == 64


def test_a_version_1_manifest_reads_without_a_network(tmp_path):
    out = write_dataset(tmp_path / "d", _runs(), {"kind": "run"})
    data = json.loads((out / "manifest.json").read_text())
    del data["cpnsim"]["manifest_version"]
    data["from_another_version"] = {"kept": True}  # unknown keys are kept, not refused
    (out / "manifest.json").write_text(json.dumps(data))
    manifest = read_manifest(out)
    assert manifest.cpnsim.manifest_version == 1 and manifest.resolved_network is None
    assert manifest.model_extra == {"from_another_version": {"kept": True}}


def test_a_manifest_of_the_wrong_shape_is_a_schema_error(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"cpnsim": {"version": "1"}, "created_utc": "x"}))
    with pytest.raises(SchemaError, match=r"manifest\.json: cpnsim\.schema_version: required key is missing"):
        read_manifest(tmp_path)


def test_files_get_the_permissions_of_any_new_file(tmp_path):
    old = os.umask(0o022)
    try:
        out = write_dataset(tmp_path / "d", _runs(), {"kind": "run"})
    finally:
        os.umask(old)
    for path in (out, out / "runs"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o755, path
    for path in (out / "manifest.json", out / "runs" / "part-00000.arrow"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
