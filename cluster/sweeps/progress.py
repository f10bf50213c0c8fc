"""The sweep progress display: scenarios done / failed / running, elapsed time and an ETA.

A rich progress bar on stderr when it is a terminal.  Off a terminal (a Ray job's log,
CI, a file) a plain line instead, at most every ``plain_every_s`` seconds as batches
arrive (``progress: 12/100 done, 1 failed, elapsed 0:00:31, ETA 0:03:47``); nothing with
``--quiet``.  While the spec is still expanding (the driver expands it as it runs), the line
says how far (``..., expanded 3000/100000 points``) and the total is the scenarios found
plus the points not yet expanded (an upper bound: duplicates are found as they are reached).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    from cluster.sweeps.batch import BatchResult

__all__ = ["SweepProgress"]


def _clock_text(seconds: float) -> str:
    """``H:MM:SS``.

    Examples
    --------
    >>> _clock_text(3725.4)
    '1:02:05'
    """
    s = round(max(seconds, 0.0))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class SweepProgress:
    """Callbacks for :func:`cluster.sweeps.run.run_sweep` that drive a progress bar.

    Parameters
    ----------
    console : rich.console.Console
        Where to draw (stderr in the CLI).
    enabled : bool
        Draw at all (the CLI passes ``not --quiet and console.is_terminal``).
    get_time : callable, optional
        Clock in seconds (tests pass a fake one to get a stable ETA).
    plain_every_s : float, optional
        With the bar disabled, print a plain progress line to ``console`` when a batch
        arrives and this many seconds have passed since the last one (None: never).

    Attributes
    ----------
    done, failed, running : int
        Scenarios finished ok, failed, and now running (at most the executor's slots).
    """

    def __init__(self, console: Console, *, enabled: bool = True, get_time: Callable[[], float] | None = None,
                 plain_every_s: float | None = None) -> None:
        self.progress = Progress(
            TextColumn("scenarios"), BarColumn(), TextColumn("done"), MofNCompleteColumn(),
            TextColumn("[red]failed {task.fields[failed]}[/]"), TextColumn("running {task.fields[running]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled, get_time=get_time,
        )
        self._task = self.progress.add_task("sweep", total=None, failed=0, running=0)
        self.done = self.failed = self.running = 0
        self._left = self._slots = self._total = 0
        self._expanded: tuple[int, int] | None = None  # (points expanded, points) while the spec expands
        self._printed = -1  # scenarios finished at the last plain line
        self._console, self._clock = console, get_time or time.monotonic
        self._plain_every_s = None if enabled else plain_every_s
        self._t0 = self._last_line = self._clock()

    def __enter__(self) -> SweepProgress:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def on_start(self, to_run: int, skipped: int, slots: int) -> None:
        """The executor is up: ``to_run`` scenarios, ``slots`` of them at a time."""
        self._left, self._slots, self._total = to_run, max(slots, 1), to_run
        self._t0 = self._last_line = self._clock()
        self.running = min(to_run, self._slots)
        self.progress.update(self._task, total=to_run, running=self.running)

    def on_expand(self, expanded: int, points: int, to_run: int) -> None:
        """The spec expanded to ``expanded`` of ``points`` points; ``to_run`` scenarios to run at most."""
        finished = self.done + self.failed
        self._expanded = None if expanded >= points else (expanded, points)
        if to_run != self._total:
            self._total = to_run
            self._left = max(to_run - finished, 0)
            self.running = min(self._left, self._slots)
            self.progress.update(self._task, total=to_run, running=self.running)
            if self._plain_every_s is not None and finished and self._left <= 0 and self._printed != finished:
                self._print(self._clock())  # the last batch came before the expansion's end was known

    def on_batch(self, result: BatchResult) -> None:
        """A batch was written: count its scenarios as done or failed."""
        n = len(result.done) + len(result.failed)
        self.done += len(result.done)
        self.failed += len(result.failed)
        self._left -= n
        self.running = min(self._left, self._slots)
        self.progress.update(self._task, advance=n, failed=self.failed, running=self.running)
        now = self._clock()
        if self._plain_every_s is not None and (now - self._last_line >= self._plain_every_s or self._left <= 0):
            self._print(now)

    def _print(self, now: float) -> None:
        self._last_line, self._printed = now, self.done + self.failed
        self._console.print(self.plain_line(now), highlight=False, markup=False, soft_wrap=True)

    def plain_line(self, now: float) -> str:
        """``progress: 12/100 done, 1 failed, elapsed 0:00:31, ETA 0:03:47`` (ok and failed count as done)."""
        finished = self.done + self.failed
        elapsed = now - self._t0
        eta = _clock_text(elapsed / finished * self._left) if finished else "unknown"
        line = (f"progress: {finished}/{self._total} done, {self.failed} failed, elapsed {_clock_text(elapsed)}, "
                f"ETA {eta}")
        if self._expanded is not None:
            line += f", expanded {self._expanded[0]}/{self._expanded[1]} points"
        return line

    def renderable(self) -> RenderableType:
        """The bar as it would be drawn now (for tests)."""
        return self.progress.get_renderable()
