"""``cpnsim run --trace``: the trace-replay options of ``run`` and the trace they load.

Only parsing lives here; reading, mapping and clipping are :mod:`workloads.traces` functions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from sim.scenario import LoadedScenario
from topology.plumbing import CpnsimError
from workloads.traces import Trace, TraceOptions, load_trace, parse_pairs

__all__ = ["add_trace_options", "load_trace_from"]


def add_trace_options(parser: argparse.ArgumentParser) -> None:
    """Add the ``trace replay`` option group (``--trace FILE`` and its mapping options) to ``parser``."""
    trace = parser.add_argument_group("trace replay", "replay a public GPU-cluster job trace instead of the "
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


def load_trace_from(args: argparse.Namespace, loaded: LoadedScenario, err: Console) -> Trace | None:
    """The ``--trace`` of ``cpnsim run`` mapped onto ``loaded`` and cut at its horizon, or None.

    Raises
    ------
    CpnsimError
        Trace options without ``--trace``, ``--trace`` without ``--trace-format``, or a bad trace.
    """
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
