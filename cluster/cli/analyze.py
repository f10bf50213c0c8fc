"""``cpnsim analyze sensitivity``: Sobol' indices of a saltelli sweep, printed and written as Arrow.

Kept free of heavy imports: SALib (and pandas) load only when the command runs.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cluster.cli.options import add_out, add_quiet

__all__ = ["DESCRIPTION", "add_arguments", "default_output_path", "run"]

DESCRIPTION = "Analyses of a sweep dataset written by `cpnsim sweep`."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``sensitivity`` and its arguments to the ``cpnsim analyze`` parser."""
    kinds = parser.add_subparsers(dest="analysis", metavar="ANALYSIS", required=True)
    sens = kinds.add_parser(
        "sensitivity", help="first-order and total Sobol' indices of a saltelli sweep",
        description="Average the replications of each scenario of a sweep with method = \"saltelli\" axes, "
        "estimate first-order (S1) and total (ST) Sobol' indices of OUTPUT for every saltelli axis with SALib, "
        "print them with confidence intervals and write them as an Arrow table.",
    )
    sens.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="sweep dataset directory")
    sens.add_argument("--output", required=True, metavar="COLUMN",
                      help="numeric column of the runs table, e.g. adoption_frac_end or wait_mean_h")
    sens.add_argument("--confidence", type=float, default=0.95, help="confidence level of the intervals "
                      "(default 0.95)")
    sens.add_argument("--band", type=float, default=0.9, help="mass of the central band of OUTPUT printed with "
                      "its median over the design's scenarios (default 0.9: 5th to 95th percentile)")
    sens.add_argument("--resamples", type=int, default=1000, metavar="N",
                      help="bootstrap resamples for the intervals (default 1000)")
    sens.add_argument("--drop-failed", action="store_true", help="leave out the base samples of failed or missing "
                      "scenarios instead of refusing")
    add_out(sens, "Arrow file to write (default: OUT_DIR/sensitivity_<OUTPUT>.arrow)", metavar="PATH")
    add_quiet(sens)


def default_output_path(out_dir: Path, output: str) -> Path:
    """Where the table goes without ``--out``: a file at the top of the dataset.

    Top level, not a sub-folder: ``cpnsim sweep --resume`` removes files in the
    dataset's table folders that its manifest does not list.

    Examples
    --------
    >>> default_output_path(Path("out"), "wait_mean_h").as_posix()
    'out/sensitivity_wait_mean_h.arrow'
    """
    return out_dir / f"sensitivity_{re.sub(r'[^A-Za-z0-9_.-]+', '-', output)}.arrow"


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim analyze sensitivity``; bad input raises a :class:`~topology.plumbing.CpnsimError` (exit 2)."""
    from cluster.sensitivity import sensitivity_table, sobol_indices
    from cluster.sweeps.store import write_table
    from topology.plumbing import CpnsimError

    if args.resamples < 10:
        raise CpnsimError(f"--resamples: must be >= 10, got {args.resamples}")
    result = sobol_indices(args.out_dir, args.output, args.confidence, drop_failed=args.drop_failed,
                           num_resamples=args.resamples, band=args.band)
    path = args.out or default_output_path(args.out_dir, args.output)
    write_table(sensitivity_table(result, str(args.out_dir)), path)
    if not args.quiet:
        unit = f" [{result.unit}]" if result.unit else ""
        pct = f"{result.confidence:.0%}"
        for g in result.groups:
            at = f" at {g.grid}" if g.grid else ""
            console.print(f"{result.output}{unit}{at}: median {g.median:.4g}, {result.band:.0%} band "
                          f"{g.band_low:.4g} to {g.band_high:.4g} over the design's {g.base_samples} base samples' "
                          "scenarios (each the mean of its replications)", highlight=False)
            title = f"Sobol' indices of {result.output}{unit}" + (f" at {g.grid}" if g.grid else "")
            caption = f"N = {g.base_samples} base samples; ± is the half-width of the {pct} bootstrap interval"
            if g.dropped:
                caption += f"; {g.dropped} base sample(s) with failed or missing scenarios left out"
            table = Table(title=title, caption=caption)
            for name in ("rank", "parameter", "S1 (first order)", f"± {pct}", "ST (total)", f"± {pct} "):
                table.add_column(name, justify="left" if name == "parameter" else "right")
            for rank, i in enumerate(g.ranking(), start=1):  # what drives OUTPUT most first (total index)
                key = g.parameters[i]
                table.add_row(str(rank), key, f"{g.s1[i]:.4f}", f"{g.s1_conf[i]:.4f}", f"{g.st[i]:.4f}",
                              f"{g.st_conf[i]:.4f}")
            console.print(table)
        if result.failed:
            err.print(f"{result.failed} scenario(s) failed or missing; their base samples were left out",
                      highlight=False)
    console.print(f"wrote {path}", highlight=False)
    return 0
