"""Documented ranges of estimated parameters (``[adoption] range``): validation, and the shipped ranges.

The shipped example carries a range for every estimated parameter, whose ``central`` is the value it
runs with; the uncertainty study samples exactly these ranges.
"""

import tomllib
from pathlib import Path

import pydantic
import pytest

from cluster.sweeps import load_sweep
from sim.scenario import load_scenario
from topology.plumbing import ConfigError
from workloads.adoption.config import AdoptionConfig, ParameterRange

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "adoption.toml"
STUDY = REPO / "examples" / "sweeps" / "adoption-uncertainty.toml"
INDUSTRY = {"x": {"jobs_per_adopter_per_h": {"a": 1.0}}}


def _range(**kw):
    return {"key": "q0_per_yr", "low": 0.1, "central": 0.38, "high": 1.0, "source": "estimate: test"} | kw


@pytest.mark.parametrize(("change", "message"), [
    ({"low": 2.0}, "low: 2.0 is above high 1.0"),
    ({"central": 1.5}, "central: 1.5 is outside"),
    ({"source": "a guess"}, "source: must start with one of"),
    ({"key": "coupling.wait_scale"}, "'coupling.wait_scale' names no number"),
    ({"key": "industries.x"}, "'industries.x' names no number"),
])
def test_a_bad_range_is_refused(change, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        AdoptionConfig.model_validate({"industries": INDUSTRY, "range": [_range(**change)]})


def test_a_key_given_twice_is_refused_and_nested_keys_resolve():
    ok = AdoptionConfig.model_validate({"industries": INDUSTRY, "range": [
        _range(), _range(key="industries.x.jobs_per_adopter_per_h.a", low=0.5, central=1.0, high=2.0)]})
    assert [r.key for r in ok.range] == ["q0_per_yr", "industries.x.jobs_per_adopter_per_h.a"]
    with pytest.raises(pydantic.ValidationError, match="given twice"):
        AdoptionConfig.model_validate({"industries": INDUSTRY, "range": [_range(), _range()]})


def test_low_above_high_on_the_command_line_is_one_located_line():
    bad = 'adoption.range=[{key="q0_per_yr",low=2.0,central=1.0,high=1.0,source="estimate: x"}]'
    with pytest.raises(ConfigError) as err:
        load_scenario(EXAMPLE, [bad])
    assert str(err.value) == "--set: adoption.range[0].low: 2.0 is above high 1.0"


def _value(data: dict, key: str) -> float:
    for part in key.split("."):
        data = data[part]
    return data  # type: ignore[return-value]


def test_every_estimate_of_the_example_has_a_range_centred_on_its_value():
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["adoption"]
    ranges = {r.key: r for r in load_scenario(EXAMPLE).scenario.adoption.range}
    for key, r in ranges.items():
        assert _value(raw, key) == r.central, key
    # Every industry figure and regional factor of the example is an estimate: each has a range.
    for name, ind in raw["industries"].items():
        for field, value in ind.items():
            if field == "jobs_per_adopter_per_h":
                assert {f"industries.{name}.{field}.{c}" for c in value} <= set(ranges)
            else:
                assert f"industries.{name}.{field}" in ranges
    for rid, factors in raw["regions"].items():
        assert {f"regions.{rid}.{f}" for f in factors} <= set(ranges)
    for key in ("p0_per_yr", "q0_per_yr", "enterprises_per_weight", "coupling.wait_scale_h",
                "coupling.served_elasticity", "coupling.price_elasticity", "growth.cost_elasticity",
                "growth.expected_costs_elasticity", "resonance_elasticity"):
        assert key in ranges


def test_the_uncertainty_study_samples_the_documented_ranges():
    spec = load_sweep(STUDY)
    ranges: dict[str, ParameterRange] = {r.key: r for r in spec.base.scenario.adoption.range}
    assert spec.design is not None and len(spec.scenarios) >= 256
    assert spec.base.scenario.replications >= 2
    for key, (low, high) in zip(spec.design["keys"], spec.design["bounds"], strict=True):
        r = ranges[key.removeprefix("adoption.")]
        assert (low, high) == (r.low, r.high), key
