"""Sobol' indices through the real sweep machinery, checked against the Ishigami function's.

The scenario stand-in: a run function (the executors' ``runner`` hook) that reads three
swept site keys of the scenario, maps each from [0, 1] onto [-pi, pi] (Sobol' indices
do not change under a monotone map of one input) and returns the Ishigami function as
the ``runs`` column ``ishigami``.  Spec parsing, Saltelli sampling, scenario expansion,
the serial executor, the dataset writer and the analysis are the real ones.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from cluster.sensitivity import (
    SENSITIVITY_COLUMNS,
    GroupIndices,
    scenario_means,
    sensitivity_table,
    sobol_indices,
)
from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor
from cluster.sweeps.manifest import read_manifest
from cluster.sweeps.store import read_table
from sim.scenario import LoadedScenario
from sim.tables import flatten_params
from topology.plumbing import ConfigError, SchemaError

ONE_SITE = Path(__file__).resolve().parents[2] / "examples" / "networks" / "one_site.toml"
KEYS = ("sites.site.price_cny_per_kwh", "sites.site.carbon_kg_per_kwh", "sites.site.renewable_frac")

# Ishigami, a = 7, b = 0.1: V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2, V1 = (1 + b pi^4/5)^2 / 2,
# V2 = a^2/8, V13 = b^2 pi^8 (1/18 - 1/50); S1 = (V1, V2, 0)/V, ST = (V1 + V13, V2, V13)/V.
A, B = 7.0, 0.1
_V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
_V2 = A**2 / 8
_V13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
S1_TRUE = (_V1 / _V, _V2 / _V, 0.0)
ST_TRUE = ((_V1 + _V13) / _V, _V2 / _V, _V13 / _V)
NOISE = 5.0  # replication r adds (-1)**r * NOISE * u(scenario): only the replication mean is Ishigami


def ishigami(x1: float, x2: float, x3: float) -> float:
    """The Ishigami function, a = 7, b = 0.1."""
    return math.sin(x1) + A * math.sin(x2) ** 2 + B * x3**4 * math.sin(x1)


@dataclass(frozen=True)
class _Result:
    runs: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        return {"runs": self.runs}


def ishigami_runner(loaded: LoadedScenario) -> _Result:
    """A scenario stand-in: one ``runs`` row per replication, ``ishigami`` from the swept site keys."""
    site = loaded.network.sites[0]
    u = (site.price_cny_per_kwh, site.carbon_kg_per_kwh, site.renewable_frac)
    y = ishigami(*(-math.pi + 2 * math.pi * v for v in u))
    reps = loaded.scenario.replications
    params = flatten_params(loaded.scenario.model_dump(mode="json"))
    # Noise that differs between scenarios (u in [0, 1) from the id), so that an analysis that
    # did not average the replications would see a different function, not a shifted one.
    u_noise = int(loaded.scenario_id[:8], 16) / 16**8
    cols: dict[str, list[object]] = {
        "scenario_id": [loaded.scenario_id] * reps, "replication": list(range(reps)), "status": ["ok"] * reps,
        "ishigami": [y + (-1) ** r * NOISE * u_noise for r in range(reps)],
        **{k: [v] * reps for k, v in params.items()},
    }
    return _Result(pa.table(cols))


def _spec(tmp_path: Path, samples: int, extra: str = "", second_order: bool = False) -> Path:
    axes = "".join(
        f'\n[[axis]]\nkey = "{k}"\nmethod = "saltelli"\nlow = 0.0\nhigh = 1.0\nsamples = {samples}\n'
        + ("second_order = true\n" if second_order else "")
        for k in KEYS
    )
    text = (f"seed = 3\nreplications = 2\n\n[base]\nnetwork = \"{ONE_SITE.as_posix()}\"\nhorizon_h = 10.0\n"
            "[base.workload.w]\narrival_rate_per_h = 1.0\ngpus = { dist = \"constant\", value = 1 }\n"
            "work_gpu_h = { dist = \"constant\", value = 1.0 }\n" + extra + axes)
    path = tmp_path / "ishigami.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(tmp_path: Path, samples: int, **kw: object) -> Path:
    spec = load_sweep(_spec(tmp_path, samples, **kw))  # type: ignore[arg-type]
    out = tmp_path / "out"
    run_sweep(spec, out, SerialExecutor(ishigami_runner), batch_size=512)
    return out


@pytest.fixture(scope="module")
def ishigami_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """N = 4096: 20,480 scenarios (about 20 s), enough for intervals narrower than +-0.05."""
    return _run(tmp_path_factory.mktemp("ishigami"), 4096)


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("ishigami-small"), 8)


@pytest.mark.slow
def test_saltelli_design_is_recorded_in_salib_order(ishigami_sweep: Path) -> None:
    design = read_manifest(ishigami_sweep).design
    assert design["keys"] == list(KEYS) and design["samples"] == 4096 and design["second_order"] is False
    (group,) = design["groups"]
    assert group["grid"] == {} and len(group["rows"]) == 4096 * (3 + 2)


@pytest.mark.slow
def test_sobol_indices_match_ishigami_within_their_intervals(ishigami_sweep: Path) -> None:
    result = sobol_indices(ishigami_sweep, "ishigami", 0.95)
    (g,) = result.groups
    assert g.parameters == KEYS and g.base_samples == 4096 and result.failed == 0
    for i in range(3):
        assert g.s1_conf[i] < 0.05 and g.st_conf[i] < 0.05, (g.s1_conf, g.st_conf)
        assert abs(g.s1[i] - S1_TRUE[i]) <= g.s1_conf[i], (i, g.s1[i], S1_TRUE[i], g.s1_conf[i])
        assert abs(g.st[i] - ST_TRUE[i]) <= g.st_conf[i], (i, g.st[i], ST_TRUE[i], g.st_conf[i])
    # Ranked by total index: x1 (0.5576) > x2 (0.4424) > x3 (0.2437); the gaps exceed the intervals.
    assert g.ranking() == (0, 1, 2)


def test_analytic_indices_are_the_published_ones() -> None:
    assert [round(s, 4) for s in S1_TRUE] == [0.3139, 0.4424, 0.0]
    assert [round(s, 4) for s in ST_TRUE] == [0.5576, 0.4424, 0.2437]


def test_intervals_are_reproducible(small_sweep: Path) -> None:
    a, b = sobol_indices(small_sweep, "ishigami"), sobol_indices(small_sweep, "ishigami")
    assert a == b


def test_sensitivity_table_has_units_and_metadata(small_sweep: Path) -> None:
    table = sensitivity_table(sobol_indices(small_sweep, "ishigami"), "src")
    assert table.column_names == [name for name, *_ in SENSITIVITY_COLUMNS]
    assert table.column("parameter").to_pylist() == list(KEYS)
    assert table.schema.field("S1").metadata[b"unit"] == b"1"
    assert table.schema.metadata[b"output"] == b"ishigami" and table.schema.metadata[b"confidence"] == b"0.95"


def test_median_and_band_are_quantiles_of_the_design_rows(small_sweep: Path) -> None:
    runs = read_table(small_sweep, "runs")
    means, _, _ = scenario_means(runs, "ishigami")
    rows = read_manifest(small_sweep).design["groups"][0]["rows"]
    y = np.array([means[sid] for sid in rows])
    for band in (0.9, 0.5):
        (g,) = sobol_indices(small_sweep, "ishigami", band=band).groups
        lo, med, hi = np.quantile(y, [(1 - band) / 2, 0.5, (1 + band) / 2])
        assert (g.band_low, g.median, g.band_high) == (lo, med, hi)
        assert g.band_low < g.median < g.band_high
    table = sensitivity_table(sobol_indices(small_sweep, "ishigami"), "src")
    assert set(table.column("output_median").to_pylist()) == {g.median}
    with pytest.raises(ConfigError, match=r"--band: must be in \(0, 1\)"):
        sobol_indices(small_sweep, "ishigami", band=1.0)


def test_ranking_orders_by_total_index_then_design_order() -> None:
    g = GroupIndices({}, ("a", "b", "c"), (0.0,) * 3, (0.0,) * 3, (0.2, 0.5, 0.2), (0.0,) * 3, 8, 0)
    assert g.ranking() == (1, 0, 2)


def test_replications_are_averaged() -> None:
    t = pa.table({"scenario_id": ["a", "a"], "status": ["ok", "ok"], "y": [1.0 + NOISE, 1.0 - NOISE]})
    assert scenario_means(t, "y") == ({"a": 1.0}, set(), set())


def test_second_order_design_and_grid_groups(tmp_path: Path) -> None:
    out = _run(tmp_path, 8, second_order=True,
               extra='\n[[axis]]\nkey = "policy"\ngrid = ["nearest", "least_loaded"]\n')
    design = read_manifest(out).design
    assert design["second_order"] is True
    assert [g["grid"] for g in design["groups"]] == [{"policy": "nearest"}, {"policy": "least_loaded"}]
    assert all(len(g["rows"]) == 8 * (2 * 3 + 2) for g in design["groups"])
    result = sobol_indices(out, "ishigami")
    assert [g.grid for g in result.groups] == [{"policy": "nearest"}, {"policy": "least_loaded"}]
    # the policy does not enter the stand-in: both designs give the same indices
    assert result.groups[0].s1 == pytest.approx(result.groups[1].s1)


def test_failed_scenarios_refused_or_their_base_samples_dropped(tmp_path: Path) -> None:
    spec = load_sweep(_spec(tmp_path, 8))
    rows = spec.design["groups"][0]["rows"] if spec.design else []
    victim = rows[6]  # a row of the second base sample (5 rows per base sample)

    def runner(loaded: LoadedScenario) -> _Result:
        if loaded.scenario_id == victim:
            raise RuntimeError("boom")
        return ishigami_runner(loaded)

    out = tmp_path / "out"
    run_sweep(spec, out, SerialExecutor(runner))
    with pytest.raises(ConfigError, match=r"ishigami: 1 failed of 40 scenarios .* --drop-failed"):
        sobol_indices(out, "ishigami")
    result = sobol_indices(out, "ishigami", drop_failed=True)
    assert result.failed == 1 and result.groups[0].base_samples == 7 and result.groups[0].dropped == 1


def test_not_a_saltelli_sweep_and_unknown_output(tmp_path: Path, small_sweep: Path) -> None:
    text = _spec(tmp_path, 8).read_text().replace('method = "saltelli"', 'method = "sobol"')
    (tmp_path / "lhs.toml").write_text(text)
    out = tmp_path / "lhs"
    run_sweep(load_sweep(tmp_path / "lhs.toml"), out, SerialExecutor(ishigami_runner))
    with pytest.raises(SchemaError, match=r"manifest.json: design: not a saltelli sweep"):
        sobol_indices(out, "ishigami")
    with pytest.raises(ConfigError, match=r"runs: ishigam: no numeric column 'ishigam' \(did you mean 'ishigami'"):
        sobol_indices(small_sweep, "ishigam")
    with pytest.raises(ConfigError, match=r"--confidence: must be in \(0, 1\)"):
        sobol_indices(small_sweep, "ishigami", 1.5)


@pytest.mark.parametrize(("edit", "match"), [
    ("samples = 8", r"ishigami.toml: axis\[0\].samples: saltelli needs a power of two >= 2 base samples .* got 6"),
    ('low = 0.0', r"ishigami.toml: axis\[0\].second_order: expected true or false, got 'yes'"),
    ('method = "saltelli"', r"ishigami.toml: axis\[0\].second_order: only for method = 'saltelli', not 'sobol'"),
])
def test_bad_saltelli_specs_name_file_and_key(tmp_path: Path, edit: str, match: str) -> None:
    path = _spec(tmp_path, 8)
    text = path.read_text()
    if edit == "samples = 8":
        text = text.replace(edit, "samples = 6", 1)
    elif edit == "low = 0.0":
        text = text.replace(edit, 'low = 0.0\nsecond_order = "yes"', 1)
    else:
        text = text.replace(edit, 'method = "sobol"\nsecond_order = true', 1)
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_sweep(path)


def test_saltelli_axes_must_agree_on_second_order(tmp_path: Path) -> None:
    path = _spec(tmp_path, 8)
    path.write_text(path.read_text().replace("samples = 8\n", "samples = 8\nsecond_order = true\n", 1))
    with pytest.raises(ConfigError, match=r"axis\[1\].second_order: saltelli axes are sampled jointly"):
        load_sweep(path)


def test_written_table_reads_back(tmp_path: Path, small_sweep: Path) -> None:
    from cluster.sweeps.store import write_table

    path = write_table(sensitivity_table(sobol_indices(small_sweep, "ishigami")), tmp_path / "s.arrow")
    with pa.memory_map(str(path)) as source:
        table = ipc.open_file(source).read_all()
    assert json.loads(table.column("group")[0].as_py()) == {} and table.num_rows == 3
    assert not list(tmp_path.glob(".s.arrow*"))  # no temporary file left


# Nine axes make scenario labels ~400 characters: drawn beside bars they squeezed the report's
# per-site energy axes to nothing (matplotlib's "axes sizes collapsed" warning, a blank chart).
@pytest.mark.filterwarnings("error::UserWarning")
def test_adoption_uncertainty_study_small_variant_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped study with N = 2 over four months, one replication: sweep, then the analysis the README runs."""
    from cluster.cli.main import main

    monkeypatch.setenv("COLUMNS", "250")  # parameter names unwrapped in the printed table

    examples = Path(__file__).resolve().parents[2] / "examples"
    base = (examples / "adoption.toml").read_text(encoding="utf-8")
    assert "replications = 5" in base
    (tmp_path / "adoption.toml").write_text(base.replace("replications = 5", "replications = 1"), encoding="utf-8")
    study = (examples / "sweeps" / "adoption-uncertainty.toml").read_text(encoding="utf-8")
    # The study pins its horizon with a one-value axis; four months here (a replace that
    # silently matched nothing once made this test run six simulated years).
    for old, new in [('base = "../adoption.toml"', 'base = "adoption.toml"'), ("samples = 32", "samples = 2"),
                     ("replications = 2", "replications = 1"), ("grid = [26298.0]", "grid = [2922.0]")]:
        assert old in study, old
        study = study.replace(old, new)
    spec = tmp_path / "study.toml"
    spec.write_text(study, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyze", "sensitivity", str(out), "--output", "adoption_frac_end", "--resamples", "50"]) == 0
    text = capsys.readouterr().out
    (g,) = sobol_indices(out, "adoption_frac_end", num_resamples=50).groups
    assert g.base_samples == 2 and len(g.parameters) == 9
    assert 0 < g.band_low <= g.median <= g.band_high < 1
    assert f"median {g.median:.4g}, 90% band {g.band_low:.4g} to {g.band_high:.4g}" in text
    # The table lists the parameters by decreasing total index.
    first = g.parameters[g.ranking()[0]]
    assert text.index(first) < min(text.index(k) for k in g.parameters if k != first)
    # Deliver 6 of issue 14: `cpnsim report` on the study shows the same median, band and ranking.
    html_path = tmp_path / "report.html"
    assert main(["report", str(out), "--html", str(html_path)]) == 0
    html = html_path.read_text(encoding="utf-8")
    block = html[html.index("What drives adoption at the horizon"):]
    block = block[:block.index("</table>")]
    assert f"median {g.median:.3f}, 90% band {g.band_low:.3f}–{g.band_high:.3f}" in block
    ranked = [block.index(f">{g.parameters[i]}<") for i in g.ranking()]
    assert ranked == sorted(ranked)  # rows in decreasing total index
