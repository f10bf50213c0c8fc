"""Sampling designs for the sampled axes of a sweep: random, Latin hypercube and Sobol.

One design of ``samples`` points is drawn jointly over all sampled axes (so a Latin
hypercube stays a Latin hypercube in every dimension), from a generator seeded by the
sweep seed alone: the same spec gives the same points on every machine.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SAMPLING_METHODS", "Range", "saltelli_points", "sample_points"]

SAMPLING_METHODS = ("random", "latin_hypercube", "sobol")
_STREAM = 0x5EE9  # spawn key of the design's stream, apart from any scenario stream


@dataclass(frozen=True)
class Range:
    """The range of one sampled axis.

    Attributes
    ----------
    low, high : float
        Bounds in the key's own unit (``low < high``).
    integer : bool
        Round to integers, clipped to ``[ceil(low), floor(high)]``.
    """

    low: float
    high: float
    integer: bool = False

    def scale(self, u: float) -> float | int:
        """The value at fraction ``u`` in [0, 1) of the range."""
        value = self.low + u * (self.high - self.low)
        if self.integer:
            return int(min(max(round(value), math.ceil(self.low)), math.floor(self.high)))
        return value


def unit_design(method: str, samples: int, dims: int, seed: int) -> np.ndarray:
    """``samples`` points in the unit cube [0, 1)^dims.

    Parameters
    ----------
    method : {"random", "latin_hypercube", "sobol"}
        Independent uniforms, a Latin hypercube, or a scrambled Sobol sequence.
    samples, dims : int
        Number of points and of dimensions (both >= 1).
    seed : int
        The sweep seed.
    """
    if method not in SAMPLING_METHODS:
        raise ValueError(f"unknown sampling method {method!r}; choose one of {', '.join(SAMPLING_METHODS)}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, _STREAM]))
    if method == "random":
        return rng.random((samples, dims))
    from scipy.stats import qmc  # deferred: scipy.stats takes ~0.5 s to import

    if method == "latin_hypercube":
        points: np.ndarray = qmc.LatinHypercube(d=dims, seed=rng).random(samples)
        return points
    with warnings.catch_warnings():  # "balance properties ... require n = 2**m": the user chose n.
        warnings.simplefilter("ignore", UserWarning)
        points = qmc.Sobol(d=dims, scramble=True, seed=rng).random(samples)
    return points


def sample_points(method: str, samples: int, ranges: Sequence[Range], seed: int) -> list[list[float | int]]:
    """A joint design over ``ranges``: ``samples`` rows of one value per range.

    Examples
    --------
    >>> rows = sample_points("latin_hypercube", 4, [Range(0.0, 1.0), Range(1, 8, integer=True)], seed=1)
    >>> len(rows), sorted(int(r[0] * 4) for r in rows)  # one point in each quarter of the first axis
    (4, [0, 1, 2, 3])
    >>> all(isinstance(r[1], int) and 1 <= r[1] <= 8 for r in rows)
    True
    """
    unit = unit_design(method, samples, len(ranges), seed)
    return [[r.scale(float(u)) for r, u in zip(ranges, point, strict=True)] for point in unit]


def saltelli_points(
    samples: int, ranges: Sequence[Range], seed: int, second_order: bool = False
) -> list[list[float | int]]:
    """SALib's Saltelli design for Sobol' indices over ``ranges``, in SALib's row order.

    ``samples`` base points (N) give ``N * (D + 2)`` rows, or ``N * (2 D + 2)`` with
    ``second_order``, for D ranges: for base point j, rows ``j * step ... (j + 1) * step - 1``
    are A_j, then A_j with column i from B_j for each i (and, with ``second_order``, B_j with
    column i from A_j), then B_j.  :func:`SALib.analyze.sobol.analyze` expects the outputs in
    exactly this order.  The scrambled Sobol' sequence is seeded from the sweep seed.

    Examples
    --------
    >>> rows = saltelli_points(4, [Range(0.0, 1.0), Range(10.0, 20.0)], seed=1)
    >>> len(rows), rows[1][1] == rows[0][1], rows[1][0] == rows[3][0]  # AB_1 = A with column 0 of B
    (16, True, True)
    """
    from SALib.sample import sobol as salib_sobol  # deferred: SALib imports pandas

    problem = {"num_vars": len(ranges), "names": [f"x{i}" for i in range(len(ranges))],
               "bounds": [[0.0, 1.0]] * len(ranges)}
    seq_seed = int(np.random.SeedSequence([seed, _STREAM]).generate_state(1)[0])
    unit = salib_sobol.sample(problem, samples, calc_second_order=second_order, scramble=True, seed=seq_seed)
    return [[r.scale(float(u)) for r, u in zip(ranges, point, strict=True)] for point in unit]
