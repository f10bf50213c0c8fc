"""``schema.json`` beside a dataset: every table's columns, types, units and descriptions as plain JSON.

The units already live in each Arrow field's metadata, where pyarrow sees them; DuckDB,
polars and a spreadsheet do not.  ``schema.json`` carries the same facts for any reader
(DuckDB: ``SELECT unnest(columns, recursive := true) FROM read_json('out/schema.json')``),
with the cpnsim version and the scenario ids.  A pure function builds it from the tables; :func:`write_schema_json`
writes it atomically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from topology.plumbing import write_atomic

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SCHEMA_JSON", "schema_document", "write_schema_json"]

SCHEMA_JSON = "schema.json"
"""File name of the document, at the top of a dataset directory."""


def _text(metadata: Mapping[bytes, bytes] | None, key: bytes) -> str:
    return (metadata or {}).get(key, b"").decode()


def schema_document(tables: Mapping[str, pa.Table | pa.Schema], scenario_ids: Iterable[str]) -> dict[str, Any]:
    """Describe ``tables`` column by column.

    Parameters
    ----------
    tables : mapping of str to pyarrow.Table or pyarrow.Schema
        The dataset's tables, or only their schemas (a sweep knows them before it runs).
    scenario_ids : iterable of str
        The scenarios the dataset holds.

    Returns
    -------
    dict
        ``cpnsim_version``, ``schema_version``, ``scenario_ids``, ``tables`` (names) and
        ``columns``: one ``{table, name, type, unit, description}`` per column of every table
        (one flat list, so that SQL unnests it in one step).

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"w": [1.0]}).cast(pa.schema([pa.field("w", pa.float64(), metadata={"unit": "h"})]))
    >>> schema_document({"runs": t}, ["abc"])["columns"]
    [{'table': 'runs', 'name': 'w', 'type': 'double', 'unit': 'h', 'description': ''}]
    >>> schema_document({"runs": t.schema}, ["abc"]) == schema_document({"runs": t}, ["abc"])
    True
    """
    import pyarrow as pa

    from cluster.version import package_version
    from sim.tables import SCHEMA_VERSION

    schemas = {name: t.schema if isinstance(t, pa.Table) else t for name, t in tables.items()}

    return {
        "cpnsim_version": package_version(),
        "schema_version": SCHEMA_VERSION,
        "scenario_ids": sorted(set(scenario_ids)),
        "tables": sorted(tables),
        "columns": [{"table": name, "name": f.name, "type": str(f.type), "unit": _text(f.metadata, b"unit"),
                     "description": _text(f.metadata, b"description")}
                    for name, schema in sorted(schemas.items()) for f in schema],
    }


def write_schema_json(out: Path, tables: Mapping[str, pa.Table | pa.Schema], scenario_ids: Iterable[str]) -> Path:
    """Write :func:`schema_document` to ``out/schema.json`` atomically.

    Parameters
    ----------
    out : Path
        The dataset directory (it exists).
    tables : mapping of str to pyarrow.Table or pyarrow.Schema
        The dataset's tables or their schemas.
    scenario_ids : iterable of str
        The scenarios the dataset holds.

    Returns
    -------
    Path
        The file written.
    """
    text = json.dumps(schema_document(tables, scenario_ids), indent=2, ensure_ascii=False) + "\n"
    return write_atomic(out / SCHEMA_JSON, text)
