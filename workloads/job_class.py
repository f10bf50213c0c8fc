"""Job classes: what is asked of the network and how often."""

from __future__ import annotations

import math
from typing import Self

from pydantic import Field, model_validator

from topology.plumbing import StrictModel
from workloads.distributions import Constant, Distribution

__all__ = ["JobClass"]


class JobClass(StrictModel):
    """One class of AI work (``training``, ``finetune``, ``batch``, ...).

    Attributes
    ----------
    arrival_rate_per_h : float
        Poisson arrival rate of simulated jobs over the whole network, per hour.
    gpus : Distribution
        GPUs one job asks for (gang-allocated); continuous draws are rounded up.
    work_gpu_h : Distribution
        Work of one job in reference GPU-hours.
    origins : dict of str to float, optional
        Weight of each demand region as an origin; regions not named get no
        arrivals.  Default: every region's ``demand_weight``.
    latency_budget_ms : float, optional
        Round-trip latency budget between the origin region and the serving site, in
        ms.  ``None``: latency-tolerant work.  Policies that honour budgets
        (``edwc``) keep a job at sites within it.
    max_wait_h : float, optional
        Longest a job may wait for its GPUs, in hours; a job not started by then
        leaves unserved and is counted as **unmet** demand (serving blocks of
        inference).  ``None``: it waits as long as it takes.
    deadline_h : float, optional
        Hours after arrival by which the job should have started; placement policies
        use it to decide whether a distant, cheaper site is good enough.
    priority : int
        Queues at a site are served highest priority first (FIFO within a priority).
    checkpoint_interval_h : float, optional
        Hours of run time between checkpoints; an interrupted job restarts from its
        last checkpoint.  ``None``: it restarts from the beginning.
    input_gb : Distribution, optional
        Input data one job moves from its origin region to a site elsewhere before it
        starts, in GB (10^9 bytes).  ``None``: no transfer.
    scale : float
        Real jobs one simulated job stands for (> 0); totals are reported in real
        units by multiplying by it.
    """


    arrival_rate_per_h: float = Field(ge=0)
    gpus: Distribution = Constant(dist="constant", value=1)
    work_gpu_h: Distribution
    origins: dict[str, float] | None = None
    latency_budget_ms: float | None = Field(default=None, gt=0)
    max_wait_h: float | None = Field(default=None, ge=0)
    deadline_h: float | None = Field(default=None, gt=0)
    priority: int = 0
    checkpoint_interval_h: float | None = Field(default=None, gt=0)
    input_gb: Distribution | None = None
    scale: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _bounded_gpus(self) -> Self:
        if not math.isfinite(self.gpus.upper()):
            raise ValueError(f"gpus: a {self.gpus.dist} distribution without 'max' is unbounded; set 'max'")
        return self

    def max_gpus(self) -> int:
        """The largest GPU count a job of this class can ask for."""
        return math.ceil(self.gpus.upper())
