"""Sweep driver at scale: expansion per scenario, driver memory, object-store use (issue 15).

Three parts (``--part``), each merged into ``benchmarks/results.json`` under ``"sweep_driver"``:

* **expansion** -- a spec on the built-in ``national`` network with two jointly sampled
  axes (``sites.cl_zhongwei.gpus``, an integer from 256 to 100,000, which gives every point
  its own network, and ``workload.batch.arrival_rate_per_h``), expanded at ``--sizes``
  points (default 1,000 / 10,000 / 100,000).  Per scenario: CPU milliseconds of
  :func:`cluster.sweeps.load_sweep` (``time.process_time``: other processes on a shared
  machine do not count), and the bytes a Ray task receives per scenario (a pickled
  :class:`cluster.sweeps.points.PointBatch` of 64 points, base by reference), beside the
  pickled resolved scenario that used to travel.  Targets: <= 1 ms and <= 5 KB per
  scenario at 100,000 points; the scaling exponent of time in points should be ~1.
  With ``--baseline DIR`` (a tree whose ``cluster/sweeps`` is the old code), the old
  expansion is timed at the smallest size, in a subprocess, for a same-session ratio.
* **rss** -- driver peak RSS (``ru_maxrss``) of a subprocess that expands ``--rss-points``
  tiny scenarios (default 100,000) and runs them through :func:`cluster.sweeps.run_sweep`
  with the serial executor: every scenario rebuilt from its point, batched, written
  (parts + journal, 64 per batch), with a stub runner in place of the simulation (one
  ``runs`` row per scenario, the same prebuilt row of the spec's shape each time) -- the
  driver's own memory, not a simulation's.  Target <= 1 GiB.
* **objectstore** -- an embedded Ray (2 CPUs) runs ``--ray-scenarios`` one-hour national
  scenarios in batches of ``--ray-batch``; after each written batch the object store's
  use is read (``ray._private.internal_api.memory_summary(stats_only=True)``: plasma
  MiB and objects), and after the last batch again once settled (``SETTLE_S`` seconds and
  a garbage collection: Ray frees a released object asynchronously).  Flat: the most
  objects ever held stays under half the batches and, settled after the last batch, only
  the base and the runner are left; results pinned until the sweep ends would grow with
  the batches written, to all of them.

* **stream** -- time to the first submitted batch and driver peak RSS of a sweep of
  ``--stream-points`` (default 100,000) tiny scenarios that streams its expansion (what
  ``cpnsim sweep`` does), against the same sweep expanded first, each in its own driver
  process (stub runner as in **rss**); and the first batch's CPU time over the whole
  expansion's in the streaming process.

    python benchmarks/expansion.py                          # all four, ~8 minutes on 2 cores
    python benchmarks/expansion.py --part expansion --sizes 1000 10000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_common import machine, merge_results

ROOT = Path(__file__).resolve().parent.parent
SETTLE_S = 2.0
"""Seconds the object-store part waits (and collects garbage) before a settled reading."""
SPEC = """
seed = 15
replications = 1
[base]
name = "driver-scale"
network = "national"
horizon_h = {horizon}
metric_interval_h = {horizon}
[base.workload.batch]
arrival_rate_per_h = 1.0
gpus = {{ dist = "choice", values = [1, 2] }}
work_gpu_h = {{ dist = "exponential", mean = 2.0 }}
[[axis]]
key = "sites.cl_zhongwei.gpus"
method = "random"
low = 256
high = 100000
samples = {points}
[[axis]]
key = "workload.batch.arrival_rate_per_h"
method = "random"
low = 0.5
high = 2.0
samples = {points}
"""

_EXPAND = """
import json, pickle, sys, time
from cluster.sweeps import load_sweep
import cluster.sweeps.spec as spec_module
load_sweep(sys.argv[1])  # warm: imports, the built-in network parsed once
t0 = time.process_time()
spec = load_sweep(sys.argv[1])
cpu = time.process_time() - t0
print(json.dumps({"cpu_s": cpu, "points": spec.points, "scenarios": len(spec.scenarios),
                  "scenario_pickle_bytes": len(pickle.dumps(spec.scenarios[0])), "code": spec_module.__file__}))
