"""Fit the adoption model's p0 and q0 (optionally the resonance elasticity and ceilings) to observed points.

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
    ceiling_frac = 1.0                     # market potential m in (0, 1] (default 1)
    fit_ceiling = false                    # true: fit m instead (or `cpnsim calibrate --fit-ceiling`)

    [[segment.point]]
    year = 2024.79                         # decimal year of the observation
    frac = 0.26                            # adopted fraction in [0, 1]
    uncertainty_frac = 0.05                # stated uncertainty (half-width, > 0)
    kind = "observed"                      # observed | bound | forecast
    source = "seed ...: ..."               # where the figure comes from
    uncertainty_source = "estimate: ..."   # why that uncertainty

    [[segment.point]]                      # a bound or interval: no frac, one or both of
    year = 2023.79
    upper_frac = 0.05                      #   F <= upper_frac ("under 5 %")
    # lower_frac = 0.80                    #   F >= lower_frac ("over 80 %")
    uncertainty_frac = 0.025               #   scale of a violation (see below)
    kind = "bound"
    source = "..."

The model at a point is the exact Bass flow from the segment's start (see
:func:`workloads.adoption.bass_step`) with p = p0 · R, q = q0 · R, R = resonance **
elasticity, and the segment's ceiling m.  The fit is weighted least squares by
:func:`scipy.optimize.least_squares`, with one residual per point:

- a point with ``frac``: (fitted − frac) / uncertainty_frac; reproduced when
  |fitted − frac| <= uncertainty_frac;
- a point with ``lower_frac`` and/or ``upper_frac`` (a one-sided bound, or an interval
  when both are given): 0 anywhere inside, and outside the signed distance to the
  violated limit / uncertainty_frac, so ``uncertainty_frac`` is how far beyond the
  limit counts as one standard deviation; reproduced when inside (to 1e-9).

A flat-bottomed residual is crossed at the least-squares optimum whenever the value
points pull that way (the penalty is quadratic, so a small violation is cheap).  So
when that optimum violates a bound, the fit is redone with every bound as a hard
constraint (least squares over the value points subject to the bounds, SLSQP): if some
curve of the model meets every bound, that constrained optimum is the fit; only if none
does is the soft (penalised) optimum kept (``CalibrationResult.bounds_met`` is False).

Standard errors come from the Jacobian J of the residuals at the optimum, taking the
stated uncertainties as one standard deviation (absolute, not rescaled by the residual
variance, so they stay defined for an exact fit with as many points as parameters):
cov = (JᵀJ)⁺.  A point inside its bound has a zero row in J: it constrains nothing
locally.  When the remaining rows leave a combination of parameters free (JᵀJ
singular), every parameter in that combination is **not determined** by the points:
its standard error is infinite.  This happens when the estimate is held by the edges of
bounds (a constrained optimum: the bounds confine the parameters to a region, which a
standard error does not describe) or when points inside their bounds leave a direction
free.  With as many points as parameters an exact fit (chi2 = 0, 0 degrees of freedom)
reproduces the points by construction and tests nothing; its standard errors are still
defined (the stated uncertainties propagated through the fit) when J is not singular.
The resonance elasticity can only be told apart from p0 and q0 with segments of at
least two different resonances.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, Self

import numpy as np
import pydantic
from pydantic import Field, model_validator
from scipy.optimize import least_squares, minimize

from topology.plumbing import ConfigError, StrictModel, describe_validation_error, located, nearest, read_toml
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


INSIDE_TOL_FRAC = 1e-9
"""A fitted fraction this close to a bound counts as inside it (the least-squares optimum of a
flat-bottomed residual is approached from outside)."""


class CalibrationPoint(StrictModel):
    """One observed (or forecast) adopted fraction, or a bound on it, with its source and uncertainty.

    Exactly one of ``frac`` (a value ± ``uncertainty_frac``) or ``lower_frac`` /
    ``upper_frac`` (a one-sided bound, or an interval with both) is given.
    """

    year: float
    frac: float | None = Field(default=None, ge=0, le=1)
    lower_frac: float | None = Field(default=None, ge=0, le=1)
    upper_frac: float | None = Field(default=None, ge=0, le=1)
    uncertainty_frac: float = Field(gt=0)
    kind: Literal["observed", "bound", "forecast"] = "observed"
    source: str = Field(min_length=1)
    uncertainty_source: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _value_or_bounds(self) -> Self:
        bounded = self.lower_frac is not None or self.upper_frac is not None
        if self.frac is None and not bounded:
            raise ValueError("frac: give frac, or lower_frac and/or upper_frac for a bound")
        if self.frac is not None and bounded:
            raise ValueError("frac: give either frac or lower_frac/upper_frac, not both")
        if self.kind == "bound" and not bounded:
            raise ValueError("kind: 'bound' needs lower_frac and/or upper_frac (frac is a two-sided value)")
        if self.lower_frac is not None and self.upper_frac is not None and self.lower_frac > self.upper_frac:
            raise ValueError(f"lower_frac: {self.lower_frac} is above upper_frac {self.upper_frac}")
        return self

    @property
    def is_interval(self) -> bool:
        """Whether the point is a bound or interval (flat residual inside) rather than a value."""
        return self.frac is None


class CalibrationSegment(StrictModel):
    """A curve: where it starts and the points it should pass through."""

    id: str = Field(min_length=1)
    description: str = ""
    start_year: float
    start_frac: float = Field(default=0.0, ge=0, lt=1)
    start_source: str = Field(min_length=1)
    resonance: float = Field(default=1.0, gt=0)
    ceiling_frac: float = Field(default=1.0, gt=0, le=1)
    fit_ceiling: bool = False
    point: list[CalibrationPoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _points_after_start(self) -> Self:
        for k, p in enumerate(self.point):
            if p.year < self.start_year:
                raise ValueError(f"point[{k}].year: {p.year} is before start_year {self.start_year}")
        if not self.fit_ceiling and self.start_frac > self.ceiling_frac:
            raise ValueError(f"ceiling_frac: {self.ceiling_frac} is below start_frac {self.start_frac}")
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


def model_fracs(
    params: Sequence[float] | np.ndarray,
    segments: Sequence[CalibrationSegment],
    ceilings: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Adopted fraction the model gives at every point of ``segments`` (in order).

    Parameters
    ----------
    params : sequence of float
        ``(p0_per_yr, q0_per_yr)`` or ``(p0_per_yr, q0_per_yr, resonance_elasticity)``.
    segments : sequence of CalibrationSegment
        Curves and their points.
    ceilings : sequence of float, optional
        Market potential of each segment (dimensionless, in (0, 1]); default each
        segment's ``ceiling_frac``.
    """
    p0, q0 = float(params[0]), float(params[1])
    kappa = float(params[2]) if len(params) > 2 else 1.0
    out = []
    for k, seg in enumerate(segments):
        r = seg.resonance**kappa
        m = seg.ceiling_frac if ceilings is None else float(ceilings[k])
        dt = np.array([pt.year - seg.start_year for pt in seg.point])
        start = np.full(dt.shape, seg.start_frac)
        out.append(bass_step(start, p0 * r, q0 * r, dt, m))  # m = 1: bit for bit the model without a ceiling
    return np.concatenate(out)


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


