"""cpnsim report on small hand-made datasets whose every plotted number is known."""

from __future__ import annotations

import math
import re
import resource
import runpy
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cluster.cli import main
from cluster.report.adoption import find_columns, region_curves
from cluster.report.build import render_report, write_report
from cluster.report.data import load_report_data, scenario_rows
from cluster.report.energy import site_totals
from cluster.report.response import response_points
from cluster.report.summary import OUTCOMES
from cluster.report.utilisation import heat_matrix
from cluster.sweeps.manifest import network_record
from cluster.sweeps.store import write_dataset
from sim.scenario import default_scenario_data, load_scenario

T975_1 = 12.706204736174694  # Student t, 97.5 % quantile, 1 degree of freedom
SITES = ("cl_zhangjiakou", "cl_zhongwei")  # two sites of the built-in default network


def _f(name: str, dtype: pa.DataType, unit: str = "") -> pa.Field:
    return pa.field(name, dtype, metadata={"unit": unit, "description": ""})


def _runs(rows: list[dict[str, object]], params: list[pa.Field]) -> pa.Table:
    fields = [_f("scenario_id", pa.string()), _f("replication", pa.int32()), _f("status", pa.string()),
              _f("error", pa.string()), _f("warmup_h", pa.float64(), "h"), _f("jobs_done", pa.int64(), "jobs"),
              _f("wait_mean_h", pa.float64(), "h"), _f("wait_p95_h", pa.float64(), "h"),
              _f("utilisation", pa.float64(), "1"), _f("energy_mwh", pa.float64(), "MWh"),
              _f("cost_cny", pa.float64(), "CNY"), _f("co2_t", pa.float64(), "t CO2"), *params]
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))


def _sites(ids: list[str], reps: int, energy: dict[tuple[str, str, int, int], float],
           util: dict[tuple[str, str, int, int], float]) -> pa.Table:
    """Three 24 h intervals per site; values by (scenario, site, replication, interval)."""
    rows = []
    for sid in ids:
        for rep in range(reps):
            for site in SITES:
                for k in range(3):
                    key = (sid, site, rep, k)
                    rows.append({"scenario_id": sid, "replication": rep, "site_id": site, "t_start_h": 24.0 * k,
                                 "t_end_h": 24.0 * (k + 1), "utilisation": util.get(key, 0.5),
                                 "energy_mwh": energy.get(key, 1.0), "cost_cny": 2 * energy.get(key, 1.0),
                                 "co2_t": 3 * energy.get(key, 1.0)})
    schema = pa.schema([_f("scenario_id", pa.string()), _f("replication", pa.int32()), _f("site_id", pa.string()),
                        _f("t_start_h", pa.float64(), "h"), _f("t_end_h", pa.float64(), "h"),
                        _f("utilisation", pa.float64(), "1"), _f("energy_mwh", pa.float64(), "MWh"),
                        _f("cost_cny", pa.float64(), "CNY"), _f("co2_t", pa.float64(), "t CO2")])
    return pa.Table.from_pylist(rows, schema=schema)


def _outcome_row(sid: str, rep: int, util: float, **params: object) -> dict[str, object]:
    return {"scenario_id": sid, "replication": rep, "status": "ok", "error": None, "warmup_h": 12.0,
            "jobs_done": 100 + rep, "wait_mean_h": 0.5 + rep, "wait_p95_h": 2.0, "utilisation": util,
            "energy_mwh": 10.0, "cost_cny": 20.0, "co2_t": 30.0, **params}


