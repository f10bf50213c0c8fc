"""The adoption uncertainty study as a recorded, checked result: record it once, quote it from the record.

``examples/sweeps/adoption-uncertainty.toml`` (352 scenarios x 2 replications, about 1.5
CPU-hours) is far too slow for ``docs/figures.py`` or the test suite.  So the study is run
once with ``cpnsim sweep``, and this script keeps a compact record of it in the repository,
:data:`RECORD` (``docs/data/adoption-uncertainty.parquet``): one row per scenario x
replication (scenario id, seed, status, the swept values, a few ``runs`` outputs,
adoption at the horizon and the share of demand served per region), with the Saltelli
design, the region names and the run's provenance (commit, command, CPU seconds, wall
seconds, CPUs, date, what else shared the machine) as JSON in the file's metadata
(key ``cpnsim.study``).  ::

    cpnsim sweep examples/sweeps/adoption-uncertainty.toml --out OUT --executor ray
    python docs/study.py record OUT --time-log sweep.err --note "..."   # write the record
    python docs/study.py show                                            # print the figures it gives
    python docs/figures.py --only study                                  # quote them in README/docs

The figures (median, 90 % band, Sobol' total indices with their intervals and the
ranking) go through :func:`cluster.sensitivity.sobol_from_runs`, the code of ``cpnsim
analyze sensitivity``, with its defaults, so they are what that command prints on the
dataset.  ``tests/test_study_record.py`` re-runs two recorded scenarios (both
replications) from the spec on the current tree and asserts their rows equal the record
exactly: when the model changes, the record goes stale loudly and the test says how to
re-record (:data:`RERECORD`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEC = ROOT / "examples" / "sweeps" / "adoption-uncertainty.toml"
RECORD = ROOT / "docs" / "data" / "adoption-uncertainty.parquet"
META_KEY = b"cpnsim.study"
OUTPUT = "adoption_frac_end"
"""The ``runs`` column the study is about: adoption at the horizon over every region."""
RUNS_COLUMNS = ("adoption_frac_end", "adopters_end", "events", "jobs_done", "jobs_unmet", "utilisation",
                "wait_mean_h", "work_gpu_h_done", "work_gpu_h_unmet")
"""``runs`` columns kept in the record (``events`` makes the rerun check sensitive to any change of the run)."""
RERECORD = ("the recorded uncertainty study no longer matches the model: rerun it and re-record, "
            "`cpnsim sweep examples/sweeps/adoption-uncertainty.toml --out OUT --executor ray`, then "
            "`python docs/study.py record OUT --time-log ... --note ...` and "
            "`python docs/figures.py --only study` (docs/study.py explains)")
"""What to do when the record is stale."""
MINOR = 0.005
"""A total index below this (0.00 at two decimals) is listed as minor (``study-minor``)."""
CHINA = "cn_enterprises"
"""The segment group of Chinese enterprises (``[adoption.groups]`` of examples/adoption.toml)."""


def region_frac_column(region: str) -> str:
    """Record column of a region's adoption at the horizon (Σ adopters / Σ enterprises in the last step)."""
    return f"region.{region}.adoption_frac_end"


def region_served_column(region: str) -> str:
    """Record column of a region's share of its demand served (Σ served / Σ demand GPU-h over the run)."""
    return f"region.{region}.served_share"


