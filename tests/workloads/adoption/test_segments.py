"""Segments resolved against a network: counts, factors, ceilings, and unknown names located by key."""

import pickle
import tomllib

import numpy as np
import pydantic
import pytest

from topology.plumbing import ConfigError
from workloads.adoption.config import AdoptionConfig
from workloads.adoption.segments import SegmentReferenceError, build_segments

CONFIG_TOML = """
p0_per_yr = 0.02
q0_per_yr = 0.5
initial_frac = 0.01
enterprises_per_weight = 100.0

[industries.manufacturing]
enterprise_share_frac = 0.6
comparative_advantage = 1.2
jobs_per_adopter_per_h = { inference = 0.5 }

[industries.finance]
enterprise_share_frac = 0.4
complexity = 2.0
jobs_per_adopter_per_h = { inference = 0.1, training = 0.01 }

[regions.east]
anticipated_benefits = 1.5

[[segment]]
region = "west"
industry = "finance"
enterprises = 7.0
initial_frac = 0.2
expected_costs = 2.0
"""


def _config() -> AdoptionConfig:
    return AdoptionConfig.model_validate(tomllib.loads(CONFIG_TOML))


def test_segments_from_config():
    seg = build_segments(_config(), ["east", "west", "gateway"], [2.0, 1.0, 0.0], ["training", "inference"])
    assert len(seg) == 4  # the zero-weight gateway has no segments
    assert seg.region == ("east", "east", "west", "west")
    assert seg.industry == ("manufacturing", "finance", "manufacturing", "finance")
    np.testing.assert_allclose(seg.enterprises, [120.0, 80.0, 60.0, 7.0])
    np.testing.assert_allclose(seg.initial_frac, [0.01, 0.01, 0.01, 0.2])
    np.testing.assert_allclose(seg.supply, [1.2, 0.5, 1.2, 0.5])
    np.testing.assert_allclose(seg.demand_exogenous, [1.5, 1.5, 1.0, 0.5])
    np.testing.assert_allclose(seg.expected_costs, [1.0, 1.0, 1.0, 2.0])
    np.testing.assert_allclose(seg.jobs_per_adopter_per_h, [[0, 0.5], [0.01, 0.1], [0, 0.5], [0.01, 0.1]])
    np.testing.assert_array_equal(seg.region_index, [0, 0, 1, 1])


