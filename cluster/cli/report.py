"""``cpnsim report OUT_DIR``: write the HTML report of a run or sweep dataset.

The report modules (and matplotlib) load only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from cluster.cli.options import add_quiet
from cluster.cli.registry import EXIT_OK

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = (
    "Read a dataset written by `cpnsim run` or `cpnsim sweep` and write one HTML page with its summary table, "
    "response curves, utilisation heat map, energy/cost/CO2, network map and, when the dataset has them, "
    "adoption, link and job plots. The page makes no network request."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``cpnsim report`` to ``parser``."""
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="dataset directory (a run or a sweep)")
    parser.add_argument("--html", type=Path, metavar="PATH", help="where to write the page "
                        "(default: OUT_DIR/report.html)")
    add_quiet(parser)


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim report``; bad input raises a :class:`~topology.plumbing.CpnsimError` (exit status 2)."""
    from cluster.report.build import write_report  # matplotlib: not for `cpnsim report --help`

    path = write_report(args.out_dir, args.html)
    console.print(f"wrote {path}", highlight=False)
    return EXIT_OK
