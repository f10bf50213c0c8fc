"""``cpnsim calibrate POINTS.toml``: fit the adoption model's p0, q0 (and ceilings) to observed adoption points.

Prints the fitted values with their standard errors and the residual at every point
(rich tables), and with ``--out`` writes them as a TOML ``[adoption]`` fragment.  The
points file format is described in :mod:`workloads.adoption.points`; ``shipped`` names the
points that come with cpnsim.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cluster.cli.options import add_out, write_out_file
from workloads.adoption import (
    CalibrationResult,
    fit_adoption,
    fragment_toml,
    load_points,
    select_segments,
    shipped_points_path,
)

__all__ = ["DESCRIPTION", "FACTORS", "SHIPPED", "add_arguments", "run"]

SHIPPED = "shipped"
FACTORS = "factors"

DESCRIPTION = (
    "Fit p0 and q0 (with --fit-resonance the resonance elasticity, with --fit-ceiling or a segment's fit_ceiling "
    "its market potential) of the DANT-KIF/Bass adoption model to the points of a TOML points file by weighted "
    "least squares, bounds ('under 5%') as constraints when they can be met; print the fitted values, their "
    f"standard errors and the residual at every point. '{SHIPPED}' names the points shipped with cpnsim. "
    f"'{FACTORS}' instead prints the demand factors derived from regional indicators "
    "(workloads/data/regional_factors.toml, used with [adoption] regional_factors = true) and the factors without data."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``cpnsim calibrate`` to ``parser``."""
    parser.add_argument("points", help=f"points TOML file, or '{SHIPPED}', or '{FACTORS}' (list the regional "
                        "factors derived from data)")
    parser.add_argument("--segment", action="append", default=[], metavar="ID",
                        help="fit only this segment (repeatable; default: every segment in the file)")
    parser.add_argument("--fit-resonance", action="store_true",
                        help="also fit the resonance elasticity (needs segments with different 'resonance')")
    parser.add_argument("--fit-ceiling", action="store_true",
                        help="also fit each segment's ceiling (market potential, share that will ever adopt)")
    add_out(parser, "write the fitted values as a TOML [adoption] fragment here")


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _print(console: Console, result: CalibrationResult, source: str) -> None:
    params = Table(title=f"fit of {source} ({', '.join(result.segments)})", title_justify="left")
    for name, justify in (("parameter", "left"), ("value", "right"), ("std error", "right"), ("note", "left")):
        params.add_column(name, justify=justify)  # type: ignore[arg-type]
    edges = [f"{r.segment} {r.year:g}" for r, edge in zip(result.residuals, result.on_edge, strict=True) if edge]
    for k, (name, value, se) in enumerate(zip(result.names, result.values, result.std_errors, strict=True)):
        unit = " /yr" if name.endswith("_per_yr") else ""
        notes = []
        if not result.determined[k]:
            edge = f"; bound(s) met at their edge: {', '.join(edges)}" if edges else ""
            notes.append(f"not determined: the points leave it free{edge}")
        if result.at_bound[k]:
            notes.append("at the edge of its range: SE unreliable")
        se_text = "± " + _fmt(se) if result.determined[k] else "not determined"
        params.add_row(name, _fmt(value) + unit, se_text, "; ".join(notes))
    console.print(params)
    if result.exact and result.dof <= 0:
        console.print(f"exact fit: {len(result.residuals)} point(s), {len(result.names)} parameter(s), chi2 = 0: "
                      "the points are reproduced by construction and the fit tests nothing", highlight=False)
    if edges and all(result.determined):
        console.print(f"the estimate sits on the edge of bound(s) {', '.join(edges)}: the standard errors ignore "
                      "that constraint", highlight=False)
    if not result.bounds_met:
        console.print("no curve of the model meets every bound: the bounds were fitted as soft penalties",
                      highlight=False)
    res = Table(title=f"residuals (chi2 = {result.chi2:.4g}, {result.dof} dof)", title_justify="left")
    for name, justify in (("segment", "left"), ("year", "right"), ("kind", "left"), ("observed", "right"),
                          ("fitted", "right"), ("residual", "right"), ("uncertainty", "right"), ("within", "left")):
        res.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in result.residuals:
        tol = f"± {r.uncertainty:g}" if r.observed is not None else "inside"
        res.add_row(r.segment, f"{r.year:g}", r.kind, r.target, _fmt(r.fitted), f"{r.residual:+.4f}",
                    tol, "yes" if r.within else "[bold red]NO[/bold red]")
    console.print(res)


def _strip_notes(text: str) -> str:
    """``text`` without its parenthesised notes (nested too): the formula with its figures.

    Examples
    --------
    >>> _strip_notes("x 0.1 (2023, a (b)) / 0.5 (c) ** 0.5")
    'x 0.1 / 0.5 ** 0.5'
    """
    while True:
        shorter = re.sub(r"\s*\([^()]*\)", "", text)
        if shorter == text:
            return text
        text = shorter


def _print_factors(console: Console) -> None:
    from workloads.adoption.config import DEMAND_FACTORS
    from workloads.adoption.regional import load_regional_factors, regional_factors_path

    data = load_regional_factors()
    table = Table(title=f"demand factors derived from regional indicators ({regional_factors_path().name}; "
                  f"f = prod (x / x_ref) ** {data.elasticity:g})", title_justify="left")
    for name in ("region", *DEMAND_FACTORS, "from"):
        table.add_column(name, justify="left" if name in ("region", "from") else "right")
    for r in data.region:
        used = [_strip_notes(getattr(r, f"{f}_source").removeprefix("derived: "))
                for f in DEMAND_FACTORS if f not in r.without_data]
        table.add_row(r.id, *(f"{getattr(r, f):.4f}" for f in DEMAND_FACTORS), "; ".join(used) or "no data")
    console.print(table)
    none = [r.id for r in data.region if len(r.without_data) == len(DEMAND_FACTORS)]
    console.print(f"without data (every factor 1): {', '.join(none)}", highlight=False)
    partial = [f"{r.id} ({', '.join(r.without_data)})" for r in data.region
               if 0 < len(r.without_data) < len(DEMAND_FACTORS)]
    if partial:
        console.print(f"factors without data (1): {'; '.join(partial)}", highlight=False)
    notes: dict[str, list[str]] = {}
    for r in data.region:
        for note in r.unused:
            notes.setdefault(note, []).append(r.id)
    for note, ids in notes.items():
        console.print(f"not used for {', '.join(ids)}: {note}", highlight=False)


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim calibrate``; bad input raises a :class:`~topology.plumbing.CpnsimError` (exit 2)."""
    if args.points == FACTORS:
        _print_factors(console)
        return 0
    path = shipped_points_path() if args.points == SHIPPED else Path(args.points)
    points = load_points(path)
    segments = select_segments(points, args.segment, str(path))
    result = fit_adoption(segments, fit_resonance=args.fit_resonance, fit_ceiling=args.fit_ceiling)
    _print(console, result, str(args.points))
    outside = [r for r in result.residuals if not r.within]
    if outside:
        err.print(f"{len(outside)} of {len(result.residuals)} point(s) not reproduced within their stated uncertainty")
    if args.out is not None:
        write_out_file(args.out, fragment_toml(result, str(args.points)))
        console.print(f"wrote {args.out}", highlight=False)
    return 0