_START_P = (0.003, 0.03, 0.3)
_START_Q = (0.1, 0.5, 2.0)
_START_K = (0.5, 1.5)
_HARD_STARTS = 6
"""Soft optima (best first) the constrained fit starts from."""
_RANK_RTOL = 1e-9
"""Singular values of J below this fraction of the largest count as zero (a free direction)."""
_FREE_TOL = 1e-6
"""A parameter whose component in a free direction exceeds this is not determined."""
CEILING_PREFIX = "ceiling_frac."


def _ceiling_starts(seg: CalibrationSegment) -> tuple[float, ...]:
    """Starting ceilings: 1 (almost: inside the bound) and a quarter above the highest figure."""
    top = max(max(v for v in (pt.frac, pt.lower_frac, pt.upper_frac) if v is not None) for pt in seg.point)
    return tuple(sorted({0.999, min(0.999, max(1.25 * top, seg.start_frac + 1e-3, 0.01))}))


def _interval_residuals(fitted: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Signed distance of ``fitted`` outside [lower, upper] (0 inside); NaN limits are absent."""
    above = np.where(np.isnan(upper), 0.0, np.maximum(fitted - np.nan_to_num(upper), 0.0))
    below = np.where(np.isnan(lower), 0.0, np.minimum(fitted - np.nan_to_num(lower), 0.0))
    out: np.ndarray = above + below
    return out


def _covariance(jac: np.ndarray) -> tuple[np.ndarray, tuple[bool, ...]]:
    """(JᵀJ)⁺ by SVD and which parameters it determines (inf rows/columns for the others)."""
    n = jac.shape[1]
    _, sv, vt = np.linalg.svd(jac, full_matrices=True)
    sv_full = np.zeros(n)
    sv_full[: sv.size] = sv
    keep = sv_full > _RANK_RTOL * (sv_full.max() if sv_full.size else 0.0)
    v = vt.T
    cov: np.ndarray = (v[:, keep] / sv_full[keep] ** 2) @ v[:, keep].T
    free = v[:, ~keep]
    determined = tuple(bool(np.linalg.norm(free[i]) <= _FREE_TOL) for i in range(n))
    for i, ok in enumerate(determined):
        if not ok:
            cov[i, :] = math.inf
            cov[:, i] = math.inf
    return cov, determined


def fit_adoption(
    segments: Sequence[CalibrationSegment], fit_resonance: bool = False, fit_ceiling: bool = False
) -> CalibrationResult:
    """Weighted least-squares fit of p0, q0 (the resonance elasticity, ceilings) to the points of ``segments``.

    Deterministic: a fixed grid of starting values, the best optimum kept.

    Parameters
    ----------
    segments : sequence of CalibrationSegment
        Curves and their points; p0, q0 (and the elasticity) are shared, each segment
        with ``fit_ceiling`` has its own ceiling parameter.
    fit_resonance : bool
        Also fit the resonance elasticity.
    fit_ceiling : bool
        Fit the ceiling of every segment (as if each had ``fit_ceiling = true``).

    Raises
    ------
    ConfigError
        Fewer points than parameters, or a resonance fit without two distinct resonances.
    """
    fitted_ceiling = [k for k, s in enumerate(segments) if fit_ceiling or s.fit_ceiling]
    names = (
        "p0_per_yr",
        "q0_per_yr",
        *(("resonance_elasticity",) if fit_resonance else ()),
        *(CEILING_PREFIX + segments[k].id for k in fitted_ceiling),
    )
    n_rate = 3 if fit_resonance else 2
    points = [pt for s in segments for pt in s.point]
    nan = math.nan
    value = np.array([nan if pt.frac is None else pt.frac for pt in points])
    lower = np.array([nan if pt.lower_frac is None else pt.lower_frac for pt in points])
    upper = np.array([nan if pt.upper_frac is None else pt.upper_frac for pt in points])
    is_value = ~np.isnan(value)
    sigma = np.array([pt.uncertainty_frac for pt in points])
    if len(points) < len(names):
        raise ConfigError(f"calibration: {len(points)} point(s) cannot determine {len(names)} parameters")
    if fit_resonance and len({s.resonance for s in segments}) < 2:
        raise ConfigError("calibration: fitting the resonance elasticity needs segments with two or more "
                          "different 'resonance' values")
    stated = np.array([s.ceiling_frac for s in segments])

    def ceilings(x: np.ndarray) -> np.ndarray:
        m = stated.copy()
        m[fitted_ceiling] = x[n_rate:]
        return m

    def fracs(x: np.ndarray) -> np.ndarray:
        return model_fracs(x[:n_rate], segments, ceilings(x))

    def distance(f: np.ndarray) -> np.ndarray:
        """Residual in fraction: value points fitted − value, bounds the distance outside."""
        out: np.ndarray = np.where(is_value, f - np.nan_to_num(value), _interval_residuals(f, lower, upper))
        return out

    def residuals(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = distance(fracs(x)) / sigma
        return out

    # Rates and the elasticity are >= 0; a ceiling lies in [start_frac, 1] (F starts at or below it).
    lo = np.array([0.0] * n_rate + [max(segments[k].start_frac, 1e-6) for k in fitted_ceiling])
    hi = np.array([np.inf] * n_rate + [1.0] * len(fitted_ceiling))
    starts = itertools.product(_START_P, _START_Q, *((_START_K,) if fit_resonance else ()),
                               *(_ceiling_starts(segments[k]) for k in fitted_ceiling))
    best = None
    ends: list[tuple[float, np.ndarray]] = []
    for x0 in starts:
        res = least_squares(residuals, np.clip(np.array(x0), lo, hi), bounds=(lo, hi), method="trf", x_scale="jac",
                            xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=5000)
        ends.append((float(res.cost), np.asarray(res.x, float)))
        if best is None or res.cost < best.cost - 1e-12:
            best = res
    assert best is not None
    x = np.asarray(best.x, float)
    bounds_met = _max_violation(fracs(x), lower, upper) <= INSIDE_TOL_FRAC
    if not bounds_met:
        # The soft optimum leaves a bound slightly violated (a flat-bottomed residual is always
        # crossed when the other points pull): if some curve meets every bound, the bounds are
        # hard constraints instead, and the value points are fitted within them.
        # Started from the best soft optima (stable sort: ties keep grid order, so it is deterministic).
        seeds = [end for _, end in sorted(ends, key=lambda e: e[0])[:_HARD_STARTS]]
        hard = _constrained_fit(fracs, distance, is_value, lower, upper, sigma, lo, hi, seeds)
        if hard is not None:
            x, bounds_met = hard, True
    fitted = fracs(x)
    cov, determined = _covariance(_jacobian(fracs, x, lo, hi, fitted, is_value, lower, upper, sigma))
    se = tuple(math.sqrt(v) if v >= 0 else math.nan for v in np.diag(cov))
    rows = []
    for pt, seg_id, f in zip(points, (s.id for s in segments for _ in s.point), fitted, strict=True):
        rows.append(PointResidual(seg_id, pt.year, pt.kind, pt.frac, float(f), pt.uncertainty_frac,
                                  pt.lower_frac, pt.upper_frac))
    at_bound = tuple(bool(v <= lo[i] + 1e-10 or v >= hi[i] - 1e-10) if i >= n_rate else bool(v <= 1e-10)
                     for i, v in enumerate(x))
    on_edge = tuple(bool(is_edge) for is_edge in
                    (~is_value) & (np.abs(_interval_residuals(fitted, lower, upper)) <= INSIDE_TOL_FRAC)
                    & (_edge_distance(fitted, lower, upper) <= 1e-7))
    return CalibrationResult(
        names=names,
        values=tuple(float(v) for v in x),
        std_errors=se,
        covariance=cov,
        residuals=tuple(rows),
        chi2=float(np.sum(residuals(x) ** 2)),
        dof=len(points) - len(names),
        at_bound=at_bound,
        segments=tuple(s.id for s in segments),
        determined=determined,
        ceilings=tuple(float(v) for v in ceilings(x)),
        bounds_met=bounds_met,
        on_edge=on_edge,
    )


def _max_violation(fitted: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Largest distance (fraction) of a fitted value outside its bound (0 when there are none)."""
    dist = np.abs(_interval_residuals(fitted, lower, upper))
    return float(dist.max()) if dist.size else 0.0


def _edge_distance(fitted: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Distance of each fitted value to the nearest limit of its bound (inf for value points)."""
    to_upper = np.where(np.isnan(upper), np.inf, np.abs(fitted - np.nan_to_num(upper)))
    to_lower = np.where(np.isnan(lower), np.inf, np.abs(fitted - np.nan_to_num(lower)))
    out: np.ndarray = np.minimum(to_upper, to_lower)
    return out


def _constrained_fit(
    fracs: Callable[[np.ndarray], np.ndarray],
    distance: Callable[[np.ndarray], np.ndarray],
    is_value: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    sigma: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    starts: Sequence[np.ndarray],
) -> np.ndarray | None:
    """Least squares over the value points subject to every bound (SLSQP); ``None`` if none is met.

    The best start (least chi2 among those ending inside every bound, to
    :data:`INSIDE_TOL_FRAC`) is kept; the constraints carry a margin of 1e-11 so that the
    result lands inside rather than on the far side of a limit.
    """
    margin = 1e-11

    def chi2(x: np.ndarray) -> float:
        return float(np.sum((distance(fracs(x))[is_value] / sigma[is_value]) ** 2))

    def slack(x: np.ndarray) -> np.ndarray:
        f = fracs(x)
        parts = [np.nan_to_num(upper, nan=np.inf) - f - margin, f - np.nan_to_num(lower, nan=-np.inf) - margin]
        both = np.concatenate(parts)
        out: np.ndarray = both[np.isfinite(both)]
        return out

    box = [(float(a), None if math.isinf(b) else float(b)) for a, b in zip(lo, hi, strict=True)]
    best: tuple[float, np.ndarray] | None = None
    for x0 in starts:
        res = minimize(chi2, np.clip(x0, lo, hi), method="SLSQP", bounds=box,
                       constraints=[{"type": "ineq", "fun": slack}], options={"ftol": 1e-15, "maxiter": 1000})
        x = np.clip(np.asarray(res.x, float), lo, hi)
        if _max_violation(fracs(x), lower, upper) > INSIDE_TOL_FRAC:
            continue
        cost = chi2(x)
        if best is None or cost < best[0] - 1e-12:
            best = (cost, x)
    return None if best is None else best[1]


def _jacobian(
    fracs: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    fitted: np.ndarray,
    is_value: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    sigma: np.ndarray,
) -> np.ndarray:
    """Jacobian of the weighted residuals at ``x``: the model's derivative / sigma, zero rows for bounds met.

    The model is smooth, so its derivative is taken by central differences (one-sided at
    a parameter's bound).  A bound or interval point that the fit satisfies contributes
    nothing locally (its residual is 0 in a neighbourhood), one that it violates
    contributes the model's derivative.
    """
    cols = []
    for i, xi in enumerate(x):
        h = 1e-6 * max(abs(xi), 1e-3)
        up, down = x.copy(), x.copy()
        up[i] = min(xi + h, hi[i])
        down[i] = max(xi - h, lo[i])
        cols.append((fracs(up) - fracs(down)) / (up[i] - down[i]))
    deriv = np.column_stack(cols)
    active = is_value | (np.abs(_interval_residuals(fitted, lower, upper)) > INSIDE_TOL_FRAC)
    out: np.ndarray = np.where(active[:, None], deriv / sigma[:, None], 0.0)
    return out


def _shared_ceiling(result: CalibrationResult) -> float | None:
    """The ceiling every fitted segment has, if they share one."""
    distinct = set(result.ceilings)
    return distinct.pop() if len(distinct) == 1 else None


def _se_text(result: CalibrationResult, name: str) -> str:
    k = result.names.index(name)
    if not result.determined[k]:
        why = "; the estimate sits on the edge of a bound" if any(result.on_edge) else ""
        return f"standard error not determined (infinite): the points leave it free{why}"
    note = " (at a bound: unreliable)" if result.at_bound[k] else ""
    return f"standard error {result.std_errors[k]:.3g}{note}"


def fragment_toml(result: CalibrationResult, source: str) -> str:
    """A TOML fragment with the fitted values under ``[adoption]``, for a scenario.

    Standard errors and residuals are comments, so the fragment stays a valid
    ``[adoption]`` table (copy its keys into a scenario, or pass them with ``--set``).
    ``ceiling_frac`` is written when the segments share one ceiling other than 1 (or a
    fitted one); different ceilings are listed as comments, for ``[[adoption.segment]]``.
    """
    lines = [
        f"# cpnsim calibrate {source} (segments: {', '.join(result.segments)})",
        f"# weighted least squares, chi2 = {result.chi2:.4g} on {result.dof} degree(s) of freedom",
    ]
    if result.exact and result.dof <= 0:
        lines.append("# exact fit (as many parameters as points): the points are reproduced by construction")
    lines.append("[adoption]")
    for name, value in zip(result.names, result.values, strict=True):
        if not name.startswith(CEILING_PREFIX):
            lines.append(f"{name} = {value!r}  # {_se_text(result, name)}")
    fitted = [n for n in result.names if n.startswith(CEILING_PREFIX)]
    shared = _shared_ceiling(result)
    if shared is not None and (fitted or shared != 1.0):
        how = _se_text(result, fitted[0]) if len(fitted) == 1 else "stated in the points file"
        if len(fitted) > 1:
            how = "; ".join(f"{n[len(CEILING_PREFIX):]}: {_se_text(result, n)}" for n in fitted)
        lines.append(f"ceiling_frac = {shared!r}  # {how}")
    elif shared is None:
        lines.append("# the segments have different ceilings; set ceiling_frac per [[adoption.segment]]:")
        for sid, m in zip(result.segments, result.ceilings, strict=True):
            name = CEILING_PREFIX + sid
            tail = f" ({_se_text(result, name)})" if name in result.names else " (stated)"
            lines.append(f"#   {sid}: ceiling_frac = {m!r}{tail}")
    lines.append("# residual (fitted - observed; for a bound, distance outside it) at each point:")
    for r in result.residuals:
        flag = "within" if r.within else "OUTSIDE"
        tol = f"+/- {r.uncertainty:g}" if r.observed is not None else "the bound"
        lines.append(f"#   {r.segment} {r.year:g} ({r.kind}): observed {r.target}, fitted {r.fitted:.4g}, "
                     f"residual {r.residual:+.4g} ({flag} {tol})")
    return "\n".join(lines) + "\n"
