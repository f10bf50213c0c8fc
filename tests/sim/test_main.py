"""``python -m sim``: the simulation layer alone, as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=120)


def test_prints_one_json_runs_row_per_replication_deterministically() -> None:
    args = ("--set", "horizon_h=48", "--set", "replications=2", "--seed", "3")
    first, second = _run(*args), _run(*args)
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert [r["replication"] for r in rows] == [0, 1]
    assert all(r["seed"] == 3 and r["horizon_h"] == 48.0 and r["jobs_arrived"] > 0 for r in rows)
    assert first.stdout == second.stdout


def test_bad_input_is_one_line_and_exit_2() -> None:
    result = _run("--set", "horizn_h=4")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "python -m sim: error: --set: horizn_h: unknown key (did you mean 'horizon_h'?)"
    ]
