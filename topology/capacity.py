"""Pick a network's capacity level: the low, central or high end of every site's range.

A site's ``gpus`` is its central estimate; ``gpus_low`` and ``gpus_high`` (when the
network gives them) bound it (``docs/model.md``, "Capacity ranges").  The scenario key
``capacity`` (``--set capacity=low``, or a sweep axis) chooses the level a run uses.
"""

from __future__ import annotations

from typing import Literal, get_args

from topology.model import Network, Site

__all__ = ["CAPACITY_LEVELS", "CapacityLevel", "with_capacity"]

CapacityLevel = Literal["low", "central", "high"]
CAPACITY_LEVELS: tuple[CapacityLevel, ...] = get_args(CapacityLevel)


def with_capacity(network: Network, level: CapacityLevel | None) -> Network:
    """``network`` with every site's ``gpus`` set to its ``level`` end (``None`` or ``central``: unchanged).

    Examples
    --------
    >>> from topology.model import Region, Site
    >>> net = Network(site=(Site(id="s", lat=0, lon=0, gpus=100, gpus_low=40, gpus_high=250),
    ...                     Site(id="t", lat=0, lon=0, gpus=8)), region=(Region(id="r", lat=0, lon=0),))
    >>> [s.gpus for s in with_capacity(net, "low").sites], [s.gpus for s in with_capacity(net, "high").sites]
    ([40, 8], [250, 8])
    """
    if level is None or level == "central":
        return network
    sites = tuple(s if s.capacity(level) == s.gpus else _at(s, s.capacity(level)) for s in network.sites)
    return network.model_copy(update={"site": sites})


def _at(site: Site, gpus: int) -> Site:
    """``site`` with ``gpus`` GPUs, its capacity timeline scaled by the same ratio.

    A range is the uncertainty of the site's published figures, and a timeline's dated
    levels are published figures of the same kind, so ``low`` and ``high`` scale them
    (a ``[sites.<id>] gpus`` override, a what-if of added GPUs, shifts them instead).

    Examples
    --------
    >>> from topology.model import CapacityStep
    >>> s = Site(id="s", lat=0, lon=0, gpus=100, gpus_low=50,
    ...          timeline=(CapacityStep(date="2025-01-01", gpus=100), CapacityStep(date="2026-01-01", gpus=301)))
    >>> [step.gpus for step in _at(s, 50).timeline or ()]
    [50, 150]
    """
    update: dict[str, object] = {"gpus": gpus}
    if site.timeline:
        ratio = gpus / site.gpus
        update["timeline"] = tuple(step.model_copy(update={"gpus": round(step.gpus * ratio)}) for step in site.timeline)
    return site.model_copy(update=update)
