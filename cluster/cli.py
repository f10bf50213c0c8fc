"""The ``cpnsim`` command line: parses arguments and calls the library.

Anything the CLI does, Python can do: it only builds a scenario, calls
:func:`sim.run_scenario` / :func:`sim.validation.run_validation` and writes the
dataset with :mod:`cluster.store`.  Bad input of any kind (a
:class:`~topology.plumbing.CpnsimError`) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from cluster.analyze_cli import add_analyze_parser, cmd_analyze
from cluster.calibrate_cli import add_calibrate_parser, cmd_calibrate
from cluster.report.cli import add_report_parser, cmd_report
from cluster.search_cli import add_search_parser, cmd_search
from cluster.store import check_writable, package_version, write_dataset
from cluster.summary import print_calibration_distance, print_checks, print_run_summary
from cluster.sweep_cli import add_sweep_parser, cmd_sweep
from cluster.topology_cli import add_topology_parser, cmd_topology
from sim.run import run_scenario
from sim.scenario import LoadedScenario, load_scenario
from topology.plumbing import CpnsimError
from workloads.traces import Trace, TraceOptions, load_trace, parse_pairs

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
NATIONAL_SCALE_NETWORKS = frozenset({"edwc", "national"})
"""Networks whose totals are set beside the published national figures after a run."""


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "scenario"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``cpnsim`` command."""
    parser = argparse.ArgumentParser(
        prog="cpnsim",
        description="Discrete-event simulator of computing-power networks (East Data West Computing, "
        "GPU clusters, Belt-and-Road compute pools).",
    )
    parser.add_argument("--version", action="version", version=f"cpnsim {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", help="run one scenario and write its Arrow dataset",
        description="Run one scenario (all its replications) and write runs/, sites/, timings/ and manifest.json.",
    )
    run.add_argument("scenario", nargs="?", help="scenario TOML file (default: the built-in east-west scenario)")
    run.add_argument("--out", type=Path, help="output dataset directory (default: cpnsim-out/<scenario name>)")
    run.add_argument("--seed", type=int, help="root seed (overrides the scenario's 'seed')")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                     help="override a scenario key, e.g. --set horizon_h=2000 --set policy=nearest (repeatable)")
    run.add_argument("--format", choices=("arrow", "parquet"), default="arrow",
                     help="table file format (default: arrow, i.e. Arrow IPC with zstd)")
    run.add_argument("--quiet", action="store_true", help="print only the output path")
    trace = run.add_argument_group("trace replay", "replay a public GPU-cluster job trace instead of the "
                                   "scenario's Poisson arrivals (docs/model.md, 'Traces')")
    trace.add_argument("--trace", type=Path, metavar="FILE",
                       help="trace file (PAI: pai_job_table.csv beside pai_task_table.csv, or their directory)")
    trace.add_argument("--trace-format", choices=("pai", "philly", "helios"), help="the trace's schema")
    trace.add_argument("--skip-bad-rows", action="store_true", help="skip and count malformed trace rows")
    trace.add_argument("--trace-gpu-speed", type=float, default=1.0, metavar="X",
                       help="speed of the trace's GPUs relative to the reference GPU (default 1)")
    trace.add_argument("--trace-drop-failed", action="store_true", help="leave out failed and killed jobs")
    trace.add_argument("--trace-origin-column", metavar="COLUMN", help="column giving a job's origin "
                       "(default: vc; user for PAI)")
    trace.add_argument("--trace-origin", action="append", default=[], metavar="VALUE=REGION",
                       help="region of an origin-column value; '*=REGION' for all others (default: stable hash "
                       "weighted by demand_weight) (repeatable)")
    trace.add_argument("--trace-class-column", metavar="COLUMN", help="column whose values --trace-class maps")
    trace.add_argument("--trace-class", action="append", default=[], metavar="VALUE=CLASS",
                       help="job class of a class-column value (default: by GPUs and run time) (repeatable)")

    add_sweep_parser(commands)

    validate = commands.add_parser(
        "validate", help="check the engine against queueing theory and conservation laws",
        description="Run M/M/c (Erlang C), Little's law and conservation checks through the real engine. "
        "Exit status 1 if any check fails.",
    )
    validate.add_argument("--json", action="store_true", help="print the checks as JSON")
    validate.add_argument("--seed", type=int, default=20261123, help="root seed of the replications")
    validate.add_argument("--replications", type=int, default=10, help="replications per M/M/c case (>= 2)")
    validate.add_argument("--alpha", type=float, default=0.01,
                          help="family-wise error rate of the statistical checks (Bonferroni; default 0.01)")
    validate.add_argument("--quick", action="store_true", help="fewer customers per replication (wider intervals)")
    add_topology_parser(commands)
    add_calibrate_parser(commands)
    add_report_parser(commands)
    add_analyze_parser(commands)
    add_search_parser(commands)
    return parser


