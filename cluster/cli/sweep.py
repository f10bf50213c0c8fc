"""``cpnsim sweep SPEC --out DIR``: parse the options, run :func:`cluster.sweeps.run_sweep`, report.

Ctrl-C (SIGINT) stops a sweep cleanly: the executor is shut down, every batch written so
far stays in the dataset, one line says how many scenarios are done and how to resume,
and the exit status is 130 (128 + SIGINT, as shells report it).  SIGTERM (``kill``,
``ray job stop``) does the same and exits with 143 (128 + SIGTERM).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from cluster.cli.options import add_executor_options, add_format, add_out, add_quiet, make_executor_from
from cluster.cli.registry import EXIT_INTERRUPTED, EXIT_OK
from cluster.sweeps import SweepInterrupted, load_sweep, run_sweep
from cluster.sweeps.location import check_out_location
from cluster.sweeps.plan import plan_sweep
from cluster.sweeps.progress import SweepProgress
from cluster.sweeps.storage import LocalStorage
from topology.plumbing import CpnsimError

__all__ = ["DESCRIPTION", "EXPAND_FIRST_POINTS", "PLAIN_PROGRESS_EVERY_S", "add_arguments", "expansion_progress",
           "resume_command", "run"]

PLAIN_PROGRESS_EVERY_S = 5.0
"""Seconds between plain progress lines when stderr is not a terminal."""
EXPAND_FIRST_POINTS = 2000
"""Specs of up to this many points are expanded whole before anything runs (a second or
two), so a point that does not validate is refused before anything is written; bigger
ones are expanded as they run (:func:`cluster.sweeps.run_sweep`)."""

DESCRIPTION = ("Expand a sweep spec (base scenario + axes) and run every scenario, writing one part per finished "
               "batch to runs/, sites/, links/, timings/ and manifest.json. Ctrl-C stops cleanly; --resume "
               "continues.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``cpnsim sweep`` to ``parser``."""
    parser.add_argument("spec", type=Path, help="sweep spec TOML file")
    add_out(parser, "output dataset directory, or a pyarrow filesystem URI (s3://bucket/prefix, gs://, hdfs://)",
            required=True)
    add_executor_options(parser, executor_help="ray (default; embedded unless --address/RAY_ADDRESS) or serial "
                         "(this process)", batch_size=True, max_retries=True)
    parser.add_argument("--resume", action="store_true",
                        help="continue the dataset at --out, skipping done scenarios")
    parser.add_argument("--retry-failed", action="store_true",
                        help="with --resume: run the failed scenarios again, replacing their failed rows")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset at --out")
    parser.add_argument("--dry-run", action="store_true",
                        help="print points, duplicates, scenarios left, batches and a time estimate (one scenario "
                        "is run here to time it); write nothing")
    add_format(parser)
    add_quiet(parser, "print only the output path (no progress bar)")


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


def expansion_progress(err: Console, every_s: float = PLAIN_PROGRESS_EVERY_S) -> Callable[[int, int], None]:
    """A ``progress`` for :func:`cluster.sweeps.load_sweep`: a plain line every ``every_s`` seconds.

    Nothing for a spec that expands faster than that (most specs); a 100,000-point spec
    says how far it got (about a minute at 0.6 ms per point).
    """
    t0 = time.monotonic()
    last = [t0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= every_s:
            last[0] = now
            rate = done / max(now - t0, 1e-9)
            err.print(f"expanding the spec: {done} of {total} points, about {(total - done) / rate:.0f} s left",
                      highlight=False, markup=False, soft_wrap=True)

    return progress


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim sweep``; returns the exit status (0, or 130 after Ctrl-C, 143 after SIGTERM).

    Raises
    ------
    CpnsimError
        Bad options or spec (the caller prints one line and exits with 2); nothing is run.
    """
    executor = make_executor_from(args)  # checks --num-cpus and --max-retries; starts nothing yet
    if args.batch_size is not None and args.batch_size < 1:
        raise CpnsimError(f"--batch-size: must be >= 1, got {args.batch_size}")
    if args.resume and args.overwrite:
        raise CpnsimError("--resume and --overwrite: choose one")
    if args.retry_failed and not args.resume:
        raise CpnsimError("--retry-failed: only with --resume (it reruns the failed scenarios of a dataset)")
    args.out = check_out_location(args.out)  # a path (never relative inside a Ray job) or an object store
    spec = load_sweep(args.spec, None if args.quiet else expansion_progress(err), lazy=True)
    if args.dry_run or spec.points <= EXPAND_FIRST_POINTS:
        spec.expand_all()  # a bad point is refused before anything is written
    else:  # expanded as it runs: the first batch before the last point; progress in the sweep's lines
        spec = dataclasses.replace(spec, progress=None)
    if args.dry_run:
        cpus = 1 if args.executor == "serial" else (args.num_cpus or os.cpu_count() or 1)
        plan = plan_sweep(spec, args.out, cpus=cpus, resume=args.resume, batch_size=args.batch_size)
        for line in plan.lines():
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        return EXIT_OK
    (LocalStorage(args.out) if isinstance(args.out, Path) else args.out).check_writable()
    if not args.quiet:
        err.print(f"sweep [bold]{args.spec}[/bold]: {spec.points} points x "
                  f"{spec.base.scenario.replications} replication(s), executor {args.executor}")
    # Off a terminal (a Ray job's log), a plain line every few seconds instead of the bar.
    progress = SweepProgress(err, enabled=not args.quiet and err.is_terminal,
                             plain_every_s=None if args.quiet else PLAIN_PROGRESS_EVERY_S)
    terminated: list[int] = []

    def on_sigterm(signum: int, frame: object) -> None:
        terminated.append(signum)
        raise KeyboardInterrupt  # stops the sweep as Ctrl-C does (never mid-write: run_sweep holds it)

    def on_start(to_run: int, skipped: int, slots: int) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_sigterm)  # again: an embedded Ray installs its own handler
        progress.on_start(to_run, skipped, slots)
        if skipped and not args.quiet:
            err.print(f"resuming: {skipped} scenario(s) already done")

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if main else None
    try:
        with progress:
            report = run_sweep(spec, args.out, executor, args.format, resume=args.resume, overwrite=args.overwrite,
                               retry_failed=args.retry_failed, batch_size=args.batch_size, on_start=on_start,
                               on_batch=progress.on_batch, on_expand=progress.on_expand)
    except SweepInterrupted as stop:
        r = stop.report
        if r.finished == 0 and not args.out.exists():
            line = f"cpnsim: interrupted before any scenario finished; nothing written to {args.out}"
        else:
            line = (f"cpnsim: interrupted: {r.finished} of {r.total} scenario(s) done ({r.failed} failed this run), "
                    f"kept in {args.out}; resume with: {resume_command(args)}")
        err.print(line, highlight=False, markup=False, soft_wrap=True)
        return 128 + signal.SIGTERM if terminated else EXIT_INTERRUPTED
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    if not args.quiet:
        if report.duplicates:
            err.print(f"{report.duplicates} of {spec.points} points equal an earlier point (integer rounding) "
                      "and ran once", highlight=False)
        retried = f" ({report.retried} failed before, retried)" if report.retried else ""
        err.print(f"{report.done} scenario(s) ran{retried}, {report.failed} failed, {report.skipped} skipped as done, "
                  f"in {report.wall_time_s:.1f} s")
    console.print(f"wrote {args.out}", highlight=False)
    return EXIT_OK
