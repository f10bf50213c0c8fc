"""Fit the adoption model's p0, q0 (optionally the resonance elasticity and ceilings) to calibration points.

The model at a point is the exact Bass flow from the segment's start (see
:func:`workloads.adoption.bass.bass_step`) with p = p0 · R, q = q0 · R, R = resonance **
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

import numpy as np

from topology.plumbing import ConfigError
from workloads.adoption.bass import bass_step
from workloads.adoption.points import CalibrationSegment
from workloads.adoption.result import CEILING_PREFIX, INSIDE_TOL_FRAC, CalibrationResult, PointResidual

__all__ = ["fit_adoption", "model_fracs"]

_START_P = (0.003, 0.03, 0.3)
_START_Q = (0.1, 0.5, 2.0)
_START_K = (0.5, 1.5)
_HARD_STARTS = 6
"""Soft optima (best first) the constrained fit starts from."""
_RANK_RTOL = 1e-9
"""Singular values of J below this fraction of the largest count as zero (a free direction)."""
_FREE_TOL = 1e-6
"""A parameter whose component in a free direction exceeds this is not determined."""


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
    # Deferred: scipy.optimize takes ~0.3 s to import, and every importer of workloads.adoption
    # (each scenario load) would pay it; only a calibration needs it.
    from scipy.optimize import least_squares

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
    from scipy.optimize import minimize  # deferred, as in fit_adoption

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
