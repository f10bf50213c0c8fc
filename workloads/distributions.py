"""Size distributions for job classes, sampled in vectorised batches.

Each distribution is a small frozen pydantic model tagged by ``dist``; in TOML::

    work_gpu_h = { dist = "lognormal", median = 200.0, sigma = 1.0 }
    gpus = { dist = "choice", values = [8, 16, 32, 64], weights = [4, 3, 2, 1] }

Units are those of the field the distribution is attached to (``work_gpu_h`` is in
reference GPU-hours, ``gpus`` is a count).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Self

import numpy as np
from pydantic import Field, model_validator

from topology.limits import MAX_SIZE, MAX_WEIGHT
from topology.plumbing import StrictModel

__all__ = [
    "Choice",
    "Constant",
    "Distribution",
    "Exponential",
    "LogNormal",
    "Pareto",
    "Uniform",
]

MAX_LOG_SIGMA = 10.0
"""Largest log-space sigma: exp(sigma * z) overflows float64 near sigma = 90 for the draws numpy makes."""
MIN_PARETO_ALPHA, MAX_PARETO_ALPHA = 0.1, 1e3
"""Tail index bounds: below 0.1 draws overflow to inf (U ** (-1 / alpha)); above 1e3 it is a constant."""


class _Dist(StrictModel):

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover - abstract
        """Draw ``n`` values as a float64 array."""
        raise NotImplementedError

    def expected(self) -> float:  # pragma: no cover - abstract
        """The analytic mean (``inf`` where it does not exist)."""
        raise NotImplementedError

    def upper(self) -> float:
        """The largest value the distribution can return (``inf`` if unbounded)."""
        return math.inf

    def lower(self) -> float:
        """The smallest value the distribution can return (0 where its support reaches down to 0)."""
        return 0.0


class Constant(_Dist):
    """Always ``value``."""

    dist: Literal["constant"]
    value: float = Field(gt=0, le=MAX_SIZE)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values (all equal; ``rng`` is not advanced)."""
        return np.full(n, self.value)

    def expected(self) -> float:
        """``value``."""
        return self.value

    def upper(self) -> float:
        """``value``."""
        return self.value

    def lower(self) -> float:
        """``value``."""
        return self.value


class Exponential(_Dist):
    """Exponential with the given ``mean``."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0, le=MAX_SIZE)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        return rng.exponential(self.mean, n)

    def expected(self) -> float:
        """The mean."""
        return self.mean


class LogNormal(_Dist):
    """Log-normal with ``median`` (= exp(mu)) and log-space standard deviation ``sigma``.

    ``max`` (optional) truncates by clipping, to keep a heavy tail finite.
    """

    dist: Literal["lognormal"]
    median: float = Field(gt=0, le=MAX_SIZE)
    sigma: float = Field(ge=0, le=MAX_LOG_SIGMA)
    max: float | None = Field(default=None, gt=0, le=MAX_SIZE)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        x = rng.lognormal(math.log(self.median), self.sigma, n)
        return np.minimum(x, self.max) if self.max is not None else x

    def expected(self) -> float:
        """The mean of the untruncated distribution, ``median * exp(sigma² / 2)``."""
        return self.median * math.exp(self.sigma**2 / 2)

    def upper(self) -> float:
        """``max`` or ``inf``."""
        return self.max if self.max is not None else math.inf


class Pareto(_Dist):
    """Pareto (type I) with minimum ``min`` and tail index ``alpha``; optional clip at ``max``."""

    dist: Literal["pareto"]
    min: float = Field(gt=0, le=MAX_SIZE)
    alpha: float = Field(ge=MIN_PARETO_ALPHA, le=MAX_PARETO_ALPHA)
    max: float | None = Field(default=None, gt=0, le=MAX_SIZE)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        x = self.min * (1.0 + rng.pareto(self.alpha, n))
        return np.minimum(x, self.max) if self.max is not None else x

    def expected(self) -> float:
        """``alpha * min / (alpha - 1)`` for alpha > 1, else ``inf`` (untruncated)."""
        return self.alpha * self.min / (self.alpha - 1) if self.alpha > 1 else math.inf

    def upper(self) -> float:
        """``max`` or ``inf``."""
        return self.max if self.max is not None else math.inf

    def lower(self) -> float:
        """``min``, or ``max`` when the clip lies below it."""
        return min(self.min, self.max) if self.max is not None else self.min


class Uniform(_Dist):
    """Uniform on ``[low, high]``."""

    dist: Literal["uniform"]
    low: float = Field(gt=0, le=MAX_SIZE)
    high: float = Field(gt=0, le=MAX_SIZE)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.high < self.low:
            raise ValueError(f"high: must be >= low (={self.low:g}), got {self.high:g}")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        return rng.uniform(self.low, self.high, n)

    def expected(self) -> float:
        """``(low + high) / 2``."""
        return (self.low + self.high) / 2

    def upper(self) -> float:
        """``high``."""
        return self.high

    def lower(self) -> float:
        """``low``."""
        return self.low


class Choice(_Dist):
    """One of ``values`` with probabilities proportional to ``weights`` (default equal)."""

    dist: Literal["choice"]
    values: tuple[float, ...] = Field(min_length=1)
    weights: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not all(0 < v <= MAX_SIZE for v in self.values):
            raise ValueError(f"values: must be > 0 and <= {MAX_SIZE:g}, got {list(self.values)}")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"weights: {len(self.weights)} entries but values has {len(self.values)}")
            if not all(0 <= w <= MAX_WEIGHT for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError(f"weights: must be >= 0 and <= {MAX_WEIGHT:g} and sum to > 0, "
                                 f"got {list(self.weights)}")
        return self

    def _p(self) -> np.ndarray:
        w: np.ndarray = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.values), float)
        p: np.ndarray = w / float(w.sum())
        return p

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        values: np.ndarray = np.asarray(self.values, float)
        drawn: np.ndarray = values[rng.choice(len(self.values), size=n, p=self._p())]
        return drawn

    def expected(self) -> float:
        """The weighted mean of ``values``."""
        return float(np.dot(self._p(), self.values))

    def upper(self) -> float:
        """The largest value with positive weight."""
        return float(max(v for v, p in zip(self.values, self._p(), strict=True) if p > 0))

    def lower(self) -> float:
        """The smallest value with positive weight."""
        return float(min(v for v, p in zip(self.values, self._p(), strict=True) if p > 0))


Distribution = Annotated[
    Constant | Exponential | LogNormal | Pareto | Uniform | Choice,
    Field(discriminator="dist"),
]
