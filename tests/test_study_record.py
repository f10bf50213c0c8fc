"""docs/study.py: the recorded adoption uncertainty study is what the model gives now, and its figures are its own.

* Two recorded scenarios (both replications) re-run from the study spec on the current
  tree give rows equal to the record, bit for bit; when the model changes this fails and
  says how to re-record.
* The figures the producers quote (median, band, total indices, ranking, regional spread)
  are recomputed here from the record by hand: numpy quantiles of the replication means,
  SALib called directly on the design rows, a sort by total index.
* The record's rows of a run are hand-computed on a small table.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

ROOT = Path(__file__).resolve().parent.parent
study: dict[str, Any] = runpy.run_path(str(ROOT / "docs" / "study.py"), run_name="study")
RECORD: Path = study["RECORD"]
needs_record = pytest.mark.skipif(not RECORD.exists(), reason=f"{RECORD} not recorded yet")


@pytest.fixture(scope="module")
def recorded() -> tuple[pa.Table, dict[str, Any]]:
    table, meta = study["read_record"](RECORD)
    return table, meta


@needs_record
def test_two_recorded_scenarios_rerun_bit_identically(recorded: tuple[pa.Table, dict[str, Any]]) -> None:
    """The two cheapest recorded scenarios (fewest events; about 6 s of CPU for both, replications included)."""
    table, meta = recorded
    ids = study["cheapest"](table)
    assert len(ids) == 2
    now = study["rerun"](ids, meta)
    then = table.filter(pc.is_in(table["scenario_id"], value_set=pa.array(ids)))
    assert now.num_rows == then.num_rows == 2 * meta["replications"]
    assert now.column_names == then.column_names, study["RERECORD"]
    differ = [c for c in then.column_names if not now.column(c).equals(then.column(c))]
    assert not differ, f"columns {differ} differ for scenarios {ids}: {study['RERECORD']}"
    assert now.equals(then)


@needs_record
def test_record_is_of_the_shipped_spec_and_design(recorded: tuple[pa.Table, dict[str, Any]]) -> None:
    import tomllib

    table, meta = recorded
    spec = tomllib.loads((ROOT / meta["spec"]).read_text(encoding="utf-8"))
    saltelli = [a for a in spec["axis"] if a.get("method") == "saltelli"]
    assert meta["keys"] == [a["key"] for a in saltelli]
    design = meta["design"]
    assert design["samples"] == saltelli[0]["samples"] and not design["second_order"]
    (group,) = design["groups"]
    assert len(group["rows"]) == design["samples"] * (len(saltelli) + 2)
    # every swept value lies in its axis' range, and each scenario has every replication
    for axis in saltelli:
        values = table.column(axis["key"]).to_numpy()
        assert axis["low"] <= values.min() and values.max() <= axis["high"], axis["key"]
    reps = pc.value_counts(table["scenario_id"]).field("counts").to_pylist()
    assert set(reps) == {spec["replications"]} == {meta["replications"]}
    prov = meta["provenance"]
    for key in ("commit", "command", "cpu_s", "wall_s", "cpu_count", "created_utc", "recorded_utc", "note"):
        assert prov.get(key), key
    assert prov.get("finished_utc") if prov["complete"] else True  # an unfinished sweep has no end time
    assert len(prov["commit"]) == 40


@needs_record
def test_quoted_study_figures_recomputed_by_hand(recorded: tuple[pa.Table, dict[str, Any]]) -> None:
    from SALib.analyze import sobol as salib_sobol

    table, meta = recorded
    spans = study["figures"](RECORD)
    ok = pc.equal(table["status"], "ok")
    rows = table.filter(ok).select(["scenario_id", "adoption_frac_end"]).to_pylist()
    sums: dict[str, list[float]] = {}
    for r in rows:
        sums.setdefault(r["scenario_id"], []).append(r["adoption_frac_end"])
    mean = {sid: sum(v) / len(v) for sid, v in sums.items()}
    (group,) = meta["design"]["groups"]
    keys = meta["keys"]
    step = len(keys) + 2
    blocks = [group["rows"][j:j + step] for j in range(0, len(group["rows"]), step)]
    kept = [b for b in blocks if all(sid in mean for sid in b)]
    y = np.array([mean[sid] for b in kept for sid in b])
    lo, med, hi = np.quantile(y, [0.05, 0.5, 0.95])
    assert spans["study-median"] == f"{med:.3f}"
    assert spans["study-band"] == f"{lo:.3f}–{hi:.3f}"
    assert spans["study-n"].startswith(str(len(kept)))
    problem = {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
    si = salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=1000, conf_level=0.95, seed=1)
    order = sorted(range(len(keys)), key=lambda i: (-si["ST"][i], i))
    table_lines = spans["study-drivers-table"].strip().splitlines()[2:]
    assert len(table_lines) == len(keys)
    for rank, (line, i) in enumerate(zip(table_lines, order, strict=True), start=1):
        assert line.startswith(f"| {rank} | `{keys[i].removeprefix('adoption.')}` | "
                               f"{si['ST'][i]:.2f} ± {si['ST_conf'][i]:.2f} |"), line
    top = keys[order[0]].removeprefix("adoption.")
    assert spans["study-top"].startswith(f"`{top}` (ST {si['ST'][order[0]]:.2f}")
    assert spans["study-scenarios"] == str(len(set(group["rows"])))
    assert spans["study-runs"] == str(table.num_rows)


@needs_record
def test_regional_spread_of_the_study_by_hand(recorded: tuple[pa.Table, dict[str, Any]]) -> None:
    table, meta = recorded
    chinese = study["chinese_regions"](meta)
    assert len(chinese) == 9
    spreads = []
    for sid in sorted(set(table.column("scenario_id").to_pylist())):
        sub = table.filter(pc.equal(table["scenario_id"], sid))
        means = [np.mean(sub.column(study["region_frac_column"](r)).to_numpy()) for r in chinese]
        spreads.append(max(means) - min(means))
    lo, med, hi = np.quantile(spreads, [0.05, 0.5, 0.95])
    assert study["figures"](RECORD)["study-region-spread"] == f"{med:.4f} (90 % band {lo:.4f}–{hi:.4f})"


def _tables() -> tuple[pa.Table, pa.Table]:
    runs = pa.table({
        "scenario_id": ["b", "a", "a"], "replication": [0, 1, 0], "seed": [7, 5, 5], "status": ["ok"] * 3,
        "param.x": [0.5, 0.25, 0.25],
        **{c: [1.0, 2.0, 3.0] for c in study["RUNS_COLUMNS"]},
    })
    # scenario a, replication 0: two steps, region r with two industries, region s with one
    adoption = pa.table({
        "scenario_id": ["a"] * 6 + ["a"] * 2 + ["b"] * 2,
        "replication": [0] * 6 + [1] * 2 + [0] * 2,
        "step": [0, 0, 0, 1, 1, 1, 0, 0, 0, 0],
        "region": ["r", "r", "s", "r", "r", "s", "r", "s", "r", "s"],
        "industry": ["i", "j", "i"] * 2 + ["i", "i", "i", "i"],
        "enterprises": [100.0, 300.0, 50.0, 100.0, 300.0, 50.0, 10.0, 10.0, 10.0, 0.0],
        "adopters": [10.0, 30.0, 5.0, 40.0, 60.0, 25.0, 1.0, 2.0, 3.0, 0.0],
        "demand_gpu_h": [10.0, 10.0, 4.0, 20.0, 0.0, 4.0, 1.0, 1.0, 5.0, 0.0],
        "served_gpu_h": [10.0, 5.0, 4.0, 15.0, 0.0, 2.0, 1.0, 0.5, 5.0, 0.0],
    })
    return runs, adoption


def test_record_rows_by_hand() -> None:
    runs, adoption = _tables()
    rows = study["record_rows"](runs, adoption, ["x"], ["r", "s", "t"]).to_pylist()
    assert [(r["scenario_id"], r["replication"]) for r in rows] == [("a", 0), ("a", 1), ("b", 0)]
    a0, a1, b0 = rows
    frac, served = study["region_frac_column"], study["region_served_column"]
    # a/0: last step 1; r: (40 + 60) / (100 + 300) = 0.25; s: 25 / 50; served (10+5+15+0) / (10+10+20+0)
    assert a0[frac("r")] == 0.25 and a0[frac("s")] == 0.5
    assert a0[served("r")] == 30 / 40 and a0[served("s")] == 6 / 8
    assert a1[frac("r")] == 0.1 and a1[frac("s")] == 0.2 and a1[served("s")] == 0.5
    # b/0: region s has no enterprises and no demand; region t is absent everywhere
    assert b0[frac("r")] == 0.3 and b0[frac("s")] is None and b0[served("s")] is None
    assert all(r[frac("t")] is None for r in rows)
    assert a0["x"] == 0.25 and b0["seed"] == 7 and a0["adoption_frac_end"] == 3.0


def test_record_rows_do_not_depend_on_the_order_of_the_input_rows() -> None:
    runs, adoption = _tables()
    rng = np.random.default_rng(3)
    shuffled = adoption.take(pa.array(rng.permutation(adoption.num_rows)))
    a = study["record_rows"](runs, adoption, ["x"], ["r", "s"])
    b = study["record_rows"](runs.take(pa.array([2, 0, 1])), shuffled, ["x"], ["r", "s"])
    assert a.equals(b)


def test_time_log_parsed(tmp_path: Path) -> None:
    log = tmp_path / "err"
    log.write_text("\tUser time (seconds): 100.5\n\tSystem time (seconds): 2.5\n"
                   "\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:09:54\n"
                   "\tMaximum resident set size (kbytes): 204800\n")
    assert study["_time_log"](log) == {"time_v_cpu_s": 103.0, "time_v_wall_s": 4194.0,
                                       "time_v_driver_max_rss_mib": 200.0}


def test_recording_a_non_dataset_is_one_line_exit_2_nothing_written(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "record.parquet"
    assert study["main"](["record", str(tmp_path / "missing"), "--record", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing" in err and "manifest.json" in err
    assert not target.exists()
