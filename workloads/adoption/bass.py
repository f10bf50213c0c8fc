"""Generalised Bass diffusion with a market potential, stepped exactly by its closed form.

Per segment a fraction F of enterprises has adopted AI.  It follows (time in years)::

    dF/dt = (p_eff + q_eff · F / m) · (m − F),   p_eff = p0 · R,   q_eff = q0 · R

with the **market potential** (ceiling) m in (0, 1], the share of the segment's
enterprises that will ever adopt (Bass 1969); m = 1 (the default) is the plain
generalised Bass equation dF/dt = (p_eff + q_eff · F) · (1 − F).  With G = F / m the
equation is the ordinary Bass equation dG/dt = (p_eff + q_eff · G) · (1 − G) with the
same rates (divide both sides by m), so F(t) = m · G(t) and p, q do not scale with m.

Over one step p_eff and q_eff are constant and F is advanced **exactly** by the closed
form of the Riccati equation (:func:`bass_step`), so the result does not depend on the
step length.  Pure numpy functions, vectorised over segments.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bass_closed_form", "bass_step"]


def bass_step(
    f0: np.ndarray | float,
    p: np.ndarray | float,
    q: np.ndarray | float,
    dt: np.ndarray | float,
    ceiling: np.ndarray | float | None = None,
) -> np.ndarray:
    """Advance dF/dt = (p + q·F/m)(m − F) exactly over ``dt`` with p, q and the ceiling m constant.

    With G = F / m this is dG/dt = (p + q·G)(1 − G), the ordinary Bass equation with the
    same p and q, so F is stepped as m times the flow of G below.  Without ``ceiling``
    (or with m = 1, bit for bit: x / 1 and 1 · x are exact) it is dF/dt = (p + q·F)(1 − F).

    The Riccati equation has the closed-form flow (E = exp(−(p + q)·dt))::

        F(t + dt) = ((p + q F) − p (1 − F) E) / ((p + q F) + q (1 − F) E)

    which has no division by p (p = 0 is the logistic curve) and maps [0, 1] into
    [0, 1].  It is evaluated as F + (1 − F)·(p + qF)(1 − E) / ((p + qF) + q(1 − F)E), with
    1 − E from ``expm1``, so that F never decreases and extra rate never lowers F, even
    in floating point.  When p = q = 0 F does not move.

    Parameters
    ----------
    f0 : array_like
        Adopted fractions at the start of the step, in [0, m].
    p, q : array_like
        Innovation and imitation rates per unit of time of ``dt`` (>= 0); broadcast with ``f0``.
    dt : array_like
        Step length (>= 0), in the time unit of p and q; broadcast with ``f0``.
    ceiling : array_like, optional
        Market potential m in (0, 1] (dimensionless); default 1.  Broadcast with ``f0``.

    Returns
    -------
    numpy.ndarray
        Adopted fractions at the end of the step (float64), in [f0, m].

    Examples
    --------
    >>> float(bass_step(0.0, 0.03, 0.38, 1.0).round(6))
    0.035758
    """
    if ceiling is not None:
        m = np.asarray(ceiling, float)
        # G = F / m, capped at 1 against a last-ulp excess of m · G / m; the flow of G is m-free.
        g_end = bass_step(np.minimum(np.asarray(f0, float) / m, 1.0), p, q, dt)
        scaled: np.ndarray = np.clip(m * g_end, 0.0, m)
        return scaled
    f = np.asarray(f0, float)
    p_arr = np.asarray(p, float)
    q_arr = np.asarray(q, float)
    x = -(p_arr + q_arr) * np.asarray(dt, float)
    one_minus_e = -np.expm1(x)  # 1 − E, accurate when (p + q)·dt is small
    e = np.exp(x)
    a = p_arr + q_arr * f
    den = a + q_arr * (1.0 - f) * e
    # Written as F + (1 − F)·a·(1 − E)/den, the same flow: every term is >= 0 and the fraction
    # is <= 1, so F never falls or passes 1 in floating point, and more rate never gives less.
    with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
        inc = np.where(den > 0, (1.0 - f) * a * one_minus_e / np.where(den > 0, den, 1.0), 0.0)
    out: np.ndarray = np.clip(f + inc, 0.0, 1.0)
    return out


def bass_closed_form(t: np.ndarray | float, p: float, q: float, ceiling: float = 1.0) -> np.ndarray:
    """The textbook Bass curve from F(0) = 0: m (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t}), p > 0.

    m is the market potential ``ceiling`` (default 1).  Used by the tests as the reference
    :func:`bass_step` must reproduce.
    """
    e = np.exp(-(p + q) * np.asarray(t, float))
    out: np.ndarray = ceiling * (1.0 - e) / (1.0 + (q / p) * e)
    return out
