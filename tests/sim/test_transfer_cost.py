"""What moving data costs, counted three ways that agree: jobs.transfer_cny, runs.transfer_cost_cny, links.cost_cny.

A Kazakh region ``kz`` reaches the Kazakh pool directly (1000 km, 5 ms, priced 0.15 CNY/GB) or
through the Chinese gateway ``gw`` (two links of 400 km, 4 ms, 0.9 CNY/GB each across the
border), and the Chinese pool through ``gw`` (0.9 + 0.15 CNY/GB).  Every site is remote from
``kz`` (beyond 2.5 ms), so every placed job moves its input.  Personal data of ``kz`` stays in Kazakhstan
(``[residency.country.KZ] personal = "local"``), so its inputs and results travel only the
direct link; the other class goes to the cheaper Chinese pool through ``gw``.  Both classes
return results; ``[signals]`` with ``defer`` holds some jobs for cheaper hours, so the deferred
path (``Model._release``) sends inputs too.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

from sim.run import run_replication
from sim.scenario import load_scenario

NETWORK = """
name = "kz-cn-priced"
[[site]]
id = "kz_pool"
country = "KZ"
lat = 51.0
lon = 71.0
gpus = 64
price_cny_per_kwh = 0.5
[[site]]
id = "cn_pool"
country = "CN"
lat = 44.0
lon = 87.0
gpus = 512
price_cny_per_kwh = 0.3
[[region]]
id = "kz"
country = "KZ"
lat = 51.0
lon = 71.1
[[region]]
id = "gw"
country = "CN"
lat = 44.0
lon = 80.0
demand_weight = 0.0
[[link]]
id = "kz-gw"
a = "kz"
b = "gw"
distance_km = 400
price_cny_per_gb = 0.9
[[link]]
id = "gw-kz_pool"
a = "gw"
b = "kz_pool"
distance_km = 400
price_cny_per_gb = 0.9
[[link]]
id = "kz-kz_pool"
a = "kz"
b = "kz_pool"
distance_km = 1000
price_cny_per_gb = 0.15
[[link]]
id = "gw-cn_pool"
a = "gw"
b = "cn_pool"
distance_km = 400
price_cny_per_gb = 0.15
"""


def _scenario(tmp_path: Path, *overrides: str):
    (tmp_path / "net.toml").write_text(NETWORK, encoding="utf-8")
    (tmp_path / "s.toml").write_text(textwrap.dedent("""
        network = "net.toml"
        policy = "cheapest"
        horizon_h = 400.0
        metric_interval_h = 100.0
        jobs_sample = 1.0
        [workload.personal]
        arrival_rate_per_h = 0.3
        gpus = {dist = "constant", value = 8}
        work_gpu_h = {dist = "constant", value = 16.0}
        input_gb = {dist = "lognormal", median = 10.0, sigma = 0.5, max = 100.0}
        result_gb = {dist = "constant", value = 2.0}
        deadline_h = 24.0
        data_kind = "personal"
        [workload.open]
        arrival_rate_per_h = 0.3
        gpus = {dist = "constant", value = 8}
        work_gpu_h = {dist = "constant", value = 16.0}
        input_gb = {dist = "lognormal", median = 10.0, sigma = 0.5, max = 100.0}
        result_gb = {dist = "constant", value = 3.0}
        deadline_h = 24.0
        [residency.country.KZ]
        personal = "local"
        [signals]
        time_aware = true
        defer = true
        [signals.sites.kz_pool]
        profile = "northwest"
        [signals.sites.cn_pool]
        profile = "northwest"
        """), encoding="utf-8")
    return load_scenario(tmp_path / "s.toml", list(overrides))


def test_jobs_runs_and_links_count_the_same_transfer_cost(tmp_path):
    result = run_replication(_scenario(tmp_path))
    row, jobs, links, model = result.runs_row, result.columns["jobs"], result.columns["links"], result.model
    # Nothing in flight at the horizon, so every byte a job paid for has crossed its links.
    assert row["jobs_in_transfer_end"] == 0
    assert model.transfers.results_sent == model.transfers.results_delivered > 50
    assert model.jobs_deferred > 10  # the deferred path sent inputs too
    released = [j for j in model.deferred_h if j in set(jobs["job_id"])]
    cost_of = dict(zip(jobs["job_id"], jobs["transfer_cny"], strict=True))
    assert sum(cost_of[j] > 0 for j in released) > 10
    assert row["transfer_cost_cny"] > 0
    assert sum(jobs["transfer_cny"]) == pytest.approx(row["transfer_cost_cny"], rel=1e-9)
    assert sum(links["cost_cny"]) == pytest.approx(row["transfer_cost_cny"], rel=1e-9)


def test_a_job_pays_for_its_input_and_its_result_over_its_route(tmp_path):
    result = run_replication(_scenario(tmp_path))
    jobs = result.columns["jobs"]
    # Route prices by hand: kz -> kz_pool direct 0.15 CNY/GB (personal data may not cross gw);
    # kz -> cn_pool 0.9 + 0.15 = 1.05 CNY/GB; open data to kz_pool goes through gw, 0.9 + 0.9.
    # A done job paid (input + result) x price, so transfer_cny / price - result GB is its input,
    # within the input distribution's bounds.
    per_gb = {("personal", "kz_pool"): 0.15, ("open", "cn_pool"): 1.05, ("open", "kz_pool"): 1.8}
    result_gb = {"personal": 2.0, "open": 3.0}
    seen = defaultdict(int)
    for cls, site, status, cny in zip(jobs["class"], jobs["site_id"], jobs["status"], jobs["transfer_cny"],
                                      strict=True):
        if status != "done":
            continue
        price = per_gb[(cls, site)]  # KeyError: personal data ran in China
        input_gb = cny / price - result_gb[cls]
        assert 0.0 < input_gb <= 100.0 + 1e-9, (cls, site, cny)
        seen[(cls, site)] += 1
    assert seen[("personal", "kz_pool")] > 20 and seen[("open", "cn_pool")] > 20


def test_results_of_local_data_never_cross_a_forbidden_country(tmp_path):
    result = run_replication(_scenario(tmp_path, "workload.open.arrival_rate_per_h=0.0"))
    links, row = result.columns["links"], result.runs_row
    moved: dict[str, float] = defaultdict(float)
    for link_id, gb in zip(links["link_id"], links["moved_gb"], strict=True):
        moved[link_id] += gb
    assert result.model.transfers.results_delivered > 50
    # Inputs and results both took the direct Kazakh link; nothing went through the Chinese gateway,
    # although kz -> gw -> kz_pool (4 ms) is the shorter route without the rule.
    assert moved["kz-kz_pool"] > 0
    assert moved["kz-gw"] == moved["gw-kz_pool"] == moved["gw-cn_pool"] == 0.0
    assert row["transfer_cost_cny"] == pytest.approx(0.15 * moved["kz-kz_pool"], rel=1e-12)
    # Rules off: the same jobs take the route through gw (and pay the border price).
    off = run_replication(_scenario(tmp_path, "workload.open.arrival_rate_per_h=0.0", "residency.enabled=false"))
    assert sum(gb for lid, gb in zip(off.columns["links"]["link_id"], off.columns["links"]["moved_gb"], strict=True)
               if lid == "kz-gw") > 0
