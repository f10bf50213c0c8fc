"""What a report is made of: a dataset's manifest, its tables, its swept axes and its network.

Everything the sections need is read here, once, so each section is a pure function of
:class:`ReportData`.  Tables the dataset does not have are simply absent from
:attr:`ReportData.tables`; sections check for them and are omitted with a note.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa

from cluster.sweeps.location import object_storage
from cluster.sweeps.manifest import MANIFEST, Manifest, read_manifest
from cluster.sweeps.objectstore import redact_uri
from cluster.sweeps.store import read_table
from topology.model import Network
from topology.plumbing import SchemaError

__all__ = [
    "Axis",
    "ReportData",
    "ScenarioRow",
    "column",
    "dataset_label",
    "load_report_data",
    "scenario_label",
    "scenario_rows",
    "site_order",
    "unit_of",
]

# The tables a report knows how to show; any other table in the dataset is ignored.
KNOWN_TABLES = ("runs", "sites", "timings", "adoption", "links", "jobs", "calibration")


@dataclass(frozen=True)
class Axis:
    """A swept scenario key that takes more than one value in the dataset.

    Attributes
    ----------
    key : str
        Dotted scenario key (``sites.cl_zhongwei.gpus``).
    column : str
        Its ``runs`` column (``param.<key>``).
    values : tuple
        The distinct values it takes, sorted.
    numeric : bool
        True when every value is a number (a response curve can be drawn against it).
    unit : str
        Unit from the column's field metadata (``""`` when none).
    sampled : bool
        Drawn by a sampling method (random, Latin hypercube, Sobol), not a grid.
    """

    key: str
    column: str
    values: tuple[Any, ...]
    numeric: bool
    unit: str
    sampled: bool = False

    @property
    def label(self) -> str:
        """Axis label with its unit: ``sites.cl_zhongwei.gpus (GPUs)``."""
        return f"{self.key} ({self.unit})" if self.unit and self.unit != "1" else self.key

    @property
    def short(self) -> str:
        """The key without a leading ``sites.`` or ``workload.`` (for panel titles and legends)."""
        for prefix in ("sites.", "workload."):
            if self.key.startswith(prefix):
                return self.key[len(prefix):]
        return self.key

    def text(self, value: Any) -> str:
        """A value as a person reads it: ``1,024``, ``37.36`` (4 significant digits), ``nearest``."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        if isinstance(value, int) or float(value).is_integer():
            return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:g}"
        return f"{value:,.4g}"

    def show(self, value: Any) -> str:
        """``short = value``."""
        return f"{self.short} = {self.text(value)}"


