"""The documentation is checked against the code it describes.

* ``docs/schema.md`` lists every column of every table in :data:`sim.tables.TABLES`
  with its Arrow type and unit, and nothing else.
* ``docs/model.md`` documents every key of the scenario file (``Scenario``,
  ``EngineOptions``, ``SiteOverride``, ``JobClass``, every distribution), of the network
  file, and every placement policy; its complete example is a valid scenario.
* The reading snippets of ``docs/schema.md`` run against a real dataset.

A column or key added to the code but not to the docs fails here, naming what to add.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from sim.config import EngineOptions, Scenario, SiteOverride
from sim.placement import POLICIES
from sim.scenario import load_scenario
from sim.tables import SCHEMA_VERSION, TABLES
from topology.model import Link, Network, Region, Site
from workloads.distributions import Distribution
from workloads.job_class import JobClass

DOCS = Path(__file__).resolve().parent.parent / "docs"
NO_UNIT = "—"  # how docs/schema.md shows a field whose metadata unit is ""

_TABLE_HEADING = re.compile(r"^## Table `(\w+)`\s*$")
_COLUMN_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|\s*([^|]*?)\s*\|\s*(.*?)\s*\|\s*$")


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _is_heading(line: str, max_level: int = 3) -> bool:
    match = re.match(r"^(#+)\s", line)
    return bool(match) and len(match.group(1)) <= max_level


def _unit(cell: str) -> str:
    if cell == NO_UNIT:
        return ""
    match = re.fullmatch(r"`([^`]*)`", cell)
    if not match:
        raise AssertionError(f"unit cell {cell!r} is neither {NO_UNIT!r} nor a `unit` in backticks")
    return match.group(1)


def documented_columns() -> dict[str, dict[str, tuple[str, str, str]]]:
    """Columns of each ``## Table `name``` section of schema.md: name -> (type, unit, description)."""
    tables: dict[str, dict[str, tuple[str, str, str]]] = {}
    current: str | None = None
    for line in _read("schema.md").splitlines():
        heading = _TABLE_HEADING.match(line)
        if heading:
            current = heading.group(1)
            tables[current] = {}
            continue
        if _is_heading(line):
            current = None
            continue
        row = _COLUMN_ROW.match(line)
        if current is not None and row:
            name, arrow_type, unit, description = row.groups()
            assert name not in tables[current], f"schema.md: column {name!r} of {current!r} listed twice"
            tables[current][name] = (arrow_type, _unit(unit), description)
    return tables


def test_schema_md_documents_exactly_the_tables():
    assert set(documented_columns()) == set(TABLES), "schema.md needs one '## Table `<name>`' section per table"


@pytest.mark.parametrize("table", sorted(TABLES))
def test_schema_md_documents_every_column_with_type_and_unit(table):
    documented = documented_columns().get(table, {})
    code = {name: (str(dtype), unit) for name, dtype, unit, _ in TABLES[table]}
    missing = [name for name in code if name not in documented]
    stale = [name for name in documented if name not in code]
    assert not missing, f"docs/schema.md, table {table!r}: add rows for columns {missing}"
    assert not stale, f"docs/schema.md, table {table!r}: columns {stale} are not in sim.tables.TABLES"
    for name, (arrow_type, unit) in code.items():
        doc_type, doc_unit, description = documented[name]
        assert doc_type == arrow_type, f"{table}.{name}: Arrow type is {arrow_type!r}, schema.md says {doc_type!r}"
        assert doc_unit == unit, f"{table}.{name}: unit is {unit!r}, schema.md says {doc_unit!r}"
        assert description, f"{table}.{name}: schema.md has no description"


def test_schema_md_states_the_schema_version():
    text = _read("schema.md")
    assert f"schema version `{SCHEMA_VERSION}`" in text
    assert f"`\"{SCHEMA_VERSION}\"` (`sim.tables.SCHEMA_VERSION`)" in text


def test_unit_parser_rejects_a_bare_unit():
    with pytest.raises(AssertionError):
        _unit("h")
    assert _unit(NO_UNIT) == ""
    assert _unit("`t CO2`") == "t CO2"


# -- docs/model.md --------------------------------------------------------------------