"""


def _write_spec(tmp: Path, points: int, horizon: float = 1.0) -> Path:
    path = tmp / f"spec-{points}.toml"
    path.write_text(SPEC.format(points=points, horizon=horizon), encoding="utf-8")
    return path


def expansion(sizes: list[int], tmp: Path, baseline: Path | None) -> dict[str, Any]:
    """Expansion CPU and shipped bytes per scenario at each size (this process), and the old code's."""
    from cluster.sweeps import load_sweep
    from cluster.sweeps.points import PointBatch

    load_sweep(_write_spec(tmp, 10))  # warm: imports and the built-in network
    rows = []
    for n in sizes:
        path = _write_spec(tmp, n)
        t0, w0 = time.process_time(), time.perf_counter()
        spec = load_sweep(path)
        cpu, wall = time.process_time() - t0, time.perf_counter() - w0
        batch = PointBatch(spec.sweep_base, spec.scenario_points[:64]).by_reference(None)
        shipped = len(pickle.dumps(batch)) / len(batch)
        row = {"points": n, "scenarios": spec.count, "duplicates": spec.duplicates,
               "cpu_ms_per_point": round(1e3 * cpu / n, 4), "wall_ms_per_point": round(1e3 * wall / n, 4),
               "shipped_bytes_per_scenario": round(shipped, 1),
               "point_pickle_bytes": len(pickle.dumps(spec.scenario_points[0])),
               "resolved_scenario_pickle_bytes": len(pickle.dumps(spec.sweep_base.scenario(spec.scenario_points[0])))}
        print("expansion:", row, flush=True)
        rows.append(row)
        del spec
    out: dict[str, Any] = {"rows": rows}
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        out["time_exponent"] = round(math.log((b["cpu_ms_per_point"] * b["points"]) / (a["cpu_ms_per_point"]
                                                                                       * a["points"]))
                                     / math.log(b["points"] / a["points"]), 3)
    last = rows[-1]
    out["targets_met"] = {"ms_per_scenario<=1": last["cpu_ms_per_point"] <= 1.0,
                          "bytes_per_scenario<=5000": last["shipped_bytes_per_scenario"] <= 5000}
    if baseline is not None:
        n = sizes[0]
        path = _write_spec(tmp, n)
        runs = {}
        for name, pythonpath in (("old", str(baseline)), ("new", str(ROOT))):
            # cwd too: ``python -c`` puts the working directory first on sys.path
            proc = subprocess.run([sys.executable, "-c", _EXPAND, str(path)], capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": pythonpath}, cwd=pythonpath, check=True)
            runs[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        out["baseline"] = {"points": n, "old_cpu_ms_per_point": round(1e3 * runs["old"]["cpu_s"] / n, 4),
                           "new_cpu_ms_per_point": round(1e3 * runs["new"]["cpu_s"] / n, 4),
                           "old_shipped_bytes_per_scenario": runs["old"]["scenario_pickle_bytes"],
                           "speedup": round(runs["old"]["cpu_s"] / runs["new"]["cpu_s"], 2),
                           "old_code": runs["old"]["code"]}
        print("baseline:", out["baseline"], flush=True)
    return out


_RSS = """
import json, resource, sys, time
from pathlib import Path
import pyarrow as pa
from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.batch import failed_runs
from cluster.sweeps.executors import SerialExecutor

t0 = time.perf_counter()
spec = load_sweep(sys.argv[1])
ROW = failed_runs(spec.base, "")  # one runs row of the spec's shape, made once

class Stub:
    def __init__(self, loaded):
        pass
    def tables(self):
        return {"runs": ROW}

expanded = time.perf_counter() - t0
rss_expanded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = run_sweep(spec, Path(sys.argv[2]), SerialExecutor(Stub), batch_size=64)
print(json.dumps({"scenarios": spec.count, "points": spec.points, "done": report.done + report.failed,
                  "expand_wall_s": expanded, "sweep_wall_s": time.perf_counter() - t0,
                  "peak_rss_after_expansion_kib": rss_expanded,
                  "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def rss(points: int, tmp: Path) -> dict[str, Any]:
    """Peak RSS of a driver process that expands and writes ``points`` tiny scenarios (stub runner)."""
    path = _write_spec(tmp, points)
    proc = subprocess.run([sys.executable, "-c", _RSS, str(path), str(tmp / "rss-out")], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    row: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    row["peak_rss_mib"] = round(row["peak_rss_kib"] / 1024, 1)
    row["peak_rss_after_expansion_mib"] = round(row["peak_rss_after_expansion_kib"] / 1024, 1)
    row["target_met"] = row["peak_rss_mib"] <= 1024
    print("rss:", row, flush=True)
    return row


_STREAM = """
import json, resource, sys, time
from pathlib import Path
from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.batch import failed_runs
from cluster.sweeps.executors import SerialExecutor

lazy = sys.argv[3] == "lazy"
load_sweep(sys.argv[1].replace(".toml", "-warm.toml"))  # warm: imports, the built-in network parsed once
c0, w0 = time.process_time(), time.perf_counter()
spec = load_sweep(sys.argv[1], lazy=lazy)
ROW = failed_runs(spec.base, "")

class Stub:
    def __init__(self, loaded):
        pass
    def tables(self):
        return {"runs": ROW}

first = []

class Spy(SerialExecutor):
    def map(self, batches):
        for batch in batches:
            if not first:
                first.append((time.process_time() - c0, time.perf_counter() - w0))
            yield from super().map([batch])

report = run_sweep(spec, Path(sys.argv[2]), Spy(Stub), batch_size=64)
row = {"mode": sys.argv[3], "points": spec.points, "done": report.done + report.failed,
       "first_batch_cpu_s": first[0][0], "first_batch_wall_s": first[0][1],
       "sweep_cpu_s": time.process_time() - c0, "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
if lazy:  # the whole expansion, in this process, after the sweep (its RSS is read above)
    again = load_sweep(sys.argv[1], lazy=True)
    t0 = time.process_time()
    again.expand_all()
    row["full_expansion_cpu_s"] = time.process_time() - t0
print(json.dumps(row))
"""


def stream(points: int, tmp: Path) -> dict[str, Any]:
    """Time to the first submitted batch and peak RSS of a streamed sweep, against an expanded-first one.

    Two driver processes run the same ``points``-point sweep (stub runner, serial executor,
    batches of 64): one streams the expansion (``load_sweep(lazy=True)``, what ``cpnsim
    sweep`` does), one expands the whole spec first (``load_sweep``).  The streamed one then
    times the whole expansion again in the same process, for a same-process ratio.
    """
    path = _write_spec(tmp, points)
    _write_spec(tmp, 10).rename(tmp / f"spec-{points}-warm.toml")
    rows = {}
    for mode in ("lazy", "eager"):
        proc = subprocess.run([sys.executable, "-c", _STREAM, str(path), str(tmp / f"stream-{mode}"), mode],
                              capture_output=True, text=True, cwd=ROOT, check=False)
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        rows[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        print("stream:", rows[mode], flush=True)
    lazy, eager = rows["lazy"], rows["eager"]
    out: dict[str, Any] = {
        "points": points, "runs": rows,
        "first_batch_over_full_expansion_same_process": round(lazy["first_batch_cpu_s"]
                                                               / lazy["full_expansion_cpu_s"], 5),
        "first_batch_streamed_over_expanded_first": round(lazy["first_batch_cpu_s"] / eager["first_batch_cpu_s"], 5),
        "peak_rss_streamed_mib": round(lazy["peak_rss_kib"] / 1024, 1),
        "peak_rss_expanded_first_mib": round(eager["peak_rss_kib"] / 1024, 1),
        "peak_rss_ratio": round(lazy["peak_rss_kib"] / eager["peak_rss_kib"], 3),
    }
    print("stream:", {k: v for k, v in out.items() if k != "runs"}, flush=True)
    return out


def _plasma() -> tuple[float, int]:
    """Object-store use now: (MiB, objects), from Ray's memory summary."""
    from ray._private.internal_api import memory_summary

    text = memory_summary(stats_only=True)  # type: ignore[no-untyped-call]
    match = re.search(r"Plasma memory usage (\d+(?:\.\d+)?) MiB, (\d+) objects", text)
    return (float(match[1]), int(match[2])) if match else (float("nan"), -1)


def objectstore(scenarios: int, batch: int, tmp: Path) -> dict[str, Any]:
    """Object-store use after each written batch of a Ray sweep (embedded Ray, 2 CPUs)."""
    import gc

    from cluster.sweeps import load_sweep, run_sweep
    from cluster.sweeps.executors import RayExecutor

    spec = load_sweep(_write_spec(tmp, scenarios))
    batches = -(-spec.count // batch)
    checkpoints = {batches}  # settle only at the end: a pause mid-sweep lets the workers run ahead of the writer
    samples: list[tuple[float, int]] = []
    settled: dict[int, tuple[float, int]] = {}

    def on_batch(result: Any) -> None:
        samples.append(_plasma())
        if len(samples) in checkpoints:  # Ray frees a released object asynchronously: let it settle
            time.sleep(SETTLE_S)
            gc.collect()
            settled[len(samples)] = _plasma()

    t0 = time.perf_counter()
    run_sweep(spec, tmp / "ray-out", RayExecutor(num_cpus=2), batch_size=batch, on_batch=on_batch)
    wall = time.perf_counter() - t0
    q = max(1, len(samples) // 4)
    end_mib, end_objects = settled[batches]
    most = max(n for _, n in samples)
    row: dict[str, Any] = {"scenarios": spec.count, "batches": len(samples), "wall_s": round(wall, 1),
           "objects_first_quarter_median": statistics.median(n for _, n in samples[:q]),
           "objects_last_quarter_median": statistics.median(n for _, n in samples[-q:]),
           "objects_max": max(n for _, n in samples),
           "plasma_mib_first_quarter_median": statistics.median(m for m, _ in samples[:q]),
           "plasma_mib_last_quarter_median": statistics.median(m for m, _ in samples[-q:]),
           "plasma_mib_max": max(m for m, _ in samples),
           "settled_after_last_batch": {"plasma_mib": end_mib, "objects": end_objects}}
    # Results pinned until the end would grow with the batches written, to all of them after
    # the last; released ones leave a backlog (results done but not yet written) bounded by
    # the workers' lead on the writer, and after the last only the base and the runner.
    row["flat"] = most < len(samples) / 2 and end_objects <= 3
    print("objectstore:", row, flush=True)
    return row


def main() -> None:
    """Parse options, measure, print and merge into results.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "expansion", "rss", "objectstore", "stream"), default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--baseline", type=Path, help="a tree whose cluster/sweeps is the old code (PYTHONPATH)")
    parser.add_argument("--rss-points", type=int, default=100000)
    parser.add_argument("--stream-points", type=int, default=100000)
    parser.add_argument("--ray-scenarios", type=int, default=400)
    parser.add_argument("--ray-batch", type=int, default=4)
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    existing = json.loads(args.json.read_text()).get("sweep_driver", {}) if args.json.exists() else {}
    figures: dict[str, Any] = {**existing, "machine": machine()}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.part in ("all", "expansion"):
            figures["expansion"] = expansion(sorted(args.sizes), tmp, args.baseline)
        if args.part in ("all", "rss"):
            figures["rss"] = rss(args.rss_points, tmp)
        if args.part in ("all", "objectstore"):
            figures["objectstore"] = objectstore(args.ray_scenarios, args.ray_batch, tmp)
        if args.part in ("all", "stream"):
            figures["stream"] = stream(args.stream_points, tmp)
    figures["self_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    merge_results("sweep_driver", figures, args.json)


if __name__ == "__main__":
    main()
