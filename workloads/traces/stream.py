"""The normalised job stream every trace format feeds, and the replay it produces.

A format module parses its rows and calls :meth:`JobStream.add` once per job with the
job's traced figures (submission time and run time in seconds, GPUs as the trace
counts them, status, and the raw values of the class and origin columns).  The stream
maps them onto the scenario — whole GPUs, reference GPU-hours, class and region
indices — into flat arrays, so a job costs a few numbers, not a Python object, and
:meth:`JobStream.finish` returns an :class:`~workloads.arrivals.ArrivalBatch` sorted by
arrival time.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from topology.model import Region
from topology.plumbing import ConfigError, nearest
from workloads.arrivals import ArrivalBatch
from workloads.traces.errors import TraceError
from workloads.traces.options import TraceOptions

__all__ = ["JobStream", "Status", "Trace", "TraceStats"]

Status = Literal["ok", "failed", "killed", "unfinished", "other"]
"""A trace status normalised: finished well, failed, killed by its user or an operator,
still running or waiting when the trace was cut, or a status the format does not name."""

MAX_EXAMPLES = 3  # malformed rows quoted in the statistics when they are skipped


@dataclass(frozen=True)
class TraceStats:
    """What a trace load read, kept and dropped.

    Attributes
    ----------
    source : str
        The trace file.
    format : str
        ``pai``, ``philly`` or ``helios``.
    records : int
        Jobs read (rows of a job table or JSON objects), malformed ones included.
    jobs : int
        Jobs in the replay.
    dropped : dict of str to int
        Jobs left out, by reason: ``no_run_time`` (no start or end time: still running
        or never started), ``cpu_only`` (no GPUs), ``no_tasks`` (PAI job without task
        rows), ``failed`` / ``killed`` (with ``keep_failed=False``), ``beyond_horizon``
        (submitted at or after the scenario's ``horizon_h``).
    bad_rows : int
        Malformed rows skipped (``skip_bad_rows=True``).
    bad_row_examples : tuple of str
        The first few of them, as ``file:line: field: message``.
    gpu_h_traced : float
        GPU-hours of the kept jobs as the trace counts GPUs (fractional for PAI).
    gpu_h_simulated : float
        GPU-hours of the kept jobs on whole GPUs, as they are simulated.
    span_h : float
        Hours from the first to the last kept submission.
    """

    source: str
    format: str
    records: int
    jobs: int
    dropped: dict[str, int]
    bad_rows: int
    bad_row_examples: tuple[str, ...]
    gpu_h_traced: float
    gpu_h_simulated: float
    span_h: float

    def as_json(self) -> dict[str, Any]:
        """The statistics as plain JSON values (for the dataset manifest)."""
        return {
            "source": self.source,
            "format": self.format,
            "records": self.records,
            "jobs": self.jobs,
            "dropped": dict(sorted(self.dropped.items())),
            "bad_rows": self.bad_rows,
            "bad_row_examples": list(self.bad_row_examples),
            "gpu_h_traced": self.gpu_h_traced,
            "gpu_h_simulated": self.gpu_h_simulated,
            "span_h": self.span_h,
        }

    def summary(self) -> str:
        """One log line: what was read, kept and dropped."""
        dropped = ", ".join(f"{n:,} {why}" for why, n in sorted(self.dropped.items()) if n)
        text = (
            f"trace {self.source} ({self.format}): {self.records:,} job record(s), {self.jobs:,} replayed "
            f"over {self.span_h:,.1f} h, {self.gpu_h_simulated:,.0f} GPU-h"
        )
        if dropped:
            text += f"; dropped {dropped}"
        if self.bad_rows:
            text += f"; skipped {self.bad_rows:,} malformed row(s), first: {self.bad_row_examples[0]}"
        return text


@dataclass(frozen=True)
class Trace:
    """A loaded trace: the arrivals to replay and what the load did.

    Attributes
    ----------
    batch : ArrivalBatch
        The jobs, sorted by arrival time.
    run_h : numpy.ndarray
        Traced run time of each job of ``batch``, in hours (float64).
    gpus_traced : numpy.ndarray
        GPUs of each job as the trace counts them (float64; fractional for PAI).
    stats : TraceStats
        What was read, kept and dropped.
    """

    batch: ArrivalBatch
    run_h: np.ndarray
    gpus_traced: np.ndarray
    stats: TraceStats

    def clip(self, horizon_h: float) -> Trace:
        """Drop jobs submitted at or after ``horizon_h`` (hours); they count as ``beyond_horizon``."""
        b = self.batch
        n = int(np.searchsorted(b.t_h, horizon_h, side="left"))
        if n == len(b):
            return self
        batch = ArrivalBatch(b.t_h[:n], b.cls[:n], b.gpus[:n], b.work_gpu_h[:n], b.origin[:n])
        dropped = dict(self.stats.dropped)
        dropped["beyond_horizon"] = dropped.get("beyond_horizon", 0) + len(b) - n
        run_h, gpus_traced = self.run_h[:n], self.gpus_traced[:n]
        stats = replace(self.stats, dropped=dropped, **_totals(batch, run_h, gpus_traced))
        return Trace(batch, run_h, gpus_traced, stats)


def _totals(batch: ArrivalBatch, run_h: np.ndarray, gpus_traced: np.ndarray) -> dict[str, Any]:
    n = len(batch)
    return {
        "jobs": n,
        "gpu_h_traced": float(np.dot(gpus_traced, run_h)),
        "gpu_h_simulated": float(np.dot(batch.gpus, run_h)),
        "span_h": float(batch.t_h[-1] - batch.t_h[0]) if n else 0.0,
    }


class JobStream:
    """Collects one trace's jobs, mapped onto a scenario, as flat arrays.

    Parameters
    ----------
    source : str
        The trace file (for messages).
    fmt : str
        The format name.
    options : TraceOptions
        Mapping and filter options.
    class_names : sequence of str
        The scenario's job classes, in order (their index is the ``cls`` of a job).
    regions : sequence of Region
        The network's regions, in order (their index is the ``origin`` of a job).
    columns : sequence of str
        Columns of this format that ``class_column`` / ``origin_column`` may name.
    default_origin_column : str
        The origin column when ``options.origin_column`` is ``None``.

    Raises
    ------
    ConfigError
        A class or region in the options that the scenario does not have, or a column
        the format does not have.
    """

    def __init__(
        self,
        source: str,
        fmt: str,
        options: TraceOptions,
        class_names: Sequence[str],
        regions: Sequence[Region],
        columns: Sequence[str],
        default_origin_column: str,
    ) -> None:
        self.source, self.format, self.options = source, fmt, options
        if not class_names:
            raise ConfigError("trace: the scenario has no job classes to map the trace onto")
        if not regions:
            raise ConfigError("trace: the network has no regions for the jobs to come from")
        for flag, column in (("class_column", options.class_column), ("origin_column", options.origin_column)):
            if column is not None and column not in columns:
                raise ConfigError(_unknown(f"trace: {flag}", "column", column, columns))
        self.class_column = options.class_column
        self.origin_column = options.origin_column or default_origin_column
        index = {name: i for i, name in enumerate(class_names)}
        self._class_of_value = {
            value: _lookup(index, name, f"trace: class_map.{value}", "class")
            for value, name in options.class_map.items()
        }
        self._rules = [(index[r.name], r.min_gpus, r.min_run_h) for r in options.class_rules if r.name in index]
        region_index = {r.id: i for i, r in enumerate(regions)}
        self._origin_of_value = {
            value: _lookup(region_index, rid, f"trace: origin_map.{value}", "region")
            for value, rid in options.origin_map.items()
        }
        self._default_origin = (
            None
            if options.default_region is None
            else _lookup(region_index, options.default_region, "trace: default_region", "region")
        )
        weights = np.array([r.demand_weight for r in regions], float)
        if weights.sum() <= 0:
            weights = np.ones(len(regions))
        self._cum_weight = np.cumsum(weights) / weights.sum()
        self.records = 0
        self.first_submit_s = math.inf
        self.dropped: Counter[str] = Counter()
        self.bad_rows = 0
        self.bad_examples: list[str] = []
        self._submit_s = array("d")
        self._gpus_traced = array("d")
        self._gpus = array("q")
        self._run_h = array("d")
        self._cls = array("q")
        self._origin = array("q")

    # -- feeding ------------------------------------------------------------------------
    def bad_row(self, message: str) -> None:
        """A malformed row: raise :class:`TraceError`, or count it when skipping bad rows."""
        if not self.options.skip_bad_rows:
            raise TraceError(message)
        self.bad_rows += 1
        if len(self.bad_examples) < MAX_EXAMPLES:
            self.bad_examples.append(message)

    def add(
        self,
        submit_s: float,
        gpus: float,
        run_s: float | None,
        status: Status,
        class_value: str | None,
        origin_value: str,
    ) -> None:
        """Add one well-formed job record.

        Parameters
        ----------
        submit_s : float
            Submission time on the trace's clock, in seconds.
        gpus : float
            GPUs as the trace counts them (may be fractional, 0 for CPU-only jobs).
        run_s : float or None
            Run time in seconds (>= 0); ``None`` when the trace has none.
        status : Status
            The normalised status.
        class_value, origin_value : str or None
            The raw values of the class and origin columns.
        """
        self.first_submit_s = min(self.first_submit_s, submit_s)
        if run_s is None:
            self.dropped["no_run_time"] += 1
            return
        if gpus <= 0:
            self.dropped["cpu_only"] += 1
            return
        if status in ("failed", "killed") and not self.options.keep_failed:
            self.dropped[status] += 1
            return
        # Whole GPUs: the simulator allocates GPUs whole, so a job on half a GPU holds one.
        # The rounding guards against percentages that sum to 1.0000000001.
        whole = int(gpus) if gpus == int(gpus) else math.ceil(round(gpus, 6))
        run_h = run_s / 3600.0
        self._submit_s.append(submit_s)
        self._gpus_traced.append(gpus)
        self._gpus.append(whole)
        self._run_h.append(run_h)
        self._cls.append(self._class(whole, run_h, class_value))
        self._origin.append(self._origin_index(origin_value))

    def _class(self, gpus: int, run_h: float, value: str | None) -> int:
        if value is not None:
            mapped = self._class_of_value.get(value)
            if mapped is not None:
                return mapped
        for cls, min_gpus, min_run_h in self._rules:
            if gpus >= min_gpus and run_h >= min_run_h:
                return cls
        return 0

    def _origin_index(self, value: str) -> int:
        mapped = self._origin_of_value.get(value)
        if mapped is not None:
            return mapped
        if self._default_origin is not None:
            return self._default_origin
        # A stable hash (not Python's salted hash()): the same value lands in the same
        # region on every run and machine, regions chosen in proportion to demand_weight.
        u = int.from_bytes(hashlib.sha256(value.encode()).digest()[:8], "little") / 2.0**64
        index = int(np.searchsorted(self._cum_weight, u, side="right"))
        origin = min(index, len(self._cum_weight) - 1)
        self._origin_of_value[value] = origin  # memoise: a trace has few distinct values
        return origin

    # -- result ------------------------------------------------------------------------
    def finish(self) -> Trace:
        """The jobs as an :class:`ArrivalBatch` sorted by arrival (ties in file order), with statistics.

        Arrival times are hours after the first submission of any well-formed record,
        dropped ones included, so filtering jobs does not shift the time line.
        """
        submit = _floats(self._submit_s)
        order = np.argsort(submit, kind="stable")
        t_h = (submit[order] - self.first_submit_s) / 3600.0
        gpus = _ints(self._gpus)[order]
        run_h = _floats(self._run_h)[order]
        batch = ArrivalBatch(
            t_h, _ints(self._cls)[order], gpus, gpus * run_h * self.options.gpu_speed, _ints(self._origin)[order]
        )
        gpus_traced = _floats(self._gpus_traced)[order]
        totals = _totals(batch, run_h, gpus_traced)
        stats = TraceStats(
            source=self.source,
            format=self.format,
            records=self.records,
            dropped=dict(self.dropped),
            bad_rows=self.bad_rows,
            bad_row_examples=tuple(self.bad_examples),
            **totals,
        )
        return Trace(batch, run_h, gpus_traced, stats)


def _floats(values: array[float]) -> np.ndarray:
    return np.frombuffer(values, np.float64).copy() if values else np.zeros(0)


def _ints(values: array[int]) -> np.ndarray:
    return np.frombuffer(values, np.int64).copy() if values else np.zeros(0, np.int64)


def _lookup(index: Mapping[str, int], name: str, key: str, what: str) -> int:
    if name not in index:
        raise ConfigError(_unknown(key, what, name, list(index)))
    return index[name]


def _unknown(key: str, what: str, name: str, choices: Sequence[str]) -> str:
    hint = nearest(name, choices)
    tail = f"did you mean '{hint}'?" if hint else f"choose one of {', '.join(choices)}"
    return f"{key}: no {what} {name!r} ({tail})"
