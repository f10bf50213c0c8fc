"""Replaying a pre-made arrival stream a step at a time."""

from __future__ import annotations

import numpy as np

from workloads.arrivals import ArrivalBatch

__all__ = ["window"]


def window(batch: ArrivalBatch, t0_h: float, t1_h: float) -> ArrivalBatch:
    """The arrivals of ``batch`` (sorted by time) in ``[t0_h, t1_h)``, as views, not copies.

    Examples
    --------
    >>> b = ArrivalBatch(np.array([0.0, 1.0, 2.0]), np.zeros(3, np.int64), np.ones(3, np.int64),
    ...                  np.ones(3), np.zeros(3, np.int64))
    >>> window(b, 1.0, 2.0).t_h.tolist()
    [1.0]
    """
    lo, hi = (int(i) for i in np.searchsorted(batch.t_h, (t0_h, t1_h), side="left"))
    return ArrivalBatch(batch.t_h[lo:hi], batch.cls[lo:hi], batch.gpus[lo:hi], batch.work_gpu_h[lo:hi],
                        batch.origin[lo:hi])
