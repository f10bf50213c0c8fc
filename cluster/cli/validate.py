"""``cpnsim validate``: the engine against queueing theory and conservation laws (exit 1 on a failed check)."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from cluster.cli.registry import EXIT_CHECK_FAILED, EXIT_OK
from cluster.summary import print_checks
from topology.plumbing import CpnsimError

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = ("Run M/M/c (Erlang C), Little's law and conservation checks through the real engine. "
               "Exit status 1 if any check fails.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``cpnsim validate`` to ``parser``."""
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--seed", type=int, default=20261123, help="root seed of the replications")
    parser.add_argument("--replications", type=int, default=10, help="replications per M/M/c case (>= 2)")
    parser.add_argument("--alpha", type=float, default=0.01,
                        help="family-wise error rate of the statistical checks (Bonferroni; default 0.01)")
    parser.add_argument("--quick", action="store_true", help="fewer customers per replication (wider intervals)")


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim validate``; returns 0 when every check passes, else 1.

    Raises
    ------
    CpnsimError
        ``--replications`` below 2 or ``--alpha`` outside (0, 1).
    """
    if args.replications < 2:
        raise CpnsimError(f"--replications: must be >= 2 for a confidence interval, got {args.replications}")
    if not 0 < args.alpha < 1:
        raise CpnsimError(f"--alpha: must be in (0, 1), got {args.alpha}")

    def progress(label: str) -> None:
        if not args.json:
            err.print(f"checking {label} ...")

    from sim.validation import run_validation  # the engine and scipy load only when the checks run

    checks = run_validation(seed=args.seed, replications=args.replications, alpha=args.alpha, quick=args.quick,
                            progress=progress)
    if args.json:
        sys.stdout.write(json.dumps([c.as_json() for c in checks], indent=2) + "\n")
    else:
        print_checks(console, checks)
    return EXIT_OK if all(c.passed for c in checks) else EXIT_CHECK_FAILED
