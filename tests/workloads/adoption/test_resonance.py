"""The resonance R = (S · D) ** elasticity: neutral at 1, multiplicative, inverse factors."""

import math

import numpy as np
import pytest

from workloads.adoption.config import DemandFactors, SupplyFactors
from workloads.adoption.resonance import demand_resonance, resonance, supply_resonance


def test_resonance_is_neutral_and_multiplicative():
    assert supply_resonance(SupplyFactors()) == 1.0
    assert demand_resonance(DemandFactors()) == 1.0
    s = supply_resonance(SupplyFactors(comparative_advantage=2.0, complexity=4.0, compatibility=1.5, observability=2.0))
    assert s == pytest.approx(2.0 * 1.5 * 2.0 / 4.0)
    d = demand_resonance(DemandFactors(anticipated_benefits=1.2, expected_costs=2.0, social_impact=1.1,
                                       facilitating_conditions=0.5))
    assert d == pytest.approx(1.2 * 1.1 * 0.5 / 2.0)
    assert float(resonance(np.array(1.5), np.array(2.0), 0.5)) == pytest.approx(math.sqrt(3.0))
    assert float(resonance(np.array(1.5), np.array(2.0), 0.0)) == 1.0