def _default_network():
    """What ``cpnsim run``/``sweep`` record of the built-in default scenario's network."""
    default = load_scenario(None)
    return network_record(default.network, default.scenario.network)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 policies x 2 Zhongwei sizes x 2 replications, one failed scenario more."""
    out = tmp_path_factory.mktemp("report") / "sweep"
    params = [_f("param.policy", pa.string()), _f("param.sites.cl_zhongwei.gpus", pa.int64(), "GPUs")]
    util = {("nearest", 512): (0.5, 0.7), ("nearest", 1024): (0.4, 0.4),
            ("least_loaded", 512): (0.8, 0.9), ("least_loaded", 1024): (0.6, 0.7)}
    rows = []
    for (policy, gpus), (u0, u1) in util.items():
        sid = f"{policy}-{gpus}"
        p = {"param.policy": policy, "param.sites.cl_zhongwei.gpus": gpus}
        rows += [_outcome_row(sid, 0, u0, **p), _outcome_row(sid, 1, u1, **p)]
    rows.append({"scenario_id": "broken", "replication": None, "status": "failed", "error": "ValueError: boom",
                 "param.policy": "nearest", "param.sites.cl_zhongwei.gpus": 2048})
    ids = [f"{p}-{g}" for p, g in util]
    # Energy of nearest-512 at Zhongwei: interval 0 -> 4 MWh (half in the warm-up), 1 -> 6, 2 -> 8, rep 1 doubled.
    energy = {("nearest-512", "cl_zhongwei", rep, k): (4.0 + 2 * k) * (1 + rep) for rep in (0, 1) for k in range(3)}
    heat = {("nearest-512", "cl_zhangjiakou", 0, 1): 0.2, ("nearest-512", "cl_zhangjiakou", 1, 1): 0.6}
    spec = {"seed": 1, "replications": 2, "base": default_scenario_data(),
            "axis": [{"key": "policy", "grid": ["nearest", "least_loaded"]},
                     {"key": "sites.cl_zhongwei.gpus", "grid": [512, 1024]}, {"key": "horizon_h", "grid": [72.0]}]}
    manifest = {"kind": "sweep", "source": "spec.toml", "seed": 1, "spec": spec, "scenarios": 5,
                "done": ids, "failed": ["broken"], "complete": True, "resolved_network": _default_network()}
    write_dataset(out, {"runs": _runs(rows, params), "sites": _sites(ids, 2, energy, heat)}, manifest)
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scenario, one replication, with adoption, links and jobs tables."""
    out = tmp_path_factory.mktemp("report") / "run"
    runs = _runs([_outcome_row("only", 0, 0.25)], [])
    adoption = pa.table({
        "scenario_id": ["only"] * 4, "replication": pa.array([0] * 4, pa.int32()),
        "t_start_h": [0.0, 0.0, 8760.0, 8760.0], "t_end_h": [8760.0, 8760.0, 17520.0, 17520.0],
        "region": ["dr_cn_bth"] * 4, "industry": ["finance", "retail"] * 2,
        "enterprises": [100.0, 300.0, 100.0, 300.0], "adopted_frac_start": [0.1, 0.0, 0.2, 0.1],
        "adopted_frac": [0.2, 0.1, 0.5, 0.3], "adopters": [20.0, 30.0, 50.0, 90.0],
        "demand_gpu_h": [10.0, 30.0, 20.0, 40.0], "unmet_gpu_h": [1.0, 3.0, 2.0, 4.0]})
    links = pa.table({
        "scenario_id": ["only"] * 3, "replication": pa.array([0] * 3, pa.int32()), "link_id": ["L1", "L1", "L2"],
        "t_start_h": [0.0, 24.0, 0.0], "t_end_h": [24.0, 48.0, 24.0], "utilisation": [0.5, 0.25, 0.0],
        "moved_gb": [1000.0, 500.0, 0.0], "flows_mean": [1.0, 0.5, 0.0]})
    jobs = pa.table({
        "scenario_id": ["only"] * 4, "replication": pa.array([0] * 4, pa.int32()), "job_id": [0, 1, 2, 3],
        "class": ["batch", "batch", "training", "training"], "wait_h": [0.0, 1.0, 5.0, None],
        "status": ["done", "done", "done", "unmet"]})
    manifest = {"kind": "run", "source": "<built-in default scenario>", "scenario_id": "only", "seed": 1,
                "replications": 1, "network": "default", "scenario": default_scenario_data(),
                "resolved_network": _default_network()}
    write_dataset(out, {"runs": runs, "sites": _sites(["only"], 1, {}, {}), "adoption": adoption, "links": links,
                        "jobs": jobs}, manifest)
    return out


