"""Why a site started no jobs: each reason on a hand-made ``sites`` table, and on real national runs."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from cluster.cli import main
from cluster.idle_sites import COLUMNS, idle_sites
from cluster.report.build import render_report
from cluster.report.data import load_report_data
from sim.run import run_scenario
from sim.scenario import load_scenario
from topology.graph import region_site_latency_ms
from workloads.job_class import JobClass

WORK = {"dist": "constant", "value": 10.0}
SHORT = ["horizon_h=336", "warmup_h=0", "metric_interval_h=168"]


def _sites(rows: dict[str, list[dict[str, float]]]) -> pa.Table:
    """Two 24 h intervals per site, two replications; ``rows[site][k]`` overrides interval k's zeros in both."""
    out = []
    for rep in range(2):
        for site, intervals in rows.items():
            for k, values in enumerate(intervals):
                row = {c: 0 for c in COLUMNS} | {"site_id": site, "replication": rep, "t_end_h": 24.0 * (k + 1),
                                                 "gpus_total": 64}
                out.append(row | values)
    return pa.Table.from_pylist(out)


def _class(gpus: int) -> JobClass:
    return JobClass.model_validate({"arrival_rate_per_h": 1.0, "gpus": {"dist": "constant", "value": gpus},
                                    "work_gpu_h": WORK})


def test_each_reason_on_a_hand_made_table() -> None:
    sites = _sites({
        "busy": [{"jobs_arrived": 3, "jobs_started": 3}, {}],
        "later": [{"gpus_total": 0}, {"gpus_total": 0}],
        "down": [{"down_h": 24.0}, {"down_h": 24.0}],
        "stuck": [{"jobs_arrived": 5, "jobs_unmet": 3, "queue_len_end": 9}, {"queue_len_end": 2}],
        "small": [{"gpus_total": 16}, {"gpus_total": 16}],
        "passed_over": [{}, {}],
    })
    idle = {s.site_id: s.reason for s in idle_sites(sites, None, "edwc", {"a": _class(32), "b": _class(64)})}
    assert list(idle) == ["later", "down", "stuck", "small", "passed_over"]  # "busy" started jobs; table order
    assert idle["later"].startswith("no GPUs in force")
    assert idle["down"].startswith("down for the whole run")
    # Per replication: 5 placed, 3 left unserved, 2 queued at the horizon (the last interval's queue_len_end).
    assert idle["stuck"] == "5 jobs were placed here and none started: 3 left unserved (max_wait_h), 2 still queued " \
                            "at the horizon"
    assert idle["small"] == ("smaller than every job: it holds 16 GPUs and the smallest job any class asks for is "
                             "32 GPUs")
    assert idle["passed_over"] == "the edwc policy placed none of the run's jobs here (it chose other sites)"


def test_a_site_down_for_part_of_the_run_is_not_down_all_along() -> None:
    sites = _sites({"s": [{"down_h": 24.0}, {"down_h": 23.5}]})
    [idle] = idle_sites(sites, None, "fifo_policy", {})
    assert idle.reason.startswith("the fifo_policy policy placed none")


def test_every_site_that_started_jobs_is_left_out() -> None:
    sites = _sites({"a": [{"jobs_started": 1}, {}], "b": [{}, {"jobs_started": 2}]})
    assert idle_sites(sites, None, "edwc", {"x": _class(1)}) == []


@pytest.mark.slow
def test_nearest_on_the_national_network_names_where_the_closest_region_sends_its_jobs() -> None:
    # Under nearest the western sites start nothing (docs: "nearest serves less work").  Each reason names the
    # region closest to the idle site and the site that region's jobs go to; both are checked against the run
    # and the network's latencies, not against the text alone.
    loaded = load_scenario("examples/national.toml", ["policy=nearest", *SHORT])
    result = run_scenario(loaded)
    started: dict[str, int] = {}
    for row in result.sites.to_pylist():
        started[row["site_id"]] = started.get(row["site_id"], 0) + row["jobs_started"]
    idle = idle_sites(result.sites, loaded.network, "nearest", loaded.scenario.workload)
    assert {s.site_id for s in idle} == {site for site, n in started.items() if n == 0}
    assert {"cl_zhongwei", "cl_qingyang", "cl_horinger", "pv_shanxi_datong"} <= {s.site_id for s in idle}
    latency = region_site_latency_ms(loaded.network)
    regions = [r.id for r in loaded.network.regions]
    sites = [s.id for s in loaded.network.sites]
    pattern = re.compile(r"the closest such region, (\S+) \(([\d.]+) ms one way\), sends them to (\S+) \(([\d.]+) ms\)")
    for site in idle:
        found = pattern.search(site.reason)
        assert found, site.reason
        region, here_ms, chosen, chosen_ms = found[1], float(found[2]), found[3], float(found[4])
        r, s, c = regions.index(region), sites.index(site.site_id), sites.index(chosen)
        assert started[chosen] > 0  # where the jobs went, they started
        assert latency[r, c] <= latency[r, s]  # nearer (or tied and first in network order)
        assert here_ms == pytest.approx(latency[r, s], abs=0.05) and chosen_ms == pytest.approx(latency[r, c], abs=0.05)


@pytest.mark.slow
def test_cpnsim_run_and_the_report_say_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A China Mobile pool cut below the smallest job (256 GPUs, the abroad class) starts nothing under edwc.
    out = tmp_path / "nat"
    args = ["run", "examples/national.toml", "--out", str(out), "--set", "sites.gpu_cm_pool_beijing.gpus=100",
            *[a for kv in SHORT for a in ("--set", kv)]]
    assert main(args) == 0
    printed = capsys.readouterr().out
    line = ("gpu_cm_pool_beijing: smaller than every job: it holds 100 GPUs and the smallest job any class asks for "
            "is 256 GPUs")
    assert "1 site started no jobs:" in printed and line in " ".join(printed.split())
    page = render_report(load_report_data(out))
    assert "why it started no jobs" in page and "gpu_cm_pool_beijing" in page
    assert "smallest job any class asks for is 256 GPUs" in page
