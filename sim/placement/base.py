"""What every placement policy sees (:class:`PlacementContext`) and the base class of policies (:class:`Policy`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

import numpy as np

from sim.site import GpuPool
from topology.model import Network
from workloads.job_class import JobClass

__all__ = ["REJECT", "PlacementContext", "Policy"]

REJECT: Final = -1
"""Returned by :meth:`Policy.choose` when no site can ever run the job."""


@dataclass(frozen=True)
class PlacementContext:
    """The network as a policy sees it.

    Attributes
    ----------
    network : Network
        Sites, regions and links.
    pools : sequence of GpuPool
        Live state of every site (free GPUs, queue), in network order.
    latency_ms : numpy.ndarray
        One-way latency from each region (rows) to each site (columns), ms; ``inf``
        where there is no path.
    classes : tuple of JobClass
        The job classes by class index (the ``cls`` given to :meth:`Policy.choose`);
        policies that read budgets or deadlines (``edwc``) need them.
    row_of : tuple of tuple of int, optional
        ``row_of[cls][region]``: the row of ``latency_ms`` (the ``origin`` given to
        :meth:`Policy.choose`) of a job of class ``cls`` from ``region``, when data-residency
        rules bind (:mod:`sim.placement.residency`): ``latency_ms`` then has a block of rows
        per data kind, with the sites the rules forbid at ``inf``.  ``None``: the rows are the
        regions (``origin`` is the region index).  A policy that reads per-region data by
        ``origin`` takes the region as ``origin % len(network.regions)``.
    transfer_cny_per_gb : numpy.ndarray, optional
        Price of moving one GB from each row's region to each site over its route, CNY
        (same shape as ``latency_ms``; ``nan`` where unreachable; zeros when no link has a
        price).  ``None``: not computed.
    """

    network: Network
    pools: Sequence[GpuPool]
    latency_ms: np.ndarray
    classes: tuple[JobClass, ...] = ()
    row_of: tuple[tuple[int, ...], ...] | None = None
    transfer_cny_per_gb: np.ndarray | None = None


class Policy:
    """A placement policy: picks the site for each arriving job.

    Subclasses fill :meth:`choose` and are picked by the name given to
    :func:`sim.placement.register_policy` (the built-in ones under their ``name``).
    """

    # ClassVar: mypyc would make a plain class attribute of a compiled subclass (setup.py) a per-instance
    # slot, and the registry reads it from the class.
    name: ClassVar[str] = ""

    def __init__(self, context: PlacementContext) -> None:
        self.context = context
        self.pools = context.pools
        # A shortcut the arrival loop may take instead of calling choose (sim.model): a job from row
        # ``origin`` asking for at most ``fixed_gpus[origin]`` GPUs goes to ``fixed_site[origin]``,
        # whatever the sites' state.  Zeros: no shortcut (every job asks for at least one GPU).
        self.fixed_site: list[int] = [REJECT] * len(context.latency_ms)
        self.fixed_gpus: list[int] = [0] * len(context.latency_ms)
        # Reachable sites per region, nearest first (ties by site order).
        self.by_latency: list[list[int]] = [
            [int(j) for j in np.argsort(row, kind="stable") if np.isfinite(row[j])]
            for row in context.latency_ms
        ]

    def choose(self, origin: int, gpus: int, cls: int) -> int:
        """Index of the site for a job from region ``origin`` asking for ``gpus`` GPUs.

        ``origin`` is a row of the context's ``latency_ms``: the region index, or under
        binding residency rules the row of the job's region and data kind
        (:attr:`PlacementContext.row_of`), whose forbidden sites are unreachable.

        Returns :data:`REJECT` when no reachable site has that many GPUs.  Must agree
        with :attr:`fixed_site` wherever :attr:`fixed_gpus` allows the shortcut.
        """
        raise NotImplementedError
