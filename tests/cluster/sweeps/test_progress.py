"""The sweep progress bar shows done / failed / running and an ETA, and nothing when disabled."""

import io
import re

from rich.console import Console

from cluster.sweeps.batch import BatchResult
from cluster.sweeps.progress import SweepProgress


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _text(progress: SweepProgress) -> str:
    console = Console(file=io.StringIO(), width=160, record=True, force_terminal=True)
    console.print(progress.renderable())
    return console.export_text()


def test_bar_counts_done_failed_running_and_estimates_the_time_left():
    clock = _Clock()
    progress = SweepProgress(Console(file=io.StringIO(), force_terminal=True), get_time=clock)
    progress.on_start(10, 0, 4)
    clock.now = 10.0
    progress.on_batch(BatchResult(0, {}, done=["a", "b"], failed=["c"]))
    clock.now = 20.0
    progress.on_batch(BatchResult(1, {}, done=["d", "e"]))
    assert (progress.done, progress.failed, progress.running) == (4, 1, 4)
    text = _text(progress)
    assert re.search(r"done +5/10 failed 1 running 4", text), text
    # rich's speed: 2 scenarios between the samples at 10 s and 20 s = 0.2 /s; 5 left -> 25 s.
    assert "ETA 0:00:25" in text and "0:00:20" in text  # elapsed 20 s
    clock.now = 30.0
    progress.on_batch(BatchResult(2, {}, done=["f", "g", "h", "i", "j"]))
    assert progress.running == 0 and re.search(r"done +10/10 failed 1 running 0", _text(progress))


def test_disabled_progress_draws_nothing():
    sink = io.StringIO()
    with SweepProgress(Console(file=sink, force_terminal=True), enabled=False) as progress:
        progress.on_start(3, 0, 2)
        progress.on_batch(BatchResult(0, {}, done=["a"]))
    assert sink.getvalue() == ""


def test_off_a_terminal_plain_lines_every_few_seconds():
    clock = _Clock()
    out = io.StringIO()
    progress = SweepProgress(Console(file=out, force_terminal=False, width=200), enabled=False, get_time=clock,
                             plain_every_s=5.0)
    progress.on_start(10, 0, 2)
    clock.now = 2.0
    progress.on_batch(BatchResult(0, {}, done=["a"]))  # 2 s since the start: too soon for a line
    clock.now = 6.0
    progress.on_batch(BatchResult(1, {}, done=["b"], failed=["c"]))
    clock.now = 7.0
    progress.on_batch(BatchResult(2, {}, done=["d"]))  # 1 s since the last line
    clock.now = 12.0
    progress.on_batch(BatchResult(3, {}, done=["e", "f", "g", "h", "i", "j"]))  # the last: always a line
    # 3 of 10 done in 6 s: 2 s each, 7 left -> 14 s; then all done in 12 s.
    assert out.getvalue().splitlines() == [
        "progress: 3/10 done, 1 failed, elapsed 0:00:06, ETA 0:00:14",
        "progress: 10/10 done, 1 failed, elapsed 0:00:12, ETA 0:00:00",
    ]
    quiet = io.StringIO()
    silent = SweepProgress(Console(file=quiet), enabled=False, plain_every_s=None)
    silent.on_start(1, 0, 1)
    silent.on_batch(BatchResult(0, {}, done=["a"]))
    assert quiet.getvalue() == ""


def test_plain_lines_say_how_far_the_expansion_got_and_the_total_shrinks_to_the_scenarios():
    clock = _Clock()
    out = io.StringIO()
    progress = SweepProgress(Console(file=out, force_terminal=False, width=200), enabled=False, get_time=clock,
                             plain_every_s=5.0)
    progress.on_start(100, 0, 2)  # 100 points: at most 100 scenarios
    progress.on_expand(4, 100, 100)  # the first batch made: 4 points expanded
    clock.now = 6.0
    progress.on_batch(BatchResult(0, {}, done=["a", "b", "c", "d"]))
    # 4 points expanded of 100, 2 of them duplicates: at most 2 + 96 = 98 to run.
    progress.on_expand(10, 100, 98)
    clock.now = 12.0
    progress.on_batch(BatchResult(1, {}, done=["e", "f", "g", "h"]))
    progress.on_expand(100, 100, 8)  # the expansion is through: 8 scenarios in all
    clock.now = 13.0
    progress.on_batch(BatchResult(2, {}, done=[]))  # the last: always a line
    # 4 of 100 in 6 s: 1.5 s each, 96 left -> 144 s; then 8 of 98 in 12 s, 90 left -> 135 s.
    assert out.getvalue().splitlines() == [
        "progress: 4/100 done, 0 failed, elapsed 0:00:06, ETA 0:02:24, expanded 4/100 points",
        "progress: 8/98 done, 0 failed, elapsed 0:00:12, ETA 0:02:15, expanded 10/100 points",
        "progress: 8/8 done, 0 failed, elapsed 0:00:13, ETA 0:00:00",
    ]


def test_a_last_line_when_the_expansion_ends_after_the_last_batch():
    out = io.StringIO()
    clock = _Clock()
    progress = SweepProgress(Console(file=out, force_terminal=False, width=200), enabled=False, get_time=clock,
                             plain_every_s=5.0)
    progress.on_start(6, 0, 1)
    progress.on_expand(4, 6, 6)
    clock.now = 1.0
    progress.on_batch(BatchResult(0, {}, done=["a", "b", "c", "d"]))  # 2 points left: maybe 2 more scenarios
    assert out.getvalue() == ""
    progress.on_expand(6, 6, 4)  # they were duplicates: all done
    assert out.getvalue().splitlines() == ["progress: 4/4 done, 0 failed, elapsed 0:00:01, ETA 0:00:00"]
