"""The calibration table is the arithmetic it claims, on networks small enough to do by hand."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from sim.calibration_distance import calibration_columns, parse_reference_figures, reference_figures
from sim.run import run_scenario
from sim.scenario import load_scenario
from topology.model import Link, Network, Region, Site
from topology.plumbing import ConfigError

PREFIXES = ("url:", "seed ", "derived:", "estimate:", "public knowledge:")

HEADER = """\
networks = ["hand"]
reference_gpu_tflops_fp16 = 312.0
reference_gpu_source = "derived: test"
hub_nodes = ["r", "w", "e"]
"""


def _figure(key: str, measure: str, low: float, high: float, extra: str = "") -> str:
    return f"""
[[figure]]
key = "{key}"
label = "{key}"
measure = "{measure}"
value = 1.0
low = {low}
high = {high}
unit = "u"
as_of = "2025"
source = "estimate: test"
band_source = "estimate: test"
note = "why"
{extra}
"""


REFS = parse_reference_figures(HEADER + "".join([
    _figure("eflops", "ai_eflops", 0.1, 0.2),
    _figure("eflops_w", "ai_eflops", 0.0, 0.01, 'sites = ["w"]'),
    _figure("pue", "pue", 1.0, 1.3),
    _figure("util", "utilisation", 0.5, 1.0),
    _figure("util_west", "utilisation", 0.5, 1.0, 'zone = "west"'),
    _figure("util_guizhou", "utilisation", 0.0, 1.0, 'zone = "west"\nsites = ["g"]'),
    _figure("util_clusters", "utilisation", 0.0, 1.0, 'kind = "gpu_pool"'),
    _figure("eflops_east_other", "ai_eflops", 0.0, 1.0, 'zone = ["east", "other"]'),
    _figure("eflops_west_other", "ai_eflops", 0.0, 1.0, 'zone = ["west", "other"]'),
    _figure("energy", "energy_twh_per_year", 0.0, 1.0),
    _figure("lat_mean", "hub_latency_mean_ms", 0.0, 7.0),
    _figure("lat_max", "hub_latency_max_ms", 0.0, 7.0),
    _figure("none", "none", 0.0, 1.0),
]), "hand.toml")


def _network() -> Network:
    return Network(
        name="hand",
        site=(
            Site(id="w", region="east", zone="west", lat=37.5, lon=105.2, gpus=100, sku_speed=2.0, pue=1.2),
            Site(id="e", region="west", zone="east", lat=31.2, lon=121.5, gpus=300, pue=1.5),
            Site(id="g", region="Guizhou", lat=26.4, lon=106.4, gpus=10),  # no zone: the region label decides
        ),
        region=(Region(id="r", lat=31.2, lon=121.5),),
        link=(Link(id="rw", a="r", b="w", distance_km=1000.0), Link(id="we", a="w", b="e", distance_km=400.0),
              Link(id="rg", a="r", b="g", distance_km=200.0)),
    )


# One 10 h interval per site.
SITES: dict[str, list[Any]] = {
    "site_id": ["w", "e", "g"],
    "t_start_h": [0.0, 0.0, 0.0],
    "t_end_h": [10.0, 10.0, 10.0],
    "gpus_total": [100, 300, 10],
    "gpu_h_busy": [600.0, 600.0, 100.0],
    "energy_mwh": [1.2, 3.0, 0.13],
}


def _rows(network: Network | None = None) -> dict[str, dict[str, object]]:
    cols = calibration_columns(network or _network(), SITES, REFS)
    return {key: {name: cols[name][i] for name in cols} for i, key in enumerate(cols["figure"])}


def test_every_measure_is_hand_arithmetic() -> None:
    rows = _rows()
    # 100 GPUs x speed 2 + 300 + 10 = 510 reference GPUs x 312 TFLOPS = 0.15912 EFLOPS.
    assert rows["eflops"]["model"] == pytest.approx(510 * 312 / 1e6) and rows["eflops"]["within"] is True
    assert rows["eflops_w"]["model"] == pytest.approx(200 * 312 / 1e6) and rows["eflops_w"]["within"] is False
    # Facility 4.33 MWh; IT = 1.2/1.2 + 3/1.5 + 0.13/1.3 = 3.1 MWh.
    assert rows["pue"]["model"] == pytest.approx(4.33 / 3.1)
    # Busy 1,300 of 4,100 GPU-h; the west (w by zone, g by its Guizhou label): 700 of 1,100.
    assert rows["util"]["model"] == pytest.approx(1300 / 4100) and rows["util"]["within"] is False
    assert rows["util_west"]["model"] == pytest.approx(700 / 1100) and rows["util_west"]["within"] is True
    assert rows["util_guizhou"]["model"] == pytest.approx(100 / 100)
    # A list of zones covers a site in any of them: e alone (300); w (speed 2) and g by its label (210).
    assert rows["eflops_east_other"]["model"] == pytest.approx(300 * 312 / 1e6)
    assert rows["eflops_west_other"]["model"] == pytest.approx(210 * 312 / 1e6)
    # 4.33 MWh in 10 h -> x 876 per year, in TWh.
    assert rows["energy"]["model"] == pytest.approx(4.33 * 876 / 1e6)
    # Hub pairs, 5 us/km one way: r-w 1000 km = 5 ms, w-e 400 km = 2 ms, r-e via w = 7 ms.
    assert rows["lat_mean"]["model"] == pytest.approx((5 + 2 + 7) / 3)
    assert rows["lat_max"]["model"] == pytest.approx(7.0) and rows["lat_max"]["within"] is True


def test_what_cannot_be_computed_is_nan_with_within_null() -> None:
    rows = _rows()
    assert math.isnan(float(str(rows["none"]["model"]))) and rows["none"]["within"] is None
    assert rows["none"]["note"] == "why"
    # No gpu_pool sites: nothing to compare.
    assert math.isnan(float(str(rows["util_clusters"]["model"]))) and rows["util_clusters"]["within"] is None


def test_a_network_without_links_between_hubs_has_no_latency() -> None:
    net = _network().model_copy(update={"link": ()})
    rows = _rows(net)
    assert math.isinf(float(str(rows["lat_max"]["model"]))) and rows["lat_max"]["within"] is False


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("low = 0.1\nhigh = 0.2", "low = 0.3\nhigh = 0.2", "hand.toml: figure[0].high: must be >= low (= 0.3), got 0.2"),
    ('measure = "pue"', 'measure = "power"', "hand.toml: figure[2].measure: Input should be"),
    ('zone = "west"', 'zone = "wets"', "hand.toml: figure[4].zone: Input should be"),
    ('zone = "west"', 'zone = ["east", "wets"]', "hand.toml: figure[4].zone"),
    ('note = "why"', 'not = "why"', "hand.toml: figure[0].not: unknown key (did you mean 'note'?)"),
])
def test_bad_reference_file_is_one_line_naming_file_and_key(old: str, new: str, expected: str) -> None:
    text = HEADER + "".join([
        _figure("eflops", "ai_eflops", 0.1, 0.2), _figure("b", "ai_eflops", 0, 1),
        _figure("pue", "pue", 1.0, 1.3), _figure("c", "ai_eflops", 0, 1),
        _figure("util_west", "utilisation", 0.5, 1.0, 'zone = "west"'),
    ])
    assert old in text
    with pytest.raises(ConfigError) as info:
        parse_reference_figures(text.replace(old, new, 1), "hand.toml")
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)


def test_every_shipped_figure_is_sourced_and_has_a_band() -> None:
    refs = reference_figures()
    assert set(refs.networks) == {"edwc", "national"}
    assert len(refs.figure) >= 10
    for f in refs.figure:
        assert f.source.startswith(PREFIXES) and f.band_source.startswith(PREFIXES), f.key
        assert f.low <= f.high
        assert f.measure != "none" or f.note.startswith("not reproduced"), f.key
    national = load_scenario(overrides=["network=national"]).network
    # A figure names a mixed site (Gui'an) by its id; the network runs it as partitions with that parent.
    ids = {s.parent or s.id for s in national.sites} | {r.id for r in national.regions}
    assert set(refs.hub_nodes) <= ids
    for f in refs.figure:
        assert set(f.sites) <= ids, f.key


# The figures the built-in networks were built from (sim/data/reference_figures.toml by_construction).
BY_CONSTRUCTION = {
    "cl_zhangjiakou_ai_eflops", "cl_qingyang_ai_eflops",  # a site's capacity is the figure
    "cl_wuhu_ai_eflops", "cl_tianfu_ai_eflops", "inner_mongolia_ai_eflops", "guizhou_ai_eflops",
    "cl_zhongwei_ai_eflops",  # an upper bound that is the site's high end, central half of it
    "hub_pue",  # every cluster's PUE is its target or a measured value below the ceiling
    "interhub_latency_mean_ms",  # the route factor is fitted to it
}


def test_every_shipped_figure_says_whether_it_holds_by_construction_and_why() -> None:
    import tomllib
    from importlib import resources

    text = resources.files("sim.data").joinpath("reference_figures.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)["figure"]
    assert all("by_construction" in f for f in raw)  # stated for every figure, not left to the default
    refs = reference_figures()
    assert {f.key for f in refs.figure if f.by_construction} == BY_CONSTRUCTION
    for f in refs.figure:
        assert bool(f.by_construction_why) == f.by_construction, f.key
        # An outcome's note does not claim it holds by construction, nor the other way round.
        assert ("by construction" in f.note) <= f.by_construction, f.key


def test_a_figure_by_construction_needs_its_reason() -> None:
    with pytest.raises(ConfigError, match=r"hand\.toml.*by_construction_why.*required"):
        parse_reference_figures(HEADER + _figure("x", "pue", 1.0, 1.3, "by_construction = true"), "hand.toml")
    refs = parse_reference_figures(HEADER + _figure("x", "pue", 1.0, 1.3), "hand.toml")
    assert refs.figure[0].by_construction is False  # the default: an outcome


def test_a_national_run_writes_one_row_per_figure_and_replication() -> None:
    loaded = load_scenario("examples/national.toml", ["horizon_h=100.0", "warmup_h=0.0", "replications=2"])
    result = run_scenario(loaded)
    table = result.table("calibration")
    assert table is not None
    figures = reference_figures().figure
    assert table.num_rows == 2 * len(figures)
    flags = {r["figure"]: r["by_construction"] for r in table.to_pylist()}
    assert {k for k, flag in flags.items() if flag} == BY_CONSTRUCTION
    for replication in (0, 1):
        rows = {r["figure"]: r for r in table.to_pylist() if r["replication"] == replication}
        sites = [r for r in result.sites.to_pylist() if r["replication"] == replication]
        energy = sum(r["energy_mwh"] for r in sites)
        assert rows["energy_twh_per_year"]["model"] == pytest.approx(energy / 1e6 * 8760 / 100.0)
        west = {s.id for s in loaded.network.sites if s.zone == "west"}
        busy = sum(r["gpu_h_busy"] for r in sites if r["site_id"] in west)
        avail = sum(r["gpus_total"] * (r["t_end_h"] - r["t_start_h"]) for r in sites if r["site_id"] in west)
        assert rows["west_utilisation"]["model"] == pytest.approx(busy / avail)
        # Reference GPUs (GPUs x sku_speed: Harbin 385/312, Ascend 910B 320/312) x 312 TFLOPS,
        # China's sites (the Belt-and-Road pools abroad are not in the national figure).
        def eflops_of(zones: set[str]) -> float:
            return sum(s.gpus * s.sku_speed for s in loaded.network.sites if s.zone in zones) * 312 / 1e6

        assert {s.zone for s in loaded.network.sites} == {"east", "west", "other", "abroad"}
        assert rows["installed_ai_eflops"]["model"] == pytest.approx(eflops_of({"east", "west", "other"}))
        assert rows["hub_ai_eflops"]["model"] == pytest.approx(eflops_of({"east", "west"}))
        assert rows["nonhub_ai_eflops"]["model"] == pytest.approx(eflops_of({"other"}))
        assert rows["installed_ai_eflops"]["model"] == pytest.approx(
            rows["hub_ai_eflops"]["model"] + rows["nonhub_ai_eflops"]["model"])
        # Central capacities no longer count upper bounds: the network's sites hold less than
        # the national figure (no eastern hyperscalers), and the row says so.
        assert rows["installed_ai_eflops"]["within"] is False
        assert rows["installed_ai_eflops"]["note"].startswith("below the band")


def test_installed_compute_at_each_capacity_level_is_the_sum_of_that_end_of_the_ranges() -> None:
    base = load_scenario("examples/national.toml").network
    for level, expected_low, expected_high in (("low", 365, 380), ("central", 625, 635), ("high", 895, 910)):
        loaded = load_scenario("examples/national.toml", [f"capacity={level}"])
        assert [s.gpus for s in loaded.network.sites] == [s.capacity(level) for s in base.sites]
        eflops = sum(s.gpus * s.sku_speed for s in loaded.network.sites) * 312 / 1e6
        assert expected_low <= eflops <= expected_high, (level, eflops)


def test_a_network_without_reference_figures_writes_no_calibration_table() -> None:
    result = run_scenario(load_scenario(overrides=["horizon_h=24.0"]))
    assert result.table("calibration") is None


def test_every_site_of_the_national_example_starts_jobs() -> None:
    # Bundles outside training are 256-512 GPUs, so the 1,000-GPU pools and the Belt-and-Road
    # pools start jobs too (with 1,024-GPU bundles they started none all year).
    loaded = load_scenario("examples/national.toml", ["horizon_h=336.0", "warmup_h=0.0", "metric_interval_h=336.0"])
    started: dict[str, int] = {}
    for row in run_scenario(loaded).sites.to_pylist():
        started[row["site_id"]] = started.get(row["site_id"], 0) + row["jobs_started"]
    assert set(started) == {s.id for s in loaded.network.sites}
    assert min(started.values()) > 0, sorted(started.items(), key=lambda kv: kv[1])[:3]


def _installed_rows(network: Network) -> dict[str, float]:
    """Each built-in calibration figure's model value for ``network`` before any run (no sites table rows)."""
    empty: dict[str, list[Any]] = {k: [] for k in SITES}
    cols = calibration_columns(network, empty, reference_figures())
    return {key: cols["model"][i] for i, key in enumerate(cols["figure"])}


