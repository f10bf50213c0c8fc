"""``cpnsim search capacity``: the least added GPU capacity that reaches a target, by k-section.

Exit status 0 when the target is reached (also with nothing added), 1 when it is not
reached at ``--max-added``, 2 for bad input.  Every evaluated point is printed and
written, with the ``runs`` rows of every evaluated scenario, as a dataset at ``--out``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from cluster.cli.options import (
    add_executor_options,
    add_out,
    add_overrides,
    add_quiet,
    add_scenario,
    make_executor_from,
)
from cluster.cli.registry import EXIT_CHECK_FAILED, EXIT_OK
from cluster.search import DEFAULT_MIN_REPLICATIONS, horizon_for_year, parse_target
from cluster.search_run import capacity_search, search_table
from cluster.sweeps.store import check_writable, slug, write_dataset
from sim.scenario import load_scenario
from sim.tables import RUNS_COLUMNS
from topology.plumbing import CpnsimError, nearest

__all__ = ["DESCRIPTION", "EXIT_NOT_REACHED", "add_arguments", "run"]

DESCRIPTION = "Searches over scenarios, run on the sweep executors."

EXIT_NOT_REACHED = EXIT_CHECK_FAILED


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``capacity`` and its arguments to the ``cpnsim search`` parser."""
    kinds = parser.add_subparsers(dest="search", metavar="SEARCH", required=True)
    cap = kinds.add_parser(
        "capacity", help="least GPUs added at the named sites for which a target is reached",
        description="Bracket the least number of GPUs added at the varied sites (in proportion to their present "
        "GPUs) for which the replication mean of a runs column reaches the target, by bisection (k-section with "
        "one point per CPU) over replicated runs. Exit status 1 when the target is not reached at --max-added.",
    )
    add_scenario(cap)
    cap.add_argument("--target", required=True, metavar="COLUMN=VALUE",
                     help="target on a numeric runs column: COLUMN=VALUE or COLUMN>=VALUE (at least), COLUMN<=VALUE "
                     "(at most); 'adoption' means adoption_frac_end")
    cap.add_argument("--vary", required=True, metavar="WHAT",
                     help="west_gpus (every western site, scaled in proportion) or sites.<site id>.gpus")
    cap.add_argument("--by", type=int, metavar="YEAR", help="reach the target by the end of YEAR: sets horizon_h "
                     "(needs the scenario's start_year or --start-year)")
    cap.add_argument("--start-year", type=int, metavar="YEAR",
                     help="calendar year whose 1 January is t = 0 (default: the scenario's start_year)")
    cap.add_argument("--policy", help="placement policy (overrides the scenario's)")
    cap.add_argument("--replications", type=int, help="replications per point (default: the scenario's, at least "
                     f"{DEFAULT_MIN_REPLICATIONS}); every point runs the same seeds (common random numbers)")
    add_overrides(cap)
    cap.add_argument("--max-added", type=int, metavar="GPUS", help="upper end of the range (default: 4 x the varied "
                     "sites' GPUs)")
    cap.add_argument("--tolerance", type=int, metavar="GPUS", help="stop when the bracket is this narrow "
                     "(default: 1%% of --max-added, at least 1)")
    cap.add_argument("--points-per-round", type=int, metavar="K", help="points evaluated together per round "
                     "(default: one per CPU of the executor; 1 is bisection)")
    cap.add_argument("--confidence", type=float, default=0.95, help="confidence level of the replication intervals")
    add_executor_options(cap)
    add_out(cap, "output dataset (default: cpnsim-out/search-<scenario name>)")
    add_quiet(cap, "print only the answer and the output path")


def _overrides(args: argparse.Namespace) -> list[str]:
    sets = list(args.overrides)
    if args.policy:
        sets.append(f"policy={args.policy}")
    if args.replications is not None:
        if args.replications < 1:
            raise CpnsimError(f"--replications: must be >= 1, got {args.replications}")
        sets.append(f"replications={args.replications}")
    if args.by is not None:
        start_year = args.start_year
        if start_year is None:
            start_year = load_scenario(args.scenario, sets).scenario.start_year
        if start_year is None:
            raise CpnsimError("--by: needs --start-year YEAR or the scenario's start_year (the calendar year of t = 0)")
        sets.append(f"horizon_h={horizon_for_year(args.by, start_year)}")
    elif args.start_year is not None:
        raise CpnsimError("--start-year: only with --by YEAR")
    return sets


def _check_column(column: str) -> None:
    """Refuse a target column that no run writes, before anything runs."""
    numeric = [name for name, dtype, *_ in RUNS_COLUMNS if pa.types.is_integer(dtype) or pa.types.is_floating(dtype)]
    if column not in numeric and not column.startswith("param."):
        hint = nearest(column, numeric)
        tail = f"did you mean '{hint}'?" if hint else "numeric columns: " + ", ".join(numeric)
        raise CpnsimError(f"--target: no numeric column {column!r} in runs ({tail})")


