"""Arrow schemas of the output tables, with units in field metadata: the one source of every table's columns.

Every table carries ``scenario_id`` and ``replication``; every field carries
``unit`` and ``description`` metadata; every table carries ``cpnsim.schema_version``
and ``cpnsim.table`` in its schema metadata.  ``docs/schema.md`` is checked against
these definitions by the test suite.

The producers of per-replication tables (:class:`sim.metrics.MetricBuffers` for
``sites``, :class:`sim.transfers.Transfers` for ``links``, :class:`sim.job_log.JobLog`
for ``jobs``, :class:`sim.adoption.AdoptionDriver` for ``adoption``) take their column
names from here (:func:`empty_columns`, :func:`append_row`) and expose them as a
:class:`TableProducer`; :meth:`sim.model.Model.producers` names them and
:mod:`sim.run` assembles every table the same way.  A new table is a schema in
:data:`TABLES`, a producer, and one line in ``Model.producers``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import pyarrow as pa

__all__ = [
    "ADOPTION_COLUMNS",
    "CALIBRATION_COLUMNS",
    "JOBS_COLUMNS",
    "KEY_COLUMNS",
    "LINKS_COLUMNS",
    "OPTIONAL_COLUMNS",
    "RUNS_COLUMNS",
    "SCHEMA_VERSION",
    "SITES_COLUMNS",
    "TABLES",
    "TIMINGS_COLUMNS",
    "Column",
    "TableProducer",
    "append_row",
    "build_table",
    "concat_columns",
    "empty_columns",
    "flatten_params",
    "param_unit",
    "schema_for",
    "value_columns",
    "with_key",
]

SCHEMA_VERSION = "1"

Column = tuple[str, pa.DataType, str, str]
"""(name, Arrow type, unit, description); unit ``"1"`` means dimensionless, ``""`` none."""

_KEY: list[Column] = [
    ("scenario_id", pa.string(), "", "Stable id of the scenario: hash of its resolved config and network content"),
    ("replication", pa.int32(), "", "Replication index, 0-based"),
]

RUNS_COLUMNS: list[Column] = [
    *_KEY,
    ("name", pa.string(), "", "Scenario name"),
    ("seed", pa.int64(), "", "Root seed of the scenario"),
    ("status", pa.string(), "", "'ok', or 'failed' with the error in 'error'"),
    ("error", pa.string(), "", "Error message of a failed run, else null"),
    ("policy", pa.string(), "", "Placement policy"),
    ("network", pa.string(), "", "Network name"),
    ("horizon_h", pa.float64(), "h", "Simulated time"),
    ("warmup_h", pa.float64(), "h", "Leading time left out of the window statistics"),
    ("events", pa.int64(), "1", "Simulation events scheduled (arrivals, finishes, low-frequency actors)"),
    ("jobs_arrived", pa.int64(), "jobs", "Jobs that arrived over the whole run"),
    ("jobs_rejected", pa.int64(), "jobs", "Jobs no reachable site was large enough to run"),
    ("jobs_started", pa.int64(), "jobs", "Jobs started over the whole run"),
    ("jobs_done", pa.int64(), "jobs", "Jobs finished over the whole run"),
    ("jobs_queued_end", pa.int64(), "jobs", "Jobs waiting at the horizon"),
    ("jobs_running_end", pa.int64(), "jobs", "Jobs running at the horizon"),
    ("jobs_in_transfer_end", pa.int64(), "jobs", "Jobs whose input was still moving over the WAN at the horizon"),
    ("transfers_done", pa.int64(), "jobs", "Input transfers delivered over the whole run"),
    ("transfer_mean_h", pa.float64(), "h", "Mean duration of the input transfers delivered in the window"),
    ("arrival_rate_per_h", pa.float64(), "jobs/h", "Observed arrival rate in the window [warmup_h, horizon_h)"),
    ("wait_mean_h", pa.float64(), "h", "Mean wait (arrival to start) of jobs started in the window"),
    ("wait_p95_h", pa.float64(), "h", "95th-percentile wait of jobs started in the window (within 0.5 %)"),
    ("queue_len_mean", pa.float64(), "jobs", "Time-average number of jobs waiting, over the window, all sites"),
    ("utilisation", pa.float64(), "1", "GPU-hours busy / GPU-hours available, over the window, all sites"),
    ("gpu_h_busy", pa.float64(), "GPU-h", "GPU-hours allocated to jobs in the window"),
    ("work_gpu_h_done", pa.float64(), "reference GPU-h", "Work of the jobs finished in the window"),
    ("energy_mwh", pa.float64(), "MWh", "Facility energy in the window (IT power x PUE)"),
    ("cost_cny", pa.float64(), "CNY", "Electricity cost in the window"),
    ("co2_t", pa.float64(), "t CO2", "Emissions in the window (grid intensity x non-renewable share)"),
    ("jobs_unmet", pa.int64(), "jobs", "Jobs that left a queue unserved after their class's max_wait_h, whole run"),
    ("jobs_failed", pa.int64(), "jobs", "Jobs given up after more than max_restarts interruptions, whole run"),
    ("interruptions", pa.int64(), "1", "Running jobs interrupted by outages and GPU failures, whole run"),
    ("work_gpu_h_unmet", pa.float64(), "reference GPU-h", "Work of the unmet jobs, whole run"),
    ("gpu_h_served", pa.float64(), "GPU-h", "GPU-hours allocated to jobs over the whole run (useful + lost)"),
    ("gpu_h_useful", pa.float64(), "GPU-h", "GPU-hours that count towards a job's completion, whole run"),
    ("gpu_h_lost", pa.float64(), "GPU-h", "GPU-hours lost to interruptions (since last checkpoint) and failed jobs"),
    ("site_down_h", pa.float64(), "h", "Hours of outage summed over sites, whole run"),
    ("jobs_arrived_real", pa.float64(), "jobs", "Arrived jobs in real units (each counts its class's scale)"),
    ("jobs_done_real", pa.float64(), "jobs", "Finished jobs in real units, whole run"),
    ("jobs_unmet_real", pa.float64(), "jobs", "Unmet jobs in real units, whole run"),
    ("jobs_failed_real", pa.float64(), "jobs", "Failed jobs in real units, whole run"),
    ("work_gpu_h_done_real", pa.float64(), "reference GPU-h", "Work of finished jobs x scale, whole run"),
    ("work_gpu_h_unmet_real", pa.float64(), "reference GPU-h", "Work of unmet jobs x scale, whole run"),
    ("adoption_frac_end", pa.float64(), "1",
     "Adopted fraction of all enterprises (enterprise-weighted over segments) at the horizon; null without [adoption]"),
    ("adopters_end", pa.float64(), "enterprises", "Adopting enterprises over all segments at the horizon"),
    # Time signals (sim.signals): per busy GPU-hour of the window (idle power included); deferral by policies.
    ("cost_cny_per_gpu_h", pa.float64(), "CNY/GPU-h", "cost_cny / gpu_h_busy over the window"),
    ("co2_kg_per_gpu_h", pa.float64(), "kg CO2/GPU-h", "1000 x co2_t / gpu_h_busy over the window"),
    ("renewable_share", pa.float64(), "1", "Share of the window's energy from the sites' renewable supply"),
    ("jobs_deferred", pa.int64(), "jobs", "Jobs held for cheaper or greener hours ([signals] defer), whole run"),
    ("deferral_mean_h", pa.float64(), "h", "Mean hold of the deferred jobs (null if none)"),
    ("jobs_held_end", pa.int64(), "jobs", "Deferred jobs still held at the horizon (not yet at a site)"),
    ("deadline_misses", pa.int64(), "jobs",
     "Jobs of classes with deadline_h whose hold + wait at the site exceeded it, unmet, or queued past it at "
     "the horizon; whole run (sim.deadlines)"),
    ("deadline_misses_deferred", pa.int64(), "jobs",
     "Of deadline_misses, the jobs that were held by [signals] defer (misses deferral may have caused)"),
    ("jobs_rejected_residency", pa.int64(), "jobs",
     "Jobs rejected because the data-residency rules left no site the policy would take (within jobs_rejected)"),
    ("transfer_cost_cny", pa.float64(), "CNY",
     "GB moved over each link x its price_cny_per_gb, summed over links, whole run"),
]

SITES_COLUMNS: list[Column] = [
    *_KEY,
    ("site_id", pa.string(), "", "Site id"),
    ("t_start_h", pa.float64(), "h", "Start of the interval"),
    ("t_end_h", pa.float64(), "h", "End of the interval"),
    ("gpus_total", pa.int64(), "GPUs", "GPUs in force at the site at the end of the interval (capacity timeline)"),
    ("gpus_busy_mean", pa.float64(), "GPUs", "Time-average GPUs allocated"),
    ("utilisation", pa.float64(), "1", "gpus_busy_mean / mean GPUs in force over the interval"),
    ("queue_len_mean", pa.float64(), "jobs", "Time-average jobs waiting"),
    ("queue_len_end", pa.int64(), "jobs", "Jobs waiting at the end of the interval"),
    ("running_end", pa.int64(), "jobs", "Jobs running at the end of the interval"),
    ("jobs_arrived", pa.int64(), "jobs", "Jobs placed at the site in the interval"),
    ("jobs_started", pa.int64(), "jobs", "Jobs started in the interval"),
    ("jobs_finished", pa.int64(), "jobs", "Jobs finished in the interval"),
    ("wait_mean_h", pa.float64(), "h", "Mean wait of jobs started in the interval (null if none)"),
    ("wait_p50_h", pa.float64(), "h", "Median wait of jobs started in the interval (exact)"),
    ("wait_p95_h", pa.float64(), "h", "95th-percentile wait of jobs started in the interval (exact)"),
    ("wait_max_h", pa.float64(), "h", "Longest wait of jobs started in the interval"),
    ("gpu_h_busy", pa.float64(), "GPU-h", "GPU-hours allocated in the interval"),
    ("energy_mwh", pa.float64(), "MWh", "Facility energy: (busy x P_busy + idle x P_idle) x PUE x interval"),
    ("cost_cny", pa.float64(), "CNY", "energy_mwh x 1000 x price_cny_per_kwh"),
    ("co2_t", pa.float64(), "t CO2", "energy_mwh x carbon_kg_per_kwh x (1 - renewable_frac)"),
    ("jobs_unmet", pa.int64(), "jobs", "Jobs that left the site's queue unserved in the interval (max_wait_h)"),
    ("gpu_h_lost", pa.float64(), "GPU-h", "GPU-hours lost to interruptions in the interval"),
    ("down_h", pa.float64(), "h", "Hours the site was down (outage) in the interval"),
    # Time signals (sim.signals): the annual figures without [signals]; energy-weighted hourly means with it.
    ("price_cny_per_kwh", pa.float64(), "CNY/kWh", "Mean electricity price of the interval's energy"),
    ("carbon_kg_per_kwh", pa.float64(), "kg CO2/kWh", "Mean grid carbon intensity of the interval's energy"),
    ("renewable_mwh", pa.float64(), "MWh", "Energy from the site's renewable supply in the interval"),
    ("renewable_share", pa.float64(), "1", "renewable_mwh / energy_mwh (null when no energy)"),
]

TIMINGS_COLUMNS: list[Column] = [
    *_KEY,
    ("wall_time_s", pa.float64(), "s", "Wall-clock time of the replication (not deterministic)"),
    ("events", pa.int64(), "1", "Simulation events scheduled"),
    ("events_per_s", pa.float64(), "1/s", "events / wall_time_s"),
    ("jobs_per_s", pa.float64(), "jobs/s", "jobs_arrived / wall_time_s"),
    ("node_id", pa.string(), "", "Ray node that ran the scenario (null outside Ray; filled by sweeps)"),
    ("worker_pid", pa.int64(), "", "Process id of the worker that ran the scenario (filled by sweeps)"),
    ("ray_job_id", pa.string(), "", "Ray job id of the sweep (null outside Ray; filled by sweeps)"),
]

OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {"timings": frozenset({"node_id", "worker_pid", "ray_job_id"})}
"""Columns :func:`build_table` fills with nulls when not given: where a scenario ran is known
to the executor (``cluster.sweeps.batch``), not to the simulation."""

LINKS_COLUMNS: list[Column] = [
    *_KEY,
    ("link_id", pa.string(), "", "Link id"),
    ("t_start_h", pa.float64(), "h", "Start of the interval"),
    ("t_end_h", pa.float64(), "h", "End of the interval"),
    ("bandwidth_gbps", pa.float64(), "Gbit/s", "Capacity of the link (shared by both directions)"),
    ("moved_gb", pa.float64(), "GB", "Data carried in the interval, 10^9 bytes"),
    ("utilisation", pa.float64(), "1", "Time-average allocated bandwidth / capacity"),
    ("flows_mean", pa.float64(), "flows", "Time-average number of transfers crossing the link"),
    ("flows_max", pa.int64(), "flows", "Most transfers crossing the link at once in the interval"),
    ("cost_cny", pa.float64(), "CNY", "moved_gb x the link's price_cny_per_gb (0 when it has none)"),
]

JOBS_COLUMNS: list[Column] = [
    *_KEY,
    ("job_id", pa.int64(), "", "Job id: arrival order within the replication, from 0"),
    ("class", pa.string(), "", "Job class name"),
    ("origin", pa.string(), "", "Origin region id"),
    ("site_id", pa.string(), "", "Site the job was placed at"),
    ("arrival_h", pa.float64(), "h", "Arrival at the site"),
    ("start_h", pa.float64(), "h", "First start (null if it never started)"),
    ("finish_h", pa.float64(), "h", "Finish (null unless status is 'done')"),
    ("wait_h", pa.float64(), "h", "start_h - arrival_h (null if it never started)"),
    ("gpus", pa.int64(), "GPUs", "GPUs the job holds while it runs"),
    ("work_gpu_h", pa.float64(), "reference GPU-h", "Work of the job"),
    ("status", pa.string(), "", "'done', 'failed', 'unmet', 'rejected', or at the horizon 'running' or 'queued'"),
    ("restarts", pa.int32(), "1", "Times the job was interrupted and requeued"),
    ("lost_gpu_h", pa.float64(), "GPU-h", "GPU-hours of this job lost to interruptions"),
    ("origin_country", pa.string(), "", "ISO 3166-1 alpha-2 country of the origin region (null if unknown)"),
    ("site_country", pa.string(), "", "ISO 3166-1 alpha-2 country of the site (null if unknown or not placed)"),
    ("crossed_border", pa.bool_(), "", "origin_country != site_country (null if either is unknown)"),
    ("reject_reason", pa.string(), "",
     "Why the job was not placed ('residency' for status 'rejected'); null for placed jobs"),
    ("transfer_cny", pa.float64(), "CNY",
     "(Input GB + result GB sent home) x the summed price_cny_per_gb of its route, for a job whose data moved "
     "(0 otherwise)"),
]

ADOPTION_COLUMNS: list[Column] = [
    *_KEY,
    ("step", pa.int32(), "", "Adoption step index, 0-based"),
    ("t_start_h", pa.float64(), "h", "Start of the step"),
    ("t_end_h", pa.float64(), "h", "End of the step (the horizon for the last one)"),
    ("region", pa.string(), "", "Demand region of the segment"),
    ("industry", pa.string(), "", "Industry of the segment"),
    ("enterprises", pa.float64(), "enterprises", "Enterprises in the segment"),
    ("adopted_frac_start", pa.float64(), "1", "Adopted fraction F at the start of the step"),
    ("adopted_frac", pa.float64(), "1", "Adopted fraction F at the end of the step"),
    ("adopters", pa.float64(), "enterprises", "enterprises x adopted_frac"),
    ("p_eff_per_yr", pa.float64(), "1/yr", "Effective innovation rate p0 x R over the step"),
    ("q_eff_per_yr", pa.float64(), "1/yr", "Effective imitation rate q0 x R over the step"),
    ("resonance", pa.float64(), "1", "R = (S x D) ** resonance_elasticity over the step"),
    ("comparative_advantage", pa.float64(), "1", "Supply factor of the industry"),
    ("complexity", pa.float64(), "1", "Supply factor of the industry (enters inversely)"),
    ("compatibility", pa.float64(), "1", "Supply factor of the industry"),
    ("observability", pa.float64(), "1", "Supply factor of the industry"),
    ("anticipated_benefits", pa.float64(), "1", "Demand factor of the segment"),
    ("expected_costs", pa.float64(), "1",
     "Demand factor (enters inversely): exogenous value x capacity factor from the previous step's wait and price"),
    ("social_impact", pa.float64(), "1", "Demand factor of the segment"),
    ("facilitating_conditions", pa.float64(), "1",
     "Demand factor: exogenous value x capacity factor from the previous step's served share"),
    ("demand_gpu_h", pa.float64(), "reference GPU-h", "Work of the adoption-driven jobs that arrived in the step"),
    ("served_gpu_h", pa.float64(), "reference GPU-h",
     "Part of demand_gpu_h started within the latency budget by the end of the step"),
    ("unmet_gpu_h", pa.float64(), "reference GPU-h", "demand_gpu_h - served_gpu_h"),
    ("served_share", pa.float64(), "1", "served_gpu_h / demand_gpu_h (null if no demand)"),
    ("wait_mean_h", pa.float64(), "h",
     "Mean wait met by the step's jobs (still queued: wait so far; unmet: until they left); null if none"),
    ("price_cny_per_gpu_h", pa.float64(), "CNY/GPU-h", "Mean electricity price per GPU-hour at the sites that ran it"),
]

CALIBRATION_COLUMNS: list[Column] = [
    *_KEY,
    ("figure", pa.string(), "", "Key of the published figure (sim/data/reference_figures.toml)"),
    ("label", pa.string(), "", "What the figure is, with its scope"),
    ("unit", pa.string(), "", "Unit of model, published, low and high (e.g. EFLOPS, TWh/a, ms, 1)"),
    ("model", pa.float64(), "", "The model's value, in the row's unit; null where it cannot be reproduced (see note)"),
    ("published", pa.float64(), "", "The published value, in the row's unit"),
    ("low", pa.float64(), "", "Lower end of the band the model should fall in, in the row's unit"),
    ("high", pa.float64(), "", "Upper end of the band, in the row's unit (inf: no upper bound)"),
    ("within", pa.bool_(), "", "low <= model <= high; null when model is null"),
    ("as_of", pa.string(), "", "Date or period of the published figure"),
    ("note", pa.string(), "", "Why model and published may differ, or why the figure cannot be reproduced"),
    ("source", pa.string(), "", "Source of the published figure (url: / seed / derived: ...)"),
    ("band_source", pa.string(), "", "Where the band comes from (a published bound, or an estimate: tolerance)"),
    ("by_construction", pa.bool_(), "",
     "The network was built from this figure, so lying in the band is no test of the model (not an outcome)"),
]

TABLES: dict[str, list[Column]] = {
    "runs": RUNS_COLUMNS, "sites": SITES_COLUMNS, "links": LINKS_COLUMNS, "timings": TIMINGS_COLUMNS,
    "jobs": JOBS_COLUMNS, "adoption": ADOPTION_COLUMNS, "calibration": CALIBRATION_COLUMNS,
}
"""Every table cpnsim writes, by name. ``runs`` also has ``param.*`` columns."""

KEY_COLUMNS = tuple(name for name, *_ in _KEY)
"""The columns every table starts with, ``scenario_id`` and ``replication``: set by :func:`with_key`."""


class TableProducer(Protocol):
    """Something that fills one table's value columns during a replication (see :func:`empty_columns`)."""

    @property
    def columns(self) -> dict[str, list[Any]]:
        """Column lists by name: every column of the table but :data:`KEY_COLUMNS` (an attribute or a property)."""


