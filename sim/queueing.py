"""Closed-form M/M/c results and the M/M/c scenario they are checked against.

Used by ``cpnsim validate`` and ``benchmarks/mmc.py``: the scenario is an ordinary
:class:`~sim.config.Scenario` (one site of ``c`` GPUs, one region, 1-GPU jobs with
exponential work) run through the real engine.
"""

from __future__ import annotations

from sim.scenario import LoadedScenario, scenario_from_dict
from topology.model import Link, Network, Region, Site

__all__ = ["erlang_b", "erlang_c", "mmc_mean_queue", "mmc_mean_wait", "mmc_scenario"]


def erlang_b(c: int, offered_load: float) -> float:
    """Erlang B blocking probability for ``c`` servers and offered load ``a = λ/μ``.

    Uses the stable recurrence B(0) = 1, B(k) = a·B(k-1) / (k + a·B(k-1)).

    Examples
    --------
    >>> round(erlang_b(1, 1.0), 6)
    0.5
    """
    b = 1.0
    for k in range(1, c + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


def erlang_c(c: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C), for ``a = λ/μ < c``.

    Examples
    --------
    >>> erlang_c(1, 0.5)  # M/M/1: P(wait) = rho
    0.5
    """
    if not 0 <= offered_load < c:
        raise ValueError(f"offered load (={offered_load}) must be in [0, c={c}) for a stable queue")
    b = erlang_b(c, offered_load)
    rho = offered_load / c
    return b / (1 - rho + rho * b)


def mmc_mean_wait(c: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue W_q = C(c, a) / (c·μ − λ), in the time unit of the rates.

    Examples
    --------
    >>> round(mmc_mean_wait(1, 0.9, 1.0), 6)  # rho / (mu - lambda)
    9.0
    """
    return erlang_c(c, arrival_rate / service_rate) / (c * service_rate - arrival_rate)


def mmc_mean_queue(c: int, arrival_rate: float, service_rate: float) -> float:
    """Mean number waiting L_q = λ·W_q (Little's law)."""
    return arrival_rate * mmc_mean_wait(c, arrival_rate, service_rate)


def mmc_scenario(
    c: int,
    rho: float,
    *,
    service_rate_per_h: float = 1.0,
    horizon_h: float = 10_000.0,
    warmup_h: float = 0.0,
    seed: int = 1,
    replications: int = 1,
    arrival_step_h: float = 1000.0,
) -> LoadedScenario:
    """An M/M/c queue as a cpnsim scenario: one site of ``c`` GPUs, 1-GPU jobs.

    Parameters
    ----------
    c : int
        GPUs (servers).
    rho : float
        Utilisation λ / (c·μ), in (0, 1).
    service_rate_per_h : float
        μ: jobs one GPU completes per hour (work is exponential with mean 1/μ GPU-h).
    horizon_h, warmup_h : float
        Run length and warm-up, hours.
    seed, replications : int
        As in :class:`~sim.config.Scenario`.
    arrival_step_h : float
        Hours of arrivals drawn per vectorised batch.
    """
    network = Network(
        name=f"mmc-{c}",
        site=(Site(id="site", lat=0.0, lon=0.0, gpus=c),),
        region=(Region(id="region", lat=0.0, lon=0.0),),
        link=(Link(id="access", a="region", b="site"),),
    )
    data = {
        "name": f"M/M/{c} rho={rho}",
        "network": network.name,
        "policy": "nearest",
        "horizon_h": horizon_h,
        "warmup_h": warmup_h,
        "metric_interval_h": horizon_h,
        "seed": seed,
        "replications": replications,
        "engine": {"arrival_step_h": arrival_step_h},
        "workload": {
            "mm": {
                "arrival_rate_per_h": rho * c * service_rate_per_h,
                "gpus": {"dist": "constant", "value": 1},
                "work_gpu_h": {"dist": "exponential", "mean": 1.0 / service_rate_per_h},
            }
        },
    }
    return LoadedScenario(scenario_from_dict(data, "<mmc_scenario>"), network, "<mmc_scenario>")
