"""Adoption-driven arrivals with common random numbers: a time-changed unit Poisson process per stream.

The arrivals of one (class, region) stream are the points of a unit-rate Poisson process
S_1 < S_2 < ... (cumulative sums of Exp(1) draws) mapped through the integrated rate
Λ(t) = ∫ λ: job j arrives when Λ(t) = S_j, with the j-th size drawn for it.  A
different rate path moves the arrival times but keeps job j the same job; a higher rate
path gives every job earlier and adds jobs at the end.  Two runs that differ only in
capacity therefore see the same jobs until their adoption paths diverge, and the
divergence is smooth, which is what makes the capacity → adoption response monotone
in practice rather than buried in sampling noise.

Draws are made in fixed-size blocks (gaps, then GPUs, then work) so the j-th job's
values never depend on how the rate path consumed the stream.
"""

from __future__ import annotations

import numpy as np

from workloads.arrivals import ArrivalBatch
from workloads.job_class import JobClass

__all__ = ["BLOCK", "TimeChangedStream"]

BLOCK = 1024
"""Jobs drawn per block of a stream."""


class TimeChangedStream:
    """One (class, region) stream of adoption-driven arrivals.

    Parameters
    ----------
    job_class : JobClass
        Sizes are drawn from its distributions.
    cls_index, origin : int
        Written into the batches.
    rng : numpy.random.Generator
        This stream's generator (used only here).
    """

    __slots__ = (
        "_gpus", "_last", "_s", "_work", "cls_index", "issued", "issued_work_gpu_h", "job_class", "level", "next_j",
        "origin", "rng",
    )

    def __init__(self, job_class: JobClass, cls_index: int, origin: int, rng: np.random.Generator) -> None:
        self.job_class = job_class
        self.cls_index = cls_index
        self.origin = origin
        self.rng = rng
        self.level = 0.0  # Λ at the end of the last step served
        self.next_j = 0  # index of the next job in the buffers
        self.issued = 0  # jobs returned so far
        self.issued_work_gpu_h = 0.0  # their work, reference GPU-h
        self._s = np.empty(0)  # thresholds S_j drawn and not yet dropped
        self._last = 0.0  # the last threshold drawn
        self._gpus = np.empty(0, np.int64)
        self._work = np.empty(0)

    def _draw_block(self) -> None:
        rng = self.rng
        gaps = rng.exponential(1.0, BLOCK)
        gpus = np.maximum(1, np.ceil(self.job_class.gpus.sample(rng, BLOCK))).astype(np.int64)
        work = self.job_class.work_gpu_h.sample(rng, BLOCK)
        thresholds = self._last + np.cumsum(gaps)
        self._last = float(thresholds[-1])
        self._s = np.concatenate([self._s, thresholds])
        self._gpus = np.concatenate([self._gpus, gpus])
        self._work = np.concatenate([self._work, work])

    def arrivals(self, rate_per_h: float, t0_h: float, t1_h: float) -> ArrivalBatch:
        """The stream's arrivals in ``[t0_h, t1_h)`` at the constant rate ``rate_per_h`` (>= 0)."""
        end = self.level + rate_per_h * (t1_h - t0_h)
        while self._last <= end:
            self._draw_block()
        j0 = self.next_j
        j1 = int(np.searchsorted(self._s, end, side="left"))  # thresholds strictly below end
        j1 = max(j1, j0)
        if rate_per_h > 0 and j1 > j0:
            t = t0_h + (self._s[j0:j1] - self.level) / rate_per_h
            t = np.minimum(t, np.nextafter(t1_h, t0_h))  # rounding must not push one past the step
        else:
            t = np.empty(0)
        n = t.shape[0]
        batch = ArrivalBatch(t, np.full(n, self.cls_index, np.int64), self._gpus[j0:j1].copy(),
                             self._work[j0:j1].copy(), np.full(n, self.origin, np.int64))
        self.level = end
        self.next_j = j1
        self.issued += n
        self.issued_work_gpu_h += float(batch.work_gpu_h.sum())
        # Drop consumed draws now and then so memory stays bounded.
        if j1 >= 4 * BLOCK:
            self._s, self._gpus, self._work = self._s[j1:], self._gpus[j1:], self._work[j1:]
            self.next_j = 0
        return batch
