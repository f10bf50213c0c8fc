"""Executors: run batches of scenarios serially or on Ray, streaming results back.

Both call :func:`cluster.sweeps.batch.run_batch`, which calls :func:`sim.run.run_scenario`
for each scenario; the executor only schedules.  On Ray, a batch whose worker process dies
(killed, out of memory, node lost) is run again up to ``max_retries`` times; after that its
scenarios become failed rows naming the lost worker.  :func:`make_executor` builds either
from the options every command shares.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from cluster.sweeps.batch import BatchResult, Runner, checked_batch, lost_batch, run_batch
from cluster.sweeps.code import PACKAGES, CodeMismatch, code_identity, runtime_env
from cluster.sweeps.lock import ray_job_id
from cluster.sweeps.points import PointBatch
from cluster.sweeps.ray_internals import check_cluster_access, dead_workers, lost_worker_error, reload_ray_auth
from sim.run import run_scenario
from sim.scenario import LoadedScenario
from topology.plumbing import ConfigError

__all__ = ["DEFAULT_MAX_RETRIES", "EXECUTORS", "WINDOW_PER_CPU", "RayExecutor", "SerialExecutor", "make_executor"]

DEFAULT_MAX_RETRIES = 3
WINDOW_PER_CPU = 4
"""Batches submitted ahead per CPU of the cluster: enough to keep every CPU busy while the
driver writes a result and makes the next batch, few enough that a spec is expanded as it runs."""
EXECUTORS = ("ray", "serial")
"""Executor names, as ``--executor`` takes them; the first is the default."""

# The variables RayExecutor may set; it puts them back as they were when it shuts down.
_RAY_ENV = ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_AUTH_TOKEN", "RAY_AUTH_MODE")


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

    def map(self, batches: Iterable[Sequence[LoadedScenario]]) -> Iterator[BatchResult]:
        """Yield the result of each batch as it completes (``batches`` taken one at a time, lazily)."""
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
    ship : bool
        Joining a cluster from outside a Ray job: ship the four packages to the workers
        (:func:`cluster.sweeps.code.runtime_env`).  Inside a job the job's working dir is
        already shipped, and nothing more is.  Either way, on a cluster each batch checks
        that its worker runs the driver's code (:func:`cluster.sweeps.code.code_identity`);
        a mismatch, or workers that cannot import cpnsim, is one :class:`ConfigError` line.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 runner: Runner = run_scenario, max_retries: int = DEFAULT_MAX_RETRIES, *, ship: bool = True) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.requested_cpus = num_cpus
        self.runner = runner
        self.max_retries = max_retries
        self.ship = ship
        self.num_cpus = num_cpus or os.cpu_count() or 1
        self._started = False
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> RayExecutor:
        self._saved_env = {name: os.environ.get(name) for name in _RAY_ENV}
        try:
            return self._start()
        except BaseException:
            self._restore_env()
            raise

    def _start(self) -> RayExecutor:
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
            check_cluster_access(self.address)  # one line within seconds, not ~20 s of retries and a traceback
            env = runtime_env() if self.ship and ray_job_id() is None else None
            try:
                ray.init(address=self.address, runtime_env=env, logging_level=logging.WARNING, log_to_driver=False)
            except Exception as exc:  # joining or shipping failed: Ray's reason, in one line
                what = "join the cluster or ship cpnsim to it" if env else "join the cluster"
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConfigError(f"--address {self.address}: could not {what} ({first})") from None
        else:
            ray.init(address="local", num_cpus=self.requested_cpus, include_dashboard=False,
                     logging_level=logging.WARNING, log_to_driver=False)
        self._started = True
        self.num_cpus = _ray_cpus(self.num_cpus)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._started:
                import ray

                ray.shutdown()
                self._started = False
        finally:
            self._restore_env()

    def _restore_env(self) -> None:
        """Put the variables :meth:`__enter__` set back as they were (the token is a secret of this Ray)."""
        auth = ("RAY_AUTH_TOKEN", "RAY_AUTH_MODE")
        changed = any(os.environ.get(name) != self._saved_env.get(name) for name in auth)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        if changed:
            reload_ray_auth()  # a Ray started later in this process must not see the old token

    def map(self, batches: Iterable[Sequence[LoadedScenario]]) -> Iterator[BatchResult]:
        """Submit the batches as tasks, a window of them at a time; yield results in completion order.

        ``batches`` is taken lazily (a sweep's are made as its spec expands): up to
        :data:`WINDOW_PER_CPU` batches per CPU are submitted ahead, and the next is taken
        when a result comes back.  A batch whose worker died more than ``max_retries``
        times yields :func:`lost_batch` (failed rows) instead of ending the sweep.
        """
        import ray
        from ray.exceptions import RayError, RayTaskError

        # retry_exceptions=False: only system failures (a dead worker) are retried; run_batch
        # already turns a scenario's own exception into a failed row.
        options: dict[str, Any] = {"num_cpus": 1, "max_retries": self.max_retries, "retry_exceptions": False}
        runner_ref = ray.put(self.runner)
        # A batch of points ships its base once: put here, fetched once per worker (cluster.sweeps.points).
        bases: dict[str, Any] = {}
        before, named = set(dead_workers()), set[str]()  # workers lost before this sweep are not its
        if self.address:  # a cluster: every worker checks it runs the driver's code
            task: Any = ray.remote(**options)(checked_batch)
            head: tuple[Any, ...] = (code_identity(),)
        else:  # embedded: the workers are this machine's own processes
            task = ray.remote(**options)(run_batch)
            head = ()
        source = enumerate(batches)
        window = WINDOW_PER_CPU * max(self.num_cpus, 1)
        submitted: dict[Any, int] = {}
        held: dict[int, Sequence[LoadedScenario]] = {}  # the batches in flight (for lost_batch)

        def submit_more() -> None:
            while len(submitted) < window:
                item = next(source, None)
                if item is None:
                    return
                i, batch = item
                if isinstance(batch, PointBatch) and batch.base is not None:
                    ref = bases.get(batch.base.digest)
                    if ref is None:
                        ref = bases[batch.base.digest] = ray.put(batch.base)
                    shipped: Sequence[LoadedScenario] = batch.by_reference(ref)
                else:
                    shipped = list(batch)
                submitted[task.remote(*head, i, shipped, runner_ref)] = i
                held[i] = batch

        try:
            submit_more()
            while submitted:
                ready, _ = ray.wait(list(submitted), num_returns=1)
                for ref in ready:
                    # Dropped from every container before the result goes out: once the caller
                    # has written it, nothing pins the object in the object store.
                    index = submitted.pop(ref)
                    batch = held.pop(index)
                    try:
                        result = ray.get(ref)
                    except RayTaskError as exc:
                        _refuse_foreign_code(exc, self.address)
                        raise  # run_batch itself failed (say, a result that cannot be pickled): a bug
                    except RayError as exc:
                        result = lost_batch(index, batch, lost_worker_error(exc, before, named))
                    del ref, batch
                    yield result
                    del result
                del ready
                submit_more()
        finally:
            # Ending early (Ctrl-C, an error): a Ray this executor started is about to be shut
            # down, which stops every task, so nothing is cancelled — force-cancelling while
            # replies are in flight tripped a Ray CHECK ("Tried to complete task that was not
            # pending") and exit status 1 instead of 130.  A Ray that outlives this sweep
            # (a cluster, or one started by the caller) gets a polite cancel of what is left.
            if not (self._started and not self.address):
                for ref in list(submitted):
                    ray.cancel(ref)


def _refuse_foreign_code(exc: BaseException, address: str | None) -> None:
    """Turn a task error that says the worker runs other code, or no cpnsim at all, into one line.

    Raises
    ------
    ConfigError
        ``exc`` is (or was caused by) :class:`cluster.sweeps.code.CodeMismatch`, or a
        ``ModuleNotFoundError`` for one of cpnsim's packages.
    """
    cause = getattr(exc, "cause", None)
    for err in (exc, cause):
        if isinstance(err, CodeMismatch):
            message = str(err).strip().splitlines()[-1].split("CodeMismatch: ")[-1]
            raise ConfigError(f"--address {address}: {message}; ship the same code to every node (the default "
                              "outside a Ray job) or install the driver's cpnsim there") from None
        if isinstance(err, ModuleNotFoundError) and (err.name or "").split(".")[0] in PACKAGES:
            raise ConfigError(f"--address {address}: the workers cannot import cpnsim ({err}); ship it (the "
                              "default outside a Ray job: `ray job submit --working-dir .` inside one)") from None


def make_executor(
    name: str,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    runner: Runner = run_scenario,
) -> SerialExecutor | RayExecutor:
    """The executor every command builds from its options (``--executor``, ``--address``, ...).

    Nothing starts here: an embedded Ray comes up when the executor is entered (``with``).

    Parameters
    ----------
    name : {"ray", "serial"}
        Which executor (:data:`EXECUTORS`).
    address : str, optional
        Ray only: a cluster to join (default ``$RAY_ADDRESS``, else a private embedded Ray).
    num_cpus : int, optional
        Ray only: CPUs of the embedded Ray (default: all); at least 1.
    max_retries : int
        Ray only: times a batch is rerun when its worker process dies; at least 0.
    runner : callable
        The scenario runner (tests substitute it).

    Returns
    -------
    SerialExecutor or RayExecutor

    Raises
    ------
    ConfigError
        An unknown ``name`` or an option out of range, naming the command-line flag.

    Examples
    --------
    >>> make_executor("serial").name
    'serial'
    """
    if name not in EXECUTORS:
        raise ConfigError(f"--executor: unknown executor {name!r} (choose {' or '.join(EXECUTORS)})")
    if num_cpus is not None and num_cpus < 1:
        raise ConfigError(f"--num-cpus: must be >= 1, got {num_cpus}")
    if max_retries < 0:
        raise ConfigError(f"--max-retries: must be >= 0, got {max_retries}")
    if name == "serial":
        return SerialExecutor(runner)
    return RayExecutor(address, num_cpus, runner=runner, max_retries=max_retries)
