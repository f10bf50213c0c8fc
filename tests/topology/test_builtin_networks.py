"""The built-in networks edwc, gpu_clusters, belt_and_road and national, and `include`.

The data tests check shape and provenance: counts, a `source` on every record whose
clauses each start with one of shared/data's five prefixes, reachability, plausible
ranges, and (when shared/data sits beside the clone, as in CI) that figures copied
from shared/data are the ones there.
"""

import math
import re
import tomllib
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from topology.graph import link_route_km, region_site_latency_ms, to_graph
from topology.load import builtin_names, load_network, load_network_file
from topology.model import Network
from topology.plumbing import TopologyError

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"

NETWORKS = ["edwc", "gpu_clusters", "belt_and_road", "national"]
PARTS = ["edwc", "gpu_clusters", "belt_and_road"]
PREFIXES = ("seed ", "url: ", "public knowledge", "estimate: ", "derived: ")
CLAUSE_SEP = " | "

EDWC_CLUSTERS = {
    "cl_zhangjiakou",
    "cl_yrd_demo",
    "cl_wuhu",
    "cl_shaoguan",
    "cl_tianfu",
    "cl_chongqing",
    "cl_horinger",
    "cl_guian",
    "cl_qingyang",
    "cl_zhongwei",
}
EAST_REGIONS = {"dr_cn_bth", "dr_cn_yrd", "dr_cn_guangdong", "dr_cn_chengyu"}
NATIONAL_OWN_REGIONS = {"dr_cn_east_other", "dr_cn_southwest"}
# Sites only national has: the project's additions to shared/data (docs/data/additions.toml).
NATIONAL_OWN_SITES = {"pv_shanxi_datong", "pv_hubei_wuhan", "gpu_cm_guiyang"}


@pytest.fixture(scope="module")
def nets() -> dict[str, Network]:
    return {name: load_network(name) for name in NETWORKS}


def _records(net: Network):
    return [*net.sites, *net.regions, *net.links]


def _clauses(source: str) -> list[str]:
    return source.split(CLAUSE_SEP)


def _site_ids(net: Network) -> set[str]:
    """The network's sites as published: a mixed site's partitions count once, by its id."""
    return {s.parent or s.id for s in net.sites}


def _is_partition_join(link_id: str) -> bool:
    """Whether a link joins two partitions of a mixed site (topology.chip_partitions: ``<a>~<b>``)."""
    return "~" in link_id


def _shared(name: str) -> dict:
    path = SHARED / f"{name}.toml"
    if not path.is_file():
        pytest.skip(f"shared data not found at {SHARED}")
    return tomllib.loads(path.read_text(encoding="utf-8"))


# -- loading and counts -------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
def test_builtin_network_loads_by_name(name, nets):
    assert name in builtin_names()
    net = nets[name]
    assert net.name == name
    assert net.sites and net.regions and net.links
    assert net.fibre_us_per_km == 5.0


def test_edwc_has_the_ten_clusters_and_the_eastern_demand_regions(nets):
    net = nets["edwc"]
    assert _site_ids(net) == EDWC_CLUSTERS
    # Gui'an runs as two partitions, Ascend 910B and A100 (its published mix, ~90 % domestic).
    assert len(net.sites) == 11
    assert [s.id for s in net.sites if s.parent == "cl_guian"] == [
        "cl_guian/huawei_ascend_910b", "cl_guian/nvidia_a100_sxm4_80gb"]
    assert all(s.kind == "cluster" for s in net.sites)
    assert {s.region for s in net.sites} == {"east", "west"}
    assert {r.id for r in net.regions} == EAST_REGIONS
    assert all(r.demand_weight > 0 for r in net.regions)


