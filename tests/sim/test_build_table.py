"""build_table (a struct conversion for few rows, from_pandas by column for many) equals the per-value reference."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import sim.tables as tables
from sim.run import _param_fields, run_scenario
from sim.scenario import load_scenario
from sim.tables import build_table, schema_for

NAN = math.nan
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def reference(table: str, columns: dict[str, list[Any]], extra: tuple[pa.Field, ...] = ()) -> pa.Table:
    """The definition: NaN -> None in Python, one pa.array per column, absent optional columns null."""
    schema = schema_for(table, extra)
    rows = len(next(iter(columns.values()), ()))
    arrays = [pa.array([None if isinstance(v, float) and v != v else v for v in columns[f.name]], type=f.type)
              if f.name in columns else pa.nulls(rows, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _columns(table: str, rows: int) -> dict[str, list[Any]]:
    """Columns of ``table`` with ``rows`` rows: NaN and None sprinkled through every type."""
    out: dict[str, list[Any]] = {}
    for k, f in enumerate(schema_for(table)):
        values: list[Any] = []
        for i in range(rows):
            if (i + k) % 5 == 0:
                values.append(None)
            elif pa.types.is_floating(f.type):
                values.append(NAN if (i + k) % 3 == 0 else i * 0.1 + k)
            elif pa.types.is_integer(f.type):
                values.append(NAN if (i + k) % 7 == 0 else i + k)  # a float NaN in an int column: null too
            elif pa.types.is_boolean(f.type):
                values.append(NAN if (i + k) % 7 == 0 else bool(i % 2))
            else:
                values.append(NAN if (i + k) % 7 == 0 else f"v{i}")
        out[f.name] = values
    return out


@pytest.mark.parametrize("rows", [0, 1, 2, tables._FEW_ROWS, tables._FEW_ROWS + 1, 200])
@pytest.mark.parametrize("table", ["runs", "sites", "links", "jobs", "timings"])
def test_both_paths_equal_the_reference(table, rows):
    columns = _columns(table, rows)
    built = build_table(table, columns)
    assert built.equals(reference(table, columns), check_metadata=True)
    assert built.num_rows == rows and built.schema.equals(schema_for(table), check_metadata=True)
    if rows:
        assert sum(c.null_count for c in built.columns) > 0  # NaN and None became nulls


def test_optional_columns_may_be_absent_and_required_ones_may_not():
    optional = sorted(tables.OPTIONAL_COLUMNS["timings"])
    for rows in (3, tables._FEW_ROWS + 5):
        columns = _columns("timings", rows)
        for name in optional:
            del columns[name]
        built = build_table("timings", columns)
        assert built.equals(reference("timings", columns), check_metadata=True)
        assert all(built.column(name).null_count == rows for name in optional)
    columns = _columns("links", 2)
    del columns["link_id"]
    with pytest.raises(KeyError, match="link_id"):
        build_table("links", columns)


def test_columns_of_different_lengths_are_refused():
    columns = _columns("sites", 3)
    name = list(columns)[3]
    columns[name] = columns[name][:2]
    with pytest.raises((ValueError, pa.ArrowInvalid)):
        build_table("sites", columns)


@pytest.mark.parametrize(("path", "sets"), [
    (None, ["horizon_h=24"]),
    (None, ["horizon_h=6", "replications=3", "jobs_sample=1"]),
    (EXAMPLES / "edwc.toml", ["horizon_h=200", "warmup_h=0", "jobs_sample=1"]),  # calibration and jobs tables too
])
def test_every_table_of_a_run_equals_the_reference(path, sets):
    result = run_scenario(load_scenario(path, sets))
    assert {"calibration", "jobs"} <= set(result.tables()) or path is None
    for name, table in result.tables().items():
        parts = [r.columns[name] for r in result.replications]
        columns = {k: [v for part in parts for v in part[k]] for k in parts[0]}
        extra = _param_fields(columns) if name == "runs" else ()
        assert table.equals(reference(name, columns, tuple(extra)), check_metadata=True), name
    # The same parameter layout gives the same fields, so the schema is made once.
    runs = result.replications[0].columns["runs"]
    assert _param_fields(runs) is _param_fields(dict(runs))
