"""Speed and correctness of one M/M/c queue in cpnsim, SimPy, ciw and a bare heapq loop.

The queue: c = 10 servers, utilisation rho = 0.9, service rate mu = 1 per hour, so
lambda = 9 per hour; the horizon is ``customers / lambda`` hours.  Every contestant
runs the same queue in this process with fixed seeds, ``--repeats`` rounds, and the
fastest CPU time is kept (Mesa's habit).  A round runs every contestant once, so the
repeats of the contestants are interleaved: a slow spell of a shared machine falls on all
of them instead of on whichever ran at that moment, and the ratios of each round show the
spread the verdict stands on (printed as a range; ``round_ratios`` in the JSON).  What
each one does inside the timed region:

* **cpnsim** -- ``run_replication(mmc_scenario(...))``: builds the model, draws the
  arrivals in numpy batches (one per 1,000 h step) and walks them with one chained
  callback; a finish callback per job; summary and wait histogram at the end.
* **cpnsim-jobs** -- the same with every job recorded (``jobs_sample = 1``): the
  ``jobs`` table's columns are built and the mean of its per-job waits is returned.
* **SimPy** -- idiomatic: a source process, one generator process per customer and a
  ``simpy.Resource(capacity=c)``; inter-arrival and service times pre-drawn with numpy.
* **ciw** -- the library's own idiom (``create_network`` and ``Simulation``); it draws
  its own exponentials, one per customer.
* **heapq** -- a bare event loop (heap of ``(time, kind, index)``, FIFO deque, a free
  server count) on the same numpy-drawn arrays as SimPy: the Python limit.

Waits of customers that start service before the warm-up (5 % of the horizon) are
left out, and every mean wait is printed next to the Erlang C value.  cpnsim also runs
``--replications`` independent replications, whose 95 % t confidence interval must
cover Erlang C.  Run ``python benchmarks/mmc.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import datetime
import heapq
import json
import math
import os
import platform
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import ciw
import numpy as np
import scipy
import simpy
from scipy import stats

from sim import compiled
from sim.queueing import mmc_mean_wait, mmc_scenario
from sim.run import run_replication
from sim.scenario import LoadedScenario

C = 10
RHO = 0.9
MU_PER_H = 1.0
LAMBDA_PER_H = RHO * C * MU_PER_H
SEED = 20261123
WARMUP_FRAC = 0.05
TARGETS = {"cpnsim/SimPy": (">=", 4.0), "cpnsim/ciw": (">=", 8.0), "heapq/cpnsim": ("<=", 2.5),
           "cpnsim-jobs/SimPy": (">=", 4.0), "cpnsim-jobs/ciw": (">=", 8.0)}

Run = tuple[int, float]
"""One simulation's result: (customers arrived, mean wait in hours after the warm-up)."""


@dataclass(frozen=True)
class Timing:
    """The fastest of several runs of one contestant."""

    name: str
    customers: int
    cpu_s: float
    customers_per_s: float
    wait_mean_h: float


def _draw(horizon_h: float, seed: int) -> tuple[list[float], list[float]]:
    """Poisson arrival times in ``[0, horizon_h)`` and exponential service times (h), as lists."""
    rng = np.random.default_rng(seed)
    expected = LAMBDA_PER_H * horizon_h
    t = np.cumsum(rng.exponential(1 / LAMBDA_PER_H, int(expected + 10 * math.sqrt(expected) + 10)))
    while t[-1] < horizon_h:  # never taken at the defaults (10 sigma of margin)
        t = np.concatenate([t, t[-1] + np.cumsum(rng.exponential(1 / LAMBDA_PER_H, 1000))])
    t = t[t < horizon_h]
    return t.tolist(), rng.exponential(1 / MU_PER_H, t.size).tolist()


def run_cpnsim(horizon_h: float, warmup_h: float, seed: int) -> Run:
    """The M/M/c scenario through the cpnsim engine (replication 0)."""
    row = run_replication(mmc_scenario(C, RHO, horizon_h=horizon_h, warmup_h=warmup_h, seed=seed), 0).runs_row
    return row["jobs_arrived"], row["wait_mean_h"]


def run_cpnsim_jobs(horizon_h: float, warmup_h: float, seed: int) -> Run:
    """The same scenario with every job recorded (``jobs_sample = 1``); the mean of the per-job waits.

    Waits of jobs that started after the warm-up, as for the other contestants.
    """
    loaded = mmc_scenario(C, RHO, horizon_h=horizon_h, warmup_h=warmup_h, seed=seed)
    loaded = LoadedScenario(loaded.scenario.model_copy(update={"jobs_sample": 1.0}), loaded.network, loaded.source)
    result = run_replication(loaded, 0)
    jobs = result.columns["jobs"]
    waits = [w for w, s in zip(jobs["wait_h"], jobs["start_h"], strict=True) if s is not None and s >= warmup_h]
    return result.runs_row["jobs_arrived"], sum(waits) / len(waits)


