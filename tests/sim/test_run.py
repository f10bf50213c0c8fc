"""One scenario end to end in Python: determinism, streams, bookkeeping, memory."""

import pytest

from sim.model import Model
from sim.queueing import mmc_scenario
from sim.run import run_replication, run_scenario
from sim.scenario import load_scenario


def _short(*overrides, seed=3):
    return load_scenario(None, ["horizon_h=120", "metric_interval_h=24", *overrides], seed=seed)


def test_same_seed_identical_tables_different_seed_not():
    a, b = run_scenario(_short()), run_scenario(_short())
    assert a.runs.equals(b.runs) and a.sites.equals(b.sites)
    c = run_scenario(_short(seed=4))
    assert not a.sites.equals(c.sites)


def test_replications_are_independent_streams():
    result = run_scenario(_short("replications=3"))
    arrived = result.runs.column("jobs_arrived").to_pylist()
    assert len(set(arrived)) == 3
    # Replication r of a 3-replication run is replication r of any run.
    alone = run_replication(_short(), 1).runs_row
    assert alone["jobs_arrived"] == arrived[1]


def test_adding_a_class_leaves_the_others_arrivals_unchanged():
    base = run_replication(_short("policy=nearest")).model
    extra = ["workload.extra.arrival_rate_per_h=5", 'workload.extra.work_gpu_h={dist="constant", value=1}']
    more = run_replication(_short("policy=nearest", *extra)).model
    # Common random numbers: per-class streams are keyed by class name.
    assert more.jobs_arrived > base.jobs_arrived
    for name in ("training", "finetune", "batch"):
        i, j = base.class_names.index(name), more.class_names.index(name)
        assert base.rngs[i].bit_generator.state == more.rngs[j].bit_generator.state


def test_sites_table_shape_and_intervals():
    result = run_scenario(_short())
    sites = result.sites.to_pydict()
    assert len(sites["site_id"]) == 5 * 5
    assert sorted(set(sites["t_end_h"])) == [24.0, 48.0, 72.0, 96.0, 120.0]
    assert all(0 <= u <= 1 for u in sites["utilisation"])


def test_partial_last_interval_is_closed_at_the_horizon():
    result = run_scenario(_short("horizon_h=100"))
    ends = sorted(set(result.sites.column("t_end_h").to_pylist()))
    assert ends == [24.0, 48.0, 72.0, 96.0, 100.0]


def test_jobs_too_large_for_every_site_are_rejected():
    big = ["workload.huge.arrival_rate_per_h=2", 'workload.huge.gpus={dist="constant", value=4096}',
           'workload.huge.work_gpu_h={dist="constant", value=10}']
    row = run_replication(_short(*big)).runs_row
    assert row["jobs_rejected"] > 0
    assert row["jobs_arrived"] == row["jobs_done"] + row["jobs_queued_end"] + row["jobs_running_end"] \
        + row["jobs_rejected"] + row["jobs_unmet"] + row["jobs_failed"] + row["jobs_in_transfer_end"]


def test_nearest_sends_everything_east_and_least_loaded_uses_the_west():
    near = run_scenario(_short("policy=nearest")).sites.to_pandas().groupby("site_id")["jobs_started"].sum()
    spread = run_scenario(_short()).sites.to_pandas().groupby("site_id")["jobs_started"].sum()
    assert near["cl_zhongwei"] == 0 and near["cl_guian"] == 0
    assert spread["cl_zhongwei"] > 0 and spread["cl_guian"] > 0


def test_warmup_is_left_out_of_the_window():
    loaded = mmc_scenario(2, 0.5, horizon_h=200.0, warmup_h=100.0, seed=5)
    row = run_replication(loaded).runs_row
    model = run_replication(loaded).model
    assert row["arrival_rate_per_h"] == pytest.approx(model.window_arrived / 100.0)
    assert model.window_arrived < model.jobs_arrived


def test_memory_does_not_grow_with_the_horizon():
    # Per-job state is dropped at each interval: only queued/running jobs and one
    # interval's waits are held, whatever the horizon.
    model = Model(mmc_scenario(8, 0.8, horizon_h=20_000.0, seed=1))
    model.run()
    pool = model.pools[0]
    assert model.jobs_arrived > 100_000
    assert len(pool.waits) == 0  # emptied by the last sample
    assert len(pool.running) + len(pool.queue) < 100


def test_a_run_where_every_job_is_rejected():
    # Rejected arrivals schedule nothing, so the heap can be empty between arrivals.
    loaded = load_scenario(None, ["horizon_h=24", "metric_interval_h=24", "workload={}",
                                  'workload.huge={arrival_rate_per_h=3.0, gpus={dist="constant", value=5000},'
                                  ' work_gpu_h={dist="constant", value=1.0}}'])
    row = run_replication(loaded).runs_row
    assert row["jobs_arrived"] > 0 and row["jobs_rejected"] == row["jobs_arrived"]


def test_param_columns_carry_units():
    runs = run_scenario(_short()).runs
    unit = {f.name: f.metadata[b"unit"].decode() for f in runs.schema}
    assert unit["param.horizon_h"] == "h"
    assert unit["param.workload.batch.arrival_rate_per_h"] == "1/h"
    assert unit["param.workload.batch.work_gpu_h.mean"] == "reference GPU-h"
    assert unit["param.workload.batch.gpus.values"] == "GPUs"


def test_a_run_leaves_no_cyclic_garbage_while_it_runs():
    # run_replication pauses the cyclic collector during the simulation (sim.run._no_cyclic_gc):
    # safe only because nothing the run drops needs it.  Failures, backfill, transfers and the
    # jobs table on; the first run warms one-off caches (pydantic, imports).  The model's own
    # graph is a cycle, freed by the collector once the result is dropped (checked last).
    import gc
    import weakref

    overrides = ["horizon_h=300", "warmup_h=0", "scheduler=easy", "jobs_sample=1",
                 "failures.outage_mtbf_h=50", "failures.gpu_failures_per_gpu_h=1e-5"]
    loaded = load_scenario("examples/national.toml", overrides)
    result = run_replication(loaded)
    assert gc.isenabled()  # restored after the run
    del result
    gc.collect()
    gc.disable()
    try:
        result = run_replication(loaded)
        assert result.runs_row["interruptions"] > 0 and result.runs_row["transfers_done"] > 0
        assert gc.collect() == 0
        assert not gc.isenabled()  # a collector the caller had paused stays paused
        # The model's SimPy environment stands for its graph: a compiled Model (setup.py) takes no weak reference.
        model = weakref.ref(result.model.engine._env)
        del result
        freed = gc.collect()  # not inside an assert: pytest's rewriting would hold model() alive
        assert freed > 0 and model() is None
    finally:
        gc.enable()
