"""Executors: run batches of scenarios serially or on Ray, streaming results back.

Both call :func:`run_batch`, which calls :func:`sim.run.run_scenario` for each scenario;
the executor only schedules.  A scenario that raises becomes a ``runs`` row with
``status = "failed"`` and its error, so one bad scenario does not stop a sweep.  On Ray,
a batch whose worker process dies (killed, out of memory, node lost) is run again up to
``max_retries`` times; after that its scenarios become failed rows naming the lost worker.
"""

from __future__ import annotations

import logging
import os
import secrets
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from cluster.sweep_ray import dead_workers, lost_worker_error, reload_ray_auth
from sim.run import ScenarioResult, run_scenario
from sim.scenario import LoadedScenario
from sim.tables import RUNS_COLUMNS, build_table, flatten_params, param_unit

__all__ = [
    "CRASH_ONCE_ENV",
    "DEFAULT_MAX_RETRIES",
    "BatchResult",
    "RayExecutor",
    "SerialExecutor",
    "concat_tables",
    "failed_runs",
    "lost_batch",
    "run_batch",
]

DEFAULT_MAX_RETRIES = 3
CRASH_ONCE_ENV = "CPNSIM_TEST_CRASH_ONCE"
"""Test-only: a path; the first Ray task to create it kills its own worker (``os._exit``)."""

Runner = Callable[[LoadedScenario], ScenarioResult]