class _Page(HTMLParser):
    """Collects section ids, tags and the drawing elements of each inline SVG."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.tags: set[str] = set()
        self.svg_shapes: list[int] = []
        self.refs: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.sections.append(str(a["id"]))
        if tag == "svg" and "plot" in (a.get("class") or ""):
            self.svg_shapes.append(0)
            self._depth += 1
        elif self._depth and tag in ("path", "use", "rect", "line", "polyline", "image"):
            self.svg_shapes[-1] += 1
        for key in ("src", "href", "xlink:href", "action", "data"):
            if a.get(key):
                self.refs.append(str(a[key]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._depth:
            self._depth -= 1


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_site_totals_prorate_the_warmup_row_and_average_replications(sweep_dir: Path) -> None:
    data = load_report_data(sweep_dir)
    got = site_totals(data, "nearest-512", list(SITES), "energy_mwh")
    # warmup 12 h of the first 24 h interval: rep 0 = 4/2 + 6 + 8 = 16, rep 1 doubled = 32, mean 24.
    # Zhangjiakou: 1 MWh per interval -> 0.5 + 1 + 1 = 2.5 in both replications.
    np.testing.assert_allclose(got, [2.5, 24.0])


def test_heat_matrix_is_the_replication_mean_per_site_and_interval(sweep_dir: Path) -> None:
    matrix, edges = heat_matrix(load_report_data(sweep_dir), "nearest-512", list(SITES))
    np.testing.assert_allclose(edges, [0.0, 24.0, 48.0, 72.0])
    np.testing.assert_allclose(matrix, [[0.5, 0.4, 0.5], [0.5, 0.5, 0.5]])  # (0.2 + 0.6) / 2 = 0.4


def test_sweep_axes_are_the_varying_keys_and_fixed_ones_are_noted(sweep_dir: Path) -> None:
    data = load_report_data(sweep_dir)
    # Grid values in the spec's order; a value outside the grid (the failed scenario's 2048) after them.
    assert [(a.key, a.values, a.numeric, a.unit, a.sampled) for a in data.axes] == [
        ("policy", ("nearest", "least_loaded"), False, "", False),
        ("sites.cl_zhongwei.gpus", (512, 1024, 2048), True, "GPUs", False)]
    assert [r.scenario_id for r in scenario_rows(data, ())] == [
        "nearest-512", "nearest-1024", "broken", "least_loaded-512", "least_loaded-1024"]
    assert data.fixed == {}  # horizon_h has no param column in this hand-made table: not an axis
    assert data.network is not None and data.network.name == "default"
    assert "sites.cl_zhongwei.gpus" in data.network_note


def test_summary_shows_means_with_t_intervals_and_failed_scenarios(sweep_dir: Path) -> None:
    html = render_report(load_report_data(sweep_dir))
    # nearest-512 utilisation: 50 % and 70 % -> mean 60.0, half-width t(1) x 14.142 / sqrt(2) = 127.06 -> "127".
    half = T975_1 * np.std([50.0, 70.0], ddof=1) / math.sqrt(2)
    assert f"{half:.0f}" == "127"
    assert re.search(r"<td class=\"num\">60\.0<span class=\"ci\"> ± 127</span></td>", html)
    assert '<tr class="failed">' in html and "failed: ValueError: boom" in html


def test_response_points_pool_replications_per_axis_value(sweep_dir: Path) -> None:
    data = load_report_data(sweep_dir)
    util = next(o for o in OUTCOMES if o.column == "utilisation")
    rows = [r for r in scenario_rows(data, ("utilisation",)) if r.status == "ok"]
    gpus = next(a for a in data.axes if a.key == "sites.cl_zhongwei.gpus")
    nearest = [r for r in rows if r.settings["policy"] == "nearest"]
    x, mean, half = response_points(nearest, gpus, util)
    np.testing.assert_allclose(x, [512, 1024])
    np.testing.assert_allclose(mean, [60.0, 40.0])
    np.testing.assert_allclose(half, [T975_1 * 10.0, 0.0], atol=1e-9)


def test_sweep_page_is_self_contained_and_every_plot_draws(sweep_dir: Path) -> None:
    html = render_report(load_report_data(sweep_dir))
    page = _parse(html)
    assert page.sections == ["summary", "response", "utilisation", "energy", "network"]
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed"}
    # In-page anchors, SVG ids and inline images (a colour bar's gradient) only.
    assert all(ref.startswith(("#", "data:image/png;base64,")) for ref in page.refs), page.refs
    assert "url(" not in html.replace("url(#", "") and "@import" not in html and "@font-face" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert len(page.svg_shapes) == 5 and min(page.svg_shapes) > 10
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # SVG ids prefixed per figure: no clashes between plots
    assert "Not in this report" in html and "the dataset has no adoption table" in html


def test_run_page_shows_the_optional_tables(run_dir: Path) -> None:
    html = render_report(load_report_data(run_dir))
    page = _parse(html)
    assert page.sections == ["summary", "adoption", "utilisation", "energy", "network", "links", "jobs"]
    assert min(page.svg_shapes) > 10
    assert "a single run has no swept parameter" in html  # the response section's note


def test_region_adoption_is_adopters_over_enterprises_from_the_start_state(run_dir: Path) -> None:
    table = load_report_data(run_dir).tables["adoption"]
    cols = find_columns(table)
    assert not isinstance(cols, str)
    t, f = region_curves(table, cols, "only")["dr_cn_bth"]
    # start: (100 x 0.1 + 300 x 0) / 400; then (20 + 30) / 400 and (50 + 90) / 400.
    np.testing.assert_allclose(t, [0.0, 8760.0, 17520.0])
    np.testing.assert_allclose(f, [10 / 400, 50 / 400, 140 / 400])


def test_same_dataset_same_page(sweep_dir: Path) -> None:
    data = load_report_data(sweep_dir)
    assert render_report(data) == render_report(data)


def test_unresolvable_network_omits_the_map_with_a_note(tmp_path: Path) -> None:
    scenario = default_scenario_data() | {"network": "no_such_network.toml"}
    manifest = {"kind": "run", "source": str(tmp_path / "x.toml"), "scenario": scenario, "replications": 1}
    write_dataset(tmp_path / "d", {"runs": _runs([_outcome_row("a", 0, 0.5)], [])}, manifest)
    html = render_report(load_report_data(tmp_path / "d"))
    assert 'id="network"' not in html and "Network map</strong>: the scenario&#x27;s network could not" in html


def test_the_map_is_drawn_from_the_network_the_manifest_records(tmp_path: Path) -> None:
    # The scenario text names a network that no longer resolves: the report does not look.
    scenario = default_scenario_data() | {"network": "no_such_network.toml"}
    manifest = {"kind": "run", "source": str(tmp_path / "x.toml"), "scenario": scenario, "replications": 1,
                "resolved_network": _default_network()}
    write_dataset(tmp_path / "d", {"runs": _runs([_outcome_row("a", 0, 0.5)], [])}, manifest)
    data = load_report_data(tmp_path / "d")
    assert data.network is not None and data.network.name == "default"
    assert 'id="network"' in render_report(data)


def test_cli_writes_the_page_atomically_beside_the_data(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run_dir), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {run_dir / 'report.html'}"
    assert (run_dir / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize("make", ["missing", "not_a_dataset", "bad_html_dir"])
def test_cli_bad_input_is_one_line_and_exit_2(make: str, tmp_path: Path, run_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = {"missing": [str(tmp_path / "nope")],
            "not_a_dataset": [str(tmp_path)],
            "bad_html_dir": [str(run_dir), "--html", str(tmp_path / "no" / "r.html")]}[make]
    (tmp_path / "stray.txt").write_text("x")
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cpnsim: error: ")
    assert not list(tmp_path.glob("**/*.html"))


def test_write_report_replaces_an_existing_page(run_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")
    assert write_report(run_dir, target) == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_compact_tick_labels_share_one_unit_per_axis() -> None:
    from cluster.report.figures import CompactFormatter

    formatter = CompactFormatter()
    formatter.set_locs([0.0, 5000.0, 10000.0, 15000.0])
    assert [formatter(v) for v in (0.0, 5000.0, 10000.0, 15000.0)] == ["0", "5k", "10k", "15k"]
    formatter.set_locs([0.0, 2500.0, 5000.0])
    assert [formatter(v) for v in (2500.0, 5000.0)] == ["2,500", "5,000"]
    formatter.set_locs([0.0, 1.5e6])
    assert formatter(1.5e6) == "1.5M"


def test_long_sampled_sweep_folds_the_table_and_scatters_the_response(tmp_path: Path) -> None:
    """45 Latin-hypercube scenarios: 20 rows shown, all 45 behind <details>, points not joined."""
    params = [_f("param.workload.batch.arrival_rate_per_h", pa.float64(), "1/h")]
    rates = [10.0 + i * 0.5 for i in range(45)]
    rows = [_outcome_row(f"s{i:02d}", 0, 0.5, **{"param.workload.batch.arrival_rate_per_h": r})
            for i, r in enumerate(rates)]
    spec = {"seed": 1, "base": default_scenario_data(), "axis": [
        {"key": "workload.batch.arrival_rate_per_h", "method": "latin_hypercube", "low": 10.0, "high": 40.0,
         "samples": 45}]}
    write_dataset(tmp_path / "d", {"runs": _runs(rows, params)},
                  {"kind": "sweep", "spec": spec, "scenarios": 45, "source": "s.toml"})
    data = load_report_data(tmp_path / "d")
    assert data.axes[0].sampled and data.axes[0].numeric
    html = render_report(data)
    summary = html[html.index('<section id="summary">'):html.index("</section>")]
    first, _, folded = summary.partition("<details>")
    assert first.count("<tr>") == 1 + 20 and folded.count("<tr>") == 1 + 45  # header + rows
    assert "<summary>All 45 scenarios</summary>" in folded
    assert "each point is one scenario" in html and "the intervals are left out" in html


ROOT = Path(__file__).resolve().parents[2]
RECIPE_SPEC = ROOT / "examples" / "sweeps" / "adoption-capacity.toml"


def _report_recipe() -> list[list[str]]:
    """The commands of the README's report recipe (the block after ``<!-- test:report-recipe -->``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("<!-- test:report-recipe -->"):].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].split() for line in block.splitlines() if line.strip()]