@pytest.mark.parametrize(
    ("regions", "classes", "message"),
    [
        (["east"], ["training", "inference"], "segment[0].region: no region 'west'"),
        (["east", "west"], ["inference"], "industries.finance.jobs_per_adopter_per_h.training: no workload class"),
    ],
)
def test_segments_name_what_is_unknown(regions, classes, message):
    with pytest.raises(SegmentReferenceError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build_segments(_config(), regions, [1.0] * len(regions), classes)


def test_unknown_names_carry_their_key_path_and_message():
    with pytest.raises(SegmentReferenceError) as info:
        build_segments(_config(), ["east"], [1.0], ["training", "inference"])
    err = info.value
    assert isinstance(err, ConfigError)
    assert (err.key, err.message) == ("segment[0].region", "no region 'west' in network")
    assert str(err) == "segment[0].region: no region 'west' in network"
    data = tomllib.loads(CONFIG_TOML)
    data["regions"]["north"] = {}
    with pytest.raises(SegmentReferenceError) as info:
        build_segments(AdoptionConfig.model_validate(data), ["east", "west"], [1.0, 1.0], ["training", "inference"])
    assert (info.value.key, info.value.message) == ("regions.north", "no region 'north' in network")
    copy = pickle.loads(pickle.dumps(err))  # crosses process boundaries (Ray workers) intact
    assert (type(copy), copy.key, copy.message, str(copy)) == (type(err), err.key, err.message, str(err))


def test_ceiling_keys_resolve_per_segment_and_reject_an_initial_fraction_above_them():
    data = tomllib.loads(CONFIG_TOML)
    data["ceiling_frac"] = 0.8
    data["segment"][0]["ceiling_frac"] = 0.5
    seg = build_segments(AdoptionConfig.model_validate(data), ["east", "west"], [2.0, 1.0], ["training", "inference"])
    np.testing.assert_array_equal(seg.ceiling, [0.8, 0.8, 0.8, 0.5])
    assert _config().ceiling_frac == 1.0
    data["segment"][0]["ceiling_frac"] = 0.1  # below the segment's initial_frac 0.2
    with pytest.raises(pydantic.ValidationError, match=r"segment\[0\]\.initial_frac: 0.2 is above"):
        AdoptionConfig.model_validate(data)
    with pytest.raises(pydantic.ValidationError, match=r"initial_frac: 0\.5 is above ceiling_frac 0\.4"):
        AdoptionConfig.model_validate({"industries": {"x": {}}, "initial_frac": 0.5, "ceiling_frac": 0.4})
    for bad in (0.0, 1.5):
        with pytest.raises(pydantic.ValidationError, match="ceiling_frac"):
            AdoptionConfig.model_validate({"industries": {"x": {}}, "ceiling_frac": bad})


def _grouped(groups, segment=()):
    config = AdoptionConfig.model_validate({
        "p0_per_yr": 0.02, "q0_per_yr": 0.5, "initial_frac": 0.01,
        "industries": {"x": {"jobs_per_adopter_per_h": {"a": 1.0}}},
        "groups": groups, "segment": list(segment),
    })
    return config, build_segments(config, ["east", "west", "north"], [1.0, 1.0, 1.0], ["a"])


def test_groups_give_their_regions_own_coefficients_and_initial_fraction():
    from workloads.adoption.coupling import advance

    config, seg = _grouped(
        {"br": {"regions": ["west"], "p0_per_yr": 0.1, "q0_per_yr": 2.0, "initial_frac": 0.3,
                "calibrated": False, "source": "estimate: test"},
         "cn": {"regions": ["east"], "q0_per_yr": 1.0, "calibrated": True, "source": "derived: test fit"}},
        segment=[{"region": "west", "industry": "x", "initial_frac": 0.05}],
    )
    assert seg.region == ("east", "west", "north")
    np.testing.assert_array_equal(seg.p0_per_yr, [0.02, 0.1, 0.02])  # a key left out is [adoption]'s
    np.testing.assert_array_equal(seg.q0_per_yr, [1.0, 2.0, 0.5])
    np.testing.assert_array_equal(seg.initial_frac, [0.01, 0.05, 0.01])  # the segment's own wins over its group's
    step = advance(seg.initial_frac, seg, config, 730.5)
    np.testing.assert_array_equal(step.p_eff_per_yr, seg.p0_per_yr * step.resonance)
    np.testing.assert_array_equal(step.q_eff_per_yr, seg.q0_per_yr * step.resonance)
    _, only_group = _grouped({"br": {"regions": ["west"], "initial_frac": 0.3, "calibrated": False,
                                     "source": "estimate: t"}})
    np.testing.assert_array_equal(only_group.initial_frac, [0.01, 0.3, 0.01])


def test_bad_groups_are_refused_with_their_key():
    with pytest.raises(SegmentReferenceError) as err:
        _grouped({"g": {"regions": ["east", "nowhere"], "calibrated": False, "source": "estimate: t"}})
    assert err.value.key == "groups.g.regions[1]"
    with pytest.raises(pydantic.ValidationError, match=r"groups.h.regions\[0\]: region 'east' is already in group 'g'"):
        _grouped({"g": {"regions": ["east"], "calibrated": False, "source": "estimate: t"},
                  "h": {"regions": ["east"], "calibrated": False, "source": "estimate: t"}})
    with pytest.raises(pydantic.ValidationError, match="source: must start with one of"):
        _grouped({"g": {"regions": ["east"], "calibrated": False, "source": "a guess"}})
    with pytest.raises(pydantic.ValidationError, match="calibrated"):
        _grouped({"g": {"regions": ["east"], "source": "estimate: t"}})
