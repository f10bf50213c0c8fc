"""Progress of one ``cpnsim run`` in simulated time: a bar on a terminal, nothing elsewhere.

The simulation runs in the main thread and knows nothing of the display: before each
replication, :func:`sim.run.run_replication` hands its engine to :meth:`RunProgress.watch`,
and a daemon thread reads the clock (``engine.now_h``, a float) a few times a second.
Nothing is scheduled in the simulation, so the tables are the same with or without the bar.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from sim.engine import Engine

__all__ = ["POLL_S", "RunProgress"]

POLL_S = 0.5
"""Seconds between two reads of the simulated clock and redraws of the bar.

Rich's own refresh thread is off: redrawing ten times a second cost 5 % of a national
run's CPU time (3.83 s against 3.64 s, best of three, ``examples/national.toml``); two
reads and redraws a second are within the run-to-run noise (3.55 s against 3.79 s).
"""


class RunProgress:
    """A transient bar of simulated hours over every replication, for ``with``.

    Parameters
    ----------
    err : Console
        Where the bar is drawn (stderr).
    horizon_h : float
        Simulated hours per replication.
    replications : int
        Replications run one after another.
    enabled : bool
        Draw the bar; when false, :meth:`watch` is ``None`` and nothing starts.
    """

    def __init__(self, err: Console, horizon_h: float, replications: int, *, enabled: bool) -> None:
        self.horizon_h, self.replications, self.enabled = horizon_h, replications, enabled
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.fields[done_h]:,.0f} / {task.fields[horizon_h]:,.0f} h simulated"),
            TimeElapsedColumn(), console=err, transient=True, auto_refresh=False,
        )
        self._task: TaskID | None = None
        self._engine: Engine | None = None
        self._replication = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="cpnsim-progress", daemon=True)

    def watch(self, replication: int, engine: Engine) -> None:
        """Follow ``engine``, the engine of ``replication`` (called by :func:`sim.run.run_replication`)."""
        self._replication, self._engine = replication, engine

    def _update(self) -> None:
        engine = self._engine
        if engine is None or self._task is None:
            return
        now_h = min(float(engine.now_h), self.horizon_h)
        label = f"simulating, replication {self._replication + 1}/{self.replications}" if self.replications > 1 \
            else "simulating"
        self._progress.update(self._task, completed=self._replication * self.horizon_h + now_h, description=label,
                              done_h=now_h, refresh=True)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_S):
            self._update()

    def __enter__(self) -> RunProgress:
        if self.enabled:
            self._progress.start()
            self._task = self._progress.add_task("simulating", total=self.horizon_h * self.replications,
                                                 done_h=0.0, horizon_h=self.horizon_h)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.enabled:
            self._stop.set()
            self._thread.join()
            self._progress.stop()
