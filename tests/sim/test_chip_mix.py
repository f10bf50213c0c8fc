"""Chip mixes in a run: service time by SKU, gangs on one SKU, classes restricted to SKUs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.run import run_scenario
from sim.scenario import load_scenario
from topology.plumbing import ConfigError

A100, H100 = "nvidia_a100_sxm4_80gb", "nvidia_h100_sxm5_80gb"

NETWORK = f"""\
name = "two-sku"
[[site]]
id = "mix"
lat = 37.5
lon = 105.2
gpus = 8
server_overhead_w = 100
chips = [{{ sku = "{A100}", gpus = 4 }}, {{ sku = "{H100}", gpus = 4 }}]
[[region]]
id = "east"
lat = 31.2
lon = 121.5
[[link]]
id = "L"
a = "east"
b = "mix"
distance_km = 1000.0
"""

SCENARIO = """\
network = "net.toml"
policy = "{policy}"
horizon_h = 200
metric_interval_h = 50
jobs_sample = 1
seed = 3
[workload.any]
arrival_rate_per_h = 0.5
gpus = {{ dist = "constant", value = 2 }}
work_gpu_h = {{ dist = "exponential", mean = 4.0 }}
[workload.fast]
arrival_rate_per_h = 0.5
gpus = {{ dist = "constant", value = 4 }}
work_gpu_h = {{ dist = "exponential", mean = 8.0 }}
skus = ["{fast_sku}"]
"""


def _run(tmp_path: Path, policy: str = "nearest", fast_sku: str = H100, extra: tuple[str, ...] = ()):
    (tmp_path / "net.toml").write_text(NETWORK)
    (tmp_path / "s.toml").write_text(SCENARIO.format(policy=policy, fast_sku=fast_sku))
    return run_scenario(load_scenario(tmp_path / "s.toml", list(extra)))


@pytest.mark.parametrize("policy", ["nearest", "least_loaded"])
def test_service_time_is_work_over_gpus_times_the_skus_speed(tmp_path, policy):
    jobs = _run(tmp_path, policy).table("jobs").to_pandas()
    done = jobs[jobs.status == "done"]
    assert len(done) > 100
    # Hand computation: H100 dense FP16 989 TFLOPS / A100 312 TFLOPS (topology/chips.toml).
    speed = {f"mix/{A100}": 1.0, f"mix/{H100}": 989.0 / 312.0}
    assert set(done.site_id) == set(speed)
    expected = done.work_gpu_h / (done.gpus * done.site_id.map(speed))
    assert (done.finish_h - done.start_h).to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)


def test_a_class_restricted_to_a_sku_runs_only_there(tmp_path):
    jobs = _run(tmp_path, "least_loaded").table("jobs").to_pandas()
    assert set(jobs[jobs["class"] == "fast"].site_id) == {f"mix/{H100}"}
    assert set(jobs[jobs["class"] == "any"].site_id) == {f"mix/{A100}", f"mix/{H100}"}
    jobs = _run(tmp_path, "least_loaded", fast_sku=A100).table("jobs").to_pandas()
    assert set(jobs[jobs["class"] == "fast"].site_id) == {f"mix/{A100}"}


def test_a_gang_never_spans_two_skus(tmp_path):
    # 6 GPUs fit the site's 8 but neither partition's 4: every such job is rejected, none runs.
    result = _run(tmp_path, "least_loaded", extra=("workload.any.gpus.value=6",))
    jobs = result.table("jobs").to_pandas()
    runs = result.runs.to_pylist()[0]
    assert "any" not in set(jobs["class"])  # never placed anywhere
    assert runs["jobs_rejected"] > 50
    assert runs["jobs_rejected_residency"] == 0  # rejected by size, not by residency rules
    assert (jobs.gpus <= 4).all()


def test_energy_of_a_partition_uses_its_skus_board_power(tmp_path):
    result = _run(tmp_path)
    sites = result.table("sites").to_pandas()
    for sku, board in ((A100, 400.0), (H100, 700.0)):
        rows = sites[sites.site_id == f"mix/{sku}"]
        # (busy GPU-h x (board + 100 W overhead) + idle GPU-h x 80 W) x PUE 1.3, in MWh.
        busy = rows.gpu_h_busy.sum()
        idle = 4 * 200 - busy
        assert rows.energy_mwh.sum() == pytest.approx((busy * (board + 100) + idle * 80) * 1.3 / 1e6, rel=1e-9)


def test_a_sku_no_site_holds_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"s\.toml: workload\.fast\.skus: no site of the network holds SKU "
                                          r"'huawei_ascend_910'"):
        _run(tmp_path, fast_sku="huawei_ascend_910")


def test_sku_restriction_and_residency_rules_together(tmp_path):
    # A class with personal data and a SKU list: the block of its data kind, masked to its SKU.
    result = _run(tmp_path, "least_loaded", extra=("workload.fast.data_kind=personal",))
    jobs = result.table("jobs").to_pandas()
    assert set(jobs[jobs["class"] == "fast"].site_id) == {f"mix/{H100}"}
    assert result.runs.to_pylist()[0]["jobs_rejected_residency"] == 0


def test_an_override_of_a_mixed_site_names_its_partitions(tmp_path):
    with pytest.raises(ConfigError, match=r"sites\.mix: site 'mix' holds a chip mix and runs as partitions; "
                                          rf"override them: mix/{A100}, mix/{H100}"):
        _run(tmp_path, extra=("sites.mix.pue=1.1",))
    result = _run(tmp_path, extra=(f"sites.mix/{H100}.pue=1.1",))  # a partition is a site of its own
    assert result.runs.to_pylist()[0]["jobs_done"] > 0


RESIDENCY_NETWORK = f"""\
name = "kz-two-sku"
[[site]]
id = "mix"
lat = 43.2
lon = 76.9
country = "KZ"
gpus = 8
chips = [{{ sku = "{A100}", gpus = 4 }}, {{ sku = "{H100}", gpus = 4 }}]
[[site]]
id = "cn"
lat = 43.8
lon = 87.6
zone = "other"
gpus = 8
chips = [{{ sku = "{H100}", gpus = 8 }}]
[[region]]
id = "almaty"
lat = 43.2
lon = 76.9
country = "KZ"
[[link]]
id = "a"
a = "almaty"
b = "mix"
distance_km = 10.0
[[link]]
id = "b"
a = "mix"
b = "cn"
distance_km = 900.0
"""

RESIDENCY_SCENARIO = """\
network = "net.toml"
policy = "least_loaded"
horizon_h = 200
metric_interval_h = 50
jobs_sample = 1
seed = 5
[workload.fast]
arrival_rate_per_h = 0.5
gpus = {{ dist = "constant", value = {gpus} }}
work_gpu_h = {{ dist = "exponential", mean = 8.0 }}
data_kind = "personal"
skus = ["{sku}"]
"""


def _run_kz(tmp_path: Path, gpus: int, sku: str):
    (tmp_path / "net.toml").write_text(RESIDENCY_NETWORK)
    (tmp_path / "s.toml").write_text(RESIDENCY_SCENARIO.format(gpus=gpus, sku=sku))
    return run_scenario(load_scenario(tmp_path / "s.toml"))


def test_sku_lists_under_binding_residency_rules(tmp_path):
    # Kazakhstan keeps personal data at home (topology/residency.toml): H100 jobs run on the
    # Kazakh partition, never on the Chinese H100 site.
    result = _run_kz(tmp_path, 4, H100)
    jobs = result.table("jobs").to_pandas()
    assert set(jobs.site_id) == {f"mix/{H100}"} and len(jobs) > 50
    # 6-GPU H100 gangs fit only in China: the rules reject them, and are counted for it.
    runs = _run_kz(tmp_path, 6, H100).runs.to_pylist()[0]
    assert runs["jobs_rejected"] == runs["jobs_rejected_residency"] > 50
    # 6-GPU A100 gangs fit nowhere, rules or not: rejected, but not by the rules.
    runs = _run_kz(tmp_path, 6, A100).runs.to_pylist()[0]
    assert runs["jobs_rejected"] > 50 and runs["jobs_rejected_residency"] == 0
