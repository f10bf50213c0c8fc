"""The project-wide plumbing: the error family, one-line messages (pydantic errors too),
TOML reading and the atomic writer."""

import os
import stat
from typing import Any

import pydantic
import pytest

from topology.model import Network, Site
from topology.plumbing import (
    ConfigError,
    CpnsimError,
    SchemaError,
    TopologyError,
    describe_validation_error,
    format_loc,
    located,
    nearest,
    valid_keys_at,
    write_atomic,
)
from workloads.job_class import JobClass


@pytest.mark.parametrize("cls", [ConfigError, TopologyError, SchemaError])
def test_family_shares_a_base(cls):
    assert issubclass(cls, CpnsimError) and issubclass(CpnsimError, Exception)
    with pytest.raises(CpnsimError, match=r"^boom$"):
        raise cls("boom")


def test_family_members_are_distinct():
    assert not issubclass(TopologyError, ConfigError)
    assert not issubclass(ConfigError, TopologyError)
    assert not issubclass(SchemaError, TopologyError)


def test_nearest():
    assert nearest("gpu", ["gpus", "lat", "lon"]) == "gpus"
    assert nearest("cl_wuhoo", ["cl_wuhu", "cl_guian"]) == "cl_wuhu"
    assert nearest("qqq", ["gpus", "lat"]) is None
    assert nearest("x", []) is None
    assert nearest("lat", iter(["lon", "lat"])) == "lat"  # any iterable; exact match wins


def test_located():
    assert located("a.toml", "site[1].gpus", "must be > 0, got -4") == "a.toml: site[1].gpus: must be > 0, got -4"
    assert located("a.toml", "", "file not found") == "a.toml: file not found"


def _describe(root: type[pydantic.BaseModel], data: Any) -> str:
    with pytest.raises(pydantic.ValidationError) as info:
        root.model_validate(data)
    message = describe_validation_error(info.value, "f.toml", root, data)
    assert "\n" not in message
    return message


def test_format_loc():
    assert format_loc(("site", 2, "gpus")) == "site[2].gpus"
    assert format_loc(("a", "b")) == "a.b"
    assert format_loc((0, 1)) == "[0][1]"
    assert format_loc(()) == ""


def test_valid_keys_at_walks_tuples_of_models():
    data = {"site": [{"id": "x"}], "region": []}
    assert valid_keys_at(Network, data, ("site", 0)) == list(Site.model_fields)
    assert valid_keys_at(Network, data, ()) == list(Network.model_fields)
    assert valid_keys_at(Network, data, ("name",)) is None  # a str, not a table


def test_valid_keys_at_picks_union_member_by_tag():
    data = {"work_gpu_h": {"dist": "lognormal", "median": 1.0, "sigma": 1.0}}
    assert valid_keys_at(JobClass, data, ("work_gpu_h",)) == ["dist", "median", "sigma", "max"]


def test_unknown_key_inside_tagged_union_suggests_member_field():
    data = {"arrival_rate_per_h": 1.0, "work_gpu_h": {"dist": "lognormal", "median": 1.0, "sigma": 1.0, "sigm": 2}}
    message = _describe(JobClass, data)
    assert message.endswith("sigm: unknown key (did you mean 'sigma'?)")


def test_union_tag_is_not_part_of_key_path():
    data = {"arrival_rate_per_h": 1.0, "work_gpu_h": {"dist": "lognormal", "median": 1.0, "sigma": -1.0}}
    message = _describe(JobClass, data)
    assert message == "f.toml: work_gpu_h.sigma: Input should be greater than or equal to 0, got -1.0"


def test_unknown_union_tag_lists_expected_tags():
    data = {"arrival_rate_per_h": 1.0, "work_gpu_h": {"dist": "gamma"}}
    message = _describe(JobClass, data)
    assert message.startswith("f.toml: work_gpu_h: Input tag 'gamma' found using 'dist' does not match")
    assert "'lognormal'" in message and "'choice'" in message


def test_bad_value_shows_input():
    data = {"site": [{"id": "s", "lat": 0, "lon": 0, "gpus": 0}], "region": [{"id": "r", "lat": 0, "lon": 0}]}
    assert _describe(Network, data) == "f.toml: site[0].gpus: Input should be greater than 0, got 0"


def test_missing_key():
    data = {"site": [{"id": "s", "lat": 0, "lon": 0, "gpus": 1}]}
    assert _describe(Network, data) == "f.toml: region: required key is missing"


def test_missing_keys_are_counted():
    data = {"site": [{"id": "s"}], "region": [{"id": "r", "lat": 0, "lon": 0}]}
    assert _describe(Network, data) == "f.toml: site[0].lat: required key is missing (and 2 more)"


def test_write_atomic_gives_normal_permissions_and_replaces(tmp_path):
    """mkstemp makes 0600 files; a written output must be readable as any new file is (0666 & ~umask)."""
    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "out.txt", "first")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        write_atomic(path, b"second")
        assert path.read_bytes() == b"second"
        write_atomic(path, lambda handle: handle.write(b"third"))
        assert path.read_text() == "third"
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path):
    path = write_atomic(tmp_path / "out.txt", "old")

    def boom(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(path, boom)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


# -- messages describe the input (issue 19) ----------------------------------------------------


def test_located_escapes_control_characters_in_every_part():
    line = located("a\nb.toml", "k\tey", "got 'x\x1b[31m\r'")
    assert line == "a\\nb.toml: k\\tey: got 'x\\x1b[31m\\r'"
    assert line.isprintable()


def test_format_loc_quotes_keys_that_are_not_bare():
    assert format_loc(("workload", "= =x", "gpus")) == 'workload."= =x".gpus'
    assert format_loc(("sites", "广州", 0)) == 'sites."广州"[0]'
    assert format_loc(("a_b-c", 1, "d")) == "a_b-c[1].d"


def test_model_validator_message_names_its_key_and_never_dumps_the_table():
    data: dict[str, Any] = {"arrival_rate_per_h": 1.0, "gpus": {"dist": "uniform", "low": 4.0, "high": 2.0},
                            "work_gpu_h": {"dist": "exponential", "mean": 1.0}}
    with pytest.raises(pydantic.ValidationError) as info:
        JobClass.model_validate(data)
    line = describe_validation_error(info.value, "s.toml", JobClass, data)
    assert line == "s.toml: gpus.high: must be >= low (=4), got 2"


def test_a_long_bad_value_is_clipped_and_a_wrong_table_says_table():
    data: dict[str, Any] = {"arrival_rate_per_h": "x" * 1000, "work_gpu_h": {"dist": "exponential", "mean": 1.0}}
    with pytest.raises(pydantic.ValidationError) as info:
        JobClass.model_validate(data)
    assert len(describe_validation_error(info.value, "s.toml", JobClass, data)) < 250
    data = {"arrival_rate_per_h": 1.0, "work_gpu_h": 3}
    with pytest.raises(pydantic.ValidationError) as info:
        JobClass.model_validate(data)
    line = describe_validation_error(info.value, "s.toml", JobClass, data)
    assert line == "s.toml: work_gpu_h: must be a table, got 3"
