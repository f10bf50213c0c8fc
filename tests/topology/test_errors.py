"""The exception family and the helpers that format one-line messages."""

import pytest

from topology.errors import ConfigError, CpnsimError, SchemaError, TopologyError, located, nearest


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
