"""Running a capacity search: scenarios per capacity, run on a sweep executor, into tables.

:func:`capacity_search` builds one scenario per evaluated capacity (the base scenario
with the varied sites' GPUs raised, plus ``--policy``, ``--replications`` and the
horizon of ``--by``), runs each round's scenarios together on the executor (one batch
per scenario: Ray runs them in parallel) and hands their replication means to
:func:`cluster.search.k_section`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from cluster.search import (
    DEFAULT_MIN_REPLICATIONS,
    Point,
    SearchResult,
    Target,
    Vary,
    k_section,
    parse_vary,
    replication_ci,
)
from cluster.sensitivity import numeric_columns
from cluster.sweeps.batch import concat_tables
from cluster.sweeps.run import Executor
from sim.scenario import LoadedScenario, load_scenario
from topology.plumbing import ConfigError, nearest

__all__ = ["SEARCH_COLUMNS", "CapacitySearch", "capacity_search", "search_table"]

SEARCH_COLUMNS: tuple[tuple[str, pa.DataType, str, str], ...] = (
    ("round", pa.int64(), "", "Search round that evaluated the point (0: the ends of the range)"),
    ("added_gpus", pa.int64(), "GPUs", "GPUs added to the varied sites"),
    ("varied_gpus", pa.int64(), "GPUs", "GPUs of the varied sites after adding"),
    ("mean", pa.float64(), "", "Replication mean of the target column (the column's unit)"),
    ("ci_half", pa.float64(), "", "Half-width of the confidence interval of the mean (NaN with one replication)"),
    ("replications", pa.int64(), "", "Replications run"),
    ("reached", pa.bool_(), "", "Whether the mean reaches the target"),
    ("scenario_id", pa.string(), "", "The evaluated scenario (rows of the runs table)"),
)
"""Columns of the search table: name, Arrow type, unit, description."""


@dataclass(frozen=True)
class CapacitySearch:
    """A finished search and what it ran.

    Attributes
    ----------
    result : SearchResult
        Bracket, status and every point.
    target : Target
        What was searched for.
    vary : Vary
        The varied sites.
    unit : str
        Unit of the target column.
    runs : pyarrow.Table
        The ``runs`` rows of every evaluated scenario.
    base : LoadedScenario
        The scenario with the search's overrides and nothing added.
    confidence : float
        Confidence level of the intervals.
    """

    result: SearchResult
    target: Target
    vary: Vary
    unit: str
    runs: pa.Table
    base: LoadedScenario
    confidence: float


def capacity_search(
    scenario: str | Path | None,
    target: Target,
    vary_text: str,
    executor: Executor,
    *,
    overrides: Sequence[str] = (),
    max_added: int | None = None,
    tolerance: int | None = None,
    per_round: int | None = None,
    confidence: float = 0.95,
    on_round: Callable[[list[Point]], None] | None = None,
    min_replications: int = DEFAULT_MIN_REPLICATIONS,
) -> CapacitySearch:
    """Find the least GPUs added at the varied sites for which ``target`` is reached.

    Parameters
    ----------
    scenario : str or Path, optional
        Scenario file (``None``: the built-in default).
    target : Target
        Target on the replication mean of a numeric ``runs`` column.
    vary_text : str
        ``west_gpus`` or ``sites.<id>.gpus`` (see :func:`cluster.search.parse_vary`).
    executor : SerialExecutor or RayExecutor
        Runs each round's scenarios; entered (``with``) by this function.
    overrides : sequence of str
        ``key.path=value`` settings (``policy=edwc``, ``horizon_h=...``, ``replications=...``).
    max_added : int, optional
        Upper end of the range (GPUs; default four times the varied sites' GPUs).
    tolerance : int, optional
        Bracket width at which to stop (GPUs; default 1 % of ``max_added``, at least 1).
    per_round : int, optional
        Points per round (default: the executor's CPUs; 1 is bisection).
    confidence : float
        Confidence level of the replication intervals.
    on_round : callable, optional
        Called with each round's points.
    min_replications : int
        Replications per point when ``overrides`` does not set ``replications`` and the
        scenario has fewer.  Every point runs the same seeds (common random numbers).

    Raises
    ------
    ConfigError
        Bad scenario, overrides, ``--vary`` or target column; a scenario that fails.
    """
    explicit = any(o.split("=", 1)[0].strip() == "replications" for o in overrides)
    base = load_scenario(scenario, list(overrides))
    if not explicit and base.scenario.replications < min_replications:
        overrides = [*overrides, f"replications={min_replications}"]
        base = load_scenario(scenario, list(overrides))
    vary = parse_vary(vary_text, base.network)
    max_added = max_added if max_added is not None else 4 * vary.base_total
    tolerance = tolerance if tolerance is not None else max(1, max_added // 100)
    if max_added < 1:
        raise ConfigError(f"--max-added: must be >= 1, got {max_added}")
    if tolerance < 1:
        raise ConfigError(f"--tolerance: must be >= 1, got {tolerance}")
    if not 0 < confidence < 1:
        raise ConfigError(f"--confidence: must be in (0, 1), got {confidence}")
    runs_parts: list[pa.Table] = []
    unit: list[str] = []

    def scenario_at(added: int) -> LoadedScenario:
        sets = [f"sites.{site}.gpus={gpus}" for site, gpus in vary.allocate(added).items()]
        return load_scenario(scenario, [*overrides, *sets])

    def evaluate(values: Sequence[int], rnd: int) -> list[Point]:
        loaded = [scenario_at(v) for v in values]
        by_id: dict[str, pa.Table] = {}
        for batch in executor.map([[s] for s in loaded]):
            if batch.failed:
                error = batch.tables["runs"].column("error")[0].as_py()
                raise ConfigError(f"search: the scenario at {values[batch.index]} added GPUs failed: {error}")
            by_id[loaded[batch.index].scenario_id] = batch.tables["runs"]
        points = []
        for v, s in zip(values, loaded, strict=True):
            runs = by_id[s.scenario_id]
            if target.column not in numeric_columns(runs):
                hint = nearest(target.column, numeric_columns(runs))
                tail = f" (did you mean '{hint}'?)" if hint else ""
                raise ConfigError(f"--target: no numeric column {target.column!r} in runs{tail}")
            if not unit:
                unit.append((runs.schema.field(target.column).metadata or {}).get(b"unit", b"").decode())
            runs_parts.append(runs)
            column = runs.column(target.column).to_pylist()
            values_r = tuple(float(x) if x is not None else math.nan for x in column)
            mean, half = replication_ci(values_r, confidence)
            points.append(Point(rnd, v, mean, half, values_r, target.reached(mean), s.scenario_id))
        if on_round is not None:
            on_round(points)
        return points

    with executor:
        if per_round is None:
            per_round = max(1, executor.num_cpus)
        result = k_section(evaluate, max_added, tolerance, per_round)
    return CapacitySearch(result, target, vary, unit[0] if unit else "", concat_tables(runs_parts), base, confidence)


def search_table(search: CapacitySearch) -> pa.Table:
    """Every evaluated point as an Arrow table (:data:`SEARCH_COLUMNS`), in evaluation order.

    ``mean`` and ``ci_half`` carry the target column's unit; schema metadata the target,
    the varied sites, the bracket and the status.
    """
    rows: dict[str, list[Any]] = {name: [] for name, *_ in SEARCH_COLUMNS}
    for p in search.result.points:
        rows["round"].append(p.round)
        rows["added_gpus"].append(p.added_gpus)
        rows["varied_gpus"].append(search.vary.base_total + p.added_gpus)
        rows["mean"].append(p.mean)
        rows["ci_half"].append(p.ci_half)
        rows["replications"].append(len(p.values))
        rows["reached"].append(p.reached)
        rows["scenario_id"].append(p.scenario_id)
    fields = [pa.field(name, dtype, metadata={"unit": search.unit if name in ("mean", "ci_half") else unit,
                                              "description": desc})
              for name, dtype, unit, desc in SEARCH_COLUMNS]
    r = search.result
    meta = {"kind": "capacity_search", "target": str(search.target), "target_column": search.target.column,
            "vary": search.vary.name, "sites": ",".join(search.vary.sites), "status": r.status,
            "lo_added_gpus": "" if r.lo is None else str(r.lo), "hi_added_gpus": "" if r.hi is None else str(r.hi),
            "confidence": str(search.confidence)}
    return pa.Table.from_arrays([pa.array(rows[f.name], type=f.type) for f in fields],
                                schema=pa.schema(fields, metadata=meta))

