"""What a sweep would do, without doing it: ``cpnsim sweep --dry-run``.

:func:`plan_sweep` expands every point (without keeping them) to count the points,
duplicates, scenarios left to run and batches, and times one scenario in this process to
estimate the work.  It writes nothing and takes no lock.  The batches are those a run
with the same options makes (sized, as a run sizes them, before the duplicates are known).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cluster.sweeps.batch import Runner
from cluster.sweeps.run import default_batch_size
from cluster.sweeps.spec import SweepSpec
from cluster.sweeps.storage import LocalStorage, Storage
from sim.run import run_scenario

__all__ = ["SweepPlan", "plan_sweep"]


@dataclass(frozen=True)
class SweepPlan:
    """A sweep's size and an estimate of its cost.

    Attributes
    ----------
    points : int
        Points of the design.
    duplicates : int
        Points equal to an earlier one (run once).
    scenarios : int
        Distinct scenarios (``points - duplicates``).
    replications : int
        Replications per scenario.
    done : int
        Scenarios already in the dataset at ``out`` (with ``resume``).
    to_run : int
        Scenarios left to run.
    batch_size, batches : int
        Scenarios per task and tasks.
    cpus : int
        CPUs the estimate spreads the work over.
    probe_s : float or None
        CPU seconds of this process for one scenario (all its replications) run here, the
        first run's lazy imports included; None when nothing is left.
    """

    points: int
    duplicates: int
    scenarios: int
    replications: int
    done: int
    to_run: int
    batch_size: int
    batches: int
    cpus: int
    probe_s: float | None

    @property
    def cpu_s(self) -> float | None:
        """Estimated CPU seconds of the scenarios left (``probe_s * to_run``)."""
        return None if self.probe_s is None else self.probe_s * self.to_run

    @property
    def wall_s(self) -> float | None:
        """Estimated wall seconds on ``cpus`` CPUs (whole batches per CPU, perfect balance otherwise)."""
        if self.probe_s is None:
            return None
        return self.probe_s * self.batch_size * -(-self.batches // self.cpus)

    def lines(self) -> list[str]:
        """The plan as the lines ``cpnsim sweep --dry-run`` prints."""
        out = [f"{self.points} point(s), {self.duplicates} duplicate(s) (equal to an earlier point, run once), "
               f"{self.scenarios} scenario(s) x {self.replications} replication(s)",
               f"{self.to_run} to run ({self.done} already done) in {self.batches} batch(es) of up to "
               f"{self.batch_size} scenario(s)"]
        if self.probe_s is not None:
            out.append(f"estimate: one scenario took {self.probe_s:.2f} CPU-s here; {self.to_run} take about "
                       f"{self.cpu_s:.0f} CPU-s, {self.wall_s:.0f} s on {self.cpus} CPU(s)")
        out.append("dry run: nothing written")
        return out


def plan_sweep(spec: SweepSpec, out: Path | Storage, *, cpus: int, resume: bool = False, batch_size: int | None = None,
               runner: Runner = run_scenario) -> SweepPlan:
    """Count what :func:`cluster.sweeps.run_sweep` would run and time one scenario of it.

    Parameters
    ----------
    spec : SweepSpec
        From :func:`cluster.sweeps.load_sweep`.
    out : Path or Storage
        The dataset directory (read with ``resume`` only; never written).
    cpus : int
        CPUs to spread the estimate over (1 for the serial executor).
    resume : bool
        Count the scenarios already in the dataset at ``out`` as done.
    batch_size : int, optional
        Scenarios per task (default: :func:`cluster.sweeps.default_batch_size`).
    runner : callable
        Runs the probe scenario (tests substitute it).

    Returns
    -------
    SweepPlan
    """
    done_ids: set[str] = set()
    store = LocalStorage(out) if isinstance(out, Path) else out
    if resume and store.is_dataset():
        manifest = store.read_manifest()
        done_ids = set(manifest.done or ()) | set(manifest.failed or ())
    first, distinct, to_run = None, 0, 0
    for point in spec.expansion():  # streamed: every point counted, none kept
        distinct += 1
        if point.scenario_id not in done_ids:
            to_run += 1
            first = first or point
    # Sized as run_sweep sizes them: from the points left, before the duplicates are known.
    size = batch_size or default_batch_size(max(spec.points - len(done_ids), 0), cpus)
    probe = None
    if first is not None:
        t0 = time.process_time()  # CPU, not wall: on a shared machine other processes' turns do not count
        runner(spec.sweep_base.scenario(first))
        probe = time.process_time() - t0
    return SweepPlan(points=spec.points, duplicates=spec.points - distinct, scenarios=distinct,
                     replications=spec.base.scenario.replications, done=distinct - to_run,
                     to_run=to_run, batch_size=size, batches=-(-to_run // size), cpus=max(cpus, 1),
                     probe_s=probe)
