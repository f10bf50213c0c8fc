"""``cpnsim report OUT_DIR``: write the HTML report of a run or sweep dataset.

The report modules (and matplotlib) load only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

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
    parser.add_argument("out_dir", metavar="OUT_DIR", help="dataset directory (a run or a sweep), or a pyarrow "
                        "filesystem URI of one (s3://bucket/prefix, gs://, hdfs://)")
    parser.add_argument("--html", type=Path, metavar="PATH", help="where to write the page "
                        "(default: OUT_DIR/report.html, uploaded beside the dataset when OUT_DIR is a URI)")
    add_quiet(parser)


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim report``; bad input raises a :class:`~topology.plumbing.CpnsimError` (exit status 2)."""
    from cluster.report.build import write_report  # matplotlib: not for `cpnsim report --help`
    from cluster.sweeps.location import uri_of

    found = uri_of(args.out_dir)  # s3://, gs://, hdfs:// are read through pyarrow.fs; file:// is a path
    out: Path | str = Path(args.out_dir) if found is None else found[1]
    if found is not None and found[0] == "file":
        out = Path(urlsplit(found[1]).path)
    path = write_report(out, args.html)
    console.print(f"wrote {path}", highlight=False)
    return EXIT_OK