def value_columns(table: str) -> tuple[str, ...]:
    """The columns of ``table`` a producer fills: all but :data:`KEY_COLUMNS`, in schema order.

    Examples
    --------
    >>> value_columns("links")[:3]
    ('link_id', 't_start_h', 't_end_h')
    """
    return tuple(name for name, *_ in TABLES[table] if name not in KEY_COLUMNS)


def empty_columns(table: str) -> dict[str, list[Any]]:
    """Empty column lists for a producer of ``table`` (one per :func:`value_columns`)."""
    return {name: [] for name in value_columns(table)}


def append_row(columns: dict[str, list[Any]], row: Mapping[str, Any]) -> None:
    """Append ``row`` (values by column name) to ``columns`` from :func:`empty_columns`.

    Raises
    ------
    KeyError
        ``row`` does not name exactly the table's value columns.

    Examples
    --------
    >>> cols = {"a": [], "b": [1]}
    >>> append_row(cols, {"b": 2, "a": 0})
    >>> cols
    {'a': [0], 'b': [1, 2]}
    """
    if row.keys() != columns.keys():
        raise KeyError(f"row columns {sorted(row)} are not the table's {sorted(columns)}")
    for name, value in row.items():
        columns[name].append(value)


def with_key(columns: Mapping[str, list[Any]], scenario_id: str, replication: int) -> dict[str, list[Any]]:
    """``columns`` of one replication with the :data:`KEY_COLUMNS` in front, one value per row."""
    n_rows = len(next(iter(columns.values()))) if columns else 0
    return {"scenario_id": [scenario_id] * n_rows, "replication": [replication] * n_rows, **columns}


