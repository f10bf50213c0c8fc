"""Sweeps: a spec of axes over a base scenario (:mod:`cluster.sweep_spec`), sampled designs
(:mod:`cluster.sweep_sampling`) and the loop that runs it into one dataset
(:mod:`cluster.sweep_run`) on an executor (:mod:`cluster.executors`).

This module gathers the public names in one place::

    from cluster.sweep import load_sweep, run_sweep
    from cluster.executors import SerialExecutor

    run_sweep(load_sweep("examples/sweeps/small-grid.toml"), Path("out"), SerialExecutor())
"""

from __future__ import annotations

from cluster.sweep_run import SweepInterrupted, SweepReport, default_batch_size, run_sweep
from cluster.sweep_spec import METHODS, Axis, SweepSpec, derive_seed, load_sweep

__all__ = [
    "METHODS",
    "Axis",
    "SweepInterrupted",
    "SweepReport",
    "SweepSpec",
    "default_batch_size",
    "derive_seed",
    "load_sweep",
    "run_sweep",
]
