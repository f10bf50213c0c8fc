"""Analytic checks run through the real engine (``cpnsim validate``).

* **Erlang C** — M/M/c mean wait in queue for several (c, ρ): pass when the closed
  form lies inside the confidence interval of independent replications' means.
* **Little's law** — L_q − λ·W_q over the measurement window: pass when 0 lies inside
  the confidence interval of the replications.
* **Conservation** — identities between independently kept books on a multi-class,
  multi-site scenario: jobs in = done + queued + running + rejected; GPU-hours busy =
  GPU-hours of finished jobs + GPU-hours of running jobs; the ``sites`` table sums to
  the ``runs`` totals.  These are exact up to floating-point rounding.

Confidence intervals are Student-t intervals over replications, with a Bonferroni
correction over the statistical checks so that the chance of any false failure in
the whole suite is at most ``alpha`` (default 1 %).  See ``docs/validation.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sim.queueing import mmc_mean_wait, mmc_scenario
from sim.run import run_replication, run_scenario
from sim.scenario import LoadedScenario, load_scenario

__all__ = ["MMC_CASES", "Check", "conservation_checks", "mmc_checks", "run_validation", "t_interval"]

MMC_CASES: tuple[tuple[int, float], ...] = ((1, 0.5), (1, 0.95), (8, 0.5), (8, 0.9), (64, 0.8), (64, 0.95))
"""(GPUs c, utilisation ρ) of the M/M/c checks."""

_FP_RTOL = 1e-9  # floating-point rounding allowance of the exact identities


@dataclass(frozen=True)
class Check:
    """One validation check: what theory says, what the engine gave, and the verdict.

    Attributes
    ----------
    name : str
        What is checked, with its parameters.
    expected : float
        The independent truth (closed form, or the other side of an identity).
    observed : float
        What the simulation gave (mean over replications for statistical checks).
    ci_low, ci_high : float
        Confidence interval of ``observed`` (statistical checks) or the rounding
        band around it (identities).
    passed : bool
        ``ci_low <= expected <= ci_high``.
    unit : str
        Unit of the three numbers.
    """

    name: str
    expected: float
    observed: float
    ci_low: float
    ci_high: float
    passed: bool
    unit: str

    def as_json(self) -> dict[str, Any]:
        """The check as a JSON-ready dict (``pass`` rather than ``passed``)."""
        out = asdict(self)
        out["pass"] = out.pop("passed")
        return out


def t_interval(samples: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of ``samples``.

    Examples
    --------
    >>> m, lo, hi = t_interval(np.array([1.0, 2.0, 3.0]), 0.95)
    >>> m, round(lo, 3), round(hi, 3)
    (2.0, -0.484, 4.484)
    """
    from scipy import stats  # deferred: scipy.stats costs 0.4 s to import, and only validation needs it

    n = samples.size
    mean = float(samples.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * samples.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def _mmc_plan(c: int, rho: float, quick: bool) -> tuple[float, float]:
    """Warm-up and horizon (h) for one case, with μ = 1 per hour."""
    lam = rho * c
    # Relaxation time of M/M/c near heavy traffic ~ 1 / (c μ (1 - sqrt ρ)²); ten of them
    # leave an initial-state bias of order e^-10, far inside any interval here.
    warmup = 10.0 / (c * (1 - math.sqrt(rho)) ** 2)
    customers = (40_000 if rho >= 0.9 else 10_000) if quick else (200_000 if rho >= 0.9 else 50_000)
    return warmup, warmup + customers / lam


def mmc_checks(
    *,
    replications: int,
    seed: int,
    confidence: float,
    quick: bool,
    progress: Callable[[str], None] | None = None,
) -> list[Check]:
    """Erlang C and Little's-law checks for every case in :data:`MMC_CASES`."""
    checks = []
    for c, rho in MMC_CASES:
        if progress:
            progress(f"M/M/{c} rho={rho}")
        warmup, horizon = _mmc_plan(c, rho, quick)
        loaded = mmc_scenario(c, rho, horizon_h=horizon, warmup_h=warmup, seed=seed, arrival_step_h=500.0)
        rows = [run_replication(loaded, r).runs_row for r in range(replications)]
        waits = np.array([row["wait_mean_h"] for row in rows])
        mean, lo, hi = t_interval(waits, confidence)
        truth = mmc_mean_wait(c, rho * c, 1.0)
        checks.append(Check(f"erlang_c_wait c={c} rho={rho}", truth, mean, lo, hi, lo <= truth <= hi, "h"))
        little = np.array([row["queue_len_mean"] - row["arrival_rate_per_h"] * row["wait_mean_h"] for row in rows])
        mean, lo, hi = t_interval(little, confidence)
        checks.append(Check(f"little_law Lq-lambda*Wq c={c} rho={rho}", 0.0, mean, lo, hi, lo <= 0.0 <= hi, "jobs"))
    return checks


def _identity(name: str, expected: float, observed: float, unit: str) -> Check:
    band = _FP_RTOL * max(1.0, abs(expected), abs(observed))
    return Check(name, expected, observed, observed - band, observed + band, abs(expected - observed) <= band, unit)


def conservation_checks(loaded: LoadedScenario) -> list[Check]:
    """Exact identities on one run of ``loaded`` (all classes, all sites)."""
    result = run_scenario(loaded)
    rep = result.replications[0]
    model = rep.model
    pools = model.pools
    horizon = loaded.scenario.horizon_h
    arrived = float(model.jobs_arrived)
    outcomes = [p.outcome(horizon) for p in pools]
    accounted = float(
        sum(p.finished for p in pools) + sum(p.queue_length() for p in pools)
        + sum(len(p.running) for p in pools) + model.jobs_rejected
        + sum(o.unmet + o.failed for o in outcomes) + model.transfers.in_flight
    )
    busy = sum(p.busy_area for p in pools)  # integrated at every state change
    served = sum(p.done_gpu_h + p.running_gpu_h(horizon) for p in pools)  # from job records
    sites = result.sites.to_pydict()
    runs = result.runs.to_pylist()[0]
    return [
        _identity("conservation jobs: arrived = done + failed + unmet + rejected + queued + running + in transfer",
                  arrived, accounted, "jobs"),
        _identity("conservation GPU-h: integrated busy = useful + lost", busy,
                  sum(o.useful_gpu_h + o.lost_gpu_h for o in outcomes), "GPU-h"),
        _identity("conservation GPU-h: integrated busy = finished + running jobs' GPU-h", busy, served, "GPU-h"),
        _identity("conservation energy: runs total = sum of sites intervals",
                  runs["energy_mwh"], float(sum(sites["energy_mwh"])), "MWh"),
        _identity("conservation starts: runs jobs_started = sum of sites intervals",
                  float(runs["jobs_started"]), float(sum(sites["jobs_started"])), "jobs"),
    ]


def run_validation(
    *,
    seed: int = 20261123,
    replications: int = 10,
    alpha: float = 0.01,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Check]:
    """Run every check.

    Parameters
    ----------
    seed : int
        Root seed of the replications.
    replications : int
        Independent replications per M/M/c case (>= 2).
    alpha : float
        Family-wise error rate: each of the k statistical checks uses confidence
        ``1 - alpha / k`` (Bonferroni).
    quick : bool
        Fewer customers per replication (wider intervals, same validity).
    progress : callable, optional
        Called with a short label before each case.
    """
    if replications < 2:
        raise ValueError(f"replications (={replications}) must be >= 2 for a confidence interval")
    k = 2 * len(MMC_CASES)
    checks = mmc_checks(replications=replications, seed=seed, confidence=1 - alpha / k, quick=quick,
                        progress=progress)
    if progress:
        progress("conservation")
    checks += conservation_checks(load_scenario(seed=seed))
    return checks
