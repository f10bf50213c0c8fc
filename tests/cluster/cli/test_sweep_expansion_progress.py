"""``cpnsim sweep`` says how far a long expansion got: plain lines, throttled."""

from __future__ import annotations

import io

from rich.console import Console

from cluster.cli.sweep import expansion_progress
from cluster.sweeps import load_sweep

SPEC = """
seed = 1
[base]
network = "default"
horizon_h = 12.0
[base.workload.batch]
arrival_rate_per_h = 1.0
gpus = { dist = "choice", values = [1] }
work_gpu_h = { dist = "exponential", mean = 1.0 }
[[axis]]
key = "workload.batch.arrival_rate_per_h"
method = "random"
low = 0.5
high = 2.0
samples = 2500
"""


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, force_terminal=False), buffer


def test_a_line_per_thousand_points_when_every_call_is_due(tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)
    err, buffer = _console()
    spec = load_sweep(tmp_path / "spec.toml", expansion_progress(err, every_s=0.0))
    lines = buffer.getvalue().splitlines()
    assert spec.points == 2500
    assert [line.split(" points")[0] for line in lines] == [f"expanding the spec: {n} of 2500" for n in
                                                            (1000, 2000, 2500)]
    assert lines[-1].endswith("about 0 s left")


def test_nothing_for_a_spec_that_expands_quickly(tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)
    err, buffer = _console()
    load_sweep(tmp_path / "spec.toml", expansion_progress(err, every_s=3600.0))
    assert buffer.getvalue() == ""
