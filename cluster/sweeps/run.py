"""Running a sweep: batch the scenarios not yet done, run them on an executor, write each batch.

The loop is the same for every executor; it only decides batch sizes, writes what comes
back and turns Ctrl-C into a clean stop (:class:`SweepInterrupted`): every batch already
written stays, the manifest lists exactly those scenarios, and ``--resume`` continues.
"""

from __future__ import annotations

import itertools
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cluster.sweeps.expansion import Expansion
from cluster.sweeps.location import check_out_location
from cluster.sweeps.manifest import Format, network_record
from cluster.sweeps.points import Point, PointBatch, SweepBase
from cluster.sweeps.schema import sweep_schema
from cluster.sweeps.spec import SweepSpec
from cluster.sweeps.storage import Storage
from cluster.sweeps.store import package_version
from cluster.sweeps.writer import SweepWriter
from topology.plumbing import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from cluster.sweeps.batch import BatchResult
    from sim.scenario import LoadedScenario

__all__ = ["Executor", "SweepInterrupted", "SweepReport", "default_batch_size", "run_sweep"]

MAX_BATCH = 64
_DEFERRED = (signal.SIGINT, signal.SIGTERM)


class Executor(Protocol):
    """What :func:`run_sweep` needs of an executor (:mod:`cluster.sweeps.executors`)."""

    num_cpus: int

    def __enter__(self) -> Any: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Any: ...

    def map(self, batches: Iterable[Sequence[LoadedScenario]]) -> Iterator[BatchResult]: ...


@dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    total : int
        Scenarios in the spec.
    skipped : int
        Scenarios already done in a resumed dataset.
    done, failed : int
        Scenarios run (ok or failed) by this call.
    wall_time_s : float
        Wall-clock time of the call (seconds).
    retried : int
        Failed scenarios taken out of a resumed dataset to run again (``retry_failed``).
    duplicates : int
        Points expanded that equal an earlier point (run once).

    Notes
    -----
    ``total`` is exact once the spec is expanded; a sweep interrupted while it expanded
    reports an upper bound (the points not yet expanded counted as scenarios).
    """

    total: int
    skipped: int
    done: int
    failed: int
    wall_time_s: float
    retried: int = 0
    duplicates: int = 0

    @property
    def finished(self) -> int:
        """Scenarios in the dataset now (skipped + done + failed)."""
        return self.skipped + self.done + self.failed


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a sweep; every batch written so far is in the dataset.

    Attributes
    ----------
    report : SweepReport
        What was done before the interrupt (``report.finished`` of ``report.total``).
    """

    def __init__(self, report: SweepReport) -> None:
        super().__init__(f"interrupted after {report.finished} of {report.total} scenarios")
        self.report = report


def default_batch_size(n_scenarios: int, num_cpus: int) -> int:
    """Scenarios per task: about four tasks per CPU (load balance), at most 64 per task.

    Examples
    --------
    >>> default_batch_size(6, 2), default_batch_size(100, 4), default_batch_size(1000, 2)
    (1, 7, 64)
    """
    return max(1, min(MAX_BATCH, math.ceil(n_scenarios / (4 * max(1, num_cpus)))))


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while a batch is written, then act on them: parts and journal stay in step.

    (A resumed sweep would also delete parts no journal line lists; holding the signals
    simply keeps an interrupted dataset tidy.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only delivered to the main thread
        return
    caught: list[signal.Signals] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signal.Signals(signum)))
                for sig in _DEFERRED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in caught[:1]:
            handler = previous[sig]
            if callable(handler):
                handler(sig, None)  # the default SIGINT handler raises KeyboardInterrupt
            elif handler == signal.SIG_DFL:
                signal.raise_signal(sig)


