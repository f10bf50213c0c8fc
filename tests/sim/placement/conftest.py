"""Tiny hand-made networks for the placement tests: sites, latency rows and live pools."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sim.engine import Engine
from sim.placement import PlacementContext
from sim.site import GpuPool
from topology.model import Network, Region, Site
from workloads.job_class import JobClass

MakeSite = Callable[..., Site]
MakeContext = Callable[..., PlacementContext]


def _site(name: str, gpus: int = 100, **figures: object) -> Site:
    return Site(id=name, lat=0, lon=0, gpus=gpus, **figures)  # type: ignore[arg-type]


def _context(sites: list[Site], latency: list[list[float]], classes: tuple[JobClass, ...] = ()) -> PlacementContext:
    """One region per latency row (one-way ms to each site; ``inf``: unreachable), an empty pool per site."""
    regions = tuple(Region(id=f"r{i}", lat=0, lon=0) for i in range(len(latency)))
    network = Network(site=tuple(sites), region=regions)
    engine = Engine()
    pools = [GpuPool(i, s, engine) for i, s in enumerate(sites)]
    return PlacementContext(network, pools, np.array(latency, float), classes)


@pytest.fixture
def make_site() -> MakeSite:
    """``make_site(name, gpus=100, **figures)``: a site at (0, 0)."""
    return _site


@pytest.fixture
def make_context() -> MakeContext:
    """``make_context(sites, latency, classes=())``: the context a policy is built with."""
    return _context