def concat_columns(parts: Sequence[Mapping[str, Sequence[Any]]]) -> dict[str, list[Any]]:
    """The columns of ``parts`` (e.g. one per replication) one after the other.

    Examples
    --------
    >>> concat_columns([{"a": [1]}, {"a": [2, 3]}])
    {'a': [1, 2, 3]}
    """
    out: dict[str, list[Any]] = {}
    for part in parts:
        for name, values in part.items():
            out.setdefault(name, []).extend(values)
    return out


def _field(name: str, dtype: pa.DataType, unit: str, description: str) -> pa.Field:
    return pa.field(name, dtype, metadata={"unit": unit, "description": description})


@functools.cache
def _declared_fields(table: str) -> tuple[pa.Field, ...]:
    # Built once per table (fields are immutable, so sharing them is safe): run_scenario of the
    # built-in default at horizon_h = 1 took 2.60 instead of 2.81 CPU ms (benchmarks/README.md,
    # "a tiny scenario's overhead").
    return tuple(_field(*column) for column in TABLES[table])


def schema_for(table: str, extra: Sequence[pa.Field] = ()) -> pa.Schema:
    """The Arrow schema of ``table`` (plus ``extra`` fields, e.g. ``param.*``)."""
    fields = [*_declared_fields(table), *extra]
    return pa.schema(fields, metadata={"cpnsim.schema_version": SCHEMA_VERSION, "cpnsim.table": table})


