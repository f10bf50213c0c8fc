"""The DANT-KIF adoption model: who adopts AI, how fast, and how much work they ask for.

Per segment (demand region r × industry i) a fraction F of enterprises has adopted AI,
following a generalised Bass equation whose rates are scaled by the **resonance** R of
supply and demand (China Mobile Think Tank's DANT-KIF model).  Capacity enters through
the demand side: the expected costs and facilitating conditions of a segment are
multiplied by factors computed from the service its jobs met in the previous step.

One concept per module:

- :mod:`~workloads.adoption.config`: the ``[adoption]`` table (factors, coupling, growth);
- :mod:`~workloads.adoption.resonance`: R = (S · D) ** elasticity;
- :mod:`~workloads.adoption.bass`: the exact Bass step with a market potential;
- :mod:`~workloads.adoption.segments`: segments resolved against a network, as arrays;
- :mod:`~workloads.adoption.regional`: demand factors per region derived from regional
  indicators (``workloads/data/regional_factors.toml``, opt-in);
- :mod:`~workloads.adoption.coupling`: service met → capacity factors → step → arrival rates;
- :mod:`~workloads.adoption.arrivals`: adopters' time-changed arrival streams;
- :mod:`~workloads.adoption.points`, :mod:`~workloads.adoption.fit`,
  :mod:`~workloads.adoption.result`, :mod:`~workloads.adoption.fragment`: calibration of
  p0, q0 (and ceilings) to observed adoption points.

This package is data and pure functions (numpy, vectorised over segments); the simulator
calls them from a low-frequency step process (``sim.adoption``).  Other packages import the
names below from here.
"""

from workloads.adoption.arrivals import TimeChangedStream
from workloads.adoption.config import HOURS_PER_YEAR, AdoptionConfig
from workloads.adoption.coupling import (
    AdoptionStep,
    advance,
    class_rates_by_region,
    expected_costs_factor,
    facilitating_factor,
)
from workloads.adoption.fit import fit_adoption
from workloads.adoption.fragment import fragment_toml
from workloads.adoption.points import load_points, select_segments, shipped_points_path
from workloads.adoption.result import CalibrationResult
from workloads.adoption.segments import SegmentReferenceError, Segments, build_segments

__all__ = [
    "HOURS_PER_YEAR",
    "AdoptionConfig",
    "AdoptionStep",
    "CalibrationResult",
    "SegmentReferenceError",
    "Segments",
    "TimeChangedStream",
    "advance",
    "build_segments",
    "class_rates_by_region",
    "expected_costs_factor",
    "facilitating_factor",
    "fit_adoption",
    "fragment_toml",
    "load_points",
    "select_segments",
    "shipped_points_path",
]
