"""Sweep machinery on Ray: parallel efficiency for long scenarios, overhead for tiny ones.

Two measurements, each on the embedded Ray (``RayExecutor``) against the serial executor
running the very same spec in this process.  Ray's start-up (``ray.init``) and the first
import of cpnsim in each worker are timed and reported apart; spec loading (expanding and
validating the scenarios) too.  The sweep walls are ``run_sweep`` calls: batching,
scheduling, result transfer and writing every part and manifest update are inside.

* **efficiency** -- ``--long`` scenarios (default 8) of about ``--long-s`` seconds each
  (default 2.5 s; the horizon is calibrated on this machine first), one per task:
  ``E = T_serial / (P x T_ray)`` with ``P = --cpus`` (default 2).  Target ``E >= 0.9``.
* **overhead** -- ``--tiny`` scenarios (default 1,000) of a few milliseconds, batched
  (``default_batch_size``: 64 per task):
  ``overhead = (T_ray - T_serial / P) / N``, the wall time per scenario that Ray adds
  to a perfect P-way split of the serial sweep.  Target ``<= 2 ms``.  Also reported:
  ``(T - sum(t_sim) / P) / N`` for each executor, where ``t_sim`` is a replication's
  ``timings.wall_time_s`` (model build + run, not its summary or tables).

The best of ``--repeats`` is kept for each wall; serial and Ray runs alternate.  For
every run the CPU seconds of this process tree (driver, raylet, GCS, workers; from
/proc) and how busy the whole machine was are recorded too: on a shared machine other
processes eat into the walls, not into our CPU seconds.  Figures are merged into
``benchmarks/results.json`` under the key ``"sweep"``.

    python benchmarks/sweep.py                      # about 4 minutes on 2 cores
    python benchmarks/sweep.py --part efficiency    # or overhead: one of the two
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import ray

from cluster.sweeps import SweepSpec, default_batch_size, load_sweep, run_sweep
from cluster.sweeps.executors import RayExecutor, SerialExecutor
from cluster.sweeps.store import read_table
from sim.run import run_scenario

BASE = Path(__file__).resolve().parent.parent / "examples" / "east_west_nearest.toml"


def _spec_text(horizon_h: float, gpus: list[int], replications: int = 1) -> str:
    return (f'base = "{BASE}"\nseed = 2026\nreplications = {replications}\n'
            f'[[axis]]\nkey = "horizon_h"\ngrid = [{horizon_h}]\n'
            f'[[axis]]\nkey = "warmup_h"\ngrid = [0.0]\n'
            f'[[axis]]\nkey = "metric_interval_h"\ngrid = [{horizon_h}]\n'
            f'[[axis]]\nkey = "sites.cl_zhongwei.gpus"\ngrid = {gpus}\n')


def _load(tmp: Path, name: str, text: str) -> tuple[SweepSpec, float]:
    path = tmp / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    spec = load_sweep(path)
    return spec, time.perf_counter() - t0


_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process and all its descendants
    (the embedded Ray's raylet, GCS and workers), from /proc."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / _TICK
    mine, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in mine]
        mine.update(children)
        frontier.extend(children)
    return sum(cpu.get(p, 0.0) for p in mine)


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


class Timed:
    """Wall time, CPU time of this process tree, and how busy the machine was, over a run."""

    def __init__(self) -> None:
        self.wall_s = self.cpu_s = self.machine_busy = 0.0

    def __enter__(self) -> Timed:
        self._cpu0, self._busy0 = _tree_cpu_s(), _machine_busy()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._t0
        self.cpu_s = _tree_cpu_s() - self._cpu0
        busy, total = _machine_busy()
        self.machine_busy = (busy - self._busy0[0]) / max(total - self._busy0[1], 1.0)


def _sweep(spec: SweepSpec, out: Path, executor: Any, batch_size: int | None = None) -> Timed:
    shutil.rmtree(out, ignore_errors=True)
    with Timed() as timed:
        report = run_sweep(spec, out, executor, batch_size=batch_size)
    assert report.done == len(spec.scenarios) and report.failed == 0, report
    return timed


def _best(runs: list[Timed]) -> Timed:
    return min(runs, key=lambda t: t.wall_s)


def _sim_s(out: Path) -> float:
    return float(sum(read_table(out, "timings").column("wall_time_s").to_pylist()))


def _calibrate(tmp: Path, target_s: float) -> float:
    """A horizon (hours) that makes one default east-west scenario take about ``target_s``."""

    def wall(horizon: float) -> float:
        spec, _ = _load(tmp, "calibrate", _spec_text(horizon, [1024]))
        t0 = time.perf_counter()
        run_scenario(spec.scenarios[0])
        return time.perf_counter() - t0

    wall(50.0)  # first run: imports and caches
    horizon = 400.0
    for _ in range(3):  # the cost per simulated hour is not quite constant: refine twice
        horizon = round(horizon * target_s / wall(horizon), -1)
    return horizon


def _import_cpnsim() -> int:
    import cluster.sweeps.executors  # noqa: F401 - the import is the point
    import sim.run  # noqa: F401

    return os.getpid()


def _warm(n_workers: int) -> float:
    """Import cpnsim in every worker, so the sweeps' timings leave the first import out."""
    t0 = time.perf_counter()
    task = ray.remote(num_cpus=1)(_import_cpnsim)
    ray.get([task.remote() for _ in range(4 * n_workers)])
    return time.perf_counter() - t0


