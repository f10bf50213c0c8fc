"""Job classes: what is asked of the network and how often."""

from __future__ import annotations

import math
from typing import Annotated, Self

from pydantic import Field, model_validator

from topology.limits import MAX_HORIZON_H, MAX_PRIORITY, MAX_RATE_PER_H, MAX_SCALE, MAX_WEIGHT
from topology.plumbing import StrictModel
from topology.residency import DataKind
from workloads.distributions import Constant, Distribution

__all__ = ["MAX_JOB_GPUS", "MAX_LATENCY_BUDGET_MS", "JobClass"]

MAX_JOB_GPUS = 10_000_000
"""Most GPUs one job may ask for (GPU counts are int64 in the engine)."""
MAX_LATENCY_BUDGET_MS = 1e6
"""Longest latency budget, ms (no route on Earth is slower than a few hundred ms)."""


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
    latency_budget_one_way_ms : float, optional
        The same budget stated one way, in ms, for requirements published as one-way
        latency (the EDWC "20 ms" between east and west): it sets ``latency_budget_ms``
        to twice its value.  Give one of the two (or both, consistent).
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
    result_gb : Distribution, optional
        Result data one job sends back from a site elsewhere to its origin region when it
        finishes, in GB; it moves over the same route as the input (``links``,
        ``transfer_cost_cny``).  ``None``: nothing returns.
    data_kind : {"none", "personal", "important"}
        What data the class's jobs carry; with ``personal`` or ``important`` the
        residency rules of the origin's country (:mod:`topology.residency`) decide the
        sites a job may run at and the countries its input may cross.  ``none``
        (default): no rule applies.
    skus : tuple of str, optional
        The accelerator SKUs (a site's ``sku``: catalogue ids of :mod:`topology.chips`, or
        a network's own names) the class's jobs may run on, e.g. a training class that
        needs a given interconnect or memory; sites of other SKUs are not admissible
        (:mod:`sim.placement.residency`).  ``None`` (default): any SKU.
    """

    arrival_rate_per_h: float = Field(ge=0, le=MAX_RATE_PER_H)
    gpus: Distribution = Constant(dist="constant", value=1)
    work_gpu_h: Distribution
    origins: dict[str, Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] | None = None
    latency_budget_ms: float | None = Field(default=None, gt=0, le=MAX_LATENCY_BUDGET_MS)
    max_wait_h: float | None = Field(default=None, ge=0, le=MAX_HORIZON_H)
    deadline_h: float | None = Field(default=None, gt=0, le=MAX_HORIZON_H)
    priority: int = Field(default=0, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    checkpoint_interval_h: float | None = Field(default=None, gt=0, le=MAX_HORIZON_H)
    input_gb: Distribution | None = None
    scale: float = Field(default=1.0, gt=0, le=MAX_SCALE)
    # Keys added later are dumped only when set, so the scenario id (a digest of the dump) of a
    # scenario that does not use them stays what it was.
    data_kind: DataKind = Field(default="none", exclude_if=lambda value: value == "none")
    result_gb: Distribution | None = Field(default=None, exclude_if=lambda value: value is None)
    latency_budget_one_way_ms: float | None = Field(default=None, gt=0, le=MAX_LATENCY_BUDGET_MS / 2,
                                                    exclude_if=lambda value: value is None)
    skus: tuple[Annotated[str, Field(min_length=1)], ...] | None = Field(default=None, min_length=1,
                                                                        exclude_if=lambda value: value is None)

    @model_validator(mode="before")
    @classmethod
    def _round_trip_from_one_way(cls, data: object) -> object:
        # A one-way budget is kept as given and turned into the round trip placement compares with.
        if not isinstance(data, dict) or data.get("latency_budget_one_way_ms") is None:
            return data
        one_way = data["latency_budget_one_way_ms"]
        if not isinstance(one_way, int | float) or isinstance(one_way, bool):
            return data  # the field's own validation names the bad value
        given = data.get("latency_budget_ms")
        if given is not None and not isinstance(given, int | float):
            return data  # not a number: the field's own validation names the bad value
        if given is not None and given != 2 * one_way:
            raise ValueError(f"latency_budget_ms: {given:g} ms is not the round trip of latency_budget_one_way_ms "
                             f"= {one_way:g} ms; give one of them")
        return {**data, "latency_budget_ms": 2.0 * one_way}

    @model_validator(mode="after")
    def _bounded_gpus(self) -> Self:
        if not math.isfinite(self.gpus.upper()):
            raise ValueError(f"gpus: a {self.gpus.dist} distribution without 'max' is unbounded; set 'max'")
        if self.gpus.upper() > MAX_JOB_GPUS:
            raise ValueError(f"gpus: a job may ask for at most {MAX_JOB_GPUS:,} GPUs, got up to {self.gpus.upper():g}")
        return self

    def max_gpus(self) -> int:
        """The largest GPU count a job of this class can ask for."""
        return math.ceil(self.gpus.upper())

    def min_gpus(self) -> int:
        """The smallest GPU count a job of this class can ask for (draws round up, to at least 1)."""
        return max(1, math.ceil(self.gpus.lower()))