def run_sweep(
    spec: SweepSpec,
    out: Path | str | Storage,
    executor: Executor,
    fmt: Format = "arrow",
    *,
    resume: bool = False,
    overwrite: bool = False,
    retry_failed: bool = False,
    batch_size: int | None = None,
    on_start: Callable[[int, int, int], None] | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
    on_expand: Callable[[int, int, int], None] | None = None,
) -> SweepReport:
    """Run the scenarios of ``spec`` not yet in ``out`` and write each batch as it completes.

    Parameters
    ----------
    spec : SweepSpec
        From :func:`cluster.sweeps.spec.load_sweep`.
    out : Path, str or Storage
        The dataset directory (see :class:`cluster.sweeps.writer.SweepWriter`), or a
        pyarrow filesystem URI such as ``s3://bucket/x``
        (:func:`cluster.sweeps.location.check_out_location`), or a storage already opened.
    executor : SerialExecutor or RayExecutor
        Entered (``with``) by this function.
    fmt : {"arrow", "parquet"}
        Table file format.
    resume, overwrite : bool
        Continue an existing dataset of the same spec / replace an existing dataset.
    retry_failed : bool
        With ``resume``: run the failed scenarios again, their failed rows replaced
        (:meth:`cluster.sweeps.writer.SweepWriter.retry_failed`).
    batch_size : int, optional
        Scenarios per task (default: :func:`default_batch_size`).
    on_start : callable, optional
        Called as ``on_start(to_run, skipped, slots)`` once the executor is up; ``slots``
        is how many scenarios can run at once (one per CPU).
    on_batch : callable, optional
        Called with each :class:`cluster.sweeps.executors.BatchResult` after it is written.
    on_expand : callable, optional
        Called as ``on_expand(points_expanded, points_total, to_run)`` each time a batch is
        made: how far the expansion got, and the scenarios to run (the points not yet expanded
        counted as such: an upper bound until the expansion is through).

    Notes
    -----
    The spec's points are expanded as the executor asks for batches (unless the spec is
    already expanded), so the first batch runs before the last point exists.  The manifest
    written at the start records ``points`` (the design's size, known up front);
    ``scenarios`` and ``duplicates`` (known once every point is expanded) and a Saltelli
    ``design`` are written with the final manifest, which alone says ``complete``.  A point
    whose scenario does not validate stops the sweep where it is reached (a ``ConfigError``;
    the batches written so far stay, as after Ctrl-C); ``--dry-run`` expands every point first.

    Raises
    ------
    SweepInterrupted
        On Ctrl-C (SIGINT), after the executor is shut down; the dataset holds every
        batch written so far and ``resume=True`` continues it.
    ConfigError
        ``out`` cannot be written, is a URI pyarrow cannot open or, inside a Ray job, a relative path
        (:func:`cluster.sweeps.location.check_out_location`); another writer holds its lock
        (:mod:`cluster.sweeps.lock`); or ``resume`` finds a dataset of another spec.
    """
    t0 = time.perf_counter()
    where = check_out_location(out) if isinstance(out, (Path, str)) else out
    manifest: dict[str, Any] = {
        "kind": "sweep", "source": spec.source, "seed": spec.seed, "spec": spec.raw, "points": spec.points,
        "cpnsim_version": package_version(),
        "resolved_network": network_record(spec.base.network, spec.base.scenario.network)}
    if spec.expanded:  # else known once the expansion is through: written by the final manifest
        manifest.update(_expansion_record(spec, spec.count, spec.duplicates, spec.design))
    if retry_failed and not resume:
        raise ConfigError("--retry-failed: only with --resume (it reruns the failed scenarios of a dataset)")
    counts = {"done": 0, "failed": 0, "skipped": 0, "retried": 0}
    stream = _Stream(spec)

    def report() -> SweepReport:
        return SweepReport(stream.total, counts["skipped"], counts["done"], counts["failed"],
                           time.perf_counter() - t0, counts["retried"], stream.duplicates)

    # One schema per sweep: every param.* column in every part.  One scenario per shape of the
    # axis values has them all, found before any point is expanded (cluster.sweeps.expansion).
    schemas = {"runs": sweep_schema(spec.schema_scenarios)}
    with SweepWriter(where, manifest, fmt, resume=resume, overwrite=overwrite, schemas=schemas) as writer:
        if retry_failed:
            with _signals_deferred():
                counts["retried"] = len(writer.retry_failed())
        _run_batches(spec, stream, writer, executor, batch_size, counts, on_start, on_batch, on_expand, report)
        writer.finish(_expansion_record(spec, stream.distinct, stream.duplicates, stream.design()))
    return report()