def run_simpy(horizon_h: float, warmup_h: float, seed: int) -> Run:
    """Idiomatic SimPy: a source, one process per customer, a ``Resource`` of ``C`` servers."""
    arrivals, services = _draw(horizon_h, seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=C)
    waits: list[float] = []

    def customer(service_h: float):
        arrived = env.now
        with servers.request() as request:
            yield request
            if env.now >= warmup_h:
                waits.append(env.now - arrived)
            yield env.timeout(service_h)

    def source():
        last = 0.0
        for t, service_h in zip(arrivals, services, strict=True):
            yield env.timeout(t - last)
            last = t
            env.process(customer(service_h))

    env.process(source())
    env.run(until=horizon_h)
    return len(arrivals), sum(waits) / len(waits)


def run_ciw(horizon_h: float, warmup_h: float, seed: int) -> Run:
    """ciw 3.x: one node of ``C`` servers; ciw draws its own exponentials."""
    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(LAMBDA_PER_H)],
        service_distributions=[ciw.dists.Exponential(MU_PER_H)],
        number_of_servers=[C],
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(horizon_h)
    waits = [r.waiting_time for r in sim.get_all_records() if r.service_start_date >= warmup_h]
    return sim.nodes[0].number_of_individuals, sum(waits) / len(waits)


def run_heapq(horizon_h: float, warmup_h: float, seed: int) -> Run:
    """A bare event loop: heap of ``(time, kind, index)``, FIFO deque, free-server count."""
    arrivals, services = _draw(horizon_h, seed)
    n = len(arrivals)
    heap: list[tuple[float, int, int]] = [(arrivals[0], 0, 0)]  # kind 0: arrival, 1: departure
    queue: deque[int] = deque()
    free = C
    waits: list[float] = []
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        now, kind, i = pop(heap)
        if now >= horizon_h:
            break
        if kind == 0:
            if free and not queue:
                free -= 1
                if now >= warmup_h:
                    waits.append(0.0)
                push(heap, (now + services[i], 1, i))
            else:
                queue.append(i)
            if i + 1 < n:
                push(heap, (arrivals[i + 1], 0, i + 1))
        elif queue:
            j = queue.popleft()
            if now >= warmup_h:
                waits.append(now - arrivals[j])
            push(heap, (now + services[j], 1, j))
        else:
            free += 1
    return n, sum(waits) / len(waits)


def cpu_s_of(run: Callable[[float, float, int], Run], horizon_h: float) -> tuple[float, Run]:
    """One timed run: CPU seconds of this process (``time.process_time``) and the run's result.

    CPU time, not wall time: every contestant is single-threaded, and on a shared machine
    the wall time mostly measures the neighbours.
    """
    t0 = time.process_time()
    result = run(horizon_h, WARMUP_FRAC * horizon_h, SEED)
    return time.process_time() - t0, result


def interleaved(contestants: Mapping[str, Callable[[float, float, int], Run]], horizon_h: float,
                rounds: int) -> tuple[dict[str, Timing], list[dict[str, float]]]:
    """Every contestant once per round, ``rounds`` rounds, same seed each time.

    Returns the fastest run of each contestant and each round's customers per CPU second by contestant.
    """
    per_round: list[dict[str, float]] = []
    best: dict[str, tuple[float, Run]] = {}
    for _ in range(rounds):
        this_round = {}
        for name, run in contestants.items():
            cpu_s, result = cpu_s_of(run, horizon_h)
            this_round[name] = result[0] / cpu_s
            if name not in best or cpu_s < best[name][0]:
                best[name] = (cpu_s, result)
        per_round.append(this_round)
    timings = {name: Timing(name, customers, cpu_s, customers / cpu_s, wait_h)
               for name, (cpu_s, (customers, wait_h)) in best.items()}
    return timings, per_round


RATIOS = {  # ratio name -> (numerator, denominator) of customers per CPU second
    "cpnsim/SimPy": ("cpnsim", "SimPy"),
    "cpnsim/ciw": ("cpnsim", "ciw"),
    "heapq/cpnsim": ("heapq", "cpnsim"),
    "cpnsim-jobs/SimPy": ("cpnsim-jobs", "SimPy"),
    "cpnsim-jobs/ciw": ("cpnsim-jobs", "ciw"),
}


def ratio_of(rate: Mapping[str, float], key: str) -> float:
    """Ratio ``key`` of customers per CPU second: numerator's rate over denominator's."""
    top, bottom = RATIOS[key]
    return rate[top] / rate[bottom]


