"""A sweep's scenarios as they travel: one resolved base, and each point as its overrides only.

A resolved national scenario pickles to about 150 KB (its network), so shipping every
scenario whole cost a sweep more than its simulations for short runs.  Instead a sweep
holds one :class:`SweepBase` (the base scenario's raw data, shipped once per worker; a
built-in network is parsed once per process, a network read from a file travels in the
base, since a worker may not see the file) and a :class:`Point` per scenario (the axis
values, the derived seed and the id: about 200 bytes).  :meth:`SweepBase.scenario` rebuilds the scenario a
point stands for; it is the very scenario the expansion validated (same config, same
network, same id), which the tests check.

:class:`PointBatch` is a batch of points that iterates as the scenarios they stand for, so
:func:`cluster.sweeps.batch.run_batch` runs it as it runs a list of scenarios.  Sent to a
Ray worker it carries the base as an object reference (put once by the driver), and the
worker keeps the base it fetched by digest (:func:`_cached_base`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scenario import LoadedScenario, resolve_network, scenario_from_dict
from topology.model import Network

__all__ = ["Point", "PointBatch", "SweepBase", "overlay"]


def overlay(data: dict[str, Any], overrides: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """``data`` with each ``(dotted.key, value)`` set; only the tables on the keys' paths are copied.

    ``data`` is not changed (nor is anything it shares with the result, as long as the
    result is only read: validation does not write to it).  Equal to a deep copy followed
    by :func:`sim.scenario.set_key` per override, at the cost of the paths, not of the data.

    Examples
    --------
    >>> base = {"a": {"b": 1, "c": 2}, "d": 3}
    >>> overlay(base, [("a.b", 5), ("e.f", 6)]), base["a"]["b"]
    ({'a': {'b': 5, 'c': 2}, 'd': 3, 'e': {'f': 6}}, 1)
    """
    out = dict(data)
    copied: set[int] = {id(out)}  # tables already copied for this result: written in place
    for key, value in overrides:
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
            elif id(child) not in copied:
                child = dict(child)
            copied.add(id(child))
            node[part] = child
            node = child
        node[parts[-1]] = value
    return out


@dataclass(frozen=True)
class Point:
    """One scenario of a sweep: its axis values over the base, its seed and its id.

    Attributes
    ----------
    overrides : tuple of (str, value)
        ``(dotted.key, value)`` for each axis, in spec order.
    seed : int
        The scenario's seed (:func:`cluster.sweeps.spec.derive_seed`).
    scenario_id : str
        The id of the scenario it stands for (``LoadedScenario.scenario_id``).
    """

    overrides: tuple[tuple[str, Any], ...]
    seed: int
    scenario_id: str


@dataclass(frozen=True)
class SweepBase:
    """What every scenario of a sweep shares: shipped once per worker.

    Attributes
    ----------
    data : dict
        The base scenario's raw data (``replications`` of the spec applied).
    source : str
        The spec file: every scenario's ``LoadedScenario.source``, and the source errors name.
    base_dir : str, optional
        The folder a relative network path is taken from (as the expansion took it).
    portable : bool
        Any worker rebuilds a scenario from its point and this base alone: the network is a
        built-in one, or travels in :attr:`network`.  A base that is not portable ships its
        scenarios resolved instead (:meth:`PointBatch.by_reference`).
    digest : str
        SHA-256 of the above: the key workers cache the base by.
    network : Network, optional
        A network read from a file, as loaded (``[sites.<id>]`` not applied): it travels with
        the base, once per worker, since a worker may not see the file.  None for a built-in
        network (each process parses it once).
    """

    data: dict[str, Any]
    source: str
    base_dir: str | None
    portable: bool
    digest: str = field(default="", compare=False)
    network: Network | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, data: dict[str, Any], source: str, base_dir: Path | None, portable: bool,
           network: Network | None = None) -> SweepBase:
        """A base with its digest (``network``: a file network's content, hashed in)."""
        where = None if base_dir is None else str(base_dir)
        held = None if network is None else network.model_dump(mode="json")
        text = json.dumps([data, source, where, portable] + ([held] if held is not None else []), sort_keys=True,
                          default=str)
        return cls(data, source, where, portable, hashlib.sha256(text.encode()).hexdigest(), network)

    def scenario(self, point: Point) -> LoadedScenario:
        """The scenario ``point`` stands for, rebuilt as the expansion built it.

        Validated and resolved by :func:`sim.scenario.resolve_network` again (a built-in
        network is parsed once per process): the same code as the expansion, so the same
        scenario and id.
        """
        scenario = scenario_from_dict(overlay(self.data, point.overrides), self.source)
        base_dir = None if self.base_dir is None else Path(self.base_dir)
        network = resolve_network(scenario, self.source, base_dir, loaded=self.network)
        return LoadedScenario(scenario.model_copy(update={"seed": point.seed}), network, self.source)


_BASES: dict[str, SweepBase] = {}
"""Bases this process fetched, by digest: a worker fetches each sweep's base once."""


def _cached_base(digest: str, ref: Any) -> SweepBase:
    base = _BASES.get(digest)
    if base is None:
        import ray

        base = ray.get(ref)
        _BASES.clear()  # one sweep at a time per worker: do not hoard old bases
        _BASES[digest] = base
    return base


@dataclass
class PointBatch(Sequence[LoadedScenario]):
    """A batch of points over one base; iterating it rebuilds each scenario.

    Attributes
    ----------
    base : SweepBase
        Serial executors and the driver.  ``None`` once :meth:`by_reference` replaced it.
    points : tuple of Point
        The batch's scenarios.
    ref : ray.ObjectRef, optional
        The base in Ray's object store (:meth:`by_reference`); a worker fetches it once.
    digest : str
        The base's digest (the key a worker caches it under).
    """

    base: SweepBase | None
    points: tuple[Point, ...]
    ref: Any = None
    digest: str = ""

    def by_reference(self, ref: Any) -> PointBatch | list[LoadedScenario]:
        """This batch to ship to a worker: the base replaced by ``ref`` (``ray.put(base)``).

        A base that is not :attr:`SweepBase.portable` is not shipped: the scenarios are,
        resolved here.
        """
        assert self.base is not None
        if not self.base.portable:
            return list(self)
        return PointBatch(None, self.points, ref, self.base.digest)

    def resolved_base(self) -> SweepBase:
        """The base: held, else fetched once per process from the object store."""
        return self.base if self.base is not None else _cached_base(self.digest, self.ref)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self.resolved_base().scenario(p) for p in self.points[i]]
        return self.resolved_base().scenario(self.points[i])

    def __iter__(self) -> Iterator[LoadedScenario]:
        base = self.resolved_base()
        for point in self.points:
            yield base.scenario(point)

    @property
    def ids(self) -> list[str]:
        """The scenario ids of the batch (without rebuilding anything)."""
        return [p.scenario_id for p in self.points]