def test_gpu_clusters_has_the_10000_gpu_centres_and_named_pools(nets):
    net = nets["gpu_clusters"]
    sites = {s.id: s for s in net.sites}
    assert all(s.kind == "gpu_pool" for s in net.sites)
    assert {"gpu_cm_harbin", "gpu_cm_hohhot"} <= set(sites)
    assert {"gpu_cm_pool_beijing", "gpu_cm_pool_shanghai", "gpu_cm_pool_guangzhou"} <= set(sites)
    assert sites["gpu_cm_harbin"].gpus == 18000  # the one published card count
    assert sites["gpu_cm_hohhot"].gpus >= 10000  # "10,000+ GPUs"
    # Harbin's domestic card: 6.93 EFLOPS / 18,000 = 385 TFLOPS vs the A100's 312.
    assert sites["gpu_cm_harbin"].sku_speed == pytest.approx(385 / 312, abs=1e-3)


def test_belt_and_road_pools_carry_residency_and_gateways_are_transit(nets):
    net = nets["belt_and_road"]
    assert all(s.kind == "regional_pool" for s in net.sites)
    assert all(s.residency for s in net.sites)
    for s in net.sites:  # the residency clause says the notes are lower confidence
        assert any("residency" in c and "lower confidence" in c for c in _clauses(s.source)), s.id
    transit = [r for r in net.regions if r.demand_weight == 0]
    assert {r.id for r in transit} == {r.id for r in net.regions if r.id.startswith("gw_")}
    assert len(transit) == 8
    assert "demand_weight = 0" in net.description
    assert any(link.id.startswith("X_") for link in net.links)


def test_national_is_the_union_of_its_parts(nets):
    national = nets["national"]
    for kind in ("sites", "regions", "links"):
        union = {r.id: r for part in PARTS for r in getattr(nets[part], kind)}
        mine = {r.id: r for r in getattr(national, kind)}
        assert set(union) <= set(mine), kind
        assert all(mine[i] == union[i] for i in union), kind  # included records are kept as they are
    assert {s.id for s in national.sites} == {s.id for p in PARTS for s in nets[p].sites} | NATIONAL_OWN_SITES
    assert len(national.sites) == sum(len(nets[p].sites) for p in PARTS) + len(NATIONAL_OWN_SITES)  # none shared
    extra_regions = {r.id for r in national.regions} - {r.id for p in PARTS for r in nets[p].regions}
    assert extra_regions == NATIONAL_OWN_REGIONS
    extra_links = {link.id for link in national.links} - {link.id for p in PARTS for link in nets[p].links}
    assert {"L_bth_urumqi", "L_zhongwei_urumqi", "L_hami_chongqing", "X_gba_hongkong"} <= extra_links
    # The nine Chinese demand regions cover the 31 provinces.
    assert len([r for r in national.regions if r.id.startswith("dr_cn_")]) == 9


def test_shared_regions_are_identical_across_networks(nets):
    seen: dict[str, object] = {}
    for part in PARTS:
        for r in nets[part].regions:
            assert seen.setdefault(r.id, r) == r, r.id


# -- provenance -----------------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
def test_every_record_has_a_source_whose_clauses_start_with_a_prefix(name, nets):
    for record in _records(nets[name]):
        assert record.source.strip(), record.id
        for clause in _clauses(record.source):
            assert clause.startswith(PREFIXES), (record.id, clause[:80])
            assert " => " in clause, (record.id, clause[:80])  # names the fields it gives


@pytest.mark.parametrize("name", NETWORKS)
def test_site_gpus_clause_states_the_value_and_never_passes_an_estimate_as_published(name, nets):
    totals: dict[str, int] = {}
    for site in nets[name].sites:
        totals[site.parent or site.id] = totals.get(site.parent or site.id, 0) + site.gpus
    for site in nets[name].sites:
        first = _clauses(site.source)[0]
        match = re.search(r"=> gpus = (\d+)", first)
        # A partition of a mixed site carries the site's source: its first clause gives the site's total.
        assert match and int(match.group(1)) == totals[site.parent or site.id], (site.id, first[:120])
        if "equivalent" in site.sku:  # converted from PFLOPS, racks, energy or MW
            assert first.startswith(("derived: ", "estimate: ")), site.id
            assert "not a published GPU count" in first, site.id


