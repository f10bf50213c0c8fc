"""Capacity ranges (gpus_low / gpus / gpus_high), the power split and the `capacity` scenario key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.cli import main
from sim.scenario import load_scenario
from topology.capacity import with_capacity
from topology.load import load_network
from topology.model import CapacityStep, Network, Region, Site
from topology.plumbing import ConfigError, CpnsimError

PREFIXES = ("seed ", "url: ", "public knowledge", "estimate: ", "derived: ")
NEW_KEYS = {"gpus_low", "gpus_high", "capacity_method", "board_power_w", "server_overhead_w", "pue_target"}


def _net(*sites: Site) -> Network:
    return Network(site=sites, region=(Region(id="r", lat=0, lon=0),))


def test_with_capacity_picks_each_end_and_leaves_unranged_sites_alone() -> None:
    net = _net(Site(id="a", lat=0, lon=0, gpus=100, gpus_low=25, gpus_high=400),
               Site(id="b", lat=0, lon=0, gpus=8, gpus_high=16), Site(id="c", lat=0, lon=0, gpus=3))
    assert [s.gpus for s in with_capacity(net, "low").sites] == [25, 8, 3]
    assert [s.gpus for s in with_capacity(net, "high").sites] == [400, 16, 3]
    assert with_capacity(net, "central") is net and with_capacity(net, None) is net


def test_a_capacity_level_scales_a_sites_timeline_by_the_same_ratio() -> None:
    steps = (CapacityStep(date="2025-01-01", gpus=100), CapacityStep(date="2026-01-01", gpus=300))
    net = _net(Site(id="a", lat=0, lon=0, gpus=100, gpus_low=40, gpus_high=250, timeline=steps))
    assert [s.gpus for s in with_capacity(net, "low").sites[0].timeline or ()] == [40, 120]
    assert [s.gpus for s in with_capacity(net, "high").sites[0].timeline or ()] == [250, 750]


@pytest.mark.parametrize(("extra", "key", "words"), [
    ("gpus_low = 200", "gpus_low", "must be <= gpus"),
    ("gpus_high = 50", "gpus_high", "must be >= gpus"),
    ("gpu_busy_w = 800.0\nboard_power_w = 400.0\nserver_overhead_w = 300.0", "server_overhead_w", "must equal"),
])
def test_an_inconsistent_range_or_power_split_is_one_line_naming_file_table_and_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, key: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\n[[site]]\nid = "s"\nlat = 0.0\nlon = 0.0\ngpus = 100\n{extra}\n'
                    '[[region]]\nid = "r"\nlat = 0.0\nlon = 0.0\n')
    with pytest.raises(CpnsimError) as info:
        load_network(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: site[0].{key}: ") and words in message and "\n" not in message
    # The CLI says the same in one line and exits 2.
    capsys.readouterr()
    assert main(["topology", "show", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"site[0].{key}" in err


def test_every_built_in_national_site_has_a_sourced_range_a_method_and_a_power_split() -> None:
    net = load_network("national")
    for s in net.sites:
        assert s.gpus_low is not None and s.gpus_high is not None and s.capacity_method, s.id
        assert s.gpus_low <= s.gpus <= s.gpus_high, s.id
        assert s.board_power_w is not None and s.server_overhead_w is not None
        assert s.board_power_w + s.server_overhead_w == s.gpu_busy_w
        # (6,500 W DGX A100 maximum - 8 x 400 W) / 8 per accelerator.
        assert s.server_overhead_w == (6500 - 8 * 400) / 8
        first = s.source.split(" | ")[0]
        assert all(c.startswith(PREFIXES) for c in s.source.split(" | ")), s.id
        if s.parent is not None:  # a partition of a mixed site: the site's mix clause gives its total
            total = sum(p.gpus for p in net.sites if p.parent == s.parent)
            assert first.startswith("derived: chips") and f"=> gpus = {total} (central)" in first, s.id
            continue
        assert first.startswith(("estimate: capacity range", "derived: capacity range")), s.id
        assert f"gpus = {s.gpus} (central), gpus_low = {s.gpus_low}, gpus_high = {s.gpus_high}" in first
    by_id = {s.id: s for s in net.sites}
    # Province-wide, platform or total-computing figures are upper bounds: central = half, low = a quarter.
    # Gui'an (all Guizhou, 83,300 intelligent PFLOPS, less China Mobile Guiyang's 22,000 cards x 312 TFLOPS carved
    # out, docs/data/additions.toml) holds its published mix: 90 % of the compute on Ascend 910B (320 TFLOPS), 10 %
    # on A100 (312), at every end of the range; its partitions hold cards.
    b, a = by_id["cl_guian/huawei_ascend_910b"], by_id["cl_guian/nvidia_a100_sxm4_80gb"]
    central_tf = (85_000 * 0.98 - 22_000 * 0.312) * 0.5 * 1000
    assert (b.gpus, a.gpus) == (round(0.9 * central_tf / 320), round(0.1 * central_tf / 312)) == (107_488, 12_249)
    assert abs(b.gpus * 320 + a.gpus * 312 - central_tf) < 320  # the compute is kept, to a card
    assert abs((b.gpus_high + a.gpus_high) - 2 * (b.gpus + a.gpus)) <= 2  # high = the whole bound
    assert abs((b.gpus_low + a.gpus_low) - (b.gpus + a.gpus) / 2) <= 2  # low = a quarter of it
    # Qingyang: the end-2025 lower bound (100,000 P) is central and low, the 2026 target (150,000 P) high.
    qy = by_id["cl_qingyang"]
    assert (qy.gpus_low, qy.gpus, qy.gpus_high) == (round(100e6 / 312), round(100e6 / 312), round(150e6 / 312))
    # Harbin: a published card count, no range.
    hb = by_id["gpu_cm_harbin"]
    assert hb.gpus_low == hb.gpus == hb.gpus_high == 18_000
    # Measured PUE where published, the target kept apart.
    assert (by_id["cl_zhongwei"].pue, by_id["cl_zhongwei"].pue_target) == (1.1, 1.2)


def test_networks_without_the_new_keys_dump_as_before() -> None:
    for name in ("default",):
        dump = load_network(name).model_dump()
        assert not NEW_KEYS & {k for site in dump["site"] for k in site}


def test_capacity_key_selects_the_level_and_is_left_out_of_the_dump_when_unset() -> None:
    central = load_scenario("examples/national.toml")
    assert "capacity" not in central.scenario.model_dump()
    low = load_scenario("examples/national.toml", ["capacity=low"])
    assert low.scenario.model_dump()["capacity"] == "low"
    assert low.scenario_id != central.scenario_id
    assert [s.gpus for s in low.network.sites] == [s.gpus_low for s in central.network.sites]
    # A site's own [sites.<id>] gpus wins over the level.
    pinned = load_scenario("examples/national.toml", ["capacity=high", "sites.cl_zhongwei.gpus=5"])
    assert {s.id: s.gpus for s in pinned.network.sites}["cl_zhongwei"] == 5
    # A mixed site runs as partitions: an override of the site names them.
    with pytest.raises(ConfigError, match="cl_guian/huawei_ascend_910b, cl_guian/nvidia_a100_sxm4_80gb"):
        load_scenario("examples/national.toml", ["sites.cl_guian.gpus=5"])
    with pytest.raises(ConfigError) as info:
        load_scenario("examples/national.toml", ["capacity=medium"])
    assert "capacity" in str(info.value) and "\n" not in str(info.value)
