"""examples/analysis/duckdb_recipes.py (quoted in README, "Output") reads datasets with DuckDB alone."""

import runpy
from pathlib import Path

import pyarrow.dataset as ds
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
README = Path(__file__).resolve().parent.parent / "README.md"
SHORT = ["--set", "horizon_h=48", "--set", "metric_interval_h=12", "--seed", "4"]


def test_duckdb_recipes_agree_with_pyarrow_on_ipc_and_parquet(run_cli, tmp_path):
    ipc, pq = tmp_path / "ipc", tmp_path / "pq"
    assert run_cli("run", "--out", str(ipc), *SHORT).returncode == 0
    assert run_cli("run", "--out", str(pq), "--format", "parquet", *SHORT).returncode == 0
    recipes = runpy.run_path(str(EXAMPLES / "analysis" / "duckdb_recipes.py"))

    sites = ds.dataset(ipc / "sites", format="ipc").to_table().to_pandas()
    expected = sites.groupby("site_id")["utilisation"].mean().to_dict()
    for got in (recipes["site_utilisation_ipc"](ipc), recipes["site_utilisation_parquet"](pq)):
        assert dict(got) == pytest.approx(expected)

    schema = ds.dataset(ipc / "sites", format="ipc").schema
    units = recipes["units"](pq, "sites")
    assert units == {f.name: f.metadata.get(b"unit", b"").decode() for f in schema}
    assert units["wait_mean_h"] == "h" and units["energy_mwh"] == "MWh"

    import json

    manifest = json.loads((pq / "manifest.json").read_text())
    provenance = recipes["provenance_parquet"](pq)
    assert provenance["cpnsim.scenario_id"] == manifest["scenario_id"]
    assert provenance["cpnsim.version"] == manifest["cpnsim"]["version"]


def test_readme_quotes_the_recipes_sql():
    """The SQL in README's Output section is the SQL the tested recipes run."""
    readme = README.read_text()
    source = (EXAMPLES / "analysis" / "duckdb_recipes.py").read_text()
    for fragment in ("read_parquet(", "/sites/*.parquet')", "unnest(columns, recursive := true)",
                     "read_json(", "/schema.json')", "parquet_kv_metadata(", "/runs/*.parquet')",
                     "SELECT DISTINCT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata("):
        assert fragment in readme and fragment in source, fragment