@pytest.mark.parametrize("name", NETWORKS)
def test_region_demand_weight_is_the_population_its_source_gives(name, nets):
    for region in nets[name].regions:
        match = re.search(r"demand_weight = ([\d.]+)", region.source)
        assert match and float(match.group(1)) == region.demand_weight, region.id


def test_links_not_in_links_toml_are_marked_estimates(nets):
    for link in nets["national"].links:
        if link.id.startswith("A_"):
            assert link.source.startswith("estimate: "), link.id


# -- reachability and ranges ------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
def test_every_region_reaches_a_site(name, nets):
    net = nets[name]
    latency = region_site_latency_ms(net)
    reachable = np.isfinite(latency).any(axis=1)
    # Zero-demand transit regions (gateways) must reach something too.
    assert reachable.all(), [r.id for r, ok in zip(net.regions, reachable, strict=True) if not ok]
    assert nx.is_connected(to_graph(net))


@pytest.mark.parametrize("name", NETWORKS)
def test_figures_are_in_plausible_ranges(name, nets):
    net = nets[name]
    for s in net.sites:
        assert 1.0 <= s.pue <= 2.0, s.id
        assert 0.2 <= s.price_cny_per_kwh <= 1.5, s.id
        assert 0.0 < s.carbon_kg_per_kwh <= 1.2, s.id
        assert 0.0 <= s.renewable_frac <= 1.0, s.id
        assert 0 < s.gpu_idle_w < s.gpu_busy_w <= 1000, s.id
        assert 0.1 <= s.sku_speed <= 5.0, s.id
        assert 100 <= s.gpus <= 2_000_000, s.id
    for r in net.regions:
        assert 0 <= r.demand_weight <= 1500, r.id  # population in millions
    for link in net.links:
        assert _is_partition_join(link.id) or 1 <= link.bandwidth_gbps <= 10_000, link.id
        assert link.hop_ms == 0.0, link.id


def test_each_eastern_region_reaches_a_western_cluster_within_20_ms(nets):
    # EDWC's 20 ms east-west requirement, against the propagation-only latency model.
    net = nets["edwc"]
    latency = region_site_latency_ms(net)
    west = [j for j, s in enumerate(net.sites) if s.zone == "west"]
    assert (latency[:, west].min(axis=1) < 20.0).all()


@pytest.mark.parametrize("name", [*NETWORKS, "default"])
def test_every_site_and_region_has_a_zone(name, nets):
    net = nets[name] if name in nets else load_network(name)
    assert all(s.zone is not None for s in net.sites) and all(r.zone is not None for r in net.regions)


def test_zones_follow_the_edwc_hub_provinces(nets):
    net = nets["national"]
    zone = {s.parent or s.id: s.zone for s in net.sites}
    # west: the four western clusters and the Hohhot centre (Inner Mongolia); east: the eastern hub provinces.
    assert {i for i, z in zone.items() if z == "west"} == {
        "cl_horinger", "cl_guian", "cl_qingyang", "cl_zhongwei", "gpu_cm_hohhot", "gpu_cm_guiyang"}
    assert {i for i, z in zone.items() if z == "other"} == {
        "gpu_cm_harbin", "gpu_cm_wuhan", "br_xj_changji", "br_xj_hami_yiwu", "pv_shanxi_datong", "pv_hubei_wuhan"}
    assert zone["gpu_cm_pool_beijing"] == "east"
    assert {i for i, z in zone.items() if z == "abroad"} == {"br_kz", "br_sg", "br_my_johor", "br_sa_neom", "br_pk"}
    # A cluster's zone is its EDWC role (Chengdu-Chongqing is an eastern, demand-side hub).
    for s in nets["edwc"].sites:
        assert s.zone == s.region, s.id
    regions = {r.id: r.zone for r in net.regions}
    assert regions["dr_cn_bth"] == "east" and regions["dr_kz"] == "abroad" and regions["gw_urumqi"] == "other"


# -- agreement with shared/data -----------------------------------------------------------


