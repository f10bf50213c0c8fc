"""The ``cpnsim`` command line: parses arguments and calls the library.

Anything the CLI does, Python can do: it only builds a scenario, calls
:func:`sim.run_scenario` / :func:`sim.validation.run_validation` and writes the
dataset with :mod:`cluster.store`.  Bad input of any kind (a
:class:`~topology.errors.CpnsimError`) is one line on stderr and exit status 2.
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

from cluster.store import check_writable, package_version, write_dataset
from cluster.summary import print_calibration_distance, print_checks, print_run_summary
from sim.run import run_scenario
from sim.scenario import load_scenario
from topology.errors import CpnsimError

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

    sweep = commands.add_parser(
        "sweep", help="run a sweep of scenarios (on Ray by default) into one Arrow dataset",
        description="Expand a sweep spec (base scenario + axes) and run every scenario, writing one part per "
        "finished batch to runs/, sites/, timings/ and manifest.json.",
    )
    sweep.add_argument("spec", type=Path, help="sweep spec TOML file")
    sweep.add_argument("--out", type=Path, required=True, help="output dataset directory")
    sweep.add_argument("--executor", choices=("ray", "serial"), default="ray",
                       help="ray (default; embedded unless --address/RAY_ADDRESS) or serial (this process)")
    sweep.add_argument("--address", help="Ray cluster address to join (default: $RAY_ADDRESS, else a private one)")
    sweep.add_argument("--num-cpus", type=int, help="CPUs of the embedded Ray (default: all)")
    sweep.add_argument("--batch-size", type=int, help="scenarios per task (default: about 4 tasks per CPU)")
    sweep.add_argument("--resume", action="store_true", help="continue the dataset at --out, skipping done scenarios")
    sweep.add_argument("--overwrite", action="store_true", help="replace an existing dataset at --out")
    sweep.add_argument("--format", choices=("arrow", "parquet"), default="arrow",
                       help="table file format (default: arrow, i.e. Arrow IPC with zstd)")
    sweep.add_argument("--quiet", action="store_true", help="print only the output path")

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
    with err.status("simulating", spinner="dots") if not args.quiet and err.is_terminal else _Null():
        result = run_scenario(loaded)
    manifest: dict[str, Any] = {
        "kind": "run",
        "source": loaded.source,
        "scenario_id": loaded.scenario_id,
        "seed": scenario.seed,
        "replications": scenario.replications,
        "network": loaded.network.name,
        "scenario": scenario.model_dump(mode="json"),
    }
    write_dataset(out, result.tables(), manifest, args.format)
    if not args.quiet:
        print_run_summary(console, result.runs, result.sites)
        if loaded.network.name in NATIONAL_SCALE_NETWORKS:
            from sim.calibration_distance import calibration_distance

            print_calibration_distance(console, calibration_distance(loaded.network, result.sites))
        walls = result.timings.column("wall_time_s").to_pylist()
        err.print(f"simulated {sum(result.runs.column('jobs_arrived').to_pylist()):,} jobs in {sum(walls):.2f} s")
    console.print(f"wrote {out}", highlight=False)
    return EXIT_OK


def _cmd_sweep(args: argparse.Namespace, console: Console, err: Console) -> int:
    from cluster.executors import RayExecutor, SerialExecutor
    from cluster.sweep import load_sweep, run_sweep

    for flag in ("num_cpus", "batch_size"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise CpnsimError(f"--{flag.replace('_', '-')}: must be >= 1, got {value}")
    if args.resume and args.overwrite:
        raise CpnsimError("--resume and --overwrite: choose one")
    spec = load_sweep(args.spec)
    check_writable(args.out)
    executor = SerialExecutor() if args.executor == "serial" else RayExecutor(args.address, args.num_cpus)
    if not args.quiet:
        err.print(f"sweep [bold]{args.spec}[/bold]: {len(spec.scenarios)} scenarios x "
                  f"{spec.scenarios[0].scenario.replications} replication(s), executor {args.executor}")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    show = not args.quiet and err.is_terminal
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("failed {task.fields[failed]}  running {task.fields[running]}"),
                        TimeRemainingColumn(), console=err, disable=not show)
    state = {"failed": 0, "left": 0}
    task = progress.add_task("scenarios", total=None, failed=0, running=0)

    def on_start(to_run: int, skipped: int) -> None:
        state["left"] = to_run
        progress.update(task, total=to_run, running=min(to_run, executor.num_cpus))
        if skipped and not args.quiet:
            err.print(f"resuming: {skipped} scenario(s) already done")

    def on_batch(result: Any) -> None:
        n = len(result.done) + len(result.failed)
        state["failed"] += len(result.failed)
        state["left"] -= n
        progress.update(task, advance=n, failed=state["failed"], running=min(state["left"], executor.num_cpus))

    with progress:
        report = run_sweep(spec, args.out, executor, args.format, resume=args.resume, overwrite=args.overwrite,
                           batch_size=args.batch_size, on_start=on_start, on_batch=on_batch)
    if not args.quiet:
        err.print(f"{report.done} scenario(s) ran, {report.failed} failed, {report.skipped} skipped as done, "
                  f"in {report.wall_time_s:.1f} s")
    console.print(f"wrote {args.out}", highlight=False)
    return EXIT_OK


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
        if args.command == "run":
            return _cmd_run(args, console, err)
        if args.command == "sweep":
            return _cmd_sweep(args, console, err)
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
