"""docs/model.md documents every key of the ``[adoption]`` table and its sub-tables."""

import re
from pathlib import Path

import pytest

from workloads.adoption import (
    AdoptionConfig,
    CapacityCoupling,
    DemandFactors,
    DemandGrowth,
    IndustryConfig,
    SegmentConfig,
)

MODEL_MD = Path(__file__).resolve().parents[2] / "docs" / "model.md"


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
    "model", [AdoptionConfig, IndustryConfig, DemandFactors, SegmentConfig, CapacityCoupling, DemandGrowth],
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