def replication_ci(horizon_h: float, replications: int, level: float = 0.95) -> dict[str, object]:
    """cpnsim's mean wait over independent replications, with a t confidence interval."""
    loaded = mmc_scenario(C, RHO, horizon_h=horizon_h, warmup_h=WARMUP_FRAC * horizon_h, seed=SEED,
                          replications=replications)
    means = np.array([run_replication(loaded, r).runs_row["wait_mean_h"] for r in range(replications)])
    mean = float(means.mean())
    half = float(stats.t.ppf(0.5 + level / 2, replications - 1) * means.std(ddof=1) / math.sqrt(replications))
    return {"replications": replications, "level": level, "means_h": means.tolist(), "mean_h": mean,
            "low_h": mean - half, "high_h": mean + half}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and verdicts, write the JSON file; always returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000, help="expected customers per run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds (each runs every contestant once); the fastest run of each is kept")
    parser.add_argument("--replications", type=int, default=10, help="cpnsim replications for the CI")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("results.json"),
                        help="where to write the figures (default: benchmarks/results.json)")
    args = parser.parse_args(argv)

    horizon_h = args.customers / LAMBDA_PER_H
    erlang_h = mmc_mean_wait(C, LAMBDA_PER_H, MU_PER_H)
    print(f"M/M/{C}, rho={RHO}, lambda={LAMBDA_PER_H}/h, mu={MU_PER_H}/h, horizon {horizon_h:,.0f} h "
          f"(~{args.customers:,} customers), warm-up {WARMUP_FRAC * horizon_h:,.0f} h, best of {args.repeats}")
    contestants = {"cpnsim": run_cpnsim, "cpnsim-jobs": run_cpnsim_jobs, "SimPy": run_simpy, "ciw": run_ciw,
                   "heapq": run_heapq}
    timings, per_round = interleaved(contestants, horizon_h, args.repeats)
    print(f"\n{'contestant':<11} {'customers':>10} {'best CPU s':>12} {'customers/s':>12} "
          f"{'mean wait h':>12} {'Erlang C h':>11}")
    for t in timings.values():
        print(f"{t.name:<11} {t.customers:>10,} {t.cpu_s:>12.3f} {t.customers_per_s:>12,.0f} "
              f"{t.wait_mean_h:>12.4f} {erlang_h:>11.4f}")

    rate = {name: t.customers_per_s for name, t in timings.items()}
    ratios = {key: ratio_of(rate, key) for key in RATIOS}
    # Each round's own ratio (same round, same minute): the spread the best-of verdict stands on.
    round_ratios = {key: [ratio_of(round_rate, key) for round_rate in per_round] for key in RATIOS}
    met = {}
    print()
    for key, value in ratios.items():
        op, target = TARGETS[key]
        met[key] = value >= target if op == ">=" else value <= target
        spread = round_ratios[key]
        print(f"{key:<18} {value:6.2f}x  target {op} {target}x  {'met' if met[key] else 'NOT met':<8} "
              f"rounds {min(spread):.2f}-{max(spread):.2f}x")

    ci = replication_ci(horizon_h, args.replications)
    ci["erlang_c_inside"] = bool(ci["low_h"] <= erlang_h <= ci["high_h"])
    print(f"\ncpnsim, {args.replications} replications: mean wait {ci['mean_h']:.4f} h, "
          f"95% CI [{ci['low_h']:.4f}, {ci['high_h']:.4f}] h; Erlang C {erlang_h:.4f} h "
          f"{'inside' if ci['erlang_c_inside'] else 'OUTSIDE'}")

    figures = {
        "date": datetime.date.today().isoformat(),
        "queue": {"c": C, "rho": RHO, "lambda_per_h": LAMBDA_PER_H, "mu_per_h": MU_PER_H, "horizon_h": horizon_h,
                  "warmup_h": WARMUP_FRAC * horizon_h, "seed": SEED, "customers": args.customers,
                  "repeats": args.repeats},
        "erlang_c_wait_h": erlang_h,
        "timings": {name: asdict(t) for name, t in timings.items()},
        "ratios": ratios,
        "round_ratios": round_ratios,
        "targets": {key: f"{op} {target}" for key, (op, target) in TARGETS.items()},
        "targets_met": met,
        "confidence_interval": ci,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(), "build": compiled.describe()},
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                     "simpy": simpy.__version__, "ciw": ciw.__version__},
    }
    # Merge under "mmc": the other benchmarks (make bench) keep their keys in the same file.
    existing = {}
    if args.json.exists():
        try:
            existing = json.loads(args.json.read_text())
        except ValueError:
            existing = {}
    existing["mmc"] = figures
    args.json.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"figures merged into {args.json} (key 'mmc')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
