"""Sweep specs: a base scenario and axes over its keys, expanded into scenarios.

A sweep spec is TOML::

    base = "../east_west_nearest.toml"   # relative to the spec; or an inline [base] table
    replications = 2                     # optional: overrides the base's
    seed = 7                             # sweep seed: every scenario's seed derives from it

    [[axis]]
    key = "policy"
    grid = ["nearest", "least_loaded"]

    [[axis]]
    key = "sites.cl_zhongwei.gpus"
    method = "latin_hypercube"           # or "random", "sobol"
    low = 256
    high = 4096
    samples = 8

``method = "saltelli"`` draws SALib's Saltelli design for Sobol' indices instead:
``samples`` is the number N of base points (a power of two) and the sweep has
``N * (D + 2)`` points over the D saltelli axes, ``N * (2 D + 2)`` with
``second_order = true``.  The design's row order, which the analysis needs, is
recorded as :attr:`SweepSpec.design` (``design`` in the manifest).

Grid axes combine as a cartesian product.  Sampled axes are sampled jointly (one
design of ``samples`` points over all of them, so they must agree on ``samples``)
and the design is crossed with the grid.  Integer keys are rounded: ``integer = true``,
or an integer value of the key in the base, or integer ``low`` and ``high``.

Each scenario is validated like ``cpnsim run --set`` and gets a seed derived from the
sweep seed and its content without the seed, so scenario ids do not depend on the
order of the axes or the position of the scenario in the sweep.

What the expansion keeps of each scenario is a :class:`cluster.sweeps.points.Point` (its
axis values, seed and id) over one :class:`cluster.sweeps.points.SweepBase`: a 100,000-point
spec holds no resolved scenario, and batches travel as points (:mod:`cluster.sweeps.points`).
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster.sweeps.expansion import SALTELLI, Expansion, ExpansionPlan, Progress, resolve, seed_of
from cluster.sweeps.points import Point, SweepBase, overlay
from cluster.sweeps.sampling import SAMPLING_METHODS, Range, saltelli_points, sample_points
from sim.scenario import LoadedScenario, default_scenario_data
from topology.load import builtin_names, load_network
from topology.model import Network
from topology.plumbing import ConfigError, format_loc, located, nearest, read_toml

__all__ = ["METHODS", "Axis", "SweepSpec", "derive_seed", "load_sweep", "spec_from_dict"]

METHODS = ("grid", *SAMPLING_METHODS, SALTELLI)
_TOP_KEYS = ("base", "replications", "seed", "axis", "name", "description")
_AXIS_KEYS = ("key", "grid", "method", "low", "high", "samples", "integer", "second_order")


@dataclass(frozen=True)
class Axis:
    """One axis of a sweep.

    Attributes
    ----------
    key : str
        Dotted scenario key path, as ``--set`` takes it (``sites.cl_zhongwei.gpus``).
    method : str
        ``"grid"`` or a sampling method (``random``, ``latin_hypercube``, ``sobol``).
    values : tuple
        The grid values (grid axes only).
    low, high : float
        Range of a sampled axis.
    samples : int
        Number of points of a sampled axis.
    integer : bool
        Round sampled values to integers.
    second_order : bool
        ``saltelli`` axes only: draw the design for second-order indices too.
    """

    key: str
    method: str
    values: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    samples: int = 0
    integer: bool = False
    second_order: bool = False


@dataclass
class _Expanded:
    """A whole expansion, kept: the distinct points, the duplicates, the Saltelli groups."""

    points: tuple[Point, ...]
    duplicates: int
    groups: list[dict[str, Any]]


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep spec; its scenarios are expanded on demand (:meth:`expansion`) or all at once.

    The scenarios are held as :class:`cluster.sweeps.points.Point` (axis values, seed and
    id, about 200 bytes each) over one :class:`cluster.sweeps.points.SweepBase`; the
    resolved scenarios (:attr:`scenarios`) are rebuilt from them on demand.  The attributes
    that need every point (:attr:`scenario_points`, :attr:`count`, :attr:`duplicates`,
    :attr:`design`) expand the whole spec on first use and keep it; :meth:`expansion`
    streams the points instead (what the sweep driver does: :func:`cluster.sweeps.run_sweep`).

    Attributes
    ----------
    source : str
        The spec file.
    seed : int
        Sweep seed.
    raw : dict
        The spec as read (with ``base`` resolved to a table), recorded in the manifest.
    axes : tuple of Axis
        The axes, in spec order.
    sweep_base : SweepBase
        What every scenario shares (raw base data, loaded network, source): shipped once per worker.
    base : LoadedScenario
        The base scenario (``replications`` of the spec applied), with its network.
    plan : ExpansionPlan
        What the expansion needs (:mod:`cluster.sweeps.expansion`).
    design_record : dict, optional
        Saltelli sweeps: :attr:`design` without its ``groups``.
    progress : callable, optional
        Called as ``progress(points_expanded, points_total)`` every 1,000 points of an expansion.
    schema_scenarios : tuple of LoadedScenario
        One scenario per distinct shape of the axis values (their keys, types and strings):
        together they have every ``param.*`` column of the sweep and every type of each
        (:func:`cluster.sweeps.schema.sweep_schema`); found without expanding the spec.
    """

    source: str
    seed: int
    raw: dict[str, Any]
    axes: tuple[Axis, ...]
    sweep_base: SweepBase
    base: LoadedScenario
    plan: ExpansionPlan = field(repr=False)
    design_record: dict[str, Any] | None = None
    progress: Progress | None = field(default=None, repr=False, compare=False)
    schema_scenarios: tuple[LoadedScenario, ...] = field(default=(), repr=False)
    _kept: list[_Expanded] = field(default_factory=list, repr=False, compare=False)

    def expansion(self) -> Iterator[Point] | Expansion:
        """The distinct scenarios as points, in expansion order, expanded as they are asked for.

        Returns an :class:`~cluster.sweeps.expansion.Expansion` (with its counts) unless the
        spec is already expanded, then an iterator over the kept points.
        """
        if self._kept:
            return iter(self._kept[0].points)
        return self.plan.expansion(self.progress)

    @property
    def expanded(self) -> bool:
        """The whole spec was expanded and its points are kept."""
        return bool(self._kept)

    def expand_all(self) -> None:
        """Expand every point now and keep the distinct ones (what :attr:`scenario_points` does on first use)."""
        if not self._kept:
            run = self.plan.expansion(self.progress)
            points = tuple(run)
            self._kept.append(_Expanded(points, run.duplicates, run.groups))

    def _whole(self) -> _Expanded:
        self.expand_all()
        return self._kept[0]

    @property
    def scenario_points(self) -> tuple[Point, ...]:
        """Every distinct scenario, in expansion order, as its overrides over ``sweep_base``."""
        return self._whole().points

    @property
    def duplicates(self) -> int:
        """Points of the design that resolved to a scenario already in it (integer rounding of a
        sampled axis makes two points equal): run once, counted so that the CLI reports them.
        ``count + duplicates`` is :attr:`points`."""
        return self._whole().duplicates

    @property
    def design(self) -> dict[str, Any] | None:
        """Saltelli sweeps only: ``method``, ``keys``, ``bounds``, ``integer``, ``samples`` (N),
        ``second_order`` and ``groups``, one per point of the grid axes, each with ``grid``
        (key -> value) and ``rows`` (the scenario id of every design row, in SALib's order; a
        scenario repeats where integer rounding makes two rows equal)."""
        if self.design_record is None:
            return None
        return {**self.design_record, "groups": self._whole().groups}

    @functools.cached_property
    def scenarios(self) -> tuple[LoadedScenario, ...]:
        """Every distinct scenario, resolved (rebuilt from the points on first use, then kept)."""
        return tuple(self.sweep_base.scenario(p) for p in self.scenario_points)

    @property
    def count(self) -> int:
        """Distinct scenarios (``len(scenarios)``, without resolving them)."""
        return len(self.scenario_points)

    @property
    def points(self) -> int:
        """Points of the design, duplicates included (known without expanding)."""
        return self.plan.total

    @property
    def ids(self) -> list[str]:
        """The scenario ids, in order."""
        return [p.scenario_id for p in self.scenario_points]


