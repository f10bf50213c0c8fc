"""The optional jobs table: off by default, deterministic sample by job id, schema and units."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from sim.job_log import sampled
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.scheduling import SchedPool
from sim.site import LoggedGpuPool
from sim.tables import build_table, schema_for

SHORT = ["horizon_h=72", "metric_interval_h=24"]


def test_off_by_default():
    result = run_scenario(load_scenario(None, SHORT))
    assert result.table("jobs") is None and "jobs" not in result.tables()


def test_full_table_schema_units_and_identity_of_rows():
    result = run_scenario(load_scenario(None, [*SHORT, "jobs_sample=1", "replications=2"]))
    jobs = result.table("jobs")
    assert jobs.schema.equals(schema_for("jobs"), check_metadata=True)
    assert jobs.schema.field("lost_gpu_h").metadata[b"unit"] == b"GPU-h"
    assert "jobs" in result.tables()
    runs = result.runs.to_pylist()
    for rep in (0, 1):
        rows = jobs.filter(jobs.column("replication").to_numpy() == rep)
        assert rows.num_rows == runs[rep]["jobs_arrived"] - runs[rep]["jobs_rejected"]
    table = jobs.to_pandas()
    assert set(table["class"]) == {"training", "finetune", "batch", "inference"}
    assert set(table["site_id"]) <= {"cl_zhangjiakou", "cl_wuhu", "cl_shaoguan", "cl_zhongwei", "cl_guian"}
    done = table[table.status == "done"]
    assert (done.finish_h >= done.start_h).all() and (done.wait_h >= 0).all()


def test_sample_is_the_same_jobs_whatever_else_changes():
    full = run_scenario(load_scenario(None, [*SHORT, "jobs_sample=1"])).table("jobs").to_pandas()
    part = run_scenario(load_scenario(None, [*SHORT, "jobs_sample=0.1"])).table("jobs").to_pandas()
    # The sample is a hash of the job id: exactly the ids that pass, with identical rows.
    expected = sorted(j for j in full.job_id if sampled(int(j), 0.1))
    assert sorted(part.job_id) == expected
    same = full.set_index("job_id").loc[part.job_id].drop(columns="scenario_id")
    pd.testing.assert_frame_equal(part.set_index("job_id").drop(columns="scenario_id"), same)
    assert len(part) / len(full) == pytest.approx(0.1, abs=0.02)


def test_sampled_hash_is_stable():
    # Pinned values: a change to the hash would change every sampled dataset.
    assert [j for j in range(100) if sampled(j, 0.1)] == [10, 18, 21, 41, 48, 68, 82, 83]
    assert sum(sampled(j, 0.5) for j in range(100_000)) == pytest.approx(50_000, abs=600)
    assert sampled(0, 1.0) and not sampled(0, 0.0)


def test_jobs_sample_out_of_range_is_a_config_error():
    from topology.plumbing import ConfigError

    with pytest.raises(ConfigError, match="jobs_sample"):
        load_scenario(None, ["jobs_sample=1.5"])


EW = "examples/east_west_nearest.toml"
EW_SHORT = ["horizon_h=150", "metric_interval_h=24"]
# A maximum wait no job reaches: the schedule is unchanged, but every site gets a SchedPool.
NEVER_EXPIRES = "workload.batch.max_wait_h=100000"


def _jobs_and_pools(overrides: list[str]) -> tuple[pa.Table, list[type]]:
    from sim.run import run_replication

    result = run_replication(load_scenario(EW, [*EW_SHORT, *overrides]))
    jobs = build_table("jobs", result.columns["jobs"]).drop_columns(["scenario_id"])
    return jobs, [type(p) for p in result.model.pools]


@pytest.mark.parametrize("sample", ["jobs_sample=1", "jobs_sample=0.3"])
def test_fifo_sites_log_through_the_lean_pool_with_the_rows_a_scheduler_pool_gives(sample):
    lean, lean_pools = _jobs_and_pools([sample])
    sched, sched_pools = _jobs_and_pools([sample, NEVER_EXPIRES])
    assert set(lean_pools) == {LoggedGpuPool} and set(sched_pools) == {SchedPool}
    # Row for row, in the same order, including the jobs still running or queued at the horizon.
    assert lean.equals(sched, check_metadata=True)
    statuses = set(lean.column("status").to_pylist())
    assert {"done", "running", "queued"} <= statuses


def test_rows_of_lean_and_scheduler_sites_keep_the_order_jobs_ended_in():
    # One backfilling site (a SchedPool) among lean logged sites: rows of both kinds interleave.
    mixed = ["jobs_sample=1", "sites.cl_wuhu.scheduler=easy"]
    lean, pools = _jobs_and_pools(mixed)
    sched, sched_pools = _jobs_and_pools([*mixed, NEVER_EXPIRES])
    assert SchedPool in pools and LoggedGpuPool in pools and set(sched_pools) == {SchedPool}
    assert lean.equals(sched, check_metadata=True)


def test_country_columns_and_residency_rejections():
    from sim.job_log import JobLog
    from sim.task import Task

    log = JobLog(1.0, ["c"], ["r_kz", "r_cn", "r_x"], ["s_kz", "s_cn"], ["KZ", "CN", None], ["KZ", "CN"])
    log.record(Task(0, 4, 2.0, 0.0, 0, 0, 8.0, 0), 1, "done", 3.0)  # KZ origin at the Chinese site: crossed
    log.record(Task(1, 4, 2.0, 0.0, 0, 1, 8.0, 0), 1, "done", 3.0)  # CN at CN: not crossed
    log.record(Task(2, 4, 2.0, 0.0, 0, 2, 8.0, 0), 0, "done", 3.0)  # unknown origin country: null
    log.record_rejected(3, 0, 0, 4, 8.0, 1.5)
    log.note_transfer(0, 12.5)
    cols = log.columns
    assert cols["origin_country"] == ["KZ", "CN", None, "KZ"]
    assert cols["site_country"] == ["CN", "CN", "KZ", None]
    assert cols["crossed_border"] == [True, False, None, None]
    assert cols["status"][3] == "rejected" and cols["site_id"][3] is None and cols["arrival_h"][3] == 1.5
    assert cols["reject_reason"] == [None, None, None, "residency"]
    assert cols["transfer_cny"] == [12.5, 0.0, 0.0, 0.0]
    build_table("jobs", {"scenario_id": ["x"] * 4, "replication": [0] * 4, **cols})  # the schema takes them


@pytest.mark.parametrize(("regions", "sites"), [
    ([None], [None]),  # one region, one site, no known country (the M/M/c network)
    (["CN", "CN"], ["CN", "CN", "CN"]),  # one country: constant country columns, crossed_border False
    (["CN", None], ["CN", "CN", "CN"]),  # an unknown origin country: looked up per row
    (["KZ", "CN"], ["CN", "KZ", "CN"]),  # two countries
])
def test_constant_fifo_columns_are_the_columns_a_lookup_per_row_gives(regions, sites):
    # The FIFO rows' columns that the network makes constant are built as [value] * n (sixth slice); with the
    # shortcut switched off every row is looked up: the same columns.  Jobs at several sites, with task rows
    # (running, queued) after them.
    from sim.job_log import JobLog
    from sim.task import Task

    region_ids, site_ids = [f"r{k}" for k in range(len(regions))], [f"s{k}" for k in range(len(sites))]
    logs = [JobLog(1.0, ["c"], region_ids, site_ids, regions, sites) for _ in range(2)]
    logs[1]._fifo_constant = {name: (False, None) for name in logs[1]._fifo_constant}
    assert any(same for same, _ in logs[0]._fifo_constant.values())  # class: the shortcut is taken
    for log in logs:
        lists = log.fifo_columns().lists
        for job in range(12):
            origin, site = job % len(regions), job % len(sites)
            row = (job, 1, 0.5 * job, 0, origin, 2.0, site, 0.5 * job + 0.25, job + 1.0, 0.25)
            for column, value in zip(lists, row, strict=True):
                column.append(value)
        log.record(Task(12, 2, 1.0, 3.0, 0, 0, 2.0, 0), 0, "queued", 20.0)
    fast, slow = logs[0].columns, logs[1].columns
    assert fast == slow
    assert fast == logs[0].columns  # reading builds new columns: the recorded lists are unchanged
    assert fast["wait_h"] == [0.25] * 12 + [None] and fast["job_id"] == list(range(13))
    assert fast["site_country"][:3] == [sites[j % len(sites)] for j in range(3)]
    assert fast["crossed_border"][:12] == [None if r is None or s is None else r != s
                                          for r, s in ((regions[j % len(regions)], sites[j % len(sites)])
                                                       for j in range(12))]
    assert fast["site_id"][:3] == [site_ids[j % len(sites)] for j in range(3)]
    assert fast["reject_reason"] == [None] * 13 and fast["status"][-1] == "queued"


def test_a_closed_log_builds_its_columns_once_from_its_own_lists():
    # After close() the first read takes the recorded lists themselves (no copy); later reads give the same columns.
    from sim.job_log import JobLog
    from sim.task import Task

    logs = [JobLog(1.0, ["c"], ["r"], ["s0", "s1"], ["CN"], ["CN", "KZ"]) for _ in range(2)]
    for log in logs:
        for job in range(5):
            for column, value in zip(log.fifo_columns().lists, (job, 1, 0.0, 0, 0, 2.0, job % 2, 1.0, 3.0, 1.0),
                                     strict=True):
                column.append(value)
        log.record(Task(5, 1, 2.0, 4.0, 0, 0, 2.0, 0), 1, "queued", 6.0)
    open_columns = logs[0].columns
    logs[1].close([], 6.0)
    first, second = logs[1].columns, logs[1].columns
    assert first == second == open_columns and first is not second
    assert first["job_id"] is logs[1].fifo_columns().lists[0]  # the recorded list, extended in place
    assert first["job_id"] == [0, 1, 2, 3, 4, 5] and first["status"] == ["done"] * 5 + ["queued"]
    assert first["crossed_border"] == [False, True, False, True, False, True]
    assert logs[0].columns == open_columns  # an open log's lists are left as they were
