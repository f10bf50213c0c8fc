"""Sobol' sensitivity indices of a ``saltelli`` sweep (SALib), as an Arrow table.

A sweep whose sampled axes use ``method = "saltelli"`` records its design in the
manifest (``design``: the scenario id of every design row, in SALib's order, per point
of its grid axes).  :func:`sobol_indices` averages the replications of each scenario,
lines the means up in that order and calls :func:`SALib.analyze.sobol.analyze`, which
estimates for each swept parameter X_i of the outcome Y

* the first-order index S1_i = Var(E[Y | X_i]) / Var(Y) (Saltelli et al. 2010), and
* the total index ST_i = E[Var(Y | X_~i)] / Var(Y) (Jansen 1999),

with confidence intervals from ``num_resamples`` bootstrap resamples of the base
points (half-widths, ``S1_conf`` and ``ST_conf``).  The indices are dimensionless.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from cluster.sweeps.manifest import MANIFEST, read_manifest
from cluster.sweeps.store import read_table
from topology.plumbing import ConfigError, SchemaError, located, nearest

__all__ = [
    "SENSITIVITY_COLUMNS",
    "GroupIndices",
    "SensitivityResult",
    "numeric_columns",
    "scenario_means",
    "sensitivity_table",
    "sobol_from_runs",
    "sobol_indices",
]

SENSITIVITY_COLUMNS: tuple[tuple[str, pa.DataType, str, str], ...] = (
    ("group", pa.string(), "", "The grid axes' values of this design, as JSON ({} without grid axes)"),
    ("parameter", pa.string(), "", "Swept scenario key (a saltelli axis)"),
    ("S1", pa.float64(), "1", "First-order Sobol' index"),
    ("S1_conf", pa.float64(), "1", "Half-width of the confidence interval of S1"),
    ("ST", pa.float64(), "1", "Total Sobol' index"),
    ("ST_conf", pa.float64(), "1", "Half-width of the confidence interval of ST"),
    ("base_samples", pa.int64(), "", "Base samples N used (fewer than the design's with --drop-failed)"),
    ("output_median", pa.float64(), "output", "Median of the output over the design's scenarios (replication means)"),
    ("output_band_low", pa.float64(), "output", "Lower end of the output's central band: quantile (1 - band) / 2"),
    ("output_band_high", pa.float64(), "output", "Upper end of the output's central band: quantile (1 + band) / 2"),
)
"""Columns of the sensitivity table: name, Arrow type, unit, description."""


@dataclass(frozen=True)
class GroupIndices:
    """Sobol' indices of one Saltelli design (one point of the sweep's grid axes).

    Attributes
    ----------
    grid : dict
        The grid axes' values (empty without grid axes).
    parameters : tuple of str
        The saltelli axes' keys, in design order.
    s1, s1_conf, st, st_conf : tuple of float
        First-order and total indices and the half-widths of their confidence intervals
        (dimensionless), one per parameter.
    base_samples : int
        Base samples used.
    dropped : int
        Base samples left out because a scenario of theirs failed or is missing.
    median, band_low, band_high : float
        Median and central band (:attr:`SensitivityResult.band` of the mass) of the output over
        every row of the design used (each the mean of its scenario's replications), in the
        output's unit.  Every row of a Saltelli design (A, B and the mixed rows) has each input
        uniform over its range, so these are quantiles of the output's distribution under
        the swept inputs' uncertainty.
    """

    grid: dict[str, Any]
    parameters: tuple[str, ...]
    s1: tuple[float, ...]
    s1_conf: tuple[float, ...]
    st: tuple[float, ...]
    st_conf: tuple[float, ...]
    base_samples: int
    dropped: int
    median: float = math.nan
    band_low: float = math.nan
    band_high: float = math.nan

    def ranking(self) -> tuple[int, ...]:
        """Parameter indices by decreasing total index ST (ties: design order)."""
        return tuple(sorted(range(len(self.parameters)), key=lambda i: (-self.st[i], i)))


@dataclass(frozen=True)
class SensitivityResult:
    """What :func:`sobol_indices` found.

    Attributes
    ----------
    output : str
        The ``runs`` column analysed.
    unit : str
        Its unit (from the column's metadata).
    confidence : float
        Confidence level of the intervals.
    groups : tuple of GroupIndices
        One per point of the grid axes.
    failed : int
        Scenarios of the design that failed or are missing.
    band : float
        Mass of the output's central band in :class:`GroupIndices` (0.9: 5th to 95th percentile).
    """

    output: str
    unit: str
    confidence: float
    groups: tuple[GroupIndices, ...]
    failed: int
    band: float = 0.9


def numeric_columns(runs: pa.Table) -> list[str]:
    """Names of the integer and floating-point columns of ``runs``."""
    return [f.name for f in runs.schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]


def scenario_means(runs: pa.Table, output: str) -> tuple[dict[str, float], set[str], set[str]]:
    """Mean of ``output`` over the replications of each scenario; the failed ids; the ids with a null output.

    A scenario with a failed row, or whose output is null or NaN in any replication (a
    run without ``[adoption]`` has no ``adoption_frac_end``), gets no mean.

    Examples
    --------
    >>> t = pa.table({"scenario_id": ["a", "a", "b", "c"], "status": ["ok", "ok", "failed", "ok"],
    ...               "y": [1.0, 3.0, None, float("nan")]})
    >>> scenario_means(t, "y")
    ({'a': 2.0}, {'b'}, {'c'})
    """
    ids = runs.column("scenario_id").to_pylist()
    status = runs.column("status").to_pylist()
    values = runs.column(output).to_pylist()
    sums: dict[str, list[float]] = {}
    failed: set[str] = set()
    null: set[str] = set()
    for sid, st, v in zip(ids, status, values, strict=True):
        if st != "ok":
            failed.add(sid)
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            null.add(sid)
        else:
            sums.setdefault(sid, []).append(float(v))
    bad = failed | null
    return {sid: float(np.mean(v)) for sid, v in sums.items() if sid not in bad}, failed, null - failed


def _design(out: Path | str) -> dict[str, Any]:
    manifest = read_manifest(out)
    design = manifest.design
    where = f"{out}/{MANIFEST}"  # out may be an object-store URI (cpnsim report s3://...)
    if manifest.kind != "sweep" or not isinstance(design, dict) or design.get("method") != "saltelli":
        kind = manifest.kind
        raise SchemaError(located(where, "design", f"not a saltelli sweep (kind {kind!r}); run a sweep with "
                                  "method = \"saltelli\" axes first"))
    return design


def _column_unit(runs: pa.Table, name: str) -> str:
    meta = runs.schema.field(name).metadata or {}
    unit: bytes = meta.get(b"unit", b"")
    return unit.decode()


def _analyze(y: np.ndarray, keys: Sequence[str], second_order: bool, confidence: float,
             num_resamples: int, seed: int) -> dict[str, Any]:
    from SALib.analyze import sobol as salib_sobol  # deferred: SALib imports pandas

    problem = {"num_vars": len(keys), "names": list(keys), "bounds": [[0.0, 1.0]] * len(keys)}
    result: dict[str, Any] = salib_sobol.analyze(problem, y, calc_second_order=second_order,
                                                 num_resamples=num_resamples, conf_level=confidence, seed=seed)
    return result


def _check_options(seed: int, confidence: float, band: float) -> None:
    """Refuse a bootstrap seed below 1, or a confidence or band outside (0, 1) (before any reading)."""
    if seed < 1:
        raise ValueError(f"seed must be >= 1 (SALib takes 0 as no seed), got {seed}")
    if not 0 < confidence < 1:
        raise ConfigError(f"--confidence: must be in (0, 1), got {confidence}")
    if not 0 < band < 1:
        raise ConfigError(f"--band: must be in (0, 1), got {band}")


def sobol_indices(
    out: Path | str,
    output: str,
    confidence: float = 0.95,
    *,
    drop_failed: bool = False,
    num_resamples: int = 1000,
    seed: int = 1,
    band: float = 0.9,
) -> SensitivityResult:
    """First-order and total Sobol' indices of ``output`` over the saltelli axes of a sweep.

    Reads the dataset's design (manifest) and ``runs`` table and hands them to
    :func:`sobol_from_runs`, which does the analysis.

    Parameters
    ----------
    out : Path
        A sweep dataset whose manifest holds a Saltelli ``design``.
    output : str
        A numeric column of ``runs`` (``adoption_frac_end``, ``wait_mean_h``, ...).
    confidence : float
        Confidence level of the bootstrap intervals, in (0, 1).
    drop_failed : bool
        Leave out every base sample (its A, AB_i, BA_i and B rows) one of whose
        scenarios failed or is missing, instead of refusing.
    num_resamples : int
        Bootstrap resamples of the base samples.
    seed : int
        Seed of the bootstrap (>= 1: SALib ignores a seed of 0); the indices themselves
        do not depend on it, and the same seed gives the same intervals.
    band : float
        Mass of the central band of the output reported with its median, in (0, 1).

    Raises
    ------
    SchemaError
        ``out`` is not a saltelli sweep.
    ConfigError
        ``output`` is not a numeric column; failed or missing scenarios without
        ``drop_failed`` (naming how many); fewer than two base samples left.
    """
    _check_options(seed, confidence, band)
    design = _design(out)
    return sobol_from_runs(read_table(out, "runs"), design, output, confidence, drop_failed=drop_failed,
                           num_resamples=num_resamples, seed=seed, band=band, where=f"{out}/runs")


def sobol_from_runs(
    runs: pa.Table,
    design: dict[str, Any],
    output: str,
    confidence: float = 0.95,
    *,
    drop_failed: bool = False,
    num_resamples: int = 1000,
    seed: int = 1,
    band: float = 0.9,
    where: str = "runs",
) -> SensitivityResult:
    """:func:`sobol_indices` on a ``runs``-like table and a Saltelli design already in hand.

    ``runs`` needs ``scenario_id``, ``status`` and ``output`` (one row per scenario and
    replication); ``design`` is a sweep manifest's ``design``.  A recorded study
    (``docs/study.py``) goes through here, so its figures are those ``cpnsim analyze
    sensitivity`` prints on the dataset it was recorded from.  ``where`` names the table
    in error messages.  Parameters and errors otherwise as :func:`sobol_indices`.
    """
    _check_options(seed, confidence, band)
    numeric = numeric_columns(runs)
    if output not in numeric:
        hint = nearest(output, numeric)
        tail = f"did you mean '{hint}'?" if hint else "numeric columns: " + ", ".join(numeric)
        raise ConfigError(located(where, output, f"no numeric column {output!r} ({tail})"))
    means, failed, null = scenario_means(runs, output)
    keys: list[str] = list(design["keys"])
    second_order = bool(design["second_order"])
    step = len(keys) + 2 + (len(keys) if second_order else 0)
    all_ids = {sid for g in design["groups"] for sid in g["rows"]}
    bad = {sid for sid in all_ids if sid not in means}  # failed, null output, or not run yet
    if bad and not drop_failed:
        parts = [f"{len(bad & failed)} failed", f"{len(bad & null)} with a null or NaN {output}",
                 f"{len(bad - failed - null)} missing (sweep incomplete)"]
        what = ", ".join(p for p in parts if not p.startswith("0 ")) + " of"
        raise ConfigError(located(where, output, f"{what} {len(all_ids)} scenarios of the design; "
                                  "rerun them, or pass --drop-failed to leave out their base samples"))
    groups: list[GroupIndices] = []
    for g in design["groups"]:
        rows: list[str] = g["rows"]
        blocks = [rows[j * step:(j + 1) * step] for j in range(len(rows) // step)]
        kept = [b for b in blocks if not any(sid in bad for sid in b)]
        if len(kept) < 2:
            raise ConfigError(located(where, output, f"design {json.dumps(g['grid'])}: {len(kept)} whole "
                                      f"base sample(s) of {len(blocks)} left; need at least 2"))
        y = np.array([means[sid] for b in kept for sid in b], dtype=float)
        r = _analyze(y, keys, second_order, confidence, num_resamples, seed)
        lo, med, hi = np.quantile(y, [(1 - band) / 2, 0.5, (1 + band) / 2])
        groups.append(GroupIndices(dict(g["grid"]), tuple(keys), tuple(map(float, r["S1"])),
                                   tuple(map(float, r["S1_conf"])), tuple(map(float, r["ST"])),
                                   tuple(map(float, r["ST_conf"])), len(kept), len(blocks) - len(kept),
                                   float(med), float(lo), float(hi)))
    return SensitivityResult(output, _column_unit(runs, output), confidence, tuple(groups), len(bad), band)


def sensitivity_table(result: SensitivityResult, source: str = "") -> pa.Table:
    """The indices as an Arrow table (:data:`SENSITIVITY_COLUMNS`), one row per group and parameter.

    Field metadata carries each column's unit and description; schema metadata the
    output column, its unit, the confidence level and ``source`` (the dataset).
    """
    cols: dict[str, list[Any]] = {name: [] for name, *_ in SENSITIVITY_COLUMNS}
    for g in result.groups:
        for i, key in enumerate(g.parameters):
            cols["group"].append(json.dumps(g.grid, sort_keys=True))
            cols["parameter"].append(key)
            cols["S1"].append(g.s1[i])
            cols["S1_conf"].append(g.s1_conf[i])
            cols["ST"].append(g.st[i])
            cols["ST_conf"].append(g.st_conf[i])
            cols["base_samples"].append(g.base_samples)
            cols["output_median"].append(g.median)
            cols["output_band_low"].append(g.band_low)
            cols["output_band_high"].append(g.band_high)
    # The band columns are in the analysed output's unit.
    fields = [pa.field(name, dtype, metadata={"unit": result.unit if unit == "output" else unit, "description": desc})
              for name, dtype, unit, desc in SENSITIVITY_COLUMNS]
    meta = {"kind": "sensitivity", "output": result.output, "output_unit": result.unit,
            "confidence": str(result.confidence), "band": str(result.band),
            "method": "SALib sobol (Saltelli 2010 S1, Jansen ST)",
            "source": source}
    schema = pa.schema(fields, metadata=meta)
    return pa.Table.from_arrays([pa.array(cols[f.name], type=f.type) for f in fields], schema=schema)