def record_rows(runs: pa.Table, adoption: pa.Table, keys: Sequence[str], regions: Sequence[str]) -> pa.Table:
    """The record's rows of ``runs`` and ``adoption`` (a sweep dataset's or one run's), by scenario, replication.

    Parameters
    ----------
    runs, adoption : pyarrow.Table
        The ``runs`` and ``adoption`` tables (any number of scenarios and replications).
    keys : sequence of str
        The swept scenario keys; each becomes a column from ``runs``' ``param.<key>``.
    regions : sequence of str
        Demand regions, in column order; a region absent from a run gets null.

    Returns
    -------
    pyarrow.Table
        ``scenario_id``, ``replication``, ``seed``, ``status``, the keys, :data:`RUNS_COLUMNS`,
        then per region :func:`region_frac_column` (1) and :func:`region_served_column` (1).
        Rows are computed only from the rows of their own scenario and replication, in a
        fixed order, so a scenario re-run alone gives bit-identical values.
    """
    base = ["scenario_id", "replication", "seed", "status"]
    picked = runs.select([*base, *(f"param.{k}" for k in keys), *RUNS_COLUMNS])
    picked = picked.rename_columns([*base, *keys, *RUNS_COLUMNS])
    picked = picked.sort_by([("scenario_id", "ascending"), ("replication", "ascending")])
    # Per (scenario, replication, region): adopters and enterprises in the replication's last
    # step, demand and served over the run.  Sorted first: sums in a fixed order.
    a = adoption.select(["scenario_id", "replication", "step", "region", "industry", "enterprises", "adopters",
                         "demand_gpu_h", "served_gpu_h"])
    a = a.sort_by([(c, "ascending") for c in ("scenario_id", "replication", "step", "region", "industry")]).to_pydict()
    last: dict[tuple[str, int], int] = {}
    for sid, rep, step in zip(a["scenario_id"], a["replication"], a["step"], strict=True):
        last[(sid, rep)] = max(last.get((sid, rep), -1), step)
    acc: dict[tuple[str, int, str], list[float]] = {}  # adopters, enterprises (last step), demand, served
    for k, sid in enumerate(a["scenario_id"]):
        rep, region = a["replication"][k], a["region"][k]
        cell = acc.setdefault((sid, rep, region), [0.0, 0.0, 0.0, 0.0])
        if a["step"][k] == last[(sid, rep)]:
            cell[0] += a["adopters"][k]
            cell[1] += a["enterprises"][k]
        cell[2] += a["demand_gpu_h"][k]
        cell[3] += a["served_gpu_h"][k]
    ids, reps = picked.column("scenario_id").to_pylist(), picked.column("replication").to_pylist()
    for region in regions:
        cells = [acc.get((sid, rep, region)) for sid, rep in zip(ids, reps, strict=True)]
        frac = [c[0] / c[1] if c is not None and c[1] > 0 else None for c in cells]
        served = [c[3] / c[2] if c is not None and c[2] > 0 else None for c in cells]
        picked = picked.append_column(pa.field(region_frac_column(region), pa.float64()), pa.array(frac, pa.float64()))
        picked = picked.append_column(pa.field(region_served_column(region), pa.float64()),
                                      pa.array(served, pa.float64()))
    return picked.replace_schema_metadata(None)


def _time_log(path: Path) -> dict[str, float]:
    """User + system CPU seconds, wall seconds and peak RSS (MiB) from ``/usr/bin/time -v`` output."""
    text = path.read_text(encoding="utf-8", errors="replace")
    found: dict[str, float] = {}
    user = re.search(r"User time \(seconds\): ([\d.]+)", text)
    system = re.search(r"System time \(seconds\): ([\d.]+)", text)
    if user and system:
        found["time_v_cpu_s"] = float(user[1]) + float(system[1])
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if wall:
        parts = [float(p) for p in wall[1].split(":")]
        found["time_v_wall_s"] = sum(p * 60 ** (len(parts) - 1 - i) for i, p in enumerate(parts))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if rss:
        found["time_v_driver_max_rss_mib"] = int(rss[1]) / 1024
    return found


def record(out: Path, path: Path = RECORD, *, spec: Path = SPEC, command: str = "", time_log: Path | None = None,
           cpu_s: float | None = None, cpu_source: str = "", note: str = "") -> Path:
    """Write the record of the study dataset ``out`` (made from ``spec``) to ``path``; returns ``path``.

    ``cpu_s`` (with ``cpu_source`` saying how it was measured) is the study's CPU time;
    ``time_log`` is the stderr of ``/usr/bin/time -v cpnsim sweep ...`` (its user + system
    time counts only the processes the driver reaped, so with Ray it may miss the workers);
    ``note`` says what else ran on the machine.  An incomplete dataset is recorded as it
    stands (``complete`` false in the provenance; the analysis then needs ``drop_failed``).
    """
    import pyarrow.parquet as pq

    from cluster.sweeps import load_sweep
    from cluster.sweeps.manifest import read_manifest
    from cluster.sweeps.store import read_table
    from topology.plumbing import SchemaError

    manifest = read_manifest(out)
    design = manifest.design
    if not isinstance(design, dict) or design.get("method") != "saltelli":
        raise SchemaError(f"{out}/manifest.json: design: not a saltelli sweep (record the study's dataset)")
    runs, adoption = read_table(out, "runs"), read_table(out, "adoption")
    keys = [str(k) for k in design["keys"]]
    network = manifest.resolved_network.network if manifest.resolved_network else None
    regions = sorted(set(adoption.column("region").to_pylist()))
    names = {r.id: r.name for r in network.regions} if network is not None else {}
    country = {r.id: r.country for r in network.regions} if network is not None else {}
    table = record_rows(runs, adoption, keys, regions)
    adoption_config = load_sweep(spec).base.scenario.adoption
    groups = {name: list(g.regions) for name, g in (adoption_config.groups if adoption_config else {}).items()}
    created, finished = manifest.created_utc, manifest.finished_utc
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    # An unfinished sweep (recorded as it stands): its wall time so far.
    until = finished if finished and manifest.complete else now
    provenance: dict[str, Any] = {
        "commit": manifest.cpnsim.git_revision if manifest.cpnsim else None,
        "command": command or f"cpnsim sweep {spec.relative_to(ROOT) if spec.is_relative_to(ROOT) else spec} "
                              "--out OUT --executor ray",
        "created_utc": created, "finished_utc": finished,
        "wall_s": (dt.datetime.fromisoformat(until) - dt.datetime.fromisoformat(created)).total_seconds()
        if created else None,
        "complete": manifest.complete, "cpu_count": os.cpu_count(),
        "cpu_s": cpu_s, "cpu_source": cpu_source, "note": note,
        "recorded_utc": now,
    }
    if time_log is not None:
        provenance.update(_time_log(time_log))
    meta = {
        "spec": str(spec.relative_to(ROOT)) if spec.is_relative_to(ROOT) else str(spec),
        "output": OUTPUT, "keys": keys, "design": design, "replications": manifest.replications
        or (manifest.spec or {}).get("replications"),
        "regions": {r: {"name": names.get(r, r), "country": country.get(r)} for r in regions},
        "groups": groups,
        "provenance": provenance,
    }
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
    return path