def _expansion_record(spec: SweepSpec, scenarios: int, duplicates: int,
                      design: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest's fields that only the whole expansion knows."""
    record: dict[str, Any] = {"scenarios": scenarios, "duplicates": duplicates}
    if design is not None:  # a Saltelli design's row order, for cpnsim analyze sensitivity
        record["design"] = design
    return record


class _Stream:
    """A spec's distinct points as the driver takes them: expanded as batches are wanted, counted."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self._points = spec.expansion()
        self.taken = 0  # distinct points taken so far

    def __iter__(self) -> Iterator[Point]:
        for point in self._points:
            self.taken += 1
            yield point

    @property
    def finished(self) -> bool:
        """Every point is expanded."""
        return not isinstance(self._points, Expansion) or self._points.finished

    @property
    def expanded(self) -> int:
        """Points expanded so far (duplicates included)."""
        return self._points.points if isinstance(self._points, Expansion) else self.spec.points

    @property
    def distinct(self) -> int:
        """Distinct scenarios: all of them once :attr:`finished`, else those expanded so far."""
        return self._points.distinct if isinstance(self._points, Expansion) else self.spec.count

    @property
    def duplicates(self) -> int:
        """Duplicate points among those expanded."""
        return self.expanded - self.distinct

    @property
    def total(self) -> int:
        """Scenarios of the spec: exact once :attr:`finished`, else an upper bound (points not yet
        expanded counted as distinct)."""
        return self.distinct + self.spec.points - self.expanded

    def design(self) -> dict[str, Any] | None:
        """The Saltelli design record (its groups as far as expanded), or None."""
        if self.spec.design_record is None:
            return None
        if isinstance(self._points, Expansion):
            return self._points.design_record(self.spec.design_record)
        return self.spec.design


def _todo(stream: _Stream, done: set[str], taken: list[int]) -> Iterator[Point]:
    """The points of ``stream`` not in ``done``; ``taken[0]`` counts them."""
    for point in stream:
        if point.scenario_id not in done:
            taken[0] += 1
            yield point


def _batches(base: SweepBase, points: Iterator[Point], size: int, stream: _Stream, taken: list[int],
             on_expand: Callable[[int, int, int], None] | None) -> Iterator[PointBatch]:
    """Batches of ``size`` points, made as they are asked for; ``on_expand`` hears how far the expansion got.

    ``on_expand(points_expanded, points_total, to_run)``: ``to_run`` counts the points not
    yet expanded as scenarios to run (an upper bound until the expansion is through).
    """
    while True:
        batch = tuple(itertools.islice(points, size))
        if on_expand is not None:
            on_expand(stream.expanded, stream.spec.points, taken[0] + stream.spec.points - stream.expanded)
        if not batch:
            return
        yield PointBatch(base, batch)


def _run_batches(spec: SweepSpec, stream: _Stream, writer: SweepWriter, executor: Executor, batch_size: int | None,
                 counts: dict[str, int], on_start: Callable[[int, int, int], None] | None,
                 on_batch: Callable[[BatchResult], None] | None, on_expand: Callable[[int, int, int], None] | None,
                 report: Callable[[], SweepReport]) -> None:
    done_before = writer.done_ids
    skipped = counts["skipped"] = len(done_before)  # a resumed dataset is of this spec: its ids are the spec's
    bound = max(spec.points - skipped, 0)  # scenarios left, at most (duplicates are found as the points expand)
    taken = [0]
    try:
        todo = _todo(stream, done_before, taken)
        first = next(todo, None)  # expanded before the executor starts: nothing left, no Ray started to stop it
        if first is not None:
            with executor:
                size = batch_size or default_batch_size(bound, executor.num_cpus)
                if on_start is not None:  # a batch runs its scenarios one by one: one at a time per CPU
                    on_start(bound, skipped, min(bound, executor.num_cpus))
                # Batches are made as the executor asks for them: the first runs before the last point exists.
                batches = _batches(spec.sweep_base, itertools.chain([first], todo), size, stream, taken, on_expand)
                for result in executor.map(batches):
                    with _signals_deferred():
                        writer.add(result.tables, result.done, result.failed)
                        counts["done"] += len(result.done)
                        counts["failed"] += len(result.failed)
                    if on_batch is not None:
                        on_batch(result)
                    del result  # released as soon as it is written (a Ray result pins its object)
        elif on_start is not None:
            on_start(0, skipped, 0)
    except KeyboardInterrupt:
        raise SweepInterrupted(report()) from None
