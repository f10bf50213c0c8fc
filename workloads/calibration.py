"""Fit the adoption model's p0 and q0 (and optionally the resonance elasticity) to observed points.

A **points file** (TOML) lists segments, each with where its curve starts and the
adopted fractions observed (or forecast) later, every figure with its source and its
stated uncertainty::

    schema_version = "1"
    description = "..."

    [[segment]]
    id = "world_enterprise_genai"          # unique
    description = "..."
    start_year = 2022.915                  # decimal year at which F = start_frac
    start_frac = 0.0
    start_source = "public knowledge: ..."
    resonance = 1.0                        # S·D of the segment (default 1)

    [[segment.point]]
    year = 2024.79                         # decimal year of the observation
    frac = 0.26                            # adopted fraction in [0, 1]
    uncertainty_frac = 0.05                # stated uncertainty (half-width, > 0)
    kind = "observed"                      # observed | bound | forecast
    source = "seed ...: ..."               # where the figure comes from
    uncertainty_source = "estimate: ..."   # why that uncertainty

The model at a point is the exact Bass flow from the segment's start (see
:func:`workloads.adoption.bass_step`) with p = p0 · R and q = q0 · R, R = resonance **
elasticity.  The fit is weighted least squares (residual / uncertainty) by
:func:`scipy.optimize.least_squares`; standard errors come from the Jacobian at the
optimum, cov = (JᵀJ)⁻¹, taking the stated uncertainties as one standard deviation
(absolute, not rescaled by the residual variance).  The resonance elasticity can only
be told apart from p0 and q0 with segments of at least two different resonances.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, Self

import numpy as np
import pydantic
from pydantic import Field, model_validator
from scipy.optimize import least_squares

from topology._pydantic_errors import describe_validation_error
from topology.errors import ConfigError, located, nearest
from topology.load import read_toml
from topology.model import StrictModel
from workloads.adoption import bass_step

__all__ = [
    "SHIPPED_POINTS",
    "CalibrationResult",
    "PointResidual",
    "PointsFile",
    "fit_adoption",
    "fragment_toml",
    "load_points",
    "model_fracs",
    "select_segments",
    "shipped_points_path",
]

SHIPPED_POINTS = "adoption_points.toml"
"""File name of the points shipped in ``workloads/data`` (derived from shared/data's adoption_reference)."""


class CalibrationPoint(StrictModel):
    """One observed (or forecast) adopted fraction, with its source and uncertainty."""

    year: float
    frac: float = Field(ge=0, le=1)
    uncertainty_frac: float = Field(gt=0)
    kind: Literal["observed", "bound", "forecast"] = "observed"
    source: str = Field(min_length=1)
    uncertainty_source: str = ""
    note: str = ""


class CalibrationSegment(StrictModel):
    """A curve: where it starts and the points it should pass through."""

    id: str = Field(min_length=1)
    description: str = ""
    start_year: float
    start_frac: float = Field(default=0.0, ge=0, lt=1)
    start_source: str = Field(min_length=1)
    resonance: float = Field(default=1.0, gt=0)
    point: list[CalibrationPoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _points_after_start(self) -> Self:
        for k, p in enumerate(self.point):
            if p.year < self.start_year:
                raise ValueError(f"point[{k}].year: {p.year} is before start_year {self.start_year}")
        return self


class PointsFile(StrictModel):
    """A points file: a schema version and one or more segments."""

    schema_version: Literal["1"]
    description: str = ""
    segment: list[CalibrationSegment] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        ids = [s.id for s in self.segment]
        for k, sid in enumerate(ids):
            if sid in ids[:k]:
                raise ValueError(f"segment[{k}].id: duplicate id {sid!r}")
        return self


def shipped_points_path() -> Path:
    """Path of the points file shipped with cpnsim."""
    return Path(str(resources.files("workloads.data").joinpath(SHIPPED_POINTS)))


def load_points(path: str | Path) -> PointsFile:
    """Read and validate a points file.

    Raises
    ------
    ConfigError
        One line ``file: key.path: message``.
    """
    p = Path(path)
    data = read_toml(p, ConfigError)
    try:
        return PointsFile.model_validate(data)
    except pydantic.ValidationError as err:
        raise ConfigError(describe_validation_error(err, str(p), PointsFile, data)) from None


def select_segments(points: PointsFile, ids: Sequence[str] | None, source: str) -> list[CalibrationSegment]:
    """The segments named in ``ids`` (all when empty or ``None``), in file order.

    Raises
    ------
    ConfigError
        An id not in the file (with the nearest one).
    """
    if not ids:
        return list(points.segment)
    known = [s.id for s in points.segment]
    for sid in ids:
        if sid not in known:
            hint = nearest(sid, known)
            tail = f" (did you mean '{hint}'?)" if hint else f" (segments: {', '.join(known)})"
            raise ConfigError(located(source, "--segment", f"no segment {sid!r}{tail}"))
    return [s for s in points.segment if s.id in ids]


def model_fracs(params: Sequence[float] | np.ndarray, segments: Sequence[CalibrationSegment]) -> np.ndarray:
    """Adopted fraction the model gives at every point of ``segments`` (in order).

    Parameters
    ----------
    params : sequence of float
        ``(p0_per_yr, q0_per_yr)`` or ``(p0_per_yr, q0_per_yr, resonance_elasticity)``.
    segments : sequence of CalibrationSegment
        Curves and their points.
    """
    p0, q0 = float(params[0]), float(params[1])
    kappa = float(params[2]) if len(params) > 2 else 1.0
    out = []
    for seg in segments:
        r = seg.resonance**kappa
        dt = np.array([pt.year - seg.start_year for pt in seg.point])
        out.append(bass_step(np.full(dt.shape, seg.start_frac), p0 * r, q0 * r, dt))
    return np.concatenate(out)


@dataclass(frozen=True)
class PointResidual:
    """The fit at one point: residual = fitted − observed (fraction)."""

    segment: str
    year: float
    kind: str
    observed: float
    fitted: float
    uncertainty: float

    @property
    def residual(self) -> float:
        """fitted − observed."""
        return self.fitted - self.observed

    @property
    def within(self) -> bool:
        """Whether the fit is within the point's stated uncertainty."""
        return abs(self.residual) <= self.uncertainty


@dataclass(frozen=True)
class CalibrationResult:
    """Fitted parameters, their standard errors and the residual at every point.

    Attributes
    ----------
    names : tuple of str
        Parameter names (``p0_per_yr``, ``q0_per_yr`` [, ``resonance_elasticity``]).
    values, std_errors : tuple of float
        Fitted values and standard errors (1/yr for p0, q0; dimensionless elasticity).
    covariance : numpy.ndarray
        (JᵀJ)⁻¹ at the optimum.
    residuals : tuple of PointResidual
        One per point, in file order.
    chi2 : float
        Σ (residual / uncertainty)².
    dof : int
        Points − parameters.
    at_bound : tuple of bool
        Parameters fitted at their lower bound 0 (their standard error is not reliable).
    segments : tuple of str
        Ids of the segments fitted.
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

    def value(self, name: str) -> float:
        """The fitted value of ``name``."""
        return self.values[self.names.index(name)]

    def std_error(self, name: str) -> float:
        """The standard error of ``name``."""
        return self.std_errors[self.names.index(name)]


_START_P = (0.003, 0.03, 0.3)
_START_Q = (0.1, 0.5, 2.0)
_START_K = (0.5, 1.5)


def fit_adoption(segments: Sequence[CalibrationSegment], fit_resonance: bool = False) -> CalibrationResult:
    """Weighted least-squares fit of p0, q0 (and the resonance elasticity) to the points of ``segments``.

    Deterministic: a fixed grid of starting values, the best optimum kept.

    Raises
    ------
    ConfigError
        Fewer points than parameters, or a resonance fit without two distinct resonances.
    """
    names = ("p0_per_yr", "q0_per_yr", *(("resonance_elasticity",) if fit_resonance else ()))
    observed = np.array([pt.frac for s in segments for pt in s.point])
    sigma = np.array([pt.uncertainty_frac for s in segments for pt in s.point])
    if observed.size < len(names):
        raise ConfigError(f"calibration: {observed.size} point(s) cannot determine {len(names)} parameters")
    if fit_resonance and len({s.resonance for s in segments}) < 2:
        raise ConfigError("calibration: fitting the resonance elasticity needs segments with two or more "
                          "different 'resonance' values")

    def residuals(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = (model_fracs(x, segments) - observed) / sigma
        return out

    starts = itertools.product(_START_P, _START_Q, *((_START_K,) if fit_resonance else ()))
    best = None
    for x0 in starts:
        res = least_squares(residuals, np.array(x0), bounds=(0.0, np.inf), method="trf", x_scale="jac",
                            xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=5000)
        if best is None or res.cost < best.cost - 1e-12:
            best = res
    assert best is not None
    jac = np.asarray(best.jac, float)
    try:
        cov = np.linalg.inv(jac.T @ jac)
        se = tuple(float(math.sqrt(v)) if v >= 0 else math.nan for v in np.diag(cov))
    except np.linalg.LinAlgError:
        cov = np.full((len(names), len(names)), math.nan)
        se = tuple(math.nan for _ in names)
    fitted = model_fracs(best.x, segments)
    rows = []
    k = 0
    for s in segments:
        for pt in s.point:
            rows.append(PointResidual(s.id, pt.year, pt.kind, pt.frac, float(fitted[k]), pt.uncertainty_frac))
            k += 1
    return CalibrationResult(
        names=names,
        values=tuple(float(v) for v in best.x),
        std_errors=se,
        covariance=cov,
        residuals=tuple(rows),
        chi2=float(2.0 * best.cost),
        dof=int(observed.size - len(names)),
        at_bound=tuple(bool(v <= 1e-10) for v in best.x),
        segments=tuple(s.id for s in segments),
    )


def fragment_toml(result: CalibrationResult, source: str) -> str:
    """A TOML fragment with the fitted values under ``[adoption]``, for a scenario.

    Standard errors and residuals are comments, so the fragment stays a valid
    ``[adoption]`` table (copy its keys into a scenario, or pass them with ``--set``).
    """
    lines = [
        f"# cpnsim calibrate {source} (segments: {', '.join(result.segments)})",
        f"# weighted least squares, chi2 = {result.chi2:.4g} on {result.dof} degree(s) of freedom",
        "[adoption]",
    ]
    for name, value, se in zip(result.names, result.values, result.std_errors, strict=True):
        lines.append(f"{name} = {value!r}  # standard error {se:.3g}")
    lines.append("# residual (fitted - observed) at each point:")
    for r in result.residuals:
        flag = "within" if r.within else "OUTSIDE"
        lines.append(f"#   {r.segment} {r.year:g} ({r.kind}): observed {r.observed:.4g}, fitted {r.fitted:.4g}, "
                     f"residual {r.residual:+.4g} ({flag} +/- {r.uncertainty:g})")
    return "\n".join(lines) + "\n"