_FEW_ROWS = 32
"""Tables of at most this many rows are built by one conversion of their rows (a struct array), others by column."""

class _Layout(NamedTuple):
    extra: Sequence[pa.Field]  # kept so that its id stays unique while the entry lives
    schema: pa.Schema
    struct: pa.DataType  # the schema's fields as one struct type (tables of few rows)
    names: tuple[str, ...]
    required: frozenset[str]  # the names a producer must give (all but the optional ones)


_LAYOUTS: dict[tuple[str, int], _Layout] = {}


def _layout(table: str, extra: Sequence[pa.Field]) -> _Layout:
    # Kept by the identity of ``extra`` (sim.run passes the same tuple of param.* fields for the same
    # parameter layout): the schema, its struct type and the names read off its fields took 0.15 of the
    # 0.62 CPU ms of a tiny scenario's runs table (benchmarks/national.py, "tiny scenario").
    key = (table, id(extra))
    known = _LAYOUTS.get(key)
    if known is None or known.extra is not extra:
        if len(_LAYOUTS) >= 256:
            _LAYOUTS.clear()
        schema = schema_for(table, extra)
        names = tuple(schema.names)
        known = _LAYOUTS[key] = _Layout(extra, schema, pa.struct(list(schema)), names,
                                        frozenset(names) - OPTIONAL_COLUMNS.get(table, frozenset()))
    return known


