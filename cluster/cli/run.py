"""``cpnsim run [SCENARIO]``: run one scenario (all its replications) and write its dataset.

Prints who ran what, the summary tables and, for a network with published reference
figures (``edwc``, ``national``), the ``calibration`` table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from cluster.api import check_run_out, simulate, write_run
from cluster.cli.options import add_format, add_out, add_overrides, add_quiet, add_scenario
from cluster.cli.registry import EXIT_OK
from cluster.cli.run_progress import RunProgress
from cluster.cli.trace import add_trace_options, load_trace_from
from cluster.idle_sites import idle_sites
from cluster.summary import print_calibration, print_idle_sites, print_run_summary
from cluster.sweeps.store import slug
from sim.scenario import load_scenario

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = ("Run one scenario (all its replications) and write runs/, sites/, links/, timings/ (and jobs/, "
               "adoption/, calibration/ when the scenario makes them) and manifest.json. An existing dataset at "
               "--out is replaced only with --overwrite.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``cpnsim run`` to ``parser``."""
    add_scenario(parser)
    add_out(parser, "output dataset directory (default: cpnsim-out/<scenario name>, replaced on every run)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset at --out")
    parser.add_argument("--seed", type=int, help="root seed (overrides the scenario's 'seed')")
    add_overrides(parser, "override a scenario key, e.g. --set horizon_h=2000 --set policy=nearest (repeatable)")
    add_format(parser)
    add_quiet(parser)
    add_trace_options(parser)


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim run``; bad input raises a :class:`~topology.plumbing.CpnsimError` (exit 2)."""
    loaded = load_scenario(args.scenario, args.overrides, args.seed)
    out: Path = args.out or Path("cpnsim-out") / slug(loaded.scenario.name)
    # Before simulating: a refused --out should not cost a run.  The default folder is a
    # scratch place that `make run` reuses; a dataset the user named is kept unless --overwrite.
    check_run_out(out, overwrite=args.overwrite or args.out is None)
    scenario = loaded.scenario
    if not args.quiet:
        err.print(f"running [bold]{scenario.name}[/bold] ({loaded.source}): network {loaded.network.name!r}, "
                  f"{len(loaded.network.sites)} sites, policy {scenario.policy}, {scenario.horizon_h:g} h, "
                  f"{scenario.replications} replication(s), seed {scenario.seed}", soft_wrap=True)
    trace = load_trace_from(args, loaded, err)
    progress = RunProgress(err, scenario.horizon_h, scenario.replications, enabled=not args.quiet and err.is_terminal)
    with progress:
        result = simulate(loaded, trace.batch if trace else None, watch=progress.watch if progress.enabled else None)
    write_run(out, result.tables(), loaded, args.format, trace=trace.stats.as_json() if trace else None)
    if not args.quiet:
        print_run_summary(console, result.runs, result.sites)
        print_idle_sites(console, idle_sites(result.sites, loaded.network, scenario.policy, scenario.workload))
        adoption = result.tables().get("adoption")
        if adoption is not None:
            from cluster.adoption_summary import print_adoption_summary

            print_adoption_summary(console, adoption)
        calibration = result.table("calibration")
        if calibration is not None:
            print_calibration(console, calibration)
        walls = result.timings.column("wall_time_s").to_pylist()
        err.print(f"simulated {sum(result.runs.column('jobs_arrived').to_pylist()):,} jobs in {sum(walls):.2f} s")
    console.print(f"wrote {out}", highlight=False)
    return EXIT_OK