def test_edwc_cluster_coordinates_match_shared_data(nets):
    shared = {c["id"]: c for c in _shared("edwc")["cluster"]}
    sites = {s.parent or s.id: s for s in nets["edwc"].sites}
    assert set(sites) == set(shared)
    for cid, c in shared.items():
        assert (sites[cid].lat, sites[cid].lon) == (c["lat"], c["lon"]), cid
        assert sites[cid].carbon_kg_per_kwh == c["carbon_kg_per_kwh"], cid
        assert sites[cid].price_cny_per_kwh == c["price_cny_per_kwh"], cid
        assert sites[cid].pue == c.get("pue_reported", c["pue_target_max"]), cid


def test_region_figures_match_shared_data(nets):
    shared = {r["id"]: r for r in _shared("demand_regions")["region"]}
    for region in nets["national"].regions:
        if region.id.startswith("gw_"):
            continue
        r = shared[region.id]
        assert (region.lat, region.lon, region.demand_weight) == (r["lat"], r["lon"], r["population_m"]), region.id


def test_link_lengths_match_links_toml(nets):
    shared = {link["id"]: link for link in _shared("links")["link"]}
    net = nets["national"]
    coords = {n.id: (n.lat, n.lon) for n in [*net.sites, *net.regions]}
    from_links_toml = [link for link in net.links if link.id in shared]
    assert {link.id for link in from_links_toml} == set(shared)  # every link of links.toml is used
    for link in from_links_toml:
        expected = shared[link.id]["route_km"]
        if link.distance_km is None and link.route_factor != 1.5:
            # A domestic estimated route whose factor is fitted to CAICT's latency (docs/model.md, Latency).
            expected *= link.route_factor / shared[link.id]["route_factor"]
        assert math.isclose(link_route_km(link, coords), expected, rel_tol=0.01, abs_tol=2.0), link.id


# -- composition: include -----------------------------------------------------------------

