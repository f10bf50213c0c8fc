"""One-line descriptions of pydantic errors, including inside discriminated unions."""

from typing import Any

import pydantic
import pytest

from topology._pydantic_errors import describe_validation_error, format_loc, valid_keys_at
from topology.model import Network, Site
from workloads.job_class import JobClass


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
