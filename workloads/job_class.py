"""Job classes: what is asked of the network and how often."""

from __future__ import annotations

import math
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workloads.distributions import Constant, Distribution

__all__ = ["JobClass"]


class JobClass(BaseModel):
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
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    arrival_rate_per_h: float = Field(ge=0)
    gpus: Distribution = Constant(dist="constant", value=1)
    work_gpu_h: Distribution
    origins: dict[str, float] | None = None

    @model_validator(mode="after")
    def _bounded_gpus(self) -> Self:
        if not math.isfinite(self.gpus.upper()):
            raise ValueError(f"gpus: a {self.gpus.dist} distribution without 'max' is unbounded; set 'max'")
        return self

    def max_gpus(self) -> int:
        """The largest GPU count a job of this class can ask for."""
        return math.ceil(self.gpus.upper())
