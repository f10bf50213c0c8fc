"""The text of a TOML ``[adoption]`` fragment with fitted values, for a scenario (``cpnsim calibrate --out``)."""

from __future__ import annotations

from workloads.adoption.result import CEILING_PREFIX, CalibrationResult

__all__ = ["fragment_toml"]


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