def _fmt(value: float, half: float) -> str:
    return f"{value:.5g}" + ("" if math.isnan(half) else f" ± {half:.2g}")


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim search capacity``; returns 0 (reached) or 1 (not reached at ``--max-added``).

    Raises
    ------
    CpnsimError
        Bad options or scenario (exit status 2); nothing is written.
    """
    executor = make_executor_from(args)  # checks --num-cpus; starts nothing yet
    if args.points_per_round is not None and args.points_per_round < 1:
        raise CpnsimError(f"--points-per-round: must be >= 1, got {args.points_per_round}")
    target = parse_target(args.target)
    _check_column(target.column)
    overrides = _overrides(args)
    name = Path(args.scenario).stem if args.scenario else "default"
    out: Path = args.out or Path("cpnsim-out") / f"search-{slug(name)}"
    check_writable(out)

    started: list[bool] = []

    def on_round(points: list[Any]) -> None:
        if not args.quiet:
            if not started:  # after the scenario and --vary are known to be good: errors stay one line
                err.print(f"searching {args.vary} for {target} with the {args.executor} executor, "
                          f"{len(points[0].values)} replications per point on common random numbers", highlight=False)
                started.append(True)
            for p in points:
                err.print(f"  round {p.round}: +{p.added_gpus:,} GPUs: {target.column} = {_fmt(p.mean, p.ci_half)} "
                          f"({'reached' if p.reached else 'not reached'})", highlight=False)

    search = capacity_search(args.scenario, target, args.vary, executor, overrides=overrides,
                             max_added=args.max_added, tolerance=args.tolerance, per_round=args.points_per_round,
                             confidence=args.confidence, on_round=on_round)
    r = search.result
    table = search_table(search)
    manifest = {"kind": "search", "source": search.base.source,
                "scenario": search.base.scenario.model_dump(mode="json"),
                "search": {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}}
    write_dataset(out, {"search": table, "runs": search.runs}, manifest)
    if not args.quiet:
        _print_points(console, search)
    console.print(_answer(search), highlight=False, soft_wrap=True)
    noise = _indistinct(search)
    if noise:
        console.print(noise, highlight=False, soft_wrap=True)
    for a, b in r.nonmonotone:
        console.print(f"note: non-monotone: reached at +{a:,} GPUs but not at +{b:,}; treated as noise, the bracket "
                      "takes the larger capacity", highlight=False)
    console.print(f"wrote {out}", highlight=False)
    return EXIT_NOT_REACHED if r.status == "not_reached" else EXIT_OK


def _ci(p: Any, pct: str) -> str:
    n = len(p.values)
    return f"({pct} CI over {n} replications)" if n > 1 else "(one replication: no interval)"


def _answer(search: Any) -> str:
    r, t, v = search.result, search.target, search.vary
    unit = f" {search.unit}" if search.unit and search.unit != "1" else ""
    pct = f"{search.confidence:.0%}"
    where = f"{v.name} ({', '.join(v.sites)}; {v.base_total:,} GPUs now)"
    if r.status == "at_zero":
        p = r.point(0)
        return (f"{t} is reached with no GPUs added to {where}: {t.column} = {_fmt(p.mean, p.ci_half)}{unit} "
                f"{_ci(p, pct)}")
    if r.status == "not_reached":
        p = r.point(r.lo)
        return (f"NOT REACHED: {t} is not reached even with +{r.lo:,} GPUs at {where}: {t.column} = "
                f"{_fmt(p.mean, p.ci_half)}{unit} {_ci(p, pct)}; raise --max-added or check the target")
    lo, hi = r.point(r.lo), r.point(r.hi)
    text = (f"answer: +{r.hi:,} GPUs at {where} reach {t}: the least added capacity is in ({r.lo:,}, {r.hi:,}] GPUs; "
            f"{t.column} = {_fmt(lo.mean, lo.ci_half)} at +{r.lo:,} and {_fmt(hi.mean, hi.ci_half)}{unit} at "
            f"+{r.hi:,} {_ci(hi, pct)}")
    shaky = [f"+{p.added_gpus:,}" for p in (lo, hi) if p.straddles(t)]
    if shaky:
        text += (f"; the target lies inside the {pct} CI at {' and '.join(shaky)}: the bracket is within the "
                 "replication noise (more --replications narrow it)")
    return text


def _indistinct(search: Any) -> str:
    """A note on whether the answer (or, not reached, the largest capacity) can be told apart from the baseline."""
    r, t = search.result, search.target
    base = r.point(0)
    p = r.point(r.hi if r.status == "found" else r.lo) if r.status != "at_zero" else None
    if base is None or p is None:
        return ""
    pct = f"{search.confidence:.0%}"
    diff, half = p.difference(base, search.confidence)
    if math.isnan(half) and (math.isnan(p.ci_half) or math.isnan(base.ci_half)):
        return (f"note: with one replication per point +{p.added_gpus:,} GPUs cannot be told apart from the baseline "
                "(no interval): use --replications 5 or more")
    overlap = "overlap" if p.overlaps(base) else "do not overlap"
    paired = "" if math.isnan(half) else f"; paired on common random numbers the difference is {_fmt(diff, half)}"
    head = (f"{t.column} = {_fmt(p.mean, p.ci_half)} at +{p.added_gpus:,} GPUs and {_fmt(base.mean, base.ci_half)} "
            f"with none added (the {pct} intervals {overlap}{paired})")
    if p.indistinct_from(base, search.confidence):
        return (f"note: CANNOT BE TOLD APART from the baseline: {head}: the capacity effect is within the replication "
                "noise (more --replications narrow it)")
    return f"note: told apart from the baseline: {head}"


def _print_points(console: Console, search: Any) -> None:
    table = Table(title=f"capacity search: {search.target} over {search.vary.name}")
    for name in ("round", "added GPUs", "varied GPUs", f"mean {search.target.column}", "± CI", "reached"):
        table.add_column(name, justify="right")
    for p in sorted(search.result.points, key=lambda p: p.added_gpus):
        table.add_row(str(p.round), f"{p.added_gpus:,}", f"{search.vary.base_total + p.added_gpus:,}",
                      f"{p.mean:.5g}", "" if math.isnan(p.ci_half) else f"{p.ci_half:.2g}",
                      "yes" if p.reached else "no")
    console.print(table)
