"""The ``[adoption]`` table: validation, defaults, and every key documented in docs/model.md."""

import math
import re
from pathlib import Path

import pydantic
import pytest

from workloads.adoption.config import (
    DEFAULT_UNIT_COST_DECLINE_PER_YR,
    HOURS_PER_YEAR,
    AdoptionConfig,
    CapacityCoupling,
    DemandFactors,
    DemandGrowth,
    IndustryConfig,
    ParameterRange,
    SegmentConfig,
    SegmentGroup,
)

MODEL_MD = Path(__file__).resolve().parents[3] / "docs" / "model.md"


def test_config_rejects_unknown_keys_and_bad_factors():
    with pytest.raises(pydantic.ValidationError, match="comparative_advantag"):
        AdoptionConfig.model_validate({"industries": {"x": {"comparative_advantag": 1.0}}})
    with pytest.raises(pydantic.ValidationError, match=r"greater than or equal to 0\.001"):
        AdoptionConfig.model_validate({"industries": {"x": {"complexity": 0.0}}})
    with pytest.raises(pydantic.ValidationError, match="unknown industry"):
        AdoptionConfig.model_validate({"industries": {"x": {}}, "segment": [{"region": "a", "industry": "y"}]})
    with pytest.raises(pydantic.ValidationError, match="given twice"):
        AdoptionConfig.model_validate({"industries": {"x": {}}, "segment": [{"region": "a", "industry": "x"}] * 2})


def test_default_step_is_a_month():
    assert AdoptionConfig.model_validate({"industries": {"all": {}}}).step_h * 12 == HOURS_PER_YEAR


def test_token_price_decline_default():
    # $60 -> $1 per million tokens over about 4.4 years (seed 003): ln 60 / 4.4.
    assert math.log(60) / 4.4 == pytest.approx(DEFAULT_UNIT_COST_DECLINE_PER_YR)
    assert float(DemandGrowth(cost_elasticity=1.0).multiplier(4.4)) == pytest.approx(60.0)
    assert float(DemandGrowth(cost_elasticity=0.0).multiplier(4.4)) == 1.0


# -- docs/model.md documents every key of the table and its sub-tables ---------------------------

def _section(title: str) -> list[str]:
    lines = MODEL_MD.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#{1,3}\s", line) and title in line:
            body = []
            for rest in lines[i + 1:]:
                if re.match(r"^#{1,3}\s", rest):
                    break
                body.append(rest)
            return body
    raise AssertionError(f"docs/model.md has no section headed with {title}")


@pytest.mark.parametrize(
    "model", [AdoptionConfig, IndustryConfig, DemandFactors, SegmentConfig, CapacityCoupling, DemandGrowth,
              ParameterRange, SegmentGroup],
    ids=lambda m: m.__name__,
)
def test_every_adoption_key_is_documented(model):
    keys = set()
    for line in _section(f"`{model.__name__}`"):
        match = re.match(r"^\|\s*`([^`]+)`\s*\|", line)
        if match:
            keys.add(match.group(1))
    missing = [name for name in model.model_fields if name not in keys]
    assert not missing, f"docs/model.md, section `{model.__name__}`: add rows for {missing}"
    stale = sorted(keys - set(model.model_fields))
    assert not stale, f"docs/model.md, section `{model.__name__}`: keys {stale} do not exist"


def test_model_md_cites_the_seed_and_states_the_equations():
    text = MODEL_MD.read_text(encoding="utf-8").split("\n## Adoption\n", 1)[1].split("\n## ", 1)[0]
    assert "000_aaa66d71a32e02d9.txt" in text
    assert "003_f99a4242a8dfaa66.txt" in text
    assert "dF/dt = (p_eff + q_eff · F) · (1 − F)" in text
