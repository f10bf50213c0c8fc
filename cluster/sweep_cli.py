"""``cpnsim sweep``: parse the options, run :func:`cluster.sweep_run.run_sweep`, report.

Ctrl-C (SIGINT) stops a sweep cleanly: the executor is shut down, every batch written so
far stays in the dataset, one line says how many scenarios are done and how to resume,
and the exit status is 130 (128 + SIGINT, as shells report it).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from rich.console import Console

from cluster.executors import DEFAULT_MAX_RETRIES
from cluster.store import check_writable
from topology.plumbing import CpnsimError

__all__ = ["EXIT_INTERRUPTED", "add_sweep_parser", "cmd_sweep", "resume_command"]

EXIT_OK, EXIT_INTERRUPTED = 0, 130


def add_sweep_parser(commands: Any) -> None:
    """Add the ``sweep`` subcommand to ``commands``.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The ``cpnsim`` subcommand registry.
    """
    sweep = commands.add_parser(
        "sweep", help="run a sweep of scenarios (on Ray by default) into one Arrow dataset",
        description="Expand a sweep spec (base scenario + axes) and run every scenario, writing one part per "
        "finished batch to runs/, sites/, timings/ and manifest.json. Ctrl-C stops cleanly; --resume continues.",
    )
    sweep.add_argument("spec", type=Path, help="sweep spec TOML file")
    sweep.add_argument("--out", type=Path, required=True, help="output dataset directory")
    sweep.add_argument("--executor", choices=("ray", "serial"), default="ray",
                       help="ray (default; embedded unless --address/RAY_ADDRESS) or serial (this process)")
    sweep.add_argument("--address", help="Ray cluster address to join (default: $RAY_ADDRESS, else a private one)")
    sweep.add_argument("--num-cpus", type=int, help="CPUs of the embedded Ray (default: all)")
    sweep.add_argument("--batch-size", type=int, help="scenarios per task (default: about 4 tasks per CPU, <= 64)")
    sweep.add_argument("--max-retries", type=int, default=DEFAULT_MAX_RETRIES, metavar="N",
                       help="Ray: times a batch is rerun when its worker process dies (default: "
                       f"{DEFAULT_MAX_RETRIES}); a scenario that raises is a failed row, never retried")
    sweep.add_argument("--resume", action="store_true", help="continue the dataset at --out, skipping done scenarios")
    sweep.add_argument("--overwrite", action="store_true", help="replace an existing dataset at --out")
    sweep.add_argument("--format", choices=("arrow", "parquet"), default="arrow",
                       help="table file format (default: arrow, i.e. Arrow IPC with zstd)")
    sweep.add_argument("--quiet", action="store_true", help="print only the output path (no progress bar)")


def resume_command(args: argparse.Namespace) -> str:
    """The command line that continues this sweep (same spec, dataset, executor and format).

    Examples
    --------
    >>> ns = argparse.Namespace(spec=Path("s.toml"), out=Path("my out"), executor="serial", format="arrow",
    ...                         address=None)
    >>> resume_command(ns)
    "cpnsim sweep s.toml --out 'my out' --resume --executor serial"
    """
    words = ["cpnsim", "sweep", str(args.spec), "--out", str(args.out), "--resume"]
    if args.executor != "ray":
        words += ["--executor", args.executor]
    if args.address:
        words += ["--address", args.address]
    if args.format != "arrow":
        words += ["--format", args.format]
    return " ".join(shlex.quote(w) for w in words)


def cmd_sweep(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim sweep``; returns the exit status (0, or 130 after Ctrl-C).

    Raises
    ------
    CpnsimError
        Bad options or spec (the caller prints one line and exits with 2); nothing is run.
    """
    from cluster.executors import RayExecutor, SerialExecutor
    from cluster.progress import SweepProgress
    from cluster.sweep import SweepInterrupted, load_sweep, run_sweep

    for flag in ("num_cpus", "batch_size"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise CpnsimError(f"--{flag.replace('_', '-')}: must be >= 1, got {value}")
    if args.max_retries < 0:
        raise CpnsimError(f"--max-retries: must be >= 0, got {args.max_retries}")
    if args.resume and args.overwrite:
        raise CpnsimError("--resume and --overwrite: choose one")
    spec = load_sweep(args.spec)
    check_writable(args.out)
    executor = (SerialExecutor() if args.executor == "serial"
                else RayExecutor(args.address, args.num_cpus, max_retries=args.max_retries))
    if not args.quiet:
        err.print(f"sweep [bold]{args.spec}[/bold]: {len(spec.scenarios)} scenarios x "
                  f"{spec.scenarios[0].scenario.replications} replication(s), executor {args.executor}")
    progress = SweepProgress(err, enabled=not args.quiet and err.is_terminal)

    def on_start(to_run: int, skipped: int, slots: int) -> None:
        progress.on_start(to_run, skipped, slots)
        if skipped and not args.quiet:
            err.print(f"resuming: {skipped} scenario(s) already done")

    try:
        with progress:
            report = run_sweep(spec, args.out, executor, args.format, resume=args.resume, overwrite=args.overwrite,
                               batch_size=args.batch_size, on_start=on_start, on_batch=progress.on_batch)
    except SweepInterrupted as stop:
        r = stop.report
        if r.finished == 0 and not args.out.exists():
            line = f"cpnsim: interrupted before any scenario finished; nothing written to {args.out}"
        else:
            line = (f"cpnsim: interrupted: {r.finished} of {r.total} scenario(s) done ({r.failed} failed this run), "
                    f"kept in {args.out}; resume with: {resume_command(args)}")
        err.print(line, highlight=False, markup=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    if not args.quiet:
        err.print(f"{report.done} scenario(s) ran, {report.failed} failed, {report.skipped} skipped as done, "
                  f"in {report.wall_time_s:.1f} s")
    console.print(f"wrote {args.out}", highlight=False)
    return EXIT_OK
