"""Sweep writer: the cost of committing one batch must not grow with the sweep.

A sweep commits each batch by writing its part files and appending one fsync'd line to
``journal.jsonl`` (:class:`cluster.sweeps.writer.SweepWriter`).  Before the journal, the
whole manifest (every done id, every part name, the resolved network) was rewritten
after each batch, so a commit cost grew linearly with the batches already written.

This script writes ``--batches`` (default 2,500) copies of one real batch (``--batch``
scenarios of a tiny built-in-network spec, run once) with fresh scenario ids, timing each
``add``.  It reports the median commit time in an early window (batches 10-59) and a late
one (the last 50) and their ratio, in CPU seconds of this process (the figure that judges
the writer: a commit's wall time also holds fsync waits, which on a shared disk swing by
5x from one batch to the next) and in wall seconds; target: CPU late / early within
1 +/- 0.2.  With
``--baseline REV`` the writer of that git revision (loaded from ``git show``) is measured
the same way, as the "before" figure.  Figures merged into ``benchmarks/results.json``
under ``"sweep_writer"``.

    python benchmarks/sweep_writer.py                                  # about 1 minute
    python benchmarks/sweep_writer.py --baseline 5004092 --batches 1000   # the manifest-rewrite writer
"""

from __future__ import annotations

import argparse
import importlib.util
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_common import machine, merge_results

from cluster.sweeps import load_sweep
from cluster.sweeps.batch import run_batch
from cluster.sweeps.manifest import network_record
from cluster.sweeps.store import package_version
from cluster.sweeps.writer import SweepWriter

ROOT = Path(__file__).resolve().parent.parent
SPEC = """
seed = 1
replications = 1
[base]
name = "writer-bench"
network = "national"
horizon_h = 24.0
metric_interval_h = 24.0
[base.workload.batch]
arrival_rate_per_h = 1.0
gpus = {{ dist = "choice", values = [1, 2] }}
work_gpu_h = {{ dist = "exponential", mean = 4.0 }}
[[axis]]
key = "sites.cl_zhongwei.gpus"
grid = {grid}
"""


def _old_writer(rev: str) -> Any:
    """``SweepWriter`` as it was in git revision ``rev`` (its ``cluster/sweeps/store.py``)."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:cluster/sweeps/store.py"], capture_output=True,
                          text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / f"store_{rev}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(f"store_{rev}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SweepWriter


def measure(writer_cls: Any, batches: int, batch: int, tmp: Path) -> dict[str, Any]:
    """Commit ``batches`` copies of one real batch; per-commit seconds in an early and a late window."""
    spec = load_sweep_text(tmp, batch)
    result = run_batch(0, spec.scenarios)
    manifest = {"kind": "sweep", "source": spec.source, "seed": spec.seed, "spec": spec.raw,
                "scenarios": batches * batch, "cpnsim_version": package_version(),
                "resolved_network": network_record(spec.base.network, spec.base.scenario.network)}
    out = tmp / f"out-{secrets.token_hex(3)}"
    writer = writer_cls(out, manifest)
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(batches):
        ids = [secrets.token_hex(8) for _ in range(batch)]  # a fresh id per scenario, as in a real sweep
        c0, w0 = time.process_time(), time.perf_counter()
        writer.add(result.tables, ids, [])
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    writer.finish()
    if hasattr(writer, "close"):
        writer.close()
    figures: dict[str, Any] = {"batches": batches, "scenarios_per_batch": batch}
    for name, times in (("cpu", cpu), ("wall", wall)):
        early, late = statistics.median(times[10:60]), statistics.median(times[-50:])
        figures[name] = {"early_ms": round(early * 1e3, 2), "late_ms": round(late * 1e3, 2),
                         "late_over_early": round(late / early, 3), "total_s": round(sum(times), 2)}
    return figures


def load_sweep_text(tmp: Path, batch: int) -> Any:
    """A spec of ``batch`` one-day national scenarios (one batch's worth)."""
    path = tmp / "spec.toml"
    path.write_text(SPEC.format(grid=[256 + 8 * i for i in range(batch)]))
    return load_sweep(path)


def main() -> None:
    """Parse options, measure, print and merge into results.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2500)
    parser.add_argument("--batch", type=int, default=16, help="scenarios per batch")
    parser.add_argument("--baseline", help="also measure the writer of this git revision")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    figures: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        figures["journal"] = measure(SweepWriter, args.batches, args.batch, Path(tmp))
        print("journal writer:", figures["journal"])
        if args.baseline:
            figures["baseline"] = {"revision": args.baseline,
                                   **measure(_old_writer(args.baseline), args.batches, args.batch, Path(tmp))}
            print(f"writer of {args.baseline}:", figures["baseline"])
    merge_results("sweep_writer", figures, args.json)


if __name__ == "__main__":
    main()
