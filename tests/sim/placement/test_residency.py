"""Data residency as the admissibility filter of every policy (sim.placement.residency), on a hand-made network."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sim.engine import Engine
from sim.placement.residency import admissible_rows
from sim.run import run_replication, run_scenario
from sim.scenario import load_scenario
from sim.transfers import Transfers
from topology.graph import region_site_latency_ms
from topology.load import load_network
from topology.residency import CountryRule, ResidencyConfig, ResidencyRules, effective_rules

ROOT = Path(__file__).resolve().parents[3]

# Kazakh demand "kz" reaches the Kazakh pool two ways: directly (1000 km, 5 ms one way) or through
# the Chinese gateway "gw" (100 km + 100 km, 1 ms).  The Chinese pool, cheaper and larger, is behind
# the gateway (kz -> gw -> cn_pool: 1 ms), and greener.  Fibre 5 us/km, distances given, no hop cost.
NETWORK = """
name = "kz-cn"
[[site]]
id = "kz_pool"
country = "KZ"
lat = 51.0
lon = 71.0
gpus = 64
price_cny_per_kwh = 0.5
carbon_kg_per_kwh = 0.8
[[site]]
id = "cn_pool"
country = "CN"
lat = 44.0
lon = 87.0
gpus = 512
price_cny_per_kwh = 0.3
carbon_kg_per_kwh = 0.6
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
distance_km = 100
[[link]]
id = "gw-kz_pool"
a = "gw"
b = "kz_pool"
distance_km = 100
[[link]]
id = "kz-kz_pool"
a = "kz"
b = "kz_pool"
distance_km = 1000
[[link]]
id = "gw-cn_pool"
a = "gw"
b = "cn_pool"
distance_km = 100
"""

KZ_LOCAL = ResidencyRules(country={"KZ": CountryRule(personal="local")})


def _network(tmp_path: Path):
    (tmp_path / "net.toml").write_text(NETWORK, encoding="utf-8")
    return load_network(str(tmp_path / "net.toml"))


def _scenario(tmp_path: Path, *overrides: str, data_kind: str = "personal", gpus: int = 8, policy: str = "cheapest"):
    (tmp_path / "net.toml").write_text(NETWORK, encoding="utf-8")
    (tmp_path / "s.toml").write_text(textwrap.dedent(f"""
        network = "net.toml"
        policy = "{policy}"
        horizon_h = 300.0
        metric_interval_h = 100.0
        jobs_sample = 1.0
        [workload.finetune]
        arrival_rate_per_h = 0.5
        gpus = {{dist = "constant", value = {gpus}}}
        work_gpu_h = {{dist = "constant", value = 16.0}}
        input_gb = {{dist = "constant", value = 10.0}}
        data_kind = "{data_kind}"
        """), encoding="utf-8")
    return load_scenario(tmp_path / "s.toml", list(overrides))


def test_rows_keep_only_allowed_sites_at_the_latency_of_an_allowed_route(tmp_path):
    network = _network(tmp_path)
    latency = region_site_latency_ms(network)
    assert latency.tolist() == [[pytest.approx(1.0), pytest.approx(1.0)], [pytest.approx(0.5), pytest.approx(0.5)]]
    classes = list(_scenario(tmp_path).scenario.workload.values())
    rows = admissible_rows(network, classes, KZ_LOCAL, latency)
    assert rows is not None and rows.kinds == ("none", "personal")
    assert rows.row_of == ((2, 3),)  # the personal block follows the two unrestricted rows
    # kz personal: only kz_pool, and only over the direct Kazakh link (5 ms), not through gw (CN).
    assert rows.latency_ms[2].tolist() == [pytest.approx(5.0), math.inf]
    assert rows.latency_ms[3].tolist() == latency[1].tolist()  # gw is Chinese: no rule binds CN here
    assert rows.allowed_nodes[2] == frozenset({"kz", "kz_pool"}) and rows.allowed_nodes[3] is None
    transfers = Transfers(network, Engine(), rows.latency_ms, rows.allowed_nodes)
    assert transfers.path(2, 0)[:2] == ((2,), pytest.approx(5.0))  # the link kz-kz_pool
    assert transfers.path(0, 0)[:2] == ((0, 1), pytest.approx(1.0))  # unrestricted: through the gateway
    # No class carrying restricted data, or the rules off: no rows (the regions, as before rules).
    none_cls = list(_scenario(tmp_path, data_kind="none").scenario.workload.values())
    assert admissible_rows(network, none_cls, KZ_LOCAL, latency) is None
    assert admissible_rows(network, classes, None, latency) is None


def test_allow_to_lets_local_data_go_to_the_named_country(tmp_path):
    network = _network(tmp_path)
    latency = region_site_latency_ms(network)
    classes = list(_scenario(tmp_path).scenario.workload.values())
    rules = ResidencyRules(country={"KZ": CountryRule(personal="local", allow_to=("CN",))})
    rows = admissible_rows(network, classes, rules, latency)
    assert rows is not None and rows.latency_ms[2].tolist() == latency[0].tolist()
    merged = effective_rules(ResidencyConfig.model_validate({"country": {"KZ": {"allow_to": ["CN"]}}}))
    assert merged is not None and merged.country["KZ"].allow_to == ("CN",)
    assert merged.country["KZ"].personal == "local"  # the built-in rule, kept
    assert effective_rules(ResidencyConfig(enabled=False)) is None


@pytest.mark.parametrize("policy", ["nearest", "least_loaded", "cheapest", "greenest", "edwc"])
def test_every_policy_keeps_kazakh_personal_data_in_kazakhstan(tmp_path, policy):
    on = run_scenario(_scenario(tmp_path, policy=policy))
    jobs = on.table("jobs")
    assert jobs is not None and jobs.num_rows > 100
    assert set(jobs.column("site_id").to_pylist()) == {"kz_pool"}
    assert set(jobs.column("origin_country").to_pylist()) == {"KZ"}
    assert not any(jobs.column("crossed_border").to_pylist())
    # Without the rule the same policies use the Chinese pool (cheaper, greener or nearer through gw).
    off = run_scenario(_scenario(tmp_path, "residency.enabled=false", policy=policy)).table("jobs")
    assert off is not None
    if policy in ("cheapest", "greenest", "edwc"):
        assert "cn_pool" in off.column("site_id").to_pylist()
        assert any(off.column("crossed_border").to_pylist())


def test_a_job_with_no_admissible_site_is_rejected_for_residency(tmp_path):
    # 128 GPUs: only the Chinese pool is large enough, and the rule forbids it.
    result = run_replication(_scenario(tmp_path, gpus=128))
    row, jobs = result.runs_row, result.columns["jobs"]
    assert row["jobs_arrived"] > 100
    assert row["jobs_rejected"] == row["jobs_rejected_residency"] == row["jobs_arrived"]
    assert set(jobs["status"]) == {"rejected"} and set(jobs["reject_reason"]) == {"residency"}
    assert set(jobs["site_id"]) == {None} and set(jobs["site_country"]) == {None}
    assert len(jobs["job_id"]) == row["jobs_arrived"]
    # Rules off: all placed at cn_pool, and every input paid nothing (no link has a price).
    off = run_replication(_scenario(tmp_path, "residency.enabled=false", gpus=128)).runs_row
    assert off["jobs_rejected"] == off["jobs_rejected_residency"] == 0
    assert off["transfer_cost_cny"] == 0.0


def test_a_job_too_large_for_every_site_is_not_a_residency_rejection(tmp_path):
    result = run_replication(_scenario(tmp_path, gpus=1024)).runs_row
    assert result["jobs_rejected"] == result["jobs_arrived"] > 100
    assert result["jobs_rejected_residency"] == 0


def test_belt_and_road_example_keeps_local_personal_data_at_home():
    """Issue 18's check: with jobs_sample = 1 no personal-data job whose origin keeps it in-country ran outside."""
    loaded = load_scenario(ROOT / "examples" / "belt_and_road.toml", ["jobs_sample=1", "replications=1"])
    rules = effective_rules(loaded.scenario.residency)
    assert rules is not None
    local = {c for c, rule in rules.country.items() if rule.personal == "local"}
    assert {"KZ", "UZ"} <= local
    personal = [n for n, c in loaded.scenario.workload.items() if c.data_kind == "personal"]
    jobs = run_scenario(loaded).table("jobs")
    assert jobs is not None
    mask = pc.and_(pc.is_in(jobs.column("class"), pa.array(personal)),
                   pc.is_in(jobs.column("origin_country"), pa.array(sorted(local))))
    kept = jobs.filter(mask)
    placed = kept.filter(pc.is_valid(kept.column("site_id")))
    assert placed.num_rows > 1000  # Kazakh personal-data jobs ran (at the Kazakh pool)
    assert pc.all(pc.equal(placed.column("site_country"), placed.column("origin_country"))).as_py()
    # Uzbekistan has no site: all its personal-data jobs are rejected for residency.
    uz = kept.filter(pc.equal(kept.column("origin_country"), "UZ"))
    assert uz.num_rows > 100 and set(uz.column("reject_reason").to_pylist()) == {"residency"}
