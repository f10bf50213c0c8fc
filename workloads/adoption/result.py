"""The result of a calibration: fitted parameters, standard errors and the fit at every point."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CEILING_PREFIX", "INSIDE_TOL_FRAC", "CalibrationResult", "PointResidual"]

INSIDE_TOL_FRAC = 1e-9
"""A fitted fraction this close to a bound counts as inside it (the least-squares optimum of a
flat-bottomed residual is approached from outside)."""
CEILING_PREFIX = "ceiling_frac."
"""Parameter names of fitted ceilings: this prefix and the segment id."""


@dataclass(frozen=True)
class PointResidual:
    """The fit at one point.

    Attributes
    ----------
    segment : str
        Segment id.
    year : float
        Decimal year of the point.
    kind : str
        ``observed``, ``bound`` or ``forecast``.
    observed : float or None
        The stated fraction; ``None`` for a bound or interval.
    fitted : float
        The model's fraction at ``year``.
    uncertainty : float
        Stated uncertainty (fraction): one standard deviation of a value, or the scale
        of a violation of a bound.
    lower, upper : float or None
        The bound(s) of a bound or interval point.
    """

    segment: str
    year: float
    kind: str
    observed: float | None
    fitted: float
    uncertainty: float
    lower: float | None = None
    upper: float | None = None

    @property
    def residual(self) -> float:
        """fitted − observed for a value; for a bound the signed distance outside it (0 inside)."""
        if self.observed is not None:
            return self.fitted - self.observed
        if self.upper is not None and self.fitted > self.upper:
            return self.fitted - self.upper
        if self.lower is not None and self.fitted < self.lower:
            return self.fitted - self.lower
        return 0.0

    @property
    def within(self) -> bool:
        """Whether the fit reproduces the point: within ± its uncertainty, or inside its bound(s)."""
        if self.observed is None:
            return abs(self.residual) <= INSIDE_TOL_FRAC
        return abs(self.residual) <= self.uncertainty

    @property
    def target(self) -> str:
        """The point as stated: ``0.26``, ``<= 0.05``, ``>= 0.8`` or ``[0.8, 0.9]``."""
        if self.observed is not None:
            return f"{self.observed:.4g}"
        if self.lower is not None and self.upper is not None:
            return f"[{self.lower:g}, {self.upper:g}]"
        if self.upper is not None:
            return f"<= {self.upper:g}"
        return f">= {self.lower:g}"


@dataclass(frozen=True)
class CalibrationResult:
    """Fitted parameters, their standard errors and the residual at every point.

    Attributes
    ----------
    names : tuple of str
        Parameter names: ``p0_per_yr``, ``q0_per_yr`` [, ``resonance_elasticity``] [, one
        ``ceiling_frac.<segment id>`` per segment whose ceiling is fitted].
    values, std_errors : tuple of float
        Fitted values and standard errors (1/yr for p0, q0; dimensionless elasticity and
        ceilings).  A standard error is ``math.inf`` when the points do not determine the
        parameter (see ``determined``).
    covariance : numpy.ndarray
        (JᵀJ)⁺ at the optimum; rows and columns of undetermined parameters are inf.
    residuals : tuple of PointResidual
        One per point, in file order.
    chi2 : float
        Σ (residual / uncertainty)².
    dof : int
        Points − parameters.
    at_bound : tuple of bool
        Parameters fitted at a bound of their range (0 for rates and the elasticity, 1 or
        the start fraction for a ceiling): their standard error is not reliable.
    segments : tuple of str
        Ids of the segments fitted.
    determined : tuple of bool
        False for a parameter that the points leave free at the optimum (JᵀJ singular in
        a direction involving it, e.g. because the points that would fix it are inside
        their bounds): any value along that direction fits equally well.
    ceilings : tuple of float
        The ceiling of each segment in the fit (fitted or stated), in segment order.
    bounds_met : bool
        Whether the fit lies inside every bound; False when no curve of the model meets them
        all (the soft objective then weighs each violation by its ``uncertainty_frac``).
    on_edge : tuple of bool
        Per point: a bound the fit meets exactly at one of its limits (a hard constraint
        that holds the estimate there), in file order.
    """

    names: tuple[str, ...]
    values: tuple[float, ...]
    std_errors: tuple[float, ...]
    covariance: np.ndarray
    residuals: tuple[PointResidual, ...]
    chi2: float
    dof: int
    at_bound: tuple[bool, ...]
    segments: tuple[str, ...]
    determined: tuple[bool, ...]
    ceilings: tuple[float, ...]
    bounds_met: bool
    on_edge: tuple[bool, ...]

    def value(self, name: str) -> float:
        """The fitted value of ``name``."""
        return self.values[self.names.index(name)]

    def std_error(self, name: str) -> float:
        """The standard error of ``name``."""
        return self.std_errors[self.names.index(name)]

    @property
    def exact(self) -> bool:
        """Every point reproduced exactly (chi2 ~ 0): with dof <= 0 the fit tests nothing."""
        return self.chi2 < 1e-12