def _run_recipe(run_cli, cwd: Path, spec: Path) -> Path:
    """Run the recipe in ``cwd`` with ``spec`` in place of the shipped one; return the report page."""
    commands = _report_recipe()
    assert [c[:2] for c in commands] == [["cpnsim", "sweep"], ["cpnsim", "report"]]
    assert commands[0][2] == "examples/sweeps/adoption-capacity.toml"
    for command in commands:
        args = [str(spec) if word == commands[0][2] else word for word in command[1:]]
        result = run_cli(*args, cwd=cwd)
        assert result.returncode == 0, result.stderr
    page = cwd / commands[1][2] / "report.html"
    assert page.exists()
    return page


def test_the_readme_report_recipe_runs_on_a_two_month_variant(run_cli, tmp_path: Path) -> None:
    # The shipped spec with the horizon cut to two months (the full recipe is the slow test below).
    spec = tmp_path / "adoption-capacity.toml"
    text = RECIPE_SPEC.read_text(encoding="utf-8").replace('"../adoption.toml"', f'"{ROOT}/examples/adoption.toml"')
    spec.write_text(text + '\n[[axis]]\nkey = "horizon_h"\ngrid = [1461.0]\n', encoding="utf-8")
    page = _run_recipe(run_cli, tmp_path, spec).read_text(encoding="utf-8")
    assert "Sweep adoption-capacity" in page and "AI adoption" in page
    assert page.count("<svg") >= 3


@pytest.mark.slow
def test_the_readme_report_recipe_runs_as_written(run_cli, tmp_path: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    page = _run_recipe(run_cli, tmp_path, RECIPE_SPEC).read_text(encoding="utf-8")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert "Sweep adoption-capacity" in page and "3 scenarios, 2 replication(s) each" in page
    assert "50,000" in page and "400,000" in page  # the three Zhongwei sizes in the summary table
    # The spec's quoted CPU time (docs/figures.py, `adoption-capacity-s`) is checked here, on this
    # run of the same sweep, rather than by running the ~90 s sweep a second time in
    # tests/test_figures.py; the recipe's CPU also counts the report and two interpreter starts.
    figures = runpy.run_path(str(ROOT / "docs" / "figures.py"), run_name="figures")
    (quoted,) = set(figures["spans_in"](RECIPE_SPEC.read_text(encoding="utf-8"))["adoption-capacity-s"])
    cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert not figures["drifted"](quoted, figures["_seconds"](cpu_s), timing=True), (quoted, cpu_s)
