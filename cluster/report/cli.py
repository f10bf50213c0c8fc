"""The ``cpnsim report`` subcommand: parser and handler, registered by :mod:`cluster.cli`.

Kept free of heavy imports: the report modules (and matplotlib) load only when the
command runs, so other commands and ``cpnsim --help`` stay fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

__all__ = ["add_report_parser", "cmd_report"]


def add_report_parser(commands: Any) -> None:
    """Add ``report`` to the ``cpnsim`` subcommands (``commands`` is argparse's subparsers action)."""
    report = commands.add_parser(
        "report", help="write a self-contained HTML report (plots and tables) of a run or sweep dataset",
        description="Read a dataset written by `cpnsim run` or `cpnsim sweep` and write one HTML page with its "
        "summary table, response curves, utilisation heat map, energy/cost/CO2, network map and, when the dataset "
        "has them, adoption, link and job plots. The page makes no network request.",
    )
    report.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="dataset directory (a run or a sweep)")
    report.add_argument("--html", type=Path, metavar="PATH", help="where to write the page "
                        "(default: OUT_DIR/report.html)")
    report.add_argument("--quiet", action="store_true", help="print only the output path")


def cmd_report(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim report``; bad input raises a :class:`~topology.plumbing.CpnsimError` (exit status 2)."""
    from cluster.report.build import write_report

    path = write_report(args.out_dir, args.html)
    console.print(f"wrote {path}", highlight=False)
    return 0