@dataclass(frozen=True)
class ScenarioRow:
    """One scenario of the dataset with its replications' outcomes.

    Attributes
    ----------
    scenario_id : str
        As in the tables.
    settings : dict
        Value of every swept axis for this scenario, by axis key.
    status : str
        ``"ok"``, or ``"failed"`` when any row of the scenario failed.
    error : str or None
        The error of a failed scenario.
    outcomes : dict of str to numpy.ndarray
        Per outcome column, the values of the replications that ran (NaN for null).
    """

    scenario_id: str
    settings: dict[str, Any]
    status: str
    error: str | None
    outcomes: dict[str, np.ndarray]


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, read from one dataset.

    Attributes
    ----------
    out : Path or str
        The dataset directory, or its URI (``s3://bucket/x``) when it lies in an object store.
    manifest : Manifest
        Its ``manifest.json``.
    tables : mapping of str to pyarrow.Table
        The tables present (of :data:`KNOWN_TABLES`).
    axes : tuple of Axis
        Swept keys with more than one value (empty for a run).
    network : Network or None
        The scenario's network (a sweep's base scenario's) as the manifest records it, or
        None for a dataset written before manifests recorded it.
    network_note : str
        Why ``network`` is None, or a remark on it (a sweep varies some site's GPUs).
    fixed : dict
        Swept keys that take a single value in the dataset, with that value.
    """

    out: Path | str
    manifest: Manifest
    tables: Mapping[str, pa.Table]
    axes: tuple[Axis, ...]
    network: Network | None
    network_note: str = ""
    fixed: dict[str, Any] = field(default_factory=dict)
    _columns: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def col(self, table: str, name: str) -> np.ndarray:
        """Column ``name`` of ``table`` as :func:`column` gives it, converted once per report.

        Sections ask for the same key columns once per scenario; a sweep's ``sites`` table
        can hold a million rows, so they are converted once and kept.
        """
        key = (table, name)
        if key not in self._columns:
            self._columns[key] = column(self.tables[table], name)
        return self._columns[key]

    @property
    def kind(self) -> str:
        """``"run"`` or ``"sweep"``."""
        return self.manifest.kind

    @property
    def title(self) -> str:
        """A name for the page: the scenario name, or the sweep spec's name or file stem."""
        if self.kind == "sweep":
            spec = self.manifest.spec or {}
            source = self.manifest.source if self.manifest.source is not None else _base_name(self.out)
            name = spec.get("name") or Path(source).stem
            return f"Sweep {name}"
        scenario = self.manifest.scenario or {}
        return f"Run {scenario.get('name') or _base_name(self.out)}"

    def has(self, table: str) -> bool:
        """True when the dataset has ``table`` with at least one row."""
        return table in self.tables and self.tables[table].num_rows > 0


def column(table: pa.Table, name: str) -> np.ndarray:
    """Column ``name`` as a numpy array: numbers as float64 with NaN for null, else objects.

    Examples
    --------
    >>> column(pa.table({"x": [1, None]}), "x")
    array([ 1., nan])
    """
    array = table.column(name)
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_boolean(array.type):
        return np.asarray(array.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=object)


def unit_of(table: pa.Table, name: str) -> str:
    """The ``unit`` field metadata of column ``name`` (``""`` when absent)."""
    meta = table.schema.field(name).metadata or {}
    return str(meta.get(b"unit", b"").decode())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _axes(manifest: Manifest, runs: pa.Table | None) -> tuple[tuple[Axis, ...], dict[str, Any]]:
    """The swept keys of a sweep that vary in ``runs``, and those that take a single value."""
    if manifest.kind != "sweep" or runs is None:
        return (), {}
    axes, fixed = [], {}
    for raw in (manifest.spec or {}).get("axis", []):
        key = str(raw.get("key", ""))
        name = f"param.{key}"
        if not key or name not in runs.column_names:
            continue
        values = [v for v in runs.column(name).to_pylist() if v is not None]
        distinct = sorted(set(values), key=lambda v: (not _is_number(v), v if _is_number(v) else str(v)))
        if isinstance(raw.get("grid"), list):  # a grid keeps the order the spec gives it
            spec_order = [v for v in raw["grid"] if v in distinct]
            distinct = spec_order + [v for v in distinct if v not in spec_order]
        if len(distinct) == 1:
            fixed[key] = distinct[0]
        elif distinct:
            axes.append(Axis(key, name, tuple(distinct), all(_is_number(v) for v in distinct), unit_of(runs, name),
                             sampled="grid" not in raw))
    return tuple(axes), fixed


def _network(manifest: Manifest, axes: tuple[Axis, ...]) -> tuple[Network | None, str]:
    """The network the manifest records (a sweep's base scenario's), with a note on it."""
    if manifest.resolved_network is None:
        return None, ("the scenario's network could not be shown: this dataset was written before cpnsim "
                      "recorded the network in manifest.json (run it again to draw the map)")
    varied = [a.key for a in axes if a.key.startswith("sites.")]
    note = f"Sizes and figures are the base scenario's; the sweep varies {', '.join(varied)}." if varied else ""
    return manifest.resolved_network.network, note


def _base_name(out: Path | str) -> str:
    """The last component of a dataset's directory or URI path."""
    return out.name if isinstance(out, Path) else urlsplit(out).path.rstrip("/").rsplit("/", 1)[-1]


def dataset_label(out: Path | str) -> str:
    """``out`` as messages name it (an object-store URI without its secrets)."""
    return redact_uri(out) if isinstance(out, str) else str(out)


def load_report_data(out: Path | str) -> ReportData:
    """Read the dataset at ``out`` for a report.

    Parameters
    ----------
    out : Path or str
        A directory written by ``cpnsim run`` or ``cpnsim sweep``, or a pyarrow filesystem
        URI of one in an object store (``s3://bucket/x``; :mod:`cluster.sweeps.objectstore`).

    Returns
    -------
    ReportData

    Raises
    ------
    SchemaError
        ``out`` is not a cpnsim dataset, or one of its tables cannot be read.
    """
    remote = object_storage(out)
    if remote is not None:  # read through pyarrow.fs: manifest, journal and parts as a sweep wrote them
        out = remote.uri
        manifest = remote.read_manifest()  # SchemaError when no cpnsim manifest is there
    else:
        out = Path(out)
        if not out.is_dir():
            raise SchemaError(f"{out}: not a cpnsim dataset (no such directory)")
        if not (out / MANIFEST).is_file():
            raise SchemaError(f"{out}: not a cpnsim dataset (no {MANIFEST})")
        manifest = read_manifest(out)
    tables: dict[str, pa.Table] = {}
    for name in KNOWN_TABLES:
        if name not in manifest.tables:
            continue
        try:
            tables[name] = read_table(out, name)
        except (OSError, pa.ArrowException) as exc:
            raise SchemaError(f"{dataset_label(out)}/{name}: cannot read table {name!r} ({exc})") from None
    if "runs" in tables:
        missing = [c for c in ("scenario_id", "replication", "status") if c not in tables["runs"].column_names]
        if missing:
            raise SchemaError(f"{dataset_label(out)}/runs: missing column(s) {', '.join(missing)}")
    axes, fixed = _axes(manifest, tables.get("runs"))
    network, note = _network(manifest, axes)
    return ReportData(out, manifest, tables, axes, network, note, fixed)


def scenario_rows(data: ReportData, outcomes: tuple[str, ...]) -> list[ScenarioRow]:
    """Group ``runs`` by scenario, ordered by the axes' values, keeping each outcome's replications.

    Outcomes missing from ``runs`` are left out of :attr:`ScenarioRow.outcomes`.
    """
    runs = data.tables["runs"]
    ids = runs.column("scenario_id").to_pylist()
    status = runs.column("status").to_pylist()
    errors = runs.column("error").to_pylist() if "error" in runs.column_names else [None] * len(ids)
    values = {o: column(runs, o) for o in outcomes if o in runs.column_names}
    settings = {a.key: runs.column(a.column).to_pylist() for a in data.axes}
    order: dict[str, list[int]] = {}
    for i, sid in enumerate(ids):
        order.setdefault(sid, []).append(i)
    # Scenarios in the order of their axes' values, so tables and panels read like the spec.
    def rank(sid: str) -> list[int]:
        first = order[sid][0]
        return [a.values.index(v) if v in a.values else len(a.values)
                for a, v in ((a, settings[a.key][first]) for a in data.axes)]

    rows = []
    for sid in sorted(order, key=rank):
        idx = order[sid]
        ok = [i for i in idx if status[i] == "ok"]
        failed = [i for i in idx if status[i] != "ok"]
        rows.append(ScenarioRow(
            scenario_id=sid,
            settings={k: v[idx[0]] for k, v in settings.items()},
            status="failed" if failed else "ok",
            error=errors[failed[0]] if failed else None,
            outcomes={o: v[ok] for o, v in values.items()},
        ))
    return rows


def site_order(data: ReportData) -> list[str]:
    """Site ids in network order (east to west as the file lists them), else as they first appear."""
    seen: list[str] = [s.id for s in data.network.sites] if data.network is not None else []
    if data.has("sites"):
        present = dict.fromkeys(data.tables["sites"].column("site_id").to_pylist())
        seen = [s for s in seen if s in present] + [s for s in present if s not in seen]
    return seen


def scenario_label(data: ReportData, row: ScenarioRow, sep: str = " · ") -> str:
    """What distinguishes a scenario of a sweep: ``policy = nearest · cl_zhongwei.gpus = 512``.

    ``sep`` joins the axes (a newline gives a two-line panel title).
    """
    return sep.join(a.show(row.settings[a.key]) for a in data.axes) or data.title