def _view(t: Timed) -> dict[str, float]:
    return {"wall_s": round(t.wall_s, 3), "cpu_s": round(t.cpu_s, 3), "machine_busy": round(t.machine_busy, 3)}


def _print_runs(runs: dict[str, list[Timed]]) -> None:
    for k, v in runs.items():
        cells = [f"{t.wall_s:6.2f} s wall, {t.cpu_s:6.2f} s cpu, machine {t.machine_busy:4.0%}" for t in v]
        print(f"  {k:12s} " + "  ".join(cells))


def measure_efficiency(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Parallel efficiency of ``args.long`` scenarios of about ``args.long_s`` seconds each."""
    load0 = os.getloadavg()
    horizon = _calibrate(tmp, args.long_s)
    spec, load_s = _load(tmp, "long", _spec_text(horizon, [256 * (i + 1) for i in range(args.long)]))
    runs: dict[str, list[Timed]] = {"serial": [], "ray": []}
    for _ in range(args.repeats):  # alternate, so both see about the same load from other processes
        runs["serial"].append(_sweep(spec, tmp / "sl", SerialExecutor()))
        runs["ray"].append(_sweep(spec, tmp / "rl", RayExecutor(), batch_size=1))
    serial, ray_ = _best(runs["serial"]), _best(runs["ray"])
    efficiency = serial.wall_s / (args.cpus * ray_.wall_s)
    _print_runs(runs)
    print(f"efficiency: serial {serial.wall_s:.2f} s, ray {ray_.wall_s:.2f} s on {args.cpus} CPUs -> "
          f"E = {efficiency:.3f} (target >= 0.9: {'met' if efficiency >= 0.9 else 'MISSED'}); "
          f"CPU ray/serial {ray_.cpu_s / serial.cpu_s:.3f}")
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_avg": [load0, os.getloadavg()],
        "scenarios": len(spec.scenarios), "horizon_h": horizon, "spec_load_s": round(load_s, 3),
        "mean_scenario_s": round(serial.wall_s / len(spec.scenarios), 3), "sum_sim_s": round(_sim_s(tmp / "sl"), 3),
        "serial_wall_s": round(serial.wall_s, 3), "ray_wall_s": round(ray_.wall_s, 3),
        "efficiency": round(efficiency, 3), "cpu_ratio": round(ray_.cpu_s / max(serial.cpu_s, 1e-9), 3),
        "runs": {k: [_view(t) for t in v] for k, v in runs.items()},
        "target": ">= 0.9", "met": efficiency >= 0.9,
        "definition": "serial_wall_s / (cpus * ray_wall_s), best of the repeats; one scenario per task; Ray "
                      "start-up and worker warm-up excluded. cpu_ratio: CPU seconds of the Ray process tree "
                      "(driver, raylet, GCS, workers) over those of the serial run",
    }


def measure_overhead(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Amortised wall time per scenario that Ray adds, over ``args.tiny`` tiny scenarios."""
    load0 = os.getloadavg()
    spec, load_s = _load(tmp, "tiny", _spec_text(args.tiny_horizon_h, [100 + i for i in range(args.tiny)]))
    runs: dict[str, list[Timed]] = {"serial": [], "ray": []}
    for _ in range(args.repeats):
        runs["serial"].append(_sweep(spec, tmp / "st", SerialExecutor()))
        runs["ray"].append(_sweep(spec, tmp / "rt", RayExecutor()))
    serial, ray_ = _best(runs["serial"]), _best(runs["ray"])
    n, p = len(spec.scenarios), args.cpus
    overhead_ms = (ray_.wall_s - serial.wall_s / p) / n * 1e3
    cpu_overhead_ms = (ray_.cpu_s - serial.cpu_s) / n * 1e3
    _print_runs(runs)
    print(f"overhead: serial {serial.wall_s:.2f} s, ray {ray_.wall_s:.2f} s for {n} scenarios -> "
          f"{overhead_ms:.3f} ms/scenario (target <= 2 ms: {'met' if overhead_ms <= 2 else 'MISSED'}); "
          f"CPU overhead {cpu_overhead_ms:.3f} ms/scenario")
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_avg": [load0, os.getloadavg()],
        "scenarios": n, "horizon_h": args.tiny_horizon_h, "batch_size": default_batch_size(n, p),
        "spec_load_s": round(load_s, 3),
        "serial_wall_s": round(serial.wall_s, 3), "ray_wall_s": round(ray_.wall_s, 3),
        "serial_ms_per_scenario": round(serial.wall_s / n * 1e3, 3),
        "sum_sim_s": round(_sim_s(tmp / "st"), 3),
        "overhead_ms_per_scenario": round(overhead_ms, 3),
        "cpu_overhead_ms_per_scenario": round(cpu_overhead_ms, 3),
        "runs": {k: [_view(t) for t in v] for k, v in runs.items()},
        "target": "<= 2 ms", "met": overhead_ms <= 2.0,
        "definition": "(ray_wall_s - serial_wall_s / cpus) / scenarios, best of the repeats: the wall time Ray "
                      "adds per scenario to a perfect split of the serial sweep (batching, scheduling, result "
                      "transfer; the driver writes the parts in both); Ray start-up excluded. cpu_overhead: "
                      "(CPU seconds of the Ray process tree - those of the serial run) / scenarios",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("both", "efficiency", "overhead"), default="both")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the embedded Ray (P)")
    parser.add_argument("--long", type=int, default=8, help="scenarios in the efficiency sweep")
    parser.add_argument("--long-s", type=float, default=2.5, help="target seconds per long scenario")
    parser.add_argument("--tiny", type=int, default=1000, help="scenarios in the overhead sweep")
    parser.add_argument("--tiny-horizon-h", type=float, default=2.0, help="horizon of a tiny scenario (hours)")
    parser.add_argument("--repeats", type=int, default=3, help="best of N for every wall")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cpnsim-bench-"))
    figures: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "processor": _cpu_name(), "ray": ray.__version__},
        "cpus_used": args.cpus, "repeats": args.repeats,
    }
    try:
        t0 = time.perf_counter()
        outer = RayExecutor(num_cpus=args.cpus).__enter__()
        figures["ray_startup_s"] = round(time.perf_counter() - t0, 3)
        try:
            figures["ray_worker_warmup_s"] = round(_warm(args.cpus), 3)
            print(f"ray start-up {figures['ray_startup_s']:.2f} s, "
                  f"worker warm-up {figures['ray_worker_warmup_s']:.2f} s")
            if args.part in ("both", "efficiency"):
                figures["efficiency"] = measure_efficiency(tmp, args)
            if args.part in ("both", "overhead"):
                figures["overhead"] = measure_overhead(tmp, args)
        finally:
            outer.__exit__(None, None, None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    existing: dict[str, Any] = {}
    if args.json.exists():
        try:
            existing = json.loads(args.json.read_text())
        except ValueError:
            existing = {}
    # Merge: other benchmarks' keys stay, and so does the part of this one not run now.
    existing["sweep"] = {**existing.get("sweep", {}), **figures}
    args.json.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"figures merged into {args.json} (key 'sweep')")
    return 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    raise SystemExit(main())
