"""The SKU catalogue, chip mixes on sites, and their partitions."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from topology.chip_partitions import expand_chip_mixes
from topology.chips import ChipCount, resolve_chip, sku_catalogue
from topology.graph import region_site_latency_ms
from topology.load import builtin_names, load_network
from topology.model import Link, Network, Region, Site

PREFIXES = ("url: ", "seed ", "public knowledge", "estimate: ", "derived: ")
A100, H100, H800, ASCEND, ASCEND_B = ("nvidia_a100_sxm4_80gb", "nvidia_h100_sxm5_80gb", "nvidia_h800_sxm5_80gb",
                                      "huawei_ascend_910", "huawei_ascend_910b")
HARBIN = "domestic_harbin_385tf"


def test_catalogue_holds_the_shared_data_skus_with_sources():
    cat = sku_catalogue()
    assert cat.ids == (A100, H100, H800, ASCEND, ASCEND_B, HARBIN)
    # Harbin's card: 6.93 EFLOPS / 18,000 cards = 385 TFLOPS; board power the Ascend 910's 310 W (an estimate).
    assert [(s.tflops_fp16_dense, s.board_power_w) for s in cat.sku] == [
        (312, 400), (989, 700), (989, 700), (256, 310), (320, None), (6.93e6 / 18_000, 310)]
    for sku in cat.sku:
        assert sku.source.startswith(PREFIXES) and sku.export_control_source.startswith(PREFIXES), sku.id
    assert cat.reference == A100 and cat.reference_tflops == 312
    for mix in cat.published_mix:
        assert mix.source.startswith(PREFIXES)


def test_export_control_is_data():
    cat = sku_catalogue()
    controlled = {s.id for s in cat.sku if not s.export_control.startswith("none")}
    assert controlled == {A100, H100, H800}


def _site(**kw) -> Site:
    return Site(**{"id": "s", "lat": 0, "lon": 0, "gpus": 10, **kw})


@pytest.mark.parametrize(("chips", "pattern"), [
    ([{"sku": "nvidia_a10", "gpus": 10}], r"sku: unknown SKU 'nvidia_a10'"),
    ([{"sku": "mine", "gpus": 10, "tflops_fp16_dense": 0, "board_power_w": 300}], r"greater than 0"),
    ([{"sku": ASCEND_B, "gpus": 10}], r"board_power_w: SKU 'huawei_ascend_910b' has no published board power"),
    ([{"sku": A100, "gpus": 10, "tflops_fp16_dense": 300}], r"tflops_fp16_dense: .* has its throughput"),
    ([{"sku": A100, "gpus": 4}, {"sku": H100, "gpus": 5}], r"chips: the mix holds 9 GPUs .* the site's gpus is 10"),
    ([{"sku": A100, "gpus": 5}, {"sku": A100, "gpus": 5}], r"chips\[1\]\.sku: 'nvidia_a100_sxm4_80gb' appears twice"),
])
def test_bad_mixes_are_refused(chips, pattern):
    with pytest.raises(ValidationError, match=pattern):
        _site(chips=chips)


def test_a_mixed_site_may_not_also_set_its_own_sku_figures():
    with pytest.raises(ValidationError, match="sku_speed: set by each SKU of chips"):
        _site(sku_speed=2.0, chips=[{"sku": A100, "gpus": 10}])


def test_resolve_chip_takes_figures_from_the_entry_where_the_catalogue_has_none():
    assert resolve_chip(ChipCount(sku=ASCEND_B, gpus=1, board_power_w=350, source="estimate: x")) == (320.0, 350.0)
    assert resolve_chip(ChipCount(sku="mine", gpus=1, tflops_fp16_dense=624, board_power_w=500)) == (624.0, 500.0)


def _network(site: Site) -> Network:
    region = Region(id="r", lat=1, lon=1)
    return Network(site=(site, Site(id="t", lat=2, lon=2, gpus=4)), region=(region,),
                   link=(Link(id="a", a="r", b="s"), Link(id="b", a="s", b="t")))


def test_partitions_ids_speeds_power_and_ranges():
    site = _site(gpus=100, gpus_low=50, gpus_high=300, server_overhead_w=412.5, gpu_idle_w=90, pue=1.2,
                 chips=[{"sku": A100, "gpus": 70}, {"sku": H800, "gpus": 30}])
    net = expand_chip_mixes(_network(site))
    a, h, t = net.sites
    assert (a.id, h.id, t.id) == (f"s/{A100}", f"s/{H800}", "t")
    assert (a.parent, h.parent, t.parent) == ("s", "s", None)
    assert (a.gpus, a.gpus_low, a.gpus_high, h.gpus, h.gpus_low, h.gpus_high) == (70, 35, 210, 30, 15, 90)
    assert (a.sku_speed, h.sku_speed) == (1.0, 989 / 312)
    assert (a.gpu_busy_w, h.gpu_busy_w, a.gpu_idle_w, h.gpu_idle_w) == (812.5, 1112.5, 90, 90)
    assert (a.pue, h.pue, a.lat, h.lon) == (1.2, 1.2, 0, 0)
    # Links to the site join its first partition; the others hang off it at zero cost.
    assert [(link.a, link.b) for link in net.links] == [("r", a.id), (a.id, "t"), (h.id, a.id)]
    latency = region_site_latency_ms(net)
    assert latency[0, 0] == latency[0, 1] == region_site_latency_ms(_network(_site(gpus=100)))[0, 0]


def test_a_one_sku_mix_keeps_the_site_id():
    net = expand_chip_mixes(_network(_site(chips=[{"sku": ASCEND, "gpus": 10}])))
    assert [s.id for s in net.sites] == ["s", "t"] and net.sites[0].sku == ASCEND
    assert net.sites[0].sku_speed == 256 / 312 and net.sites[0].gpu_busy_w == 310


def test_a_network_without_mixes_is_returned_as_it_is():
    for name in builtin_names():
        net = load_network(name)
        assert expand_chip_mixes(net) is net  # a loaded network holds no mixes: they are partitions
        assert all(s.chips is None for s in net.sites)
    # Only the sites whose data name their chips are split: Gui'an into two partitions; Harbin's one SKU
    # keeps its id.
    national = load_network("national")
    assert {s.parent for s in national.sites if s.parent} == {"cl_guian"}
    assert {s.id: s.sku for s in national.sites}["gpu_cm_harbin"] == HARBIN
    assert all(s.parent is None for s in load_network("default").sites)


def test_partition_latencies_equal_the_parents_in_a_bigger_graph():
    base = load_network("edwc")
    first = base.sites[0]
    mixed = first.model_copy(update={"chips": (ChipCount(sku=A100, gpus=first.gpus - 1), ChipCount(sku=H100, gpus=1)),
                                     "sku": "reference"})
    mixed = Site.model_validate({k: v for k, v in mixed.model_dump().items()
                                 if k not in ("sku", "sku_speed", "board_power_w", "gpu_busy_w")})
    net = expand_chip_mixes(base.model_copy(update={"site": (mixed, *base.sites[1:])}))
    before, after = region_site_latency_ms(base), region_site_latency_ms(net)
    assert np.array_equal(after[:, 0], before[:, 0]) and np.array_equal(after[:, 1], before[:, 0])
    assert np.array_equal(after[:, 2:], before[:, 1:])


def test_a_power_envelope_is_shared_by_busy_power():
    site = _site(gpus=100, server_overhead_w=100, power_envelope_mw=1.0,
                 chips=[{"sku": A100, "gpus": 60}, {"sku": H100, "gpus": 40}])
    a, h, _ = expand_chip_mixes(_network(site)).sites
    # Busy power: 60 x 500 W = 30 kW and 40 x 800 W = 32 kW of 62 kW.
    assert a.power_envelope_mw == pytest.approx(30 / 62) and h.power_envelope_mw == pytest.approx(32 / 62)