def test_a_mixed_site_is_measured_through_its_partitions() -> None:
    # Gui'an runs as two partitions (Ascend 910B and A100); the figures name it by its id.
    network = load_scenario(overrides=["network=national"]).network
    assert [s.id for s in network.sites if s.parent == "cl_guian"] == [
        "cl_guian/huawei_ascend_910b", "cl_guian/nvidia_a100_sxm4_80gb"]
    rows = _installed_rows(network)
    # Gui'an: 107,488 cards x 320 TFLOPS + 12,249 x 312 = 38,217,848 TFLOPS, the central half of Guizhou's 83,300 P
    # less China Mobile Guiyang's carved-out 22,000 cards x 312 TFLOPS (6,864 P), which the row adds back.
    assert rows["guizhou_ai_eflops"] == pytest.approx((107_488 * 320 + 12_249 * 312 + 22_000 * 312) / 1e6)
    assert rows["guizhou_ai_eflops"] == pytest.approx((85 * 0.98 - 6.864) / 2 + 6.864, abs=1e-3)
    # All eight hub nodes are found (Gui'an through its first partition): the route factor was fitted so
    # that the mean over the 28 pairs is CAICT's 9.7 ms; with 21 pairs (Gui'an lost) it would differ.
    assert rows["interhub_latency_mean_ms"] == pytest.approx(9.7, abs=0.01)