def _cmd_run(args: argparse.Namespace, console: Console, err: Console) -> int:
    loaded = load_scenario(args.scenario, args.overrides, args.seed)
    out: Path = args.out or Path("cpnsim-out") / _slug(loaded.scenario.name)
    check_writable(out)  # Before simulating: a refused --out should not cost a run.
    scenario = loaded.scenario
    if not args.quiet:
        err.print(f"running [bold]{scenario.name}[/bold] ({loaded.source}): network {loaded.network.name!r}, "
                  f"{len(loaded.network.sites)} sites, policy {scenario.policy}, {scenario.horizon_h:g} h, "
                  f"{scenario.replications} replication(s), seed {scenario.seed}")
    trace = _load_trace(args, loaded, err)
    with err.status("simulating", spinner="dots") if not args.quiet and err.is_terminal else _Null():
        result = run_scenario(loaded, trace.batch if trace else None)
    manifest: dict[str, Any] = {
        "kind": "run",
        "source": loaded.source,
        "scenario_id": loaded.scenario_id,
        "seed": scenario.seed,
        "replications": scenario.replications,
        "network": loaded.network.name,
        "scenario": scenario.model_dump(mode="json"),
    }
    if trace is not None:
        manifest["trace"] = trace.stats.as_json()
    write_dataset(out, result.tables(), manifest, args.format)
    if not args.quiet:
        print_run_summary(console, result.runs, result.sites)
        if result.adoption is not None:
            from cluster.adoption_summary import print_adoption_summary

            print_adoption_summary(console, result.adoption)
        if loaded.network.name in NATIONAL_SCALE_NETWORKS:
            from sim.calibration_distance import calibration_distance

            print_calibration_distance(console, calibration_distance(loaded.network, result.sites))
        walls = result.timings.column("wall_time_s").to_pylist()
        err.print(f"simulated {sum(result.runs.column('jobs_arrived').to_pylist()):,} jobs in {sum(walls):.2f} s")
    console.print(f"wrote {out}", highlight=False)
    return EXIT_OK


def _load_trace(args: argparse.Namespace, loaded: LoadedScenario, err: Console) -> Trace | None:
    """The ``--trace`` of ``cpnsim run`` mapped onto ``loaded`` and cut at its horizon, or None."""
    if args.trace is None:
        if args.trace_format or args.skip_bad_rows or args.trace_origin or args.trace_class:
            raise CpnsimError("--trace-format, --skip-bad-rows, --trace-origin, --trace-class: need --trace FILE")
        return None
    if args.trace_format is None:
        raise CpnsimError("--trace-format: required with --trace (pai, philly or helios)")
    origins = parse_pairs(args.trace_origin, "--trace-origin")
    options = TraceOptions(
        gpu_speed=args.trace_gpu_speed, keep_failed=not args.trace_drop_failed, skip_bad_rows=args.skip_bad_rows,
        class_column=args.trace_class_column, class_map=parse_pairs(args.trace_class, "--trace-class"),
        origin_column=args.trace_origin_column, default_region=origins.pop("*", None), origin_map=origins,
    )
    full = load_trace(args.trace, args.trace_format, list(loaded.scenario.workload), loaded.network.regions, options)
    trace = full.clip(loaded.scenario.horizon_h)
    if not args.quiet:
        err.print(trace.stats.summary(), highlight=False, markup=False)
        beyond = trace.stats.dropped.get("beyond_horizon", 0)
        if beyond:
            err.print(f"trace: {beyond:,} job(s) submitted at or after horizon_h = {loaded.scenario.horizon_h:g} h "
                      f"dropped (the trace spans {full.stats.span_h:,.1f} h)", highlight=False, markup=False)
    return trace


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _cmd_validate(args: argparse.Namespace, console: Console, err: Console) -> int:
    def progress(label: str) -> None:
        if not args.json:
            err.print(f"checking {label} ...")

    from sim.validation import run_validation  # deferred: keeps `cpnsim --help` fast

    checks = run_validation(seed=args.seed, replications=args.replications, alpha=args.alpha, quick=args.quick,
                            progress=progress)
    if args.json:
        sys.stdout.write(json.dumps([c.as_json() for c in checks], indent=2) + "\n")
    else:
        print_checks(console, checks)
    return EXIT_OK if all(c.passed for c in checks) else EXIT_CHECK_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cpnsim`` and ``python -m cluster``; returns the exit status."""
    args = build_parser().parse_args(argv)
    # Off a terminal rich assumes 80 columns; the tables want a little more.
    console = Console(width=None if sys.stdout.isatty() else 110)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 110)
    try:
        if args.command == "topology":
            return cmd_topology(args, console, err)
        if args.command == "calibrate":
            return cmd_calibrate(args, console, err)
        if args.command == "report":
            return cmd_report(args, console, err)
        if args.command == "analyze":
            return cmd_analyze(args, console, err)
        if args.command == "search":
            return cmd_search(args, console, err)
        if args.command == "run":
            return _cmd_run(args, console, err)
        if args.command == "sweep":
            return cmd_sweep(args, console, err)
        if args.command == "validate":
            if args.replications < 2:
                raise CpnsimError(f"--replications: must be >= 2 for a confidence interval, got {args.replications}")
            if not 0 < args.alpha < 1:
                raise CpnsimError(f"--alpha: must be in (0, 1), got {args.alpha}")
            return _cmd_validate(args, console, err)
    except CpnsimError as exc:
        sys.stderr.write(f"cpnsim: error: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("cpnsim: interrupted\n")
        return 130
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse guarantees a known command