def build_table(table: str, columns: Mapping[str, Sequence[Any]], extra: Sequence[pa.Field] = ()) -> pa.Table:
    """Build ``table`` from column lists, checking every declared column is present.

    Only :data:`OPTIONAL_COLUMNS` may be absent; they are then null.  A float NaN is
    stored as null ("no observation", e.g. no job started).
    """
    schema, struct, names, required = _layout(table, extra)[1:]
    if not required <= columns.keys():
        raise KeyError(f"table {table!r} is missing columns {[n for n in names if n in required - columns.keys()]}")
    rows = len(next(iter(columns.values()), ()))
    # from_pandas=True stores a float NaN as null inside Arrow's converter: the same arrays as
    # replacing NaN by None in Python first (tests/sim/test_build_table.py), without a Python step per value.
    if rows <= _FEW_ROWS:
        # Few rows (runs, timings, a short run's sites): one conversion of the rows as a struct array
        # instead of one pa.array call per column (a few µs each; runs has over a hundred columns):
        # a tiny scenario's runs table in 0.2 instead of 0.62 CPU ms (benchmarks/national.py, "tiny
        # scenario").  An absent (optional) key converts to null.
        present = [name for name in names if name in columns]
        values = [columns[name] for name in present]
        if any(len(v) != rows for v in values):
            raise ValueError(f"table {table!r}: columns of different lengths")
        records = [dict(zip(present, row, strict=True)) for row in zip(*values, strict=True)]
        batch = pa.RecordBatch.from_struct_array(pa.array(records, type=struct, from_pandas=True))
        return pa.Table.from_batches([batch]).replace_schema_metadata(schema.metadata)
    arrays = [pa.array(columns[f.name], type=f.type, from_pandas=True)
              if f.name in columns else pa.nulls(rows, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def flatten_params(config: Mapping[str, Any], prefix: str = "param.") -> dict[str, Any]:
    """Flatten a nested config into ``param.a.b`` scalars; lists become JSON text.

    Examples
    --------
    >>> flatten_params({"a": {"b": 1, "c": [1, 2]}, "d": "x"})
    {'param.a.b': 1, 'param.a.c': '[1, 2]', 'param.d': 'x'}
    """
    out: dict[str, Any] = {}
    _flatten_into(out, config, prefix)
    return out


def _flatten_into(out: dict[str, Any], config: Mapping[str, Any], prefix: str) -> None:
    # Into one dict, and the class tests before the slow isinstance(..., Mapping) (an ABC check):
    # the built-in default's config in 0.024 instead of 0.032 CPU ms (benchmarks/README.md, "Issue 20, fifth slice").
    for key, value in config.items():
        kind = value.__class__
        if kind in _PLAIN:  # most values
            out[f"{prefix}{key}"] = value
        elif kind is dict or isinstance(value, Mapping):
            _flatten_into(out, value, f"{prefix}{key}.")
        elif kind is list or isinstance(value, list | tuple):  # a list subclass too, as before
            out[f"{prefix}{key}"] = json.dumps(list(value))
        else:
            out[f"{prefix}{key}"] = value


_PLAIN = frozenset({str, int, float, bool, type(None)})

_SUFFIX_UNITS = (
    ("_per_h", "1/h"), ("_gpu_h", "reference GPU-h"), ("_h", "h"), ("_cny_per_kwh", "CNY/kWh"),
    ("_kg_per_kwh", "kg CO2/kWh"), ("_frac", "1"), ("_gbps", "Gbit/s"), ("_km", "km"), ("_ms", "ms"),
    ("_per_yr", "1/yr"),
)


def param_unit(name: str) -> str:
    """The unit of a ``param.*`` column, read from the key's suffix (cpnsim's naming rule).

    Examples
    --------
    >>> param_unit("param.workload.batch.arrival_rate_per_h"), param_unit("param.seed")
    ('1/h', '')
    """
    key = name.split(".")[-2] if name.split(".")[-1] in {"value", "mean", "median", "min", "max", "low", "high",
                                                         "values"} else name.split(".")[-1]
    if name.split(".")[-1] == "gpus" or key == "gpus":
        return "GPUs"
    return next((unit for suffix, unit in _SUFFIX_UNITS if key.endswith(suffix)), "")