def test_the_capacity_figures_the_notes_quote_are_what_the_national_network_holds() -> None:
    # The notes are printed with every national run; their figures are typed into the data file, so this
    # recomputes each one from the network at the capacity level the note names (EFLOPS, as rounded there).
    notes = {f.key: f.note for f in reference_figures().figure}

    def installed(level: str) -> dict[str, float]:
        return _installed_rows(load_scenario("examples/national.toml", [f"capacity={level}"]).network)

    central, high, low = installed("central"), installed("high"), installed("low")
    national = notes["installed_ai_eflops"]
    assert f"--set capacity=high gives {high['installed_ai_eflops']:.0f}" in national
    assert f"--set capacity=low {low['installed_ai_eflops']:.0f}" in national
    assert f"--set capacity=high gives {high['china_mobile_ai_eflops']:.1f} (within)" in notes["china_mobile_ai_eflops"]
    assert 27.74 <= high["china_mobile_ai_eflops"] <= 30.66  # "(within)": the row's band
    assert f"{central['nonhub_ai_eflops']:.0f} EFLOPS" in notes["nonhub_ai_eflops"]
    assert f"{central['nonhub_ai_eflops']:.0f} EFLOPS" in national
    assert f"hold {central['guizhou_ai_eflops']:.1f} of at most 85" in notes["guizhou_ai_eflops"]


def test_the_national_inference_rate_is_sized_on_the_capacity_the_network_holds() -> None:
    # examples/national.toml derives its inference rate from China's published token volume (1e14 tokens a
    # day at 1.067e-3 A100-GPU-s each) scaled by the share of the national figure (788 EFLOPS) that the
    # network holds at central capacity; it was once left at the share of an older network (583 EFLOPS).
    loaded = load_scenario("examples/national.toml")
    national = next(f for f in reference_figures().figure if f.key == "installed_ai_eflops")
    share = _installed_rows(loaded.network)["installed_ai_eflops"] / national.value
    busy_gpus = 1e14 * 1.067e-3 / 86_400 * share
    inference = loaded.scenario.workload["inference"]
    assert inference.work_gpu_h.mean == 6144.0
    assert inference.arrival_rate_per_h == round(busy_gpus / inference.work_gpu_h.mean)
    comment = Path("examples/national.toml").read_text(encoding="utf-8")
    assert f"holds {_installed_rows(loaded.network)['installed_ai_eflops']:.1f} of China's 788 EFLOPS" in comment
    assert f"= {inference.arrival_rate_per_h:.0f} bundles/h x 6,144" in comment
