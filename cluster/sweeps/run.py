"""Running a sweep: batch the scenarios not yet done, run them on an executor, write each batch.

The loop is the same for every executor; it only decides batch sizes, writes what comes
back and turns Ctrl-C into a clean stop (:class:`SweepInterrupted`): every batch already
written stays, the manifest lists exactly those scenarios, and ``--resume`` continues.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cluster.sweeps.location import check_out_location
from cluster.sweeps.manifest import Format, network_record
from cluster.sweeps.points import PointBatch
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

    def map(self, batches: Sequence[Sequence[LoadedScenario]]) -> Iterator[BatchResult]: ...


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
    """

    total: int
    skipped: int
    done: int
    failed: int
    wall_time_s: float
    retried: int = 0

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
    manifest = {"kind": "sweep", "source": spec.source, "seed": spec.seed, "spec": spec.raw,
                "scenarios": spec.count, "cpnsim_version": package_version(),
                "resolved_network": network_record(spec.base.network, spec.base.scenario.network)}
    if spec.design is not None:  # a Saltelli design's row order, for cpnsim analyze sensitivity
        manifest["design"] = spec.design
    if retry_failed and not resume:
        raise ConfigError("--retry-failed: only with --resume (it reruns the failed scenarios of a dataset)")
    counts = {"done": 0, "failed": 0, "skipped": 0, "retried": 0}

    def report() -> SweepReport:
        return SweepReport(spec.count, counts["skipped"], counts["done"], counts["failed"],
                           time.perf_counter() - t0, counts["retried"])

    # One schema per sweep: every param.* column in every part.  One scenario per shape of the
    # axis values has them all, so the 100,000 scenarios of a big sweep are not resolved for it.
    schemas = {"runs": sweep_schema(spec.schema_scenarios or spec.scenarios)}
    with SweepWriter(where, manifest, fmt, resume=resume, overwrite=overwrite, schemas=schemas) as writer:
        if retry_failed:
            with _signals_deferred():
                counts["retried"] = len(writer.retry_failed())
        _run_batches(spec, writer, executor, batch_size, counts, on_start, on_batch, report)
        writer.finish()
    return report()


def _run_batches(spec: SweepSpec, writer: SweepWriter, executor: Executor, batch_size: int | None,
                 counts: dict[str, int], on_start: Callable[[int, int, int], None] | None,
                 on_batch: Callable[[BatchResult], None] | None, report: Callable[[], SweepReport]) -> None:
    done_before = writer.done_ids
    todo = [p for p in spec.scenario_points if p.scenario_id not in done_before]
    skipped = counts["skipped"] = spec.count - len(todo)
    try:
        if todo:  # nothing left: do not start Ray just to stop it
            with executor:
                size = batch_size or default_batch_size(len(todo), executor.num_cpus)
                # Each batch is its points over the one base: rebuilt where it runs (cluster.sweeps.points)
                batches = [PointBatch(spec.sweep_base, tuple(todo[i : i + size])) for i in range(0, len(todo), size)]
                if on_start is not None:  # a batch runs its scenarios one by one: one at a time per CPU
                    on_start(len(todo), skipped, min(len(todo), executor.num_cpus))
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
