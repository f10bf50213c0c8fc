"""A sweep spec's points, produced one at a time: the driver runs the first batch before the last point exists.

Expanding a point validates its scenario and hashes it for its seed and id (about 0.4 CPU ms
on a national network), so a 100,000-point spec took ~40 s before its first simulation
when it was expanded whole.  :class:`ExpansionPlan` is what the expansion needs, known as
soon as the spec is parsed: the design's points (grid product x sampled design), hence
their number (:attr:`ExpansionPlan.total`), and one scenario per shape of the axis values,
hence the sweep-wide schema (:meth:`ExpansionPlan.shape_scenarios`).  :class:`Expansion`
iterates the distinct scenarios as :class:`~cluster.sweeps.points.Point` in expansion
order, counting the points behind it and the duplicates among them (integer rounding makes
two points equal: known only as the expansion reaches them).

The points, seeds and ids are those of the whole expansion (the same loop; tests compare).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster.sweeps.digest import Digester
from cluster.sweeps.points import Point, overlay
from sim.scenario import LoadedScenario, resolve_network, scenario_from_dict
from topology.model import Network

__all__ = ["SALTELLI", "Expansion", "ExpansionPlan", "Progress", "resolve", "seed_of", "shape"]

SALTELLI = "saltelli"

Progress = Callable[[int, int], None]
"""Called as ``progress(points_expanded, points_total)`` while a spec expands."""


def seed_of(sweep_seed: int, unseeded_digest: str) -> int:
    """A scenario's seed from the sweep seed and the digest of the scenario without its seed."""
    text = f"{sweep_seed}:{unseeded_digest}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def shape(value: Any) -> Any:
    """What decides the ``param.*`` columns a value gives: keys, types, lengths and strings, not numbers."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, shape(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(shape(v) for v in value))
    if isinstance(value, str):
        return ("str", value)
    return type(value).__name__


def resolve(data: dict[str, Any], source: str, base_dir: Path | None,
            loaded: Network | None = None) -> LoadedScenario:
    """Validate ``data`` as a scenario and resolve its network (errors name ``source``).

    ``loaded``: its network as loaded already (not read again; :func:`sim.scenario.resolve_network`).
    """
    scenario = scenario_from_dict(data, source)
    return LoadedScenario(scenario, resolve_network(scenario, source, base_dir, loaded=loaded), source)


@dataclass(frozen=True)
class ExpansionPlan:
    """What expanding a spec needs; everything here is known before the first point is expanded.

    Attributes
    ----------
    base : dict
        The base scenario's raw data (``replications`` of the spec applied).
    source : str
        The spec (each scenario's source; errors name it and the point's axis values).
    base_dir : Path, optional
        The folder relative network paths are taken from.
    seed : int
        The sweep seed.
    grid : tuple of (str, int, tuple)
        Each grid axis: key, position in the spec, values.
    sampled : tuple of (str, int)
        Each sampled axis: key, position in the spec.
    design : tuple of tuple
        The sampled axes' joint design (one empty row when there are none).
    network, base_network : Network
        The base's network as loaded, and as its scenario resolves it (``[sites.<id>]`` applied).
    saltelli : bool
        The design is Saltelli's: its row order is recorded (:attr:`Expansion.groups`).
    """

    base: dict[str, Any]
    source: str
    base_dir: Path | None
    seed: int
    grid: tuple[tuple[str, int, tuple[Any, ...]], ...]
    sampled: tuple[tuple[str, int], ...]
    design: tuple[tuple[Any, ...], ...]
    network: Network
    base_network: Network
    saltelli: bool = False

    @property
    def total(self) -> int:
        """Points of the design, duplicates included (grid product x design rows)."""
        n = len(self.design)
        for _, _, values in self.grid:
            n *= len(values)
        return n

    def _settings(self, grid_point: tuple[Any, ...], row: tuple[Any, ...]) -> list[tuple[str, int, Any]]:
        return [(k, i, v) for (k, i, _), v in zip(self.grid, grid_point, strict=True)] + \
               [(k, i, v) for (k, i), v in zip(self.sampled, row, strict=True)]

    def _where(self, settings: list[tuple[str, int, Any]]) -> str:
        return f"{self.source}: " + ", ".join(f"axis[{i}]={v!r}" for _, i, v in settings) if settings else self.source

    def shape_scenarios(self) -> tuple[LoadedScenario, ...]:
        """The first point of each shape of the axis values, resolved, in expansion order.

        Together they have every ``param.*`` column of the sweep and every type of each
        (:func:`cluster.sweeps.schema.sweep_schema`), found without expanding the points:
        only the shapes of the grid values (one pass over the grid product, no validation)
        and of the design rows.
        """
        grid_shapes = [[shape(v) for v in values] for _, _, values in self.grid]
        first_grid: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for idx in itertools.product(*(range(len(s)) for s in grid_shapes)):
            key = tuple(grid_shapes[a][j] for a, j in enumerate(idx))
            if key not in first_grid:
                first_grid[key] = tuple(self.grid[a][2][j] for a, j in enumerate(idx))
        first_row: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for row in self.design:
            first_row.setdefault(tuple(shape(v) for v in row), row)
        out = []
        for grid_point in first_grid.values():  # expansion order: grid outer, design inner
            for row in first_row.values():
                settings = self._settings(grid_point, row)
                out.append(resolve(overlay(self.base, [(k, v) for k, _, v in settings]), self._where(settings),
                                   self.base_dir, self.network))
        return tuple(out)

    def expansion(self, progress: Progress | None = None) -> Expansion:
        """A fresh expansion of the spec (nothing is expanded until it is iterated)."""
        return Expansion(self, progress)


class Expansion(Iterator[Point]):
    """The distinct scenarios of a spec as points, expanded as they are asked for.

    Attributes
    ----------
    points : int
        Points expanded so far (duplicates included).
    distinct : int
        Distinct scenarios among them (the points yielded).
    finished : bool
        Every point of the design is expanded.
    groups : list of dict
        Saltelli designs: per grid point, ``grid`` (key -> value) and ``rows`` (scenario id of
        each design row), as far as expanded.

    Raises
    ------
    ConfigError, TopologyError
        From ``next()``: a point's scenario does not validate (one line naming the spec and
        the point's axis values).
    """

    def __init__(self, plan: ExpansionPlan, progress: Progress | None = None) -> None:
        self.plan, self.progress = plan, progress
        self.points = self.distinct = 0
        self.finished = False
        self.groups: list[dict[str, Any]] = []
        self._gen = self._run()

    @property
    def duplicates(self) -> int:
        """Points so far equal to an earlier point (run once)."""
        return self.points - self.distinct

    def __next__(self) -> Point:
        return next(self._gen)

    def _run(self) -> Iterator[Point]:
        plan = self.plan
        src, base, base_dir, total = plan.source, plan.base, plan.base_dir, plan.total
        digester: Digester | None = Digester(plan.network, plan.base_network)
        seen: set[str] = set()
        shapes: set[Any] = set()
        for grid_point in itertools.product(*(values for _, _, values in plan.grid)):
            rows: list[str] = []
            if plan.saltelli:
                self.groups.append({"grid": {k: v for (k, _, _), v in zip(plan.grid, grid_point, strict=True)},
                                    "rows": rows})
            for sample_point in plan.design:
                settings = plan._settings(grid_point, sample_point)
                overrides = tuple((k, v) for k, _, v in settings)
                # The network as loaded once: a file network is not read again per point.
                loaded = resolve(overlay(base, overrides), plan._where(settings), base_dir, plan.network)
                point_shape = tuple((k, shape(v)) for k, v in overrides)
                check = point_shape not in shapes  # the fast digest is checked against sim's on each new shape
                if digester is not None:  # derive_seed and scenario_id, hashing the network once
                    state = digester.network_state(loaded.network)
                    unseeded = digester.digest(loaded, frozenset({"seed"}), state)
                    if check and unseeded != loaded.digest(frozenset({"seed"})):
                        digester = None  # sim's digest holds more than Digester knows: sim's own from here on
                if digester is None:
                    unseeded = loaded.digest(frozenset({"seed"}))
                point_seed = seed_of(plan.seed, unseeded)
                loaded = LoadedScenario(loaded.scenario.model_copy(update={"seed": point_seed}), loaded.network, src)
                scenario_id = loaded.scenario_id if digester is None else digester.digest(loaded, state=state)[:16]
                if check and scenario_id != loaded.scenario_id:
                    digester, scenario_id = None, loaded.scenario_id
                self.points += 1
                if plan.saltelli:
                    rows.append(scenario_id)
                new = scenario_id not in seen  # integer rounding can repeat a point: run once, counted
                if new:
                    seen.add(scenario_id)
                    shapes.add(point_shape)
                    self.distinct += 1
                if self.points == total:
                    self.finished = True
                if self.progress is not None and (self.points % 1000 == 0 or self.points == total):
                    self.progress(self.points, total)
                if new:
                    yield Point(overrides, point_seed, scenario_id)
        self.finished = True

    def design_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` (the design's keys, bounds, ...) with the groups expanded so far."""
        return {**record, "groups": self.groups}
