"""``cpnsim run [SCENARIO]``: run one scenario (all its replications) and write its dataset.

Prints who ran what, the summary tables and, for the national-scale networks, the
distance of the totals from the published figures.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from rich.console import Console

from cluster.cli.options import add_format, add_out, add_overrides, add_quiet, add_scenario
from cluster.cli.registry import EXIT_OK
from cluster.cli.trace import add_trace_options, load_trace_from
from cluster.summary import print_calibration_distance, print_run_summary
from cluster.sweeps.manifest import network_record
from cluster.sweeps.store import check_writable, slug, write_dataset
from sim.run import run_scenario
from sim.scenario import load_scenario

__all__ = ["DESCRIPTION", "NATIONAL_SCALE_NETWORKS", "add_arguments", "run"]

DESCRIPTION = ("Run one scenario (all its replications) and write runs/, sites/, links/, timings/ and "
               "manifest.json.")

NATIONAL_SCALE_NETWORKS = frozenset({"edwc", "national"})
"""Networks whose totals are set beside the published national figures after a run."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``cpnsim run`` to ``parser``."""
    add_scenario(parser)
    add_out(parser, "output dataset directory (default: cpnsim-out/<scenario name>)")
    parser.add_argument("--seed", type=int, help="root seed (overrides the scenario's 'seed')")
    add_overrides(parser, "override a scenario key, e.g. --set horizon_h=2000 --set policy=nearest (repeatable)")
    add_format(parser)
    add_quiet(parser)
    add_trace_options(parser)


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim run``; bad input raises a :class:`~topology.plumbing.CpnsimError` (exit 2)."""
    loaded = load_scenario(args.scenario, args.overrides, args.seed)
    out: Path = args.out or Path("cpnsim-out") / slug(loaded.scenario.name)
    check_writable(out)  # Before simulating: a refused --out should not cost a run.
    scenario = loaded.scenario
    if not args.quiet:
        err.print(f"running [bold]{scenario.name}[/bold] ({loaded.source}): network {loaded.network.name!r}, "
                  f"{len(loaded.network.sites)} sites, policy {scenario.policy}, {scenario.horizon_h:g} h, "
                  f"{scenario.replications} replication(s), seed {scenario.seed}")
    trace = load_trace_from(args, loaded, err)
    spinning = not args.quiet and err.is_terminal
    with err.status("simulating", spinner="dots") if spinning else contextlib.nullcontext():
        result = run_scenario(loaded, trace.batch if trace else None)
    manifest: dict[str, Any] = {
        "kind": "run",
        "source": loaded.source,
        "scenario_id": loaded.scenario_id,
        "seed": scenario.seed,
        "replications": scenario.replications,
        "network": loaded.network.name,
        "resolved_network": network_record(loaded.network, scenario.network),
        "scenario": scenario.model_dump(mode="json"),
    }
    if trace is not None:
        manifest["trace"] = trace.stats.as_json()
    write_dataset(out, result.tables(), manifest, args.format)
    if not args.quiet:
        print_run_summary(console, result.runs, result.sites)
        adoption = result.tables().get("adoption")
        if adoption is not None:
            from cluster.adoption_summary import print_adoption_summary

            print_adoption_summary(console, adoption)
        if loaded.network.name in NATIONAL_SCALE_NETWORKS:
            from sim.calibration_distance import calibration_distance

            print_calibration_distance(console, calibration_distance(loaded.network, result.sites))
        walls = result.timings.column("wall_time_s").to_pylist()
        err.print(f"simulated {sum(result.runs.column('jobs_arrived').to_pylist()):,} jobs in {sum(walls):.2f} s")
    console.print(f"wrote {out}", highlight=False)
    return EXIT_OK
