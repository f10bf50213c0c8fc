"""The report's policy comparison (cluster/report/policies.py) on a small real sweep, checked against runs."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cluster.api import run, sweep
from cluster.report.build import render_report
from cluster.report.data import load_report_data
from cluster.report.page import Omitted, Section
from cluster.report.policies import POLICY_OUTCOMES, policy_section
from cluster.report.stats import fmt

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "edwc_hourly.toml"


@pytest.fixture(scope="module")
def policy_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two policies x deferral on and off over three days of edwc_hourly at six times its rates, 3 replications."""
    out = tmp_path_factory.mktemp("policies") / "sweep"
    rates = {"inference": 3.2, "training": 0.1, "finetune": 0.8, "batch": 2.4}
    base = {"base": str(EXAMPLE), "replications": 3, "seed": 5,
            "axis": [{"key": "policy", "grid": ["edwc", "nearest"]},
                     {"key": "signals.defer", "grid": [False, True]},
                     {"key": "signals.defer_max_frac", "grid": [1.0]},
                     {"key": "horizon_h", "grid": [72.0]}, {"key": "warmup_h", "grid": [12.0]},
                     *[{"key": f"workload.{c}.arrival_rate_per_h", "grid": [6 * r]} for c, r in rates.items()]]}
    sweep(base, "serial", out)
    return out


def _rows(block: str) -> list[list[str]]:
    """The body rows of a table block as cell texts (``mean ± half``)."""
    body = block.split("<tbody>", 1)[1]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


def test_table_gives_mean_and_interval_of_each_scenario(policy_sweep: Path) -> None:
    data = load_report_data(policy_sweep)
    section = policy_section(data)
    assert isinstance(section, Section)
    table, svg = section.blocks
    assert "<svg" in svg
    runs = data.tables["runs"].to_pandas()
    rows = _rows(table)
    assert len(rows) == 4
    seen_misses = 0.0
    for cells in rows:
        policy, defer = cells[0], cells[1] == "True"
        mine = runs[(runs["param.policy"] == policy) & (runs["param.signals.defer"] == defer)]
        assert len(mine) == 3
        for outcome, cell in zip(POLICY_OUTCOMES, cells[2:], strict=True):
            values = mine[outcome.column].to_numpy(float) * outcome.scale
            mean = values.mean()
            half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / math.sqrt(3)  # Student t, 2 degrees of freedom
            assert cell == f"{fmt(mean)} ± {fmt(half, 2)}", (policy, defer, outcome.column)
        seen_misses += mine.deadline_misses.sum()
    # The sweep is loaded enough that the comparison shows misses, and deferral's share of them.
    assert seen_misses > 0
    deferred = runs[runs["param.signals.defer"] & (runs["param.policy"] == "edwc")]
    assert (deferred.jobs_deferred > 0).all()
    assert (runs[~runs["param.signals.defer"]].deadline_misses_deferred == 0).all()
    assert (runs.deadline_misses_deferred <= runs.deadline_misses).all()
    page = render_report(data)
    assert 'id="policies"' in page and "Policies compared" in page


def test_omitted_for_a_run_and_for_a_sweep_without_policy(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(EXAMPLE, {"horizon_h": 24, "warmup_h": 0, "replications": 1}, out=out)
    assert isinstance(policy_section(load_report_data(out)), Omitted)
    spec = {"base": str(EXAMPLE), "replications": 1, "axis": [{"key": "horizon_h", "grid": [30.0, 36.0]}]}
    sweep(spec, "serial", tmp_path / "sweep")
    section = policy_section(load_report_data(tmp_path / "sweep"))
    assert isinstance(section, Omitted) and "neither policy" in section.note


def test_runs_means_are_finite_where_work_ran(policy_sweep: Path) -> None:
    runs = load_report_data(policy_sweep).tables["runs"].to_pandas()
    for column in ("cost_cny_per_gpu_h", "co2_kg_per_gpu_h", "renewable_share"):
        assert np.isfinite(runs[column]).all() and (runs[column] > 0).all()
