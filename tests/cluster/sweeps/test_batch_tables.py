"""A batch's tables built from its scenarios' columns equal the scenarios' own tables concatenated.

``cluster.sweeps.batch.batch_tables`` converts consecutive scenarios that share a layout at
once (issue 20): each test mixes layouts (``param.*`` types and sets, optional columns, failed
rows) and compares with :func:`concat_tables` of the tables each scenario builds on its own.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from cluster.sweeps.batch import batch_tables, concat_tables, failed_runs, run_batch
from sim.run import run_scenario
from sim.scenario import LoadedScenario, load_scenario
from sim.tables import build_table

TINY = ["horizon_h=1"]


def _scenarios() -> list[LoadedScenario]:
    """Tiny scenarios of four param.* layouts (a float where others have null, a distribution table of other keys,
    one more parameter)."""
    return [
        load_scenario(None, [*TINY, "seed=7", "workload.batch.max_wait_h=0.5"]),  # the same names as the next two,
        load_scenario(None, [*TINY, "seed=1"]),                                    # a float where they have null
        load_scenario(None, [*TINY, "seed=2"]),
        load_scenario(None, [*TINY, "seed=3", 'workload.batch.gpus={dist="uniform", low=1, high=4}']),
        load_scenario(None, [*TINY, "seed=4", "replications=2"]),
        load_scenario(None, [*TINY, "seed=5", "sites.cl_zhongwei.gpus=600"]),
        load_scenario(None, [*TINY, "seed=6"]),
    ]


def _own_tables(scenarios: list[LoadedScenario]) -> dict[str, pa.Table]:
    """What run_batch gave before: each scenario's own tables, concatenated."""
    parts: dict[str, list[pa.Table]] = {}
    for loaded in scenarios:
        for name, table in run_scenario(loaded).tables().items():
            parts.setdefault(name, []).append(table)
    return {name: concat_tables(tables) for name, tables in parts.items()}


def _assert_same(got: dict[str, pa.Table], want: dict[str, pa.Table]) -> None:
    assert sorted(got) == sorted(want)
    for name, table in want.items():
        # Wall-clock columns differ from run to run: compare everything else, metadata included.
        clock = [c for c in ("wall_time_s", "events_per_s", "jobs_per_s", "worker_pid") if c in table.column_names]
        assert got[name].drop_columns(clock).equals(table.drop_columns(clock), check_metadata=True), name
        assert got[name].schema.equals(table.schema, check_metadata=True), name


def test_run_batch_equals_each_scenarios_own_tables_concatenated():
    scenarios = _scenarios()
    want = _own_tables(scenarios)
    result = run_batch(0, scenarios)
    got = dict(result.tables)
    got["timings"] = got["timings"].drop_columns(["node_id", "ray_job_id"])
    want["timings"] = want["timings"].drop_columns(["node_id", "ray_job_id"])
    _assert_same(got, want)
    assert result.done == [s.scenario_id for s in scenarios]
    runs = result.tables["runs"]
    assert runs.num_rows == 8 and runs["seed"].to_pylist() == [7, 1, 2, 3, 4, 4, 5, 6]
    assert runs["param.workload.batch.max_wait_h"].to_pylist() == [0.5, *[None] * 7]
    # Types unified as concat_tables unifies them: a uniform distribution's bounds where others have none.
    assert runs["param.workload.batch.gpus.low"].to_pylist() == [None, None, None, 1.0, None, None, None, None]
    assert runs["param.sites.cl_zhongwei.gpus"].to_pylist() == [None] * 6 + [600, None]


def test_failed_rows_and_built_tables_keep_their_place():
    scenarios = _scenarios()
    results = [run_scenario(s) for s in scenarios]
    parts: dict[str, list[Any]] = {"runs": [], "sites": [], "timings": []}
    want: dict[str, list[pa.Table]] = {"runs": [], "sites": [], "timings": []}
    for i, (loaded, result) in enumerate(zip(scenarios, results, strict=True)):
        if i == 2:  # a failed scenario between two of the same layout
            row = failed_runs(loaded, "ValueError: boom")
            parts["runs"].append(row)
            want["runs"].append(row)
            continue
        for name, part in result.parts().items():
            # the fourth scenario as a built table (a substituted runner's), the others as columns
            parts.setdefault(name, []).append(result.tables()[name] if i == 3 else part)
            want.setdefault(name, []).append(result.tables()[name])
    _assert_same(batch_tables(parts), {name: concat_tables(ts) for name, ts in want.items()})


def test_a_kept_layout_with_another_column_set_is_built_on_its_own():
    # The same extra fields (none) but one part gives an optional column the other lacks.
    first = {"scenario_id": ["a"], "replication": [0], "wall_time_s": [1.0], "events": [3], "events_per_s": [3.0],
             "jobs_per_s": [1.0]}
    second = {**first, "scenario_id": ["b"], "node_id": ["n1"]}
    got = batch_tables({"timings": [(first, ()), (second, ()), (first, ())]})["timings"]
    want = concat_tables([build_table("timings", first), build_table("timings", second),
                          build_table("timings", first)])
    assert got.equals(want, check_metadata=True)
    assert got["node_id"].to_pylist() == [None, "n1", None]


def test_many_scenarios_of_one_layout_use_the_column_path():
    # More rows than build_table's struct path takes (32): the per-column conversion, same table.
    loaded = load_scenario(None, TINY)
    result = run_scenario(loaded)
    columns, extra = result.parts()["runs"]
    n = 40
    got = batch_tables({"runs": [(columns, extra)] * n})["runs"]
    want = concat_tables([build_table("runs", columns, extra)] * n)
    assert got.num_rows == n and got.equals(want, check_metadata=True)