def read_record(path: Path = RECORD) -> tuple[pa.Table, dict[str, Any]]:
    """The recorded rows and their metadata (design, regions, provenance...)."""
    import pyarrow.parquet as pq

    if not path.exists():
        raise FileNotFoundError(f"{path}: no recorded study; {RERECORD}")
    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {})[META_KEY])
    return table.replace_schema_metadata(None), meta


def chinese_regions(meta: dict[str, Any]) -> list[str]:
    """The recorded regions of the Chinese-enterprise segment group (:data:`CHINA`), in record order."""
    chinese = set(meta["groups"][CHINA])
    return [r for r in meta["regions"] if r in chinese]


def rerun(scenario_ids: Sequence[str], meta: dict[str, Any]) -> pa.Table:
    """Re-run recorded scenarios from the study spec on the current tree; their record rows.

    Raises
    ------
    AssertionError
        The spec on this tree no longer expands to those scenario ids (with :data:`RERECORD`).
    """
    from cluster.sweeps import load_sweep
    from sim.run import run_scenario

    spec_path = Path(meta["spec"])
    spec = load_sweep(spec_path if spec_path.is_absolute() else ROOT / spec_path)
    points = {p.scenario_id: p for p in spec.scenario_points}
    missing = [sid for sid in scenario_ids if sid not in points]
    assert not missing, f"scenarios {missing} are no longer in the study's design; {RERECORD}"
    runs, adoption = [], []
    for sid in scenario_ids:
        result = run_scenario(spec.sweep_base.scenario(points[sid]))
        runs.append(result.runs)
        table = result.table("adoption")
        assert table is not None
        adoption.append(table)
    return record_rows(pa.concat_tables(runs, promote_options="permissive"),
                       pa.concat_tables(adoption, promote_options="permissive"),
                       meta["keys"], list(meta["regions"]))


def cheapest(table: pa.Table, n: int = 2) -> list[str]:
    """The ``n`` scenarios of the record with the fewest simulation events over their replications (ties: id)."""
    events: dict[str, int] = {}
    for sid, ev in zip(table.column("scenario_id").to_pylist(), table.column("events").to_pylist(), strict=True):
        events[sid] = events.get(sid, 0) + int(ev or 0)
    return sorted(events, key=lambda s: (events[s], s))[:n]


def analysis(table: pa.Table, meta: dict[str, Any]) -> Any:
    """:func:`cluster.sensitivity.sobol_from_runs` of :data:`OUTPUT` on the record, with ``cpnsim analyze`` defaults.

    Base samples with a failed or missing scenario are left out (``--drop-failed``) only
    when the record is of an incomplete sweep.
    """
    from cluster.sensitivity import sobol_from_runs

    partial = not meta["provenance"].get("complete", True)
    return sobol_from_runs(table, meta["design"], meta["output"], drop_failed=partial, where=str(RECORD.name))


def _fmt_s(seconds: float) -> str:
    """``4,190 CPU-s`` style: a whole number of seconds with thousands separators."""
    return f"{seconds:,.0f}"


