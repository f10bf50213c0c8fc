"""One schema per sweep: every part of ``runs`` carries every ``param.*`` column of the sweep.

The ``param.*`` columns of a scenario's ``runs`` rows are its flattened config, so their
set and types differ between scenarios (an axis that switches a distribution from
``exponential``, with ``mean``, to ``lognormal``, with ``median`` and ``sigma``; an integer
axis beside a float one).  :func:`sweep_schema` unifies them over the whole spec before
anything runs, and the writer casts each part to it (:func:`conform`): a column absent
from a scenario is null, an integer column that is a float elsewhere is a float.  So
``pyarrow.dataset``, ``polars.scan_ipc`` and DuckDB read every part of the dataset as one
table, without cpnsim's helpers.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from sim.scenario import LoadedScenario
from sim.tables import flatten_params, param_unit, schema_for

__all__ = ["conform", "sweep_schema"]

_ARROW = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string(), type(None): pa.null()}


def _unify(types: set[pa.DataType]) -> pa.DataType:
    """One type for a column: nulls give way; int64 with float64 is float64; other mixes are text."""
    types = types - {pa.null()}
    if not types:
        return pa.null()
    if len(types) == 1:
        return types.pop()
    if types == {pa.int64(), pa.float64()}:
        return pa.float64()
    return pa.string()


def sweep_schema(scenarios: Iterable[LoadedScenario]) -> pa.Schema:
    """The ``runs`` schema of a whole sweep: the fixed columns and every ``param.*`` column of any scenario.

    ``param.*`` columns come in the order first seen, with the unit and description that
    :func:`sim.run.run_scenario` gives them.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> a = load_scenario(None, ["workload.batch.work_gpu_h={dist='exponential', mean=3.0}"])
    >>> b = load_scenario(None, ["workload.batch.work_gpu_h={dist='lognormal', median=3, sigma=1}"])
    >>> schema = sweep_schema([a, b])
    >>> [str(schema.field(f"param.workload.batch.work_gpu_h.{k}").type) for k in ("mean", "median", "sigma")]
    ['double', 'double', 'double']
    """
    types: dict[str, set[pa.DataType]] = {}
    for loaded in scenarios:
        for key, value in flatten_params(loaded.scenario.model_dump(mode="json")).items():
            types.setdefault(key, set()).add(_ARROW.get(type(value), pa.string()))
    extra = [pa.field(key, _unify(seen), metadata={"unit": param_unit(key), "description": "Scenario parameter"})
             for key, seen in types.items()]
    return schema_for("runs", extra)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with the columns of ``schema``, in its order and types (missing ones null).

    Columns ``schema`` lacks (added by a custom runner, see :data:`cluster.sweeps.batch.Runner`)
    are kept after them, as they are.
    """
    unknown = [name for name in table.column_names if name not in schema.names]
    if unknown:
        schema = pa.schema([*schema, *(table.schema.field(name) for name in unknown)], metadata=schema.metadata)
    columns = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            columns.append(column if column.type == field.type else column.cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)
