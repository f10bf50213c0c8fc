"""Public GPU-cluster traces replayed as the job stream of a scenario.

One module per format — :mod:`~workloads.traces.pai` (Alibaba PAI 2020),
:mod:`~workloads.traces.philly` (Microsoft Philly) and :mod:`~workloads.traces.helios`
(SenseTime Helios) — each streams its file(s) and feeds a
:class:`~workloads.traces.stream.JobStream`, which maps the jobs onto the scenario's
classes and regions.  :func:`load_trace` returns a :class:`Trace` whose
:class:`~workloads.arrivals.ArrivalBatch` replaces the scenario's Poisson arrivals
(``sim.model.Model(..., arrivals=trace.batch)``, ``cpnsim run --trace``).  See
docs/model.md, "Traces".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from topology.model import Region
from topology.plumbing import ConfigError
from workloads.traces import helios, pai, philly
from workloads.traces.errors import TraceError
from workloads.traces.options import DEFAULT_CLASS_RULES, ClassRule, TraceOptions, parse_pairs
from workloads.traces.stream import JobStream, Trace, TraceStats

__all__ = [
    "DEFAULT_CLASS_RULES",
    "FORMATS",
    "ClassRule",
    "Trace",
    "TraceError",
    "TraceOptions",
    "TraceStats",
    "load_trace",
    "parse_pairs",
]

_MODULES: dict[str, ModuleType] = {"pai": pai, "philly": philly, "helios": helios}
FORMATS: tuple[str, ...] = tuple(_MODULES)
"""The trace formats by the name ``--trace-format`` takes."""


def load_trace(
    path: str | Path,
    fmt: str,
    class_names: Sequence[str],
    regions: Sequence[Region],
    options: TraceOptions | None = None,
) -> Trace:
    """Read a trace file and map its jobs onto a scenario.

    Parameters
    ----------
    path : str or Path
        The trace: Helios ``cluster_log.csv``, Philly ``cluster_job_log``, or for PAI
        ``pai_job_table.csv`` (with ``pai_task_table.csv`` beside it) or their directory.
    fmt : str
        ``pai``, ``philly`` or ``helios``.
    class_names : sequence of str
        The scenario's job classes in order (``list(scenario.workload)``).
    regions : sequence of Region
        The network's regions in order (``network.regions``).
    options : TraceOptions, optional
        Mapping and filters; the defaults are documented on :class:`TraceOptions`.

    Returns
    -------
    Trace
        The jobs sorted by arrival (hours after the first submission) and what was
        read, kept and dropped.

    Raises
    ------
    TraceError
        A missing file or column, or a malformed row (``file:line: field: message``)
        unless ``options.skip_bad_rows``.
    ConfigError
        An unknown format, class, region or column in the options.
    """
    module = _MODULES.get(fmt)
    if module is None:
        raise ConfigError(f"--trace-format: unknown trace format {fmt!r} (choose one of {', '.join(FORMATS)})")
    p = Path(path)
    if not p.exists():
        raise TraceError(f"{p}: no such file")
    stream = JobStream(
        str(p), fmt, options or TraceOptions(), class_names, regions, module.COLUMNS, module.DEFAULT_ORIGIN_COLUMN
    )
    read: Callable[[Path, JobStream], None] = module.read
    read(p, stream)
    return stream.finish()