def _hms(seconds: float) -> str:
    """``1 h 09 min`` (whole minutes)."""
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def figures(path: Path = RECORD) -> dict[str, str]:
    """Every quoted figure of the study, from the record (``study-*`` spans of README.md and docs/model.md)."""
    table, meta = read_record(path)
    result = analysis(table, meta)
    (g,) = result.groups  # the study has no grid axis with more than one value
    order = g.ranking()
    short = {k: k.removeprefix("adoption.") for k in g.parameters}

    def st(i: int) -> str:
        return f"{g.st[i]:.2f} ± {g.st_conf[i]:.2f}"

    rows = ["| rank | parameter | ST (total) | S1 (first order) |", "|---|---|---|---|"]
    rows += [f"| {r} | `{short[g.parameters[i]]}` | {st(i)} | {g.s1[i]:.2f} ± {g.s1_conf[i]:.2f} |"
             for r, i in enumerate(order, start=1)]
    top = order[:3]
    minor = [short[g.parameters[i]] for i in order if g.st[i] < MINOR]
    prov = meta["provenance"]
    scenarios = len({s for grp in meta["design"]["groups"] for s in grp["rows"]})
    # Spread across Chinese regions at the horizon, per scenario (replication means).
    cn = chinese_regions(meta)
    cols = {r: table.column(region_frac_column(r)).to_pylist() for r in cn}
    ids = table.column("scenario_id").to_pylist()
    per: dict[str, dict[str, list[float]]] = {}
    for k, sid in enumerate(ids):
        for r in cn:
            v = cols[r][k]
            if v is not None:
                per.setdefault(sid, {}).setdefault(r, []).append(v)
    spreads, lowest = [], dict.fromkeys(cn, 0)
    for cells in per.values():
        means = {r: float(np.mean(v)) for r, v in cells.items()}
        spreads.append(max(means.values()) - min(means.values()))
        lowest[min(means, key=lambda r: means[r])] += 1
    lo_s, med_s, hi_s = np.quantile(spreads, [0.05, 0.5, 0.95])
    low_region = max(lowest, key=lambda r: lowest[r])
    contention = prov.get("note") or "no other load recorded"
    cpu = prov.get("cpu_s") or prov.get("time_v_cpu_s")
    spans = {
        "study-scenarios": f"{scenarios}",
        "study-runs": f"{table.num_rows}",
        "study-replications": f"{meta['replications']}",
        "study-n": f"{g.base_samples}",
        "study-median": f"{g.median:.3f}",
        "study-band": f"{g.band_low:.3f}–{g.band_high:.3f}",
        "study-drivers-table": "\n" + "\n".join(rows) + "\n",
        "study-top": ", ".join(f"`{short[g.parameters[i]]}` (ST {st(i)})" for i in top),
        "study-minor": ", ".join(f"`{m}`" for m in minor) if minor else "none",
        "study-commit": str(prov.get("commit") or "unknown")[:7],
        "study-date": f"finished {str(prov.get('finished_utc'))[:10]}",
        "study-cpu-s": f"{_fmt_s(cpu)} s" if cpu else "not measured",
        "study-wall": _hms(prov["wall_s"]) if prov.get("wall_s") else "not measured",
        "study-cpus": f"{prov.get('cpu_count')}",
        "study-contention": contention,
        "study-region-spread": f"{med_s:.4f} (90 % band {lo_s:.4f}–{hi_s:.4f})",
        "study-region-lowest": f"{meta['regions'][low_region]['name'].split(' (')[0]} "
                               f"({lowest[low_region]} of {len(per)} scenarios)",
    }
    if not prov.get("complete", True):
        spans["study-n"] += f" of {meta['design']['samples']} (recorded before the sweep finished)"
        spans["study-date"] = (f"recorded unfinished on {str(prov.get('recorded_utc'))[:10]}, "
                               "CPU and wall time until then")
    return spans


def main(argv: list[str] | None = None) -> int:
    """Command line: ``record OUT ...`` or ``show``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="write the record of a finished study dataset")
    rec.add_argument("out", type=Path, help="the study's sweep dataset (cpnsim sweep --out)")
    rec.add_argument("--record", type=Path, default=RECORD, help=f"record file (default {RECORD.relative_to(ROOT)})")
    rec.add_argument("--spec", type=Path, default=SPEC, help="the sweep spec the dataset was made from")
    rec.add_argument("--command", default="", help="the command that ran the study, as run")
    rec.add_argument("--time-log", type=Path, help="stderr of `/usr/bin/time -v cpnsim sweep ...`")
    rec.add_argument("--cpu-s", type=float, help="CPU seconds of the study's processes (driver and workers)")
    rec.add_argument("--cpu-source", default="", help="how --cpu-s was measured")
    rec.add_argument("--note", default="", help="what else ran on the machine meanwhile")
    show = sub.add_parser("show", help="print the figures the record gives")
    show.add_argument("--record", type=Path, default=RECORD)
    args = parser.parse_args(argv)
    from topology.plumbing import CpnsimError

    try:
        return _main(args)
    except (CpnsimError, FileNotFoundError) as err:  # bad input: one line, exit 2, nothing written
        print(f"error: {err}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    if args.cmd == "record":
        path = record(args.out, args.record, spec=args.spec.resolve(), command=args.command, time_log=args.time_log,
                      cpu_s=args.cpu_s, cpu_source=args.cpu_source, note=args.note)
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
        return 0
    for name, text in figures(args.record).items():
        print(f"{name}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
