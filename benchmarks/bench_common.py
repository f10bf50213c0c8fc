"""Shared helpers of the national, memory and scaling benchmarks: timing, machine facts, results.json.

Timings are CPU seconds of the benchmarking process (``time.process_time``), the
fastest of N repeats: on a shared machine wall time also counts other processes'
turns, CPU time counts only this one's, so "per core" figures are jobs / CPU second.
Wall seconds are kept beside them.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.run import run_replication
from sim.scenario import LoadedScenario

__all__ = ["RESULTS", "Timing", "machine", "merge_results", "time_replication"]

RESULTS = Path(__file__).with_name("results.json")
"""Where ``make bench`` collects every benchmark's figures, one top-level key each."""


@dataclass(frozen=True)
class Timing:
    """The fastest of N runs of one replication.

    Attributes
    ----------
    cpu_s : float
        CPU seconds of the fastest run (model construction, simulation, row assembly).
    wall_s : float
        Wall seconds of the fastest run by wall time.
    jobs : int
        Simulated jobs that arrived (placed, rejected or still queued).
    events : int
        Logical events simulated (``Engine.events``: arrivals, finishes, deliveries, wake-ups).
    """

    cpu_s: float
    wall_s: float
    jobs: int
    events: int

    @property
    def jobs_per_cpu_s(self) -> float:
        """Simulated jobs per CPU second (per core: the run is one process, one thread)."""
        return self.jobs / self.cpu_s

    @property
    def events_per_cpu_s(self) -> float:
        """Logical events per CPU second."""
        return self.events / self.cpu_s

    def as_dict(self) -> dict[str, float | int]:
        """The figures, rounded for results.json."""
        return {"cpu_s": round(self.cpu_s, 4), "wall_s": round(self.wall_s, 4), "jobs": self.jobs,
                "events": self.events, "jobs_per_cpu_s": round(self.jobs_per_cpu_s),
                "events_per_cpu_s": round(self.events_per_cpu_s)}


def time_replication(loaded: LoadedScenario, repeats: int) -> Timing:
    """Run replication 0 of ``loaded`` ``repeats`` times; keep the fastest CPU and wall times."""
    cpu_best = wall_best = float("inf")
    jobs = events = 0
    for _ in range(max(repeats, 1)):
        c0, w0 = time.process_time(), time.perf_counter()
        result = run_replication(loaded, 0)
        cpu_best = min(cpu_best, time.process_time() - c0)
        wall_best = min(wall_best, time.perf_counter() - w0)
        jobs, events = result.model.jobs_arrived, result.model.engine.events
    return Timing(cpu_best, wall_best, jobs, events)


def machine() -> dict[str, Any]:
    """CPU count, CPU model, Python and platform, load average now, the date (UTC), and cpnsim's build.

    ``build`` is :func:`sim.compiled.describe` (compiled with mypyc, or pure Python and why);
    ``None`` for a tree older than the compiled build (benchmarked with ``PYTHONPATH``).
    """
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "processor": cpu, "python": platform.python_version(),
        "platform": platform.platform(), "load_avg": [round(x, 2) for x in os.getloadavg()],
        "build": _build(),
    }


def _build() -> str | None:
    try:
        from sim import compiled
    except ImportError:
        return None
    return compiled.describe(compiled.ACTIVE)


def merge_results(key: str, figures: dict[str, Any], path: Path = RESULTS) -> None:
    """Write ``figures`` under ``key`` of ``path``, keeping every other benchmark's keys."""
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except ValueError:
            existing = {}
    existing[key] = figures
    path.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"figures merged into {path} (key {key!r})")
