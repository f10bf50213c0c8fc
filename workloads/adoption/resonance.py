"""The resonance R of the DANT-KIF model: how strongly supply and demand speed adoption.

R = (S_i · D_ri) ** resonance_elasticity is the product of the supply side S_i and the
demand side D_ri of China Mobile Think Tank's DANT-KIF "S-D Dual Four-Dimensional
Resonance" model (seed 000_aaa66d71a32e02d9.txt)::

    S_i  = comparative_advantage · compatibility · observability / complexity
    D_ri = anticipated_benefits · social_impact · facilitating_conditions / expected_costs

The two factors with a negative effect on diffusion (complexity, expected costs) enter
inversely.  A factor of 1.2 speeds both the innovation (p) and the imitation (q) rate of
its segments by 20 % (at elasticity 1).
"""

from __future__ import annotations

import numpy as np

from workloads.adoption.config import DemandFactors, SupplyFactors

__all__ = ["demand_resonance", "resonance", "supply_resonance"]


def supply_resonance(f: SupplyFactors) -> float:
    """S = comparative_advantage · compatibility · observability / complexity (1 when neutral)."""
    return f.comparative_advantage * f.compatibility * f.observability / f.complexity


def demand_resonance(f: DemandFactors) -> float:
    """D = anticipated_benefits · social_impact · facilitating_conditions / expected_costs."""
    return f.anticipated_benefits * f.social_impact * f.facilitating_conditions / f.expected_costs


def resonance(supply: np.ndarray, demand: np.ndarray, elasticity: float = 1.0) -> np.ndarray:
    """R = (S · D) ** elasticity, element-wise (dimensionless, 1 when every factor is neutral)."""
    out: np.ndarray = np.power(np.asarray(supply, float) * np.asarray(demand, float), elasticity)
    return out