def _section(text: str, title: str) -> list[str]:
    """Lines of the first heading that contains ``title`` up to the next heading of level <= 3."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _is_heading(line) and title in line:
            body = []
            for rest in lines[i + 1:]:
                if _is_heading(rest):
                    break
                body.append(rest)
            return body
    raise AssertionError(f"docs/model.md has no section headed with {title}")


def _row_keys(lines: list[str]) -> set[str]:
    """The backticked first cell of every table row."""
    keys = set()
    for line in lines:
        match = re.match(r"^\|\s*`([^`]+)`\s*\|", line)
        if match:
            keys.add(match.group(1))
    return keys


@pytest.mark.parametrize(
    "model", [Scenario, EngineOptions, SiteOverride, JobClass, Network, Site, Region, Link], ids=lambda m: m.__name__
)
def test_model_md_documents_every_key(model):
    keys = _row_keys(_section(_read("model.md"), f"`{model.__name__}`"))
    missing = [name for name in model.model_fields if name not in keys]
    assert not missing, f"docs/model.md, section `{model.__name__}`: add rows for keys {missing}"
    stale = sorted(keys - set(model.model_fields))
    assert not stale, f"docs/model.md, section `{model.__name__}`: keys {stale} do not exist"


def test_every_scenario_key_appears_in_model_md():
    text = _read("model.md")
    missing = [name for name in Scenario.model_fields if f"`{name}`" not in text]
    assert not missing, f"docs/model.md does not mention scenario keys {missing}"


def _distribution_classes() -> list[type]:
    union = typing.get_args(Distribution)[0]
    return list(typing.get_args(union))


@pytest.mark.parametrize("dist_class", _distribution_classes(), ids=lambda c: c.__name__)
def test_model_md_documents_every_distribution_and_parameter(dist_class):
    (tag,) = typing.get_args(dist_class.model_fields["dist"].annotation)
    rows = [line for line in _section(_read("model.md"), "Distributions") if line.startswith(f"| `{tag}` |")]
    assert rows, f"docs/model.md, Distributions: add a row for dist = {tag!r}"
    params = [name for name in dist_class.model_fields if name != "dist"]
    missing = [name for name in params if f"`{name}`" not in rows[0]]
    assert not missing, f"docs/model.md, Distributions, {tag!r}: add parameters {missing}"


def test_model_md_documents_every_policy():
    keys = _row_keys(_section(_read("model.md"), "Placement"))
    missing = [name for name in POLICIES if name not in keys]
    assert not missing, f"docs/model.md, Placement: add rows for policies {missing}"


def _code_blocks(lines: list[str], language: str) -> list[str]:
    blocks, current = [], None
    for line in lines:
        if current is None and line.strip() == f"```{language}":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_model_md_complete_example_is_a_complete_valid_scenario(tmp_path):
    import tomllib

    (example,) = _code_blocks(_section(_read("model.md"), "A complete example"), "toml")
    data = tomllib.loads(example)
    assert set(data) == set(Scenario.model_fields), "the complete example must set every Scenario key"
    path = tmp_path / "example.toml"
    path.write_text(example, encoding="utf-8")
    scenario = load_scenario(path).scenario
    used = {getattr(c, field).dist for c in scenario.workload.values() for field in ("gpus", "work_gpu_h")}
    tags = {typing.get_args(c.model_fields["dist"].annotation)[0] for c in _distribution_classes()}
    assert used == tags, f"the complete example should use every distribution; missing {sorted(tags - used)}"
    override_keys = {k for o in data["sites"].values() for k in o}
    assert override_keys == set(SiteOverride.model_fields)


# -- the reading snippets of docs/schema.md ------------------------------------------


def _write_dataset(cwd: Path, fmt: str) -> None:
    from cluster.cli import main

    out = cwd / "cpnsim-out" / "east-west"
    assert main(["run", "--out", str(out), "--quiet", "--format", fmt]) == 0


def test_schema_md_python_snippets_run(tmp_path, monkeypatch, capsys):
    for module in ("pandas", "polars", "duckdb"):
        pytest.importorskip(module)
    _write_dataset(tmp_path, "arrow")
    monkeypatch.chdir(tmp_path)
    blocks = _code_blocks(_read("schema.md").split("## Reading a dataset", 1)[1].splitlines(), "python")
    assert len(blocks) >= 4
    for block in blocks:
        exec(compile(block, "docs/schema.md", "exec"), {"__name__": "docs_snippet"})
    assert "cl_zhongwei" in capsys.readouterr().out


def test_schema_md_sql_snippet_runs_on_parquet(tmp_path, monkeypatch):
    duckdb = pytest.importorskip("duckdb")
    _write_dataset(tmp_path, "parquet")
    monkeypatch.chdir(tmp_path)
    (sql,) = _code_blocks(_read("schema.md").splitlines(), "sql")
    rows = duckdb.sql(sql).fetchall()
    assert len(rows) == 5
