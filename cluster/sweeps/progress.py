"""The sweep progress display: scenarios done / failed / running, elapsed time and an ETA.

A rich progress bar on stderr when it is a terminal; nothing at all off a terminal or
with ``--quiet`` (logs and CI stay clean).
"""

from __future__ import annotations

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

    Attributes
    ----------
    done, failed, running : int
        Scenarios finished ok, failed, and now running (at most the executor's slots).
    """

    def __init__(self, console: Console, *, enabled: bool = True, get_time: Callable[[], float] | None = None) -> None:
        self.progress = Progress(
            TextColumn("scenarios"), BarColumn(), TextColumn("done"), MofNCompleteColumn(),
            TextColumn("[red]failed {task.fields[failed]}[/]"), TextColumn("running {task.fields[running]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled, get_time=get_time,
        )
        self._task = self.progress.add_task("sweep", total=None, failed=0, running=0)
        self.done = self.failed = self.running = 0
        self._left = self._slots = 0

    def __enter__(self) -> SweepProgress:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def on_start(self, to_run: int, skipped: int, slots: int) -> None:
        """The executor is up: ``to_run`` scenarios, ``slots`` of them at a time."""
        self._left, self._slots = to_run, max(slots, 1)
        self.running = min(to_run, self._slots)
        self.progress.update(self._task, total=to_run, running=self.running)

    def on_batch(self, result: BatchResult) -> None:
        """A batch was written: count its scenarios as done or failed."""
        n = len(result.done) + len(result.failed)
        self.done += len(result.done)
        self.failed += len(result.failed)
        self._left -= n
        self.running = min(self._left, self._slots)
        self.progress.update(self._task, advance=n, failed=self.failed, running=self.running)

    def renderable(self) -> RenderableType:
        """The bar as it would be drawn now (for tests)."""
        return self.progress.get_renderable()
