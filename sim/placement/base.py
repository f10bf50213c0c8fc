"""What every placement policy sees (:class:`PlacementContext`) and the base class of policies (:class:`Policy`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.pool import Pool
from topology.model import Network
from workloads.job_class import JobClass

__all__ = ["REJECT", "PlacementContext", "Policy"]

REJECT = -1
"""Returned by :meth:`Policy.choose` when no site can ever run the job."""


@dataclass(frozen=True)
class PlacementContext:
    """The network as a policy sees it.

    Attributes
    ----------
    network : Network
        Sites, regions and links.
    pools : sequence of Pool
        Live state of every site (free GPUs, queue), in network order.
    latency_ms : numpy.ndarray
        One-way latency from each region (rows) to each site (columns), ms; ``inf``
        where there is no path.
    classes : tuple of JobClass
        The job classes by class index (the ``cls`` given to :meth:`Policy.choose`);
        policies that read budgets or deadlines (``edwc``) need them.
    """

    network: Network
    pools: Sequence[Pool]
    latency_ms: np.ndarray
    classes: tuple[JobClass, ...] = ()


class Policy:
    """A placement policy: picks the site for each arriving job.

    Subclasses fill :meth:`choose` and are picked by the name given to
    :func:`sim.placement.register_policy` (the built-in ones under their ``name``).
    """

    name = ""

    def __init__(self, context: PlacementContext) -> None:
        self.context = context
        self.pools = context.pools
        # Reachable sites per region, nearest first (ties by site order).
        self.by_latency: list[list[int]] = [
            [int(j) for j in np.argsort(row, kind="stable") if np.isfinite(row[j])]
            for row in context.latency_ms
        ]

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """Index of the site for a job from region ``origin`` asking for ``gpus`` GPUs.

        Returns :data:`REJECT` when no reachable site has that many GPUs.
        """
        raise NotImplementedError