def derive_seed(sweep_seed: int, loaded: LoadedScenario) -> int:
    """A scenario seed from the sweep seed and the scenario's content without its seed.

    Independent of the scenario's position in the sweep, so ids are stable when axes
    are reordered or values added.  The result is in [0, 2**60).
    """
    return seed_of(sweep_seed, loaded.digest(exclude=frozenset({"seed"})))


def _set(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return overlay(data, [(key, value)])  # copies the key's path only: a deep copy per point cost seconds


def _get(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_axis(
    i: int, raw: Any, src: str, base: dict[str, Any], loaded_base: LoadedScenario, base_dir: Path | None,
    network: Network,
) -> Axis:
    where = f"axis[{i}]"
    if not isinstance(raw, dict):
        raise ConfigError(located(src, where, "expected a table ([[axis]])"))
    for k in raw:
        if k not in _AXIS_KEYS:
            hint = nearest(k, _AXIS_KEYS)
            tail = f" (did you mean '{hint}'?)" if hint else f"; valid keys: {', '.join(_AXIS_KEYS)}"
            raise ConfigError(located(src, f"{where}.{format_loc((k,))}", f"unknown key{tail}"))
    key = raw.get("key")
    if not isinstance(key, str) or not key or any(not p for p in key.split(".")):
        raise ConfigError(located(src, f"{where}.key", f"expected a dotted key path like 'horizon_h', got {key!r}"))
    if key in ("seed", "network"):
        raise ConfigError(located(src, f"{where}.key", f"{key!r} cannot be swept (seeds derive from the sweep seed)"))
    method = raw.get("method", "grid" if "grid" in raw else None)
    if method not in METHODS:
        hint = nearest(str(method), METHODS)
        tail = f"did you mean '{hint}'?" if hint else f"choose one of {', '.join(METHODS)}"
        raise ConfigError(located(src, f"{where}.method", f"unknown method {method!r} ({tail})"))
    if method == "grid":
        grid = raw.get("grid")
        if not isinstance(grid, list) or not grid:
            raise ConfigError(located(src, f"{where}.grid", f"expected a non-empty list of values, got {grid!r}"))
        if len({json.dumps(v, sort_keys=True) for v in grid}) != len(grid):
            raise ConfigError(located(src, f"{where}.grid", f"duplicate values in {grid!r}"))
        axis = Axis(key, "grid", values=tuple(grid))
        probe = grid[0]
    else:
        for name in ("low", "high"):
            if not _is_number(raw.get(name)):
                raise ConfigError(located(src, f"{where}.{name}", f"expected a number, got {raw.get(name)!r}"))
            if not math.isfinite(raw[name]):  # a sampled value must be a real number (and round() of inf raises)
                raise ConfigError(located(src, f"{where}.{name}", f"expected a finite number, got {raw[name]!r}"))
        low, high = raw["low"], raw["high"]
        if not low < high:
            raise ConfigError(located(src, f"{where}.low", f"must be < high (={high}), got {low}"))
        samples = raw.get("samples")
        if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
            raise ConfigError(located(src, f"{where}.samples", f"expected an integer >= 1, got {samples!r}"))
        second_order = raw.get("second_order", False)
        if method == SALTELLI:
            if samples < 2 or samples & (samples - 1):  # the Sobol' sequence's balance needs N = 2**m
                raise ConfigError(located(src, f"{where}.samples", f"saltelli needs a power of two >= 2 base "
                                          f"samples (Sobol' sequence), got {samples}"))
            if not isinstance(second_order, bool):
                raise ConfigError(located(src, f"{where}.second_order", f"expected true or false, "
                                          f"got {second_order!r}"))
        elif "second_order" in raw:
            raise ConfigError(located(src, f"{where}.second_order", f"only for method = 'saltelli', not {method!r}"))
        integer = raw.get("integer")
        if integer is None:
            current = _get(base, key)
            if current is None and key.startswith("sites.") and len(key.split(".")) == 3:
                _, site_id, attr = key.split(".")
                site = next((s for s in loaded_base.network.sites if s.id == site_id), None)
                current = getattr(site, attr, None) if site is not None else None
            integer = _is_int(current) if current is not None else (_is_int(low) and _is_int(high))
        if not isinstance(integer, bool):
            raise ConfigError(located(src, f"{where}.integer", f"expected true or false, got {integer!r}"))
        axis = Axis(key, method, low=float(low), high=float(high), samples=samples, integer=integer,
                    second_order=second_order)
        probe = round(low) if integer else low
    resolve(_set(base, key, probe), f"{src}: {where}.key", base_dir, network)  # does the key path exist?
    return axis


def _design(axes: list[Axis], seed: int, src: str, index: dict[str, int]) -> list[list[Any]]:
    """The joint design of the sampled axes (one empty point when there are none)."""
    if not axes:
        return [[]]
    n = axes[0].samples
    for a in axes[1:]:
        if a.samples != n:
            raise ConfigError(located(src, f"axis[{index[a.key]}].samples", f"sampled axes are sampled jointly and "
                                      f"must agree on samples: {a.samples} != {n} (axis[{index[axes[0].key]}])"))
    methods = {a.method for a in axes}
    if len(methods) > 1:
        raise ConfigError(located(src, f"axis[{index[axes[1].key]}].method",
                                  f"sampled axes are sampled jointly and must share one method, got {sorted(methods)}"))
    ranges = [Range(a.low, a.high, a.integer) for a in axes]
    method = methods.pop()
    if method == SALTELLI:
        orders = {a.second_order for a in axes}
        if len(orders) > 1:
            first = next(a for a in axes if a.second_order != axes[0].second_order)
            raise ConfigError(located(src, f"axis[{index[first.key]}].second_order", "saltelli axes are sampled "
                                      "jointly and must agree on second_order"))
        return [list(row) for row in saltelli_points(n, ranges, seed, orders.pop())]
    return [list(row) for row in sample_points(method, n, ranges, seed)]


def load_sweep(path: str | Path, progress: Progress | None = None, *, lazy: bool = False) -> SweepSpec:
    """Read a sweep spec and expand it into validated scenarios.

    Parameters
    ----------
    path : str or Path
        The spec TOML file.
    progress : callable, optional
        Called as ``progress(points_expanded, points_total)`` every 1,000 points and at the end
        of an expansion.
    lazy : bool
        Parse and check the spec, but expand no point yet: :meth:`SweepSpec.expansion` streams
        them (what ``cpnsim sweep`` does, so the first batch runs before the last point
        exists).  A point whose scenario does not validate is then found only when reached.

    Raises
    ------
    ConfigError, TopologyError
        One line naming the spec file and key (``axis[2].low``); nothing is run.
    """
    p = Path(path)
    return spec_from_dict(read_toml(p, ConfigError), str(p), p.parent, progress, lazy=lazy)


def spec_from_dict(raw: dict[str, Any], source: str, base_dir: Path | None = None,
                   progress: Progress | None = None, *, lazy: bool = False) -> SweepSpec:
    """Expand a sweep spec already read (a TOML file's content) into validated scenarios.

    Parameters
    ----------
    raw : dict
        The spec's keys, as :func:`load_sweep` reads them from a file.
    source : str
        Named in error messages and recorded as :attr:`SweepSpec.source`.
    base_dir : Path, optional
        Folder that a relative ``base`` file and network paths are taken from (default:
        the working directory).
    progress : callable, optional
        As :func:`load_sweep`'s.
    lazy : bool
        As :func:`load_sweep`'s.

    Raises
    ------
    ConfigError, TopologyError
        One line naming ``source`` and key (``axis[2].low``); nothing is run.
    """
    src = source
    here = base_dir if base_dir is not None else Path(".")
    for k in raw:
        if k not in _TOP_KEYS:
            hint = nearest(k, _TOP_KEYS)
            tail = f" (did you mean '{hint}'?)" if hint else ""
            raise ConfigError(located(src, format_loc((k,)), f"unknown key{tail}"))
    base_raw = raw.get("base")
    if isinstance(base_raw, str):
        base_path = (here / base_raw) if not Path(base_raw).is_absolute() else Path(base_raw)
        try:
            base = read_toml(base_path, ConfigError)
        except ConfigError as err:  # name the spec's key that points at the file, then the file
            raise ConfigError(located(src, "base", str(err))) from None
        base_src, base_dir = str(base_path), base_path.parent
    elif isinstance(base_raw, dict):
        base, base_src, base_dir = copy.deepcopy(base_raw), f"{src}: base", here
    elif base_raw is None:
        base, base_src, base_dir = default_scenario_data(), f"{src}: base (built-in default)", None
    else:
        raise ConfigError(located(src, "base", f"expected a scenario file name or a table, got {base_raw!r}"))
    seed = raw.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        raise ConfigError(located(src, "seed", f"expected an integer >= 0, got {seed!r}"))
    if "replications" in raw:
        reps = raw["replications"]
        if not _is_int(reps) or reps < 1:
            raise ConfigError(located(src, "replications", f"expected an integer >= 1, got {reps!r}"))
        base = _set(base, "replications", reps)
    loaded_base = resolve(base, base_src, base_dir)
    # As loaded ([sites.<id>] not applied), once: every point resolves over it (a file is not read again).
    network = load_network(loaded_base.scenario.network, base_dir)
    axes_raw = raw.get("axis", [])
    if not isinstance(axes_raw, list):
        raise ConfigError(located(src, "axis", "expected [[axis]] tables"))
    axes: list[Axis] = []
    index: dict[str, int] = {}
    for i, a in enumerate(axes_raw):
        axis = _parse_axis(i, a, src, base, loaded_base, base_dir, network)
        if axis.key in index:
            first = index[axis.key]
            raise ConfigError(located(src, f"axis[{i}].key", f"{axis.key!r} is already swept by axis[{first}]"))
        index[axis.key] = i
        axes.append(axis)
    grid_axes = [a for a in axes if a.method == "grid"]
    sampled = [a for a in axes if a.method != "grid"]
    design = _design(sampled, seed, src, index)
    is_saltelli = bool(sampled) and sampled[0].method == SALTELLI
    plan = ExpansionPlan(base, src, base_dir, seed, tuple((a.key, index[a.key], a.values) for a in grid_axes),
                         tuple((a.key, index[a.key]) for a in sampled), tuple(tuple(row) for row in design),
                         network, loaded_base.network, saltelli=is_saltelli)
    record = {k: v for k, v in raw.items() if k != "base"}
    record["base"] = base
    saltelli = None
    if is_saltelli:
        saltelli = {"method": SALTELLI, "keys": [a.key for a in sampled], "bounds": [[a.low, a.high] for a in sampled],
                    "integer": [a.integer for a in sampled], "samples": sampled[0].samples,
                    "second_order": sampled[0].second_order}
    builtin = loaded_base.scenario.network in builtin_names()  # else a file: its network travels with the base
    sweep_base = SweepBase.of(base, src, base_dir, portable=True, network=None if builtin else network)
    spec = SweepSpec(src, seed, record, tuple(axes), sweep_base, loaded_base, plan, saltelli, progress,
                     schema_scenarios=plan.shape_scenarios())
    if not lazy:
        spec.expand_all()
    return spec