@dataclass
class BatchResult:
    """The tables of one batch of scenarios.

    Attributes
    ----------
    index : int
        Position of the batch in the submitted sequence.
    tables : dict of str to pyarrow.Table
        ``runs``, ``sites`` and ``timings`` of every scenario of the batch.
    done : list of str
        Scenario ids that ran.
    failed : list of str
        Scenario ids that raised (their ``runs`` rows have ``status = "failed"``).
    """

    index: int
    tables: dict[str, pa.Table]
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def concat_tables(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate tables whose ``param.*`` columns may differ in set or type.

    Missing columns become nulls and types are promoted (``int64`` + ``double`` →
    ``double``; anything + ``null`` → that type).  The result is one chunk per column,
    which is what a Ray task ships back and a part file holds: far cheaper than one
    chunk per scenario.
    """
    return pa.concat_tables(list(tables), promote_options="permissive").combine_chunks()


def failed_runs(loaded: LoadedScenario, error: str) -> pa.Table:
    """The one ``runs`` row of a scenario that raised: keys, config and the error; metrics null.

    ``replication`` is null: the scenario failed as a whole.
    """
    s = loaded.scenario
    row: dict[str, Any] = {
        "scenario_id": loaded.scenario_id, "replication": None, "name": s.name, "seed": s.seed,
        "status": "failed", "error": error, "policy": s.policy, "network": loaded.network.name,
        "horizon_h": s.horizon_h, "warmup_h": s.warmup_h,
    }
    params = flatten_params(s.model_dump(mode="json"))
    cols = {name: [row.get(name)] for name, *_ in RUNS_COLUMNS}
    cols.update({k: [v] for k, v in params.items()})
    extra = [pa.field(k, pa.array([v]).type, metadata={"unit": param_unit(k), "description": "Scenario parameter"})
             for k, v in params.items()]
    return build_table("runs", cols, extra)


def run_batch(index: int, batch: Sequence[LoadedScenario], runner: Runner = run_scenario) -> BatchResult:
    """Run every scenario of ``batch`` and concatenate their tables (the unit of work of every executor)."""
    parts: dict[str, list[pa.Table]] = {"runs": [], "sites": [], "timings": []}
    result = BatchResult(index, {})
    for loaded in batch:
        try:
            tables = runner(loaded).tables()
        except Exception as exc:  # a failed scenario is data, not the end of the sweep
            tail = traceback.format_exception_only(exc)[-1].strip()
            parts["runs"].append(failed_runs(loaded, tail))
            result.failed.append(loaded.scenario_id)
            continue
        for name, table in tables.items():
            parts.setdefault(name, []).append(table)
        result.done.append(loaded.scenario_id)
    result.tables = {name: concat_tables(ts) for name, ts in parts.items() if ts}
    return result


def lost_batch(index: int, batch: Sequence[LoadedScenario], error: str) -> BatchResult:
    """The result of a batch whose worker was lost for good: one failed ``runs`` row per scenario."""
    tables = concat_tables([failed_runs(loaded, error) for loaded in batch])
    return BatchResult(index, {"runs": tables}, failed=[loaded.scenario_id for loaded in batch])


def _crash_once_for_tests() -> None:
    # Test-only hook (tests/cluster/test_sweep_retries.py): the worker that first creates
    # the marker file dies as if killed, so a retry finds the file and runs normally.
    marker = os.environ.get(CRASH_ONCE_ENV)
    if not marker:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os._exit(70)


def _ray_batch(index: int, batch: Sequence[LoadedScenario], runner: Runner) -> BatchResult:
    """The Ray task: :func:`run_batch`, behind the test-only crash hook."""
    _crash_once_for_tests()
    return run_batch(index, batch, runner)


def _ray_cpus(default: int) -> int:
    import ray

    return int(ray.cluster_resources().get("CPU", default))  # type: ignore[no-untyped-call]


class SerialExecutor:
    """Runs batches one after another in this process (for debugging and small sweeps)."""

    name = "serial"

    def __init__(self, runner: Runner = run_scenario) -> None:
        self.runner = runner
        self.num_cpus = 1

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, batches: Sequence[Sequence[LoadedScenario]]) -> Iterator[BatchResult]:
        """Yield the result of each batch as it completes."""
        for i, batch in enumerate(batches):
            yield run_batch(i, batch, self.runner)


class RayExecutor:
    """Runs batches as Ray tasks, embedded on this machine or on a cluster.

    Parameters
    ----------
    address : str, optional
        A Ray cluster to join (``--address``, else ``RAY_ADDRESS``).  Without one, a
        private single-machine Ray is started: listeners bound to 127.0.0.1, token
        authentication on with a fresh token held in the environment only, so no
        ``~/.ray/auth_token`` is written.
    num_cpus : int, optional
        CPUs of the embedded Ray (default: all); ignored when joining a cluster.
    runner : callable
        The scenario runner (``sim.run.run_scenario``; tests substitute it).
    max_retries : int
        Times a batch is run again when its worker process dies (Ray's ``max_retries``).
        A scenario that raises is not retried: it is a failed row at once.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 runner: Runner = run_scenario, max_retries: int = DEFAULT_MAX_RETRIES) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.requested_cpus = num_cpus
        self.runner = runner
        self.max_retries = max_retries
        self.num_cpus = num_cpus or os.cpu_count() or 1
        self._started = False

    def __enter__(self) -> RayExecutor:
        # The environment must be set before `import ray`: Ray reads its auth settings
        # at import time.  Every listener on 127.0.0.1 (see ../shared/RAY.md).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        before = (os.environ.get("RAY_AUTH_TOKEN"), os.environ.get("RAY_AUTH_MODE"))
        if not self.address:
            # An embedded Ray writes ~/.ray/auth_token (mode 0644) unless it is handed a token.
            if not os.environ.get("RAY_AUTH_TOKEN") and not os.environ.get("RAY_AUTH_TOKEN_PATH"):
                os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
            os.environ.setdefault("RAY_AUTH_MODE", "token")
        import ray  # deferred: ~1 s to import

        if before != (os.environ.get("RAY_AUTH_TOKEN"), os.environ.get("RAY_AUTH_MODE")):
            reload_ray_auth()

        if ray.is_initialized():
            self.num_cpus = _ray_cpus(self.num_cpus)
            return self
        if self.address:
            ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(address="local", num_cpus=self.requested_cpus, include_dashboard=False,
                     logging_level=logging.WARNING, log_to_driver=False)
        self._started = True
        self.num_cpus = _ray_cpus(self.num_cpus)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def map(self, batches: Sequence[Sequence[LoadedScenario]]) -> Iterator[BatchResult]:
        """Submit every batch as a task; yield results in completion order (``ray.wait``).

        A batch whose worker died more than ``max_retries`` times yields
        :func:`lost_batch` (failed rows) instead of ending the sweep.
        """
        import ray
        from ray.exceptions import RayError, RayTaskError

        # retry_exceptions=False: only system failures (a dead worker) are retried; run_batch
        # already turns a scenario's own exception into a failed row.
        task: Any = ray.remote(num_cpus=1, max_retries=self.max_retries, retry_exceptions=False)(_ray_batch)
        runner_ref = ray.put(self.runner)
        before, named = set(dead_workers()), set[str]()  # workers lost before this sweep are not its
        submitted = {task.remote(i, list(batch), runner_ref): i for i, batch in enumerate(batches)}
        pending = list(submitted)
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    try:
                        yield ray.get(ref)
                    except RayTaskError:
                        raise  # run_batch itself failed (say, a result that cannot be pickled): a bug
                    except RayError as exc:
                        index = submitted[ref]
                        yield lost_batch(index, batches[index], lost_worker_error(exc, before, named))
        finally:
            # Ending early (Ctrl-C, an error): a Ray this executor started is about to be shut
            # down, which stops every task, so nothing is cancelled — force-cancelling while
            # replies are in flight tripped a Ray CHECK ("Tried to complete task that was not
            # pending") and exit status 1 instead of 130.  A Ray that outlives this sweep
            # (a cluster, or one started by the caller) gets a polite cancel of what is left.
            if not (self._started and not self.address):
                for ref in pending:
                    ray.cancel(ref)
