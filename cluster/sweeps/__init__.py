"""Many scenarios: a sweep spec, the executors that run it, and the dataset it writes.

One concept per module:

* :mod:`cluster.sweeps.spec`: a spec of axes over a base scenario, expanded into scenarios;
* :mod:`cluster.sweeps.expansion`: a spec's points, expanded one at a time as the driver asks for them;
* :mod:`cluster.sweeps.sampling`: sampled designs (random, Latin hypercube, Sobol', Saltelli);
* :mod:`cluster.sweeps.run`: the driver loop that runs a spec into one dataset;
* :mod:`cluster.sweeps.batch`: a batch of scenarios, the unit of work, and its result;
* :mod:`cluster.sweeps.executors`: the serial and Ray executors and :func:`~cluster.sweeps.executors.make_executor`;
* :mod:`cluster.sweeps.ray_internals`: the private Ray APIs the Ray executor leans on;
* :mod:`cluster.sweeps.plan`: what a sweep would run, for ``--dry-run``;
* :mod:`cluster.sweeps.store`: the dataset on disk (parts, atomic writes, reading tables);
* :mod:`cluster.sweeps.writer`: a sweep's dataset, written batch by batch by its one writer;
* :mod:`cluster.sweeps.lock`: the writer's exclusive lock on the output directory;
* :mod:`cluster.sweeps.journal`: ``journal.jsonl``, one committed batch per line;
* :mod:`cluster.sweeps.location`: which ``--out`` a sweep accepts;
* :mod:`cluster.sweeps.storage`: the dataset operations a writer needs, on a local directory;
* :mod:`cluster.sweeps.objectstore`: the same in an object store (``s3://``, ``gs://``, ``hdfs://``);
* :mod:`cluster.sweeps.code`: the code shipped to a cluster's workers, and checked to be the driver's;
* :mod:`cluster.sweeps.manifest`: ``manifest.json`` as a typed model (journal folded in);
* :mod:`cluster.sweeps.progress`: the progress bar, or plain lines off a terminal.

This module gathers the names a user of sweeps needs::

    from cluster.sweeps import load_sweep, run_sweep
    from cluster.sweeps.executors import make_executor

    run_sweep(load_sweep("examples/sweeps/small-grid.toml"), Path("out"), make_executor("serial"))
"""

from __future__ import annotations

from cluster.sweeps.run import SweepInterrupted, SweepReport, default_batch_size, run_sweep
from cluster.sweeps.spec import METHODS, Axis, SweepSpec, derive_seed, load_sweep

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
