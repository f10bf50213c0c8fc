"""The fit at one point: residual of a value, of a bound (zero inside), within, and the target text."""

import pytest

from workloads.adoption.result import PointResidual


def test_a_bound_has_zero_residual_anywhere_inside_and_the_distance_outside():
    # Hand-built residuals: inside 0, outside the signed distance to the violated limit.
    inside = PointResidual("b", 2021.0, "bound", None, 0.01, 0.02, None, 0.05)
    above = PointResidual("b", 2021.0, "bound", None, 0.08, 0.02, None, 0.05)
    below = PointResidual("b", 2023.0, "forecast", None, 0.35, 0.02, 0.4, 0.5)
    assert (inside.residual, inside.within, inside.target) == (0.0, True, "<= 0.05")
    assert above.residual == pytest.approx(0.03) and not above.within
    assert below.residual == pytest.approx(-0.05) and not below.within and below.target == "[0.4, 0.5]"
    assert PointResidual("b", 2022.0, "bound", None, 0.9, 0.02, 0.3, None).target == ">= 0.3"
    # A just-violated bound is not "within" (no loosening by the uncertainty), however small its chi.
    assert not PointResidual("b", 2021.0, "bound", None, 0.0501, 0.02, None, 0.05).within