SITE = """
[[site]]
id = "{id}"
lat = 30.0
lon = 110.0
gpus = {gpus}
source = "estimate: test"
"""
REGION = """
[[region]]
id = "{id}"
lat = 30.0
lon = 111.0
demand_weight = {weight}
"""
LINK = """
[[link]]
id = "{id}"
a = "{a}"
b = "{b}"
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(TopologyError) as info:
        load_network_file(path)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def test_include_builtin_and_relative_user_file(tmp_path, monkeypatch):
    _write(tmp_path / "parts" / "pool.toml", SITE.format(id="s_mine", gpus=64) + REGION.format(id="r_mine", weight=2))
    top = _write(
        tmp_path / "top.toml",
        'include = ["edwc", "parts/pool.toml"]\nname = "mine"\n' + LINK.format(id="L_x", a="r_mine", b="cl_wuhu"),
    )
    monkeypatch.chdir(tmp_path / "parts")  # relative to the including file, not the working directory
    net = load_network_file(top)
    edwc = load_network("edwc")
    assert net.name == "mine"
    assert [s.id for s in net.sites] == [s.id for s in edwc.sites] + ["s_mine"]  # includes first, in order
    # The partition joins of edwc's mixed site (Gui'an) are made when the composed file is loaded: last.
    assert [link.id for link in net.links if not _is_partition_join(link.id)] == [
        link.id for link in edwc.links if not _is_partition_join(link.id)] + ["L_x"]
    assert np.isfinite(region_site_latency_ms(net)).any(axis=1).all()
    # The same through load_network with a scenario's base_dir.
    assert load_network("top.toml", base_dir=tmp_path) == net


def test_include_nests_relative_to_each_file(tmp_path):
    _write(tmp_path / "a" / "b" / "leaf.toml", SITE.format(id="s1", gpus=8) + REGION.format(id="r1", weight=1))
    _write(tmp_path / "a" / "mid.toml", 'include = ["b/leaf.toml"]\n' + SITE.format(id="s2", gpus=8))
    top = _write(tmp_path / "top.toml", 'include = ["a/mid.toml"]\n' + LINK.format(id="L1", a="r1", b="s2"))
    net = load_network_file(top)
    assert [s.id for s in net.sites] == ["s1", "s2"]


def test_user_file_can_extend_the_national_network(tmp_path):
    top = _write(
        tmp_path / "more.toml",
        'include = ["national"]\n' + SITE.format(id="s_new", gpus=128) + LINK.format(id="L_new", a="dr_pk", b="s_new"),
    )
    net = load_network_file(top)
    assert len(net.sites) == len(load_network("national").sites) + 1


def test_include_cycle_is_an_error(tmp_path):
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    _write(a, 'include = ["b.toml"]\n' + SITE.format(id="sa", gpus=8) + REGION.format(id="ra", weight=1))
    _write(b, 'include = ["a.toml"]\n' + SITE.format(id="sb", gpus=8))
    assert _error(a) == f"{b}: include[0]: include cycle: {a} -> {b} -> {a}"


def test_self_include_is_an_error(tmp_path):
    a = _write(tmp_path / "a.toml", 'include = ["a.toml"]\n' + SITE.format(id="s", gpus=8))
    assert _error(a) == f"{a}: include[0]: include cycle: {a} -> {a}"


def test_same_file_included_twice_is_fine(tmp_path):
    part = SITE.format(id="s", gpus=8) + REGION.format(id="r", weight=1) + LINK.format(id="L", a="r", b="s")
    _write(tmp_path / "p.toml", part)
    top = _write(tmp_path / "top.toml", 'include = ["p.toml", "p.toml"]\n')
    net = load_network_file(top)
    assert [s.id for s in net.sites] == ["s"] and [r.id for r in net.regions] == ["r"]


def test_identical_record_from_two_includes_is_kept_once(tmp_path):
    shared = REGION.format(id="r_shared", weight=3)
    _write(tmp_path / "p1.toml", SITE.format(id="s1", gpus=8) + shared)
    _write(tmp_path / "p2.toml", SITE.format(id="s2", gpus=8) + shared)
    link = LINK.format(id="L", a="r_shared", b="s1")
    top = _write(tmp_path / "top.toml", 'include = ["p1.toml", "p2.toml"]\n' + shared + link)
    net = load_network_file(top)
    assert [r.id for r in net.regions] == ["r_shared"]
    assert [s.id for s in net.sites] == ["s1", "s2"]


def test_conflicting_duplicate_between_includes_names_both(tmp_path):
    p1 = _write(tmp_path / "p1.toml", SITE.format(id="s1", gpus=8) + REGION.format(id="r", weight=1))
    p2 = _write(tmp_path / "p2.toml", SITE.format(id="s2", gpus=8) + REGION.format(id="r", weight=2))
    top = _write(tmp_path / "top.toml", 'include = ["p1.toml", "p2.toml"]\n')
    assert _error(top) == f"{top}: include[1]: duplicate id 'r': region[0] of {p2} differs from region[0] of {p1}"


def test_conflicting_duplicate_with_a_builtin_names_both(tmp_path):
    top = _write(tmp_path / "top.toml", 'include = ["edwc"]\n' + REGION.format(id="dr_cn_bth", weight=1))
    message = _error(top)
    assert message == (
        f"{top}: region[0].id: duplicate id 'dr_cn_bth': region[0] of {top} "
        "differs from region[0] of <built-in network 'edwc'>"
    )


def test_same_id_in_another_table_is_a_conflict(tmp_path):
    p1 = _write(tmp_path / "p1.toml", SITE.format(id="x", gpus=8) + REGION.format(id="r1", weight=1))
    p2 = _write(tmp_path / "p2.toml", SITE.format(id="s2", gpus=8) + REGION.format(id="x", weight=1))
    top = _write(tmp_path / "top.toml", 'include = ["p1.toml", "p2.toml"]\n')
    assert _error(top) == f"{top}: include[1]: duplicate id 'x': region[0] of {p2} differs from site[0] of {p1}"


def test_duplicate_inside_one_file_is_still_an_error(tmp_path):
    _write(tmp_path / "p.toml", SITE.format(id="s", gpus=8) + REGION.format(id="r", weight=1))
    top = _write(tmp_path / "top.toml", 'include = ["p.toml"]\n' + SITE.format(id="t", gpus=8) * 2)
    assert _error(top) == f"{top}: site[1].id: duplicate id 't' (already a site)"


def test_own_link_to_unknown_node_names_own_index(tmp_path):
    top = _write(tmp_path / "top.toml", 'include = ["edwc"]\n' + LINK.format(id="L_x", a="cl_wuhu", b="cl_wuhoo"))
    assert _error(top) == f"{top}: link[0].b: 'cl_wuhoo' is not a site or region id (did you mean 'cl_wuhu'?)"


def test_error_inside_an_included_file_names_that_file(tmp_path):
    bad = _write(tmp_path / "bad.toml", SITE.format(id="s", gpus=0) + REGION.format(id="r", weight=1))
    top = _write(tmp_path / "top.toml", 'include = ["bad.toml"]\n')
    assert _error(top) == f"{bad}: site[0].gpus: Input should be greater than 0, got 0"


def test_own_tables_are_validated_with_own_indices(tmp_path):
    top = _write(tmp_path / "top.toml", 'include = ["edwc"]\n' + SITE.format(id="s", gpus=8).replace("gpus", "gpu"))
    assert _error(top) == f"{top}: site[0].gpu: unknown key (did you mean 'gpus'?)"


@pytest.mark.parametrize(
    ("include", "message"),
    [
        ('"edwc"', "include: must be a list of built-in network names or file paths, got 'edwc'"),
        (
            '["edcw"]',
            "include[0]: network 'edcw' is neither a built-in network (did you mean 'edwc'?) "
            "nor a .toml, .json or .graphml file",
        ),
        ('["missing.toml"]', "include[0]: file not found: {dir}/missing.toml"),
    ],
)
def test_bad_include_entries(tmp_path, include, message):
    top = _write(tmp_path / "top.toml", f"include = {include}\n" + SITE.format(id="s", gpus=8))
    assert _error(top) == f"{top}: " + message.format(dir=tmp_path)


def test_included_network_with_other_fibre_speed_is_an_error(tmp_path):
    _write(
        tmp_path / "p.toml", "fibre_us_per_km = 4.0\n" + SITE.format(id="s", gpus=8) + REGION.format(id="r", weight=1)
    )
    top = _write(tmp_path / "top.toml", 'include = ["p.toml"]\n')
    assert _error(top) == (
        f"{top}: include[0]: fibre_us_per_km 4.0 of 'p.toml' differs from this network's 5.0; "
        "set the same value in both"
    )


def test_composition_without_any_site_is_an_error(tmp_path):
    top = _write(tmp_path / "top.toml", "include = []\n" + REGION.format(id="r", weight=1))
    assert _error(top) == f"{top}: site: no [[site]] in this file or the networks it includes"


# -- the project's additions to shared/data (docs/data/additions.toml) ---------------------------

CM_ROW = "china_mobile_ai_eflops"


def _eflops(site) -> float:
    return site.gpus * site.sku_speed * 312 / 1e6


def test_shanxi_is_the_province_figure_at_datong_with_a_measured_link(nets):
    site = next(s for s in nets["national"].sites if s.id == "pv_shanxi_datong")
    # 32 EFLOPS (Xinhua 2025-08-24), the site standing for the whole province: central = high = the figure,
    # low = half (precision not stated); 32,000 P / 0.312 P per A100-equivalent.
    assert (site.gpus_low, site.gpus, site.gpus_high) == (round(16000 / 0.312), round(32000 / 0.312),
                                                          round(32000 / 0.312))
    assert site.zone == "other" and site.region == "Shanxi" and site.kind == "gpu_pool"
    assert site.pue == 1.2 and site.pue_target == 1.3  # Chindata Datong's measured bound; the national target
    assert "installed (2025-08); province-wide" in (site.capacity_method or "")
    assert "mix not published" in site.sku and site.sku_speed == 1.0
    link = next(x for x in nets["national"].links if x.id == "L_bth_shanxi")
    assert {link.a, link.b} == {"dr_cn_bth", "pv_shanxi_datong"}
    assert link.distance_km == pytest.approx(3.0 / 0.005)  # ~3 ms one-way measured, at 5 us/km
    coords = {n.id: (n.lat, n.lon) for n in [*nets["national"].sites, *nets["national"].regions]}
    assert link_route_km(link, coords) == pytest.approx(600.0)


def test_china_mobile_and_hubei_sites_from_the_additions(nets):
    sites = {s.parent or s.id: s for s in nets["national"].sites}
    beijing, wuhan, hubei, guiyang = (sites[i] for i in ("gpu_cm_pool_beijing", "gpu_cm_wuhan", "pv_hubei_wuhan",
                                                          "gpu_cm_guiyang"))
    # Beijing: over 1,000 P on ~4,000 cards replaces the 1,000-card placeholder; high = 4,000 cards at 312 TF.
    assert (beijing.gpus_low, beijing.gpus, beijing.gpus_high) == (round(500 / 0.312), round(1000 / 0.312), 4000)
    assert beijing.zone == "east" and "Changping" in beijing.name
    # Wuhan: 2,000 P (2025-05) instead of the 1,500 P of its opening; its timeline goes 1,500 -> 2,000.
    assert wuhan.gpus == round(2000 / 0.312) and wuhan.gpus_low == round(2000 / 0.312 / 2)
    assert [(str(step.date), step.gpus) for step in wuhan.timeline or ()] == [
        ("2024-01-08", round(1500 / 0.312)), ("2025-06-01", round(2000 / 0.312))]
    # The rest of Hubei: over 10,000 P less China Mobile Wuhan's 2,000 P, at Wuhan, zone other.
    assert (hubei.gpus_low, hubei.gpus, hubei.gpus_high) == (round(4000 / 0.312), round(8000 / 0.312),
                                                             round(8000 / 0.312))
    assert hubei.zone == "other" and (hubei.lat, hubei.lon) == (wuhan.lat, wuhan.lon)
    # Guiyang: ~22,000 cards (60,000 - 18,000 Harbin - 20,000 Hohhot) +- 3,000, zone west, Gui'an's grid.
    assert (guiyang.gpus_low, guiyang.gpus, guiyang.gpus_high) == (19000, 22000, 25000)
    assert guiyang.zone == "west" and guiyang.price_cny_per_kwh == sites["cl_guian"].price_cny_per_kwh


def test_guiyang_is_carved_out_of_guian_so_guizhou_counts_once(nets):
    national = nets["national"]
    guian = [s for s in national.sites if s.parent == "cl_guian"]
    guiyang = next(s for s in national.sites if s.id == "gpu_cm_guiyang")
    # At the high end (Gui'an's bound) Gui'an + Guiyang's central compute is Guizhou's intelligent 83.3 EFLOPS.
    high = sum(s.capacity("high") * s.sku_speed for s in guian) * 312 / 1e6
    assert high + _eflops(guiyang) == pytest.approx(85 * 0.98, abs=0.01)
    # Gui'an's central is half its reduced bound.
    assert sum(_eflops(s) for s in guian) == pytest.approx((85 * 0.98 - 22000 * 312e-6) / 2, abs=0.01)
    # Both sources name the carve-out.
    assert "gpu_cm_guiyang subtracted" in guian[0].source and "carved out" in guian[0].source
    assert "subtracted from cl_guian" in guiyang.source


def test_the_china_mobile_row_covers_every_china_mobile_site(nets):
    from sim.calibration_distance import reference_figures

    row = next(f for f in reference_figures().figure if f.key == CM_ROW)
    cm = {s.parent or s.id for s in nets["national"].sites if s.id.startswith("gpu_cm_")}
    assert set(row.sites) == cm
    assert "gpu_cm_guiyang" in cm and "gpu_cm_pool_beijing" in cm
