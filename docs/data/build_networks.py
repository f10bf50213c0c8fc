"""Maintainer script: regenerate the built-in networks edwc, gpu_clusters, belt_and_road
and national (topology/data/*.toml) from the project's reference data in ../shared/data.

    python docs/data/build_networks.py [OUT_DIR]     # from the repository root

Source strings are copied verbatim from shared/data; every clause of a record's `source`
starts with one of the five prefixes. Not part of the package, not linted (a one-off
data tool kept so the derivations can be re-run and reviewed); the generated TOML is
what is tested (tests/topology/test_builtin_networks.py)."""
import json, math, sys, tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from topology.geo import great_circle_km

D = REPO.parent / "shared" / "data"
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "topology" / "data")
E = tomllib.loads((D / "edwc.toml").read_text())
G = tomllib.loads((D / "gpu_clusters.toml").read_text())
B = tomllib.loads((D / "belt_and_road.toml").read_text())
L = tomllib.loads((D / "links.toml").read_text())
R = tomllib.loads((D / "demand_regions.toml").read_text())

def by_id(rows): return {r["id"]: r for r in rows}
HUB, CL = by_id(E["hub"]), by_id(E["cluster"])
POL, NAT = by_id(E["policy_target"]), by_id(E["national_figure"])
SKU, GC = by_id(G["gpu_sku"]), by_id(G["gpu_cluster"])
POOL, GW, IND = by_id(B["pool"]), by_id(B["gateway"]), by_id(B["regional_indicator"])
LINK, BW = by_id(L["link"]), by_id(L["bandwidth_class"])
REG = by_id(R["region"])
CMPOOL = by_id(GC["gpu_cm_pools_1000"]["pool"])

PREFIXES = ("seed ", "url: ", "public knowledge", "estimate: ", "derived: ")
NOT_PUBLISHED = "not a published GPU count"
def clause(src, what, ref=None):
    assert src.startswith(PREFIXES), src
    if what.startswith("gpus = ") and src.startswith(("derived: ", "estimate: ")) and NOT_PUBLISHED not in src:
        src += "; " + NOT_PUBLISHED
    return f"{src} => {what}" + (f" [{ref}]" if ref else "")
def join(*cl): return " | ".join(cl)

def fmt(n): return f"{n:,}"

A100 = SKU["nvidia_a100_sxm4_80gb"]
A100_TF = A100["peak_fp16_tflops_dense"]          # 312
A100_W = A100["board_power_w"]                    # 400
IDLE_FRAC = 0.15
def a100_eq(pflops): return round(pflops * 1000 / A100_TF)

A100_POWER = clause(A100["peak_source"],
    f"gpu_busy_w = {A100_W} (A100 SXM4 board power; applied to one A100-equivalent of a fleet whose models are not published, an estimate)",
    "gpu_clusters.toml gpu_sku nvidia_a100_sxm4_80gb.board_power_w")
def idle_clause(busy):
    return clause(f"estimate: gpu_idle_w = {IDLE_FRAC:.0%} of board power ({busy * IDLE_FRAC:g} W of {busy:g} W), the idle share cpnsim's default network uses for the A100 (60 of 400 W; A100 idle draw is typically 50-70 W); not a published figure",
                  f"gpu_idle_w = {busy * IDLE_FRAC:g}")
SKU_A100EQ = clause(f"derived: sku_speed = 1.0 by construction: capacity is counted in A100-equivalents of {A100_TF} TFLOPS dense FP16 (A100 SXM4, gpu_clusters.toml); the published figures do not name the accelerator models",
                    "sku = A100-equivalent, sku_speed = 1.0")

def toml_str(s): return json.dumps(s, ensure_ascii=False)
def toml_val(v):
    if isinstance(v, str): return toml_str(v)
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, int): return str(v)
    if isinstance(v, float): return repr(v)
    if isinstance(v, list): return "[" + ", ".join(toml_val(x) for x in v) + "]"
    raise TypeError(v)
def long_str(s, sep):
    """A TOML multi-line basic string whose value is s: one line per sep-separated part, joined
    by line-ending backslashes (TOML trims the newline and the next line's leading whitespace)."""
    parts = s.split(sep)
    body = (sep.rstrip() + " \\\n").join(json.dumps(p, ensure_ascii=False)[1:-1] for p in parts)
    return '"""\\\n' + body + '"""'
def table(name, rec, comment=None):
    lines = [f"# {c}" for c in (comment or [])] + [f"[[{name}]]"]
    for k, v in rec.items():
        if v is None: continue
        lines.append(f"{k} = {long_str(v, ' | ') if k == 'source' else toml_val(v)}")
    return "\n".join(lines) + "\n"

# ------------------------------------------------------------------ regions
def region(rid):
    r = REG[rid]
    loc = clause(r["location_source"], f"lat = {r['lat']}, lon = {r['lon']} (representative city {r['rep_city']})",
                 f"demand_regions.toml {rid}.location_source")
    pop = clause(r["population_source"], f"demand_weight = {r['population_m']} = population in millions ({r['population_year']})",
                 f"demand_regions.toml {rid}.population_source")
    return dict(id=rid, name=r["name_en"], lat=r["lat"], lon=r["lon"], demand_weight=r["population_m"], source=join(loc, pop))

def gateway(gid):
    g = GW[gid]
    return dict(id=gid, name=g["name_en"] + " (gateway, transit only)", lat=g["lat"], lon=g["lon"], demand_weight=0.0,
                source=join(
                    clause(g["location_source"], f"lat = {g['lat']}, lon = {g['lon']}", f"belt_and_road.toml gateway {gid}.location_source"),
                    clause("estimate: demand_weight = 0 by construction: a gateway is modelled as a transit region (the network schema has only sites and regions as nodes), so it originates no jobs", "demand_weight = 0"),
                    clause(g["role_source"], f"role: {g['role']}", f"belt_and_road.toml gateway {gid}.role_source")))

# ------------------------------------------------------------------ links
# links.toml endpoints that are not nodes of these networks, and the node used instead
ENDPOINT = {
    "hub_bth": "dr_cn_bth", "hub_yrd": "dr_cn_yrd", "hub_gba": "dr_cn_guangdong", "hub_chengyu": "dr_cn_chengyu",
    "br_kg": "dr_kg", "br_tj": "dr_tj",
}
ENDPOINT_WHY = {
    "hub_bth": "east-hub coordinates are the metro core that generates demand (edwc.toml), the same point as demand region dr_cn_bth",
    "hub_yrd": "east-hub coordinates are the metro core that generates demand (edwc.toml), the same point as demand region dr_cn_yrd",
    "hub_gba": "east-hub coordinates are the metro core that generates demand (edwc.toml), the same point as demand region dr_cn_guangdong",
    "hub_chengyu": "east-hub coordinates are the metro core that generates demand (edwc.toml), the same point as demand region dr_cn_chengyu",
    "br_kg": "br_kg has no published compute capacity, so it is not a site; its point (Bishkek) is that of demand region dr_kg",
    "br_tj": "br_tj has no published compute capacity, so it is not a site; its point (Dushanbe) is that of demand region dr_tj",
}
NOMINAL_KM = 20.0

def coords_of(nid, nodes): return nodes[nid]

def links_toml(lid, nodes):
    l = LINK[lid]
    a, b = ENDPOINT.get(l["a"], l["a"]), ENDPOINT.get(l["b"], l["b"])
    bw = BW[l["bandwidth_class"]]
    notes = [f"{l[e]} modelled as {ENDPOINT[l[e]]}: {ENDPOINT_WHY[l[e]]}" for e in ("a", "b") if l[e] in ENDPOINT]
    rec = dict(id=lid, a=a, b=b)
    gc = great_circle_km(*nodes[a], *nodes[b])
    if l["route_source"].startswith("url:"):
        rec["distance_km"] = float(l["route_km"])
        what = f"distance_km = {l['route_km']} (published route length)"
    elif l["route_factor"] == 1.0:  # nominal intra-city link between co-located nodes
        rec["distance_km"] = float(l["route_km"])
        what = f"distance_km = {l['route_km']} (nominal; the endpoints share one coordinate)"
    else:
        assert l["route_factor"] == 1.5
        assert abs(gc - l["great_circle_km"]) <= max(2.0, 0.01 * l["great_circle_km"]), (lid, gc, l["great_circle_km"])
        what = f"route = great circle x 1.5 ({gc:.0f} km x 1.5 = {gc * 1.5:.0f} km; distance_km unset, route_factor 1.5)"
    if notes:
        what += "; " + "; ".join(notes)
    what += "; hop_ms = 0 (propagation only, as links.toml's latency estimates)"
    rec["bandwidth_gbps"] = float(bw["default_gbps"])
    rec["source"] = join(
        clause(l["route_source"], what, f"links.toml link {lid}.route_source"),
        clause(bw["source"], f"bandwidth_gbps = {bw['default_gbps']} (default of bandwidth class {bw['id']})",
               f"links.toml bandwidth_class {bw['id']}"))
    return rec

def access(lid, a, b, nodes, why, bw_class="metro_dci"):
    gc = great_circle_km(*nodes[a], *nodes[b])
    bw = BW[bw_class]
    rec = dict(id=lid, a=a, b=b)
    if gc < 1.0:
        rec["distance_km"] = NOMINAL_KM
        route = clause(f"estimate: nominal {NOMINAL_KM:g} km metro link: the endpoints share one coordinate; the same nominal length links.toml uses for co-located gateways and pools (X_singapore_sg_pool, X_karachi_pk_pool); no published route",
                       f"distance_km = {NOMINAL_KM:g}; {why}")
    else:
        route = clause(f"estimate: great circle x 1.5 ({gc:.0f} km x 1.5 = {gc * 1.5:.0f} km), the default route factor of links.toml's latency_model; no published route",
                       f"distance_km unset, route_factor 1.5; {why}")
    rec["bandwidth_gbps"] = float(bw["default_gbps"])
    rec["source"] = join(route, clause(bw["source"], f"bandwidth_gbps = {bw['default_gbps']} (default of bandwidth class {bw_class})",
                                       f"links.toml bandwidth_class {bw_class}"))
    return rec

MEE = "MEE & NBS 2023 provincial factor"
def carbon_clause(rec, rid, file):
    return clause(rec["carbon_source"], f"carbon_kg_per_kwh = {rec['carbon_kg_per_kwh']} ({rec['carbon_year']})",
                  f"{file} {rid}.carbon_source")
def price_clause(rec, rid, file):
    return clause(rec["price_source"], f"price_cny_per_kwh = {rec['price_cny_per_kwh']} ({rec['price_year']})",
                  f"{file} {rid}.price_source")
def loc_clause(rec, rid, file):
    return clause(rec["location_source"], f"lat = {rec['lat']}, lon = {rec['lon']}", f"{file} {rid}.location_source")
NO_RENEW = "estimate: renewable_frac = 0 (schema default): shared/data has no share of this site's own energy bought as green power; the grid mix is already inside carbon_kg_per_kwh"

# ------------------------------------------------------------------ edwc
def cap(cid, metric, value=None):
    rows = [c for c in CL[cid].get("capacity", []) if c["metric"] == metric and (value is None or c["value"] == value)]
    assert len(rows) == 1, (cid, metric, rows)
    return rows[0]
def cap_clause(cid, c, use):
    return clause(c["source"], f"{use}: {c['metric']} = {fmt(c['value'])} {c['unit']} (as of {c['as_of']})",
                  f"edwc.toml {cid}.capacity {c['metric']}")

edwc_sites = []
def edwc_site(cid, gpus, gpu_clauses, renew=None, renew_clause=None):
    c = CL[cid]
    if "pue_reported" in c:
        pue = c["pue_reported"]
        pue_cl = clause(c["pue_reported_source"], f"pue = {pue}, reported ({c['pue_reported_year']}); preferred to the target {c['pue_target_max']}",
                        f"edwc.toml {cid}.pue_reported_source")
    else:
        pue = c["pue_target_max"]
        pue_cl = clause(c["pue_target_source"], f"pue = {pue}, the policy target (no reported PUE in shared/data)",
                        f"edwc.toml {cid}.pue_target_source")
    rec = dict(id=cid, name=f"{c['name_en']} ({c['province']})", kind="cluster", region=c["role"], lat=c["lat"], lon=c["lon"],
               gpus=gpus, sku="A100-equivalent", sku_speed=1.0, gpu_busy_w=float(A100_W), gpu_idle_w=A100_W * IDLE_FRAC,
               pue=pue, price_cny_per_kwh=c["price_cny_per_kwh"], carbon_kg_per_kwh=c["carbon_kg_per_kwh"],
               renewable_frac=renew)
    rec["source"] = join(*gpu_clauses, SKU_A100EQ, A100_POWER, idle_clause(A100_W), loc_clause(c, cid, "edwc.toml"), pue_cl,
                         price_clause(c, cid, "edwc.toml"), carbon_clause(c, cid, "edwc.toml"), renew_clause or clause(NO_RENEW, "renewable_frac = 0"))
    edwc_sites.append(rec)
    return rec

P_NOTE = "precision not stated, taken as dense FP16"
def pflops_derived(cid, c, pflops, prefix, extra):
    n = a100_eq(pflops)
    return n, [clause(f"{prefix}: gpus = {fmt(pflops)} PFLOPS ({P_NOTE}) / {A100_TF / 1000} PFLOPS per A100-equivalent (A100 SXM4 dense FP16 peak, gpu_clusters.toml) = {fmt(n)} A100-equivalents; {extra}; not a published GPU count", f"gpus = {n}"),
                   cap_clause(cid, c, "input to gpus")]

# Zhangjiakou
c = cap("cl_zhangjiakou", "compute_intelligent_pflops")
n, gc_ = pflops_derived("cl_zhangjiakou", c, c["value"], "derived", "intelligent (AI) computing only; the 17,500 P general-purpose figure is not added (different precision)")
zj = CL["cl_zhangjiakou"]
edwc_site("cl_zhangjiakou", n, gc_, zj["renewable_share_frac"],
          clause(zj["renewable_share_source"], f"renewable_frac = {zj['renewable_share_frac']}: {zj['renewable_share_scope']} ({zj['renewable_share_year']}); green power bought by the data centres, on top of the Hebei grid factor (which ignores green-power contracts)", "edwc.toml cl_zhangjiakou.renewable_share_source"))
# YRD demo zone: no capacity
n = 1000
edwc_site("cl_yrd_demo", n, [clause(f"estimate: gpus = {fmt(n)} A100-equivalents, a placeholder: no public capacity figure was found for this cluster (edwc.toml capacity_note); sized at the 1,000-GPU pool class of seed 000 (China Mobile's 1,000-GPU pool in Shanghai, ~58 km away)", f"gpus = {n}")])
# Wuhu
c = cap("cl_wuhu", "platform_intelligent_pflops")
n, gc_ = pflops_derived("cl_wuhu", c, c["value"], "derived", "the platform aggregates 34 data centres, some outside Wuhu, so this is an upper bound for the cluster")
edwc_site("cl_wuhu", n, gc_)
# Shaoguan: energy
c = cap("cl_shaoguan", "dc_electricity_twh")
pue_sg = CL["cl_shaoguan"]["pue_target_max"]
kw_fac = c["value"] * 1e9 / 8760
kw_it = kw_fac / pue_sg
n = round(kw_it / (A100_W / 1000))
sg = CL["cl_shaoguan"]
edwc_site("cl_shaoguan", n, [clause(f"estimate: gpus = {c['value']} TWh/year (2025 consumption of six data centres, a lower bound) / 8,760 h = {kw_fac / 1000:.1f} MW facility power / PUE {pue_sg} = {kw_it / 1000:.1f} MW IT / {A100_W} W per A100-equivalent = {fmt(n)}; assumes all IT energy went to A100-class GPUs at board power; the 500,000-rack figure is a plan and is not used", f"gpus = {n}"),
                                     cap_clause("cl_shaoguan", c, "input to gpus")],
          None, clause(sg["renewable_share_source"], f"renewable_frac = 0 (not applied): the {sg['renewable_share_frac']} is the {sg['renewable_share_scope']}; that grid mix is already inside the Guangdong carbon factor, so applying it as the site's carbon-free share would count it twice", "edwc.toml cl_shaoguan.renewable_share_source"))
# Tianfu: provincial target
c = cap("cl_tianfu", "province_compute_target_pflops")
n, gc_ = pflops_derived("cl_tianfu", c, c["value"], "estimate", "Sichuan's province-wide 2027 target for all computing, taken as the cluster's capacity: an upper bound, not current capacity")
tf = CL["cl_tianfu"]
edwc_site("cl_tianfu", n, gc_, None, clause(tf["renewable_share_source"], f"renewable_frac = 0 (not applied): the {tf['renewable_share_frac']} is the {tf['renewable_share_scope']}; that grid mix is already inside the Sichuan carbon factor ({tf['carbon_kg_per_kwh']}), so applying it again would count it twice", "edwc.toml cl_tianfu.renewable_share_source"))
# Chongqing: racks x national intelligent density
c = cap("cl_chongqing", "racks_in_use")
nat_ef = NAT["cn_intelligent_compute_eflops_2025h1"]; nat_racks = NAT["cn_racks_standard_2025h1"]
per_rack_tf = nat_ef["value"] * 1e6 / nat_racks["value"]
n = round(c["value"] * per_rack_tf / A100_TF)
edwc_site("cl_chongqing", n, [clause(f"estimate: gpus = {fmt(c['value'])} racks (city-wide, 2020) x {per_rack_tf:.1f} TFLOPS FP16 of intelligent computing per rack (national mean, mid-2025: {nat_ef['value']} EFLOPS / {nat_racks['value'] / 1e6:g} M racks) / {A100_TF} TFLOPS per A100-equivalent = {fmt(n)}; mixes a 2020 rack count with a 2025 national density", f"gpus = {n}"),
                                      cap_clause("cl_chongqing", c, "input to gpus"),
                                      clause(nat_ef["source"], f"input to gpus: {nat_ef['value']} {nat_ef['unit']}", "edwc.toml national_figure cn_intelligent_compute_eflops_2025h1"),
                                      clause(nat_racks["source"], f"input to gpus: {fmt(nat_racks['value'])} {nat_racks['unit']}", "edwc.toml national_figure cn_racks_standard_2025h1")])
# Horinger: Inner Mongolia intelligent minus Hohhot
c = cap("cl_horinger", "compute_total_pflops")
hoh = GC["gpu_cm_hohhot"]
intel = 116000
assert "116,000 P" in c["unit"]
hoh_p = round(hoh["peak_eflops"] * 1000)
n = a100_eq(intel - hoh_p)
hr = CL["cl_horinger"]
edwc_site("cl_horinger", n, [clause(f"estimate: gpus = ({fmt(intel)} P intelligent computing of all Inner Mongolia - {fmt(hoh_p)} P of China Mobile's Hohhot centre, which sits inside this cluster and is modelled as gpu_cm_hohhot in the gpu_clusters network) / {A100_TF / 1000} PFLOPS per A100-equivalent = {fmt(n)} ({P_NOTE}); a province-wide figure taken as the cluster's, so an upper bound; the 150,000 racks of Horinger New Area are not used", f"gpus = {n}"),
                                     cap_clause("cl_horinger", c, "input to gpus"),
                                     clause(hoh["peak_eflops_source"], f"input to gpus: Hohhot centre {hoh['peak_eflops']} EFLOPS, subtracted", "gpu_clusters.toml gpu_cm_hohhot.peak_eflops_source")],
          hr["renewable_share_frac"], clause(hr["renewable_share_source"], f"renewable_frac = {hr['renewable_share_frac']}: {hr['renewable_share_scope']} ({hr['renewable_share_year']}), on top of the provincial grid factor", "edwc.toml cl_horinger.renewable_share_source"))
# Gui'an: Guizhou 85 EFLOPS x 0.98 intelligent
c = cap("cl_guian", "province_compute_eflops")
intel_p = c["value"] * 1000 * 0.98
n = a100_eq(intel_p)
edwc_site("cl_guian", n, [clause(f"estimate: gpus = {c['value']} EFLOPS (all Guizhou) x 0.98 intelligent share ('over 98%') = {fmt(round(intel_p))} PFLOPS ({P_NOTE}) / {A100_TF / 1000} PFLOPS per A100-equivalent = {fmt(n)}; a province-wide figure taken as the cluster's, so an upper bound", f"gpus = {n}"),
                                  cap_clause("cl_guian", c, "input to gpus")])
# Qingyang
c = cap("cl_qingyang", "compute_intelligent_pflops", 100000)
n, gc_ = pflops_derived("cl_qingyang", c, c["value"], "derived", "the end-2025 lower bound; the 51,000 P of end-2024 is not added")
edwc_site("cl_qingyang", n, gc_)
# Zhongwei
c = cap("cl_zhongwei", "compute_total_pflops")
n, gc_ = pflops_derived("cl_zhongwei", c, c["value"], "derived", "the figure is total computing (its intelligent share is not published), so an upper bound for AI capacity; the 820,000-rack project is a plan and is not used")
edwc_site("cl_zhongwei", n, gc_)
assert [s["id"] for s in edwc_sites] == [c["id"] for c in E["cluster"]]  # file order of edwc.toml

EAST_REGIONS = ["dr_cn_bth", "dr_cn_yrd", "dr_cn_guangdong", "dr_cn_chengyu"]
for rid in EAST_REGIONS:
    assert HUB[REG[rid]["served_by_hub"]]["role"] == "east"
    h = HUB[REG[rid]["served_by_hub"]]
    assert (h["lat"], h["lon"]) == (REG[rid]["lat"], REG[rid]["lon"]), rid

def nodes_of(sites, regions): return {x["id"]: (x["lat"], x["lon"]) for x in [*sites, *regions]}

edwc_regions = [region(r) for r in EAST_REGIONS]
edwc_nodes = nodes_of(edwc_sites, edwc_regions)
EDWC_L = ["L_bth_zhangjiakou", "L_bth_horinger", "L_bth_zhongwei", "L_bth_qingyang", "L_bth_guian",
          "L_yrd_demo", "L_yrd_wuhu", "L_yrd_qingyang", "L_yrd_guian", "L_yrd_zhongwei", "L_gba_shaoguan", "L_gba_guian",
          "L_tianfu_chongqing", "L_chongqing_guian", "L_tianfu_guian", "L_qingyang_zhongwei", "L_horinger_zhangjiakou",
          "L_bth_yrd", "L_yrd_gba", "L_bth_gba", "L_gba_chengyu", "L_bth_chengyu"]
edwc_links = [links_toml(l, edwc_nodes) for l in EDWC_L]
edwc_links.append(access("A_chengyu_tianfu", "dr_cn_chengyu", "cl_tianfu", edwc_nodes,
                         "access link added so the Chengdu-Chongqing region reaches a cluster (links.toml has only hub-to-hub links for hub_chengyu); Chengdu is the point of both the region and cl_tianfu"))

# ------------------------------------------------------------------ gpu_clusters
gpu_sites = []
NAT_PUE = POL["hub_pue_2025"]
def pue_national(why):
    return 1.3, clause(NAT_PUE["source"], f"pue = 1.3, the 2025 national target for new large data centres ({why}; no reported PUE in shared/data)", "edwc.toml policy_target hub_pue_2025")
def pue_hub(why):
    return NAT_PUE["value"], clause(NAT_PUE["source"], f"pue = {NAT_PUE['value']}, the 2025 target for hub nodes ({why}; no reported PUE in shared/data)", "edwc.toml policy_target hub_pue_2025")
def price_est(value, method):
    return value, clause(f"estimate: price_cny_per_kwh = {value}: not in shared/data; {method}; not a published tariff", f"price_cny_per_kwh = {value}")
MID_PRICE = lambda: price_est(0.55, "set between the western DC tariffs (0.35-0.40) and the eastern metro level (0.65), as edwc.toml estimates cl_chongqing")

# Harbin
h = GC["gpu_cm_harbin"]
speed = round(h["per_card_tflops_fp16_implied"] / A100_TF, 3)
asc = SKU["huawei_ascend_910"]
busy = float(asc["board_power_w"])
pue, pue_cl = pue_national("Harbin lies outside the eight hubs")
price, price_cl = MID_PRICE()
gpu_sites.append(dict(id="gpu_cm_harbin", name=h["name_en"], kind="gpu_pool", region=h["province"], lat=h["lat"], lon=h["lon"],
    gpus=h["gpu_count"], sku="domestic AI accelerator (model not named)", sku_speed=speed, gpu_busy_w=busy, gpu_idle_w=busy * IDLE_FRAC,
    pue=pue, price_cny_per_kwh=price, carbon_kg_per_kwh=h["carbon_kg_per_kwh"],
    source=join(clause(h["gpu_count_source"], f"gpus = {h['gpu_count']} (published card count)", "gpu_clusters.toml gpu_cm_harbin.gpu_count_source"),
                clause(f"derived: sku_speed = {h['per_card_tflops_fp16_implied']} TFLOPS FP16 per card / {A100_TF} TFLOPS (A100 dense FP16) = {speed}; whether the 6.93 EFLOPS is dense is not stated", f"sku_speed = {speed}"),
                clause(h["per_card_tflops_fp16_implied_source"], f"input to sku_speed: {h['per_card_tflops_fp16_implied']} TFLOPS FP16 per card", "gpu_clusters.toml gpu_cm_harbin.per_card_tflops_fp16_implied_source"),
                clause(h["peak_eflops_fp16_source"], f"input to sku_speed: {h['peak_eflops_fp16']} EFLOPS FP16", "gpu_clusters.toml gpu_cm_harbin.peak_eflops_fp16_source"),
                clause(h["gpu_sku_class_source"], f"sku: {h['gpu_sku_class']}", "gpu_clusters.toml gpu_cm_harbin.gpu_sku_class_source"),
                clause(f"estimate: gpu_busy_w = {busy:g} W, the published maximum power of Huawei's Ascend 910 (the only domestic accelerator with a board power in gpu_clusters.toml) used as a proxy: Harbin's chip model is not named", f"gpu_busy_w = {busy:g}"),
                clause(asc["peak_source"], f"input to gpu_busy_w: Ascend 910 maximum {asc['board_power_w']} W", "gpu_clusters.toml gpu_sku huawei_ascend_910.peak_source"),
                idle_clause(busy), loc_clause(h, "gpu_cm_harbin", "gpu_clusters.toml"), pue_cl, price_cl,
                carbon_clause(h, "gpu_cm_harbin", "gpu_clusters.toml"), clause(NO_RENEW, "renewable_frac = 0"))))
# Hohhot
n = a100_eq(hoh["peak_eflops"] * 1000)
assert n >= hoh["gpu_count_min"]
gpu_sites.append(dict(id="gpu_cm_hohhot", name=hoh["name_en"], kind="gpu_pool", region=hoh["province"], lat=hoh["lat"], lon=hoh["lon"],
    gpus=n, sku="A100-equivalent (mixed fleet, models not named)", sku_speed=1.0, gpu_busy_w=float(A100_W), gpu_idle_w=A100_W * IDLE_FRAC,
    pue=hoh["pue_reported"], price_cny_per_kwh=hr["price_cny_per_kwh"], carbon_kg_per_kwh=hoh["carbon_kg_per_kwh"], renewable_frac=hr["renewable_share_frac"],
    source=join(clause(f"derived: gpus = {fmt(round(hoh['peak_eflops'] * 1000))} PFLOPS (precision not stated; FP16 assumed by analogy with Harbin, as gpu_clusters.toml does) / {A100_TF / 1000} PFLOPS per A100-equivalent = {fmt(n)} A100-equivalents, consistent with the published '10,000+ GPUs'", f"gpus = {n}"),
                clause(hoh["peak_eflops_source"], f"input to gpus: {hoh['peak_eflops']} EFLOPS", "gpu_clusters.toml gpu_cm_hohhot.peak_eflops_source"),
                clause(hoh["gpu_count_min_source"], f"check on gpus: at least {fmt(hoh['gpu_count_min'])} GPUs", "gpu_clusters.toml gpu_cm_hohhot.gpu_count_min_source"),
                SKU_A100EQ, A100_POWER, idle_clause(A100_W), loc_clause(hoh, "gpu_cm_hohhot", "gpu_clusters.toml"),
                clause(hoh["pue_reported_source"], f"pue = {hoh['pue_reported']}, reported for building B07 (one building; 'as low as')", "gpu_clusters.toml gpu_cm_hohhot.pue_reported_source"),
                clause(hr["price_source"], f"price_cny_per_kwh = {hr['price_cny_per_kwh']} ({hr['price_year']}, Inner Mongolia; the Hohhot centre sits inside cl_horinger)", "edwc.toml cl_horinger.price_source"),
                carbon_clause(hoh, "gpu_cm_hohhot", "gpu_clusters.toml"),
                clause(hr["renewable_share_source"], f"renewable_frac = {hr['renewable_share_frac']}: {hr['renewable_share_scope']}, applied to this centre inside the cluster", "edwc.toml cl_horinger.renewable_share_source"))))
# Named 1,000-GPU pools
pools = GC["gpu_cm_pools_1000"]
for pid, hub_id in [("gpu_cm_pool_beijing", "hub_bth"), ("gpu_cm_pool_shanghai", "hub_yrd"), ("gpu_cm_pool_guangzhou", "hub_gba")]:
    p, hb = CMPOOL[pid], HUB[hub_id]
    assert p["edwc_hub"] == hub_id
    pue, pue_cl = pue_hub(f"the pool is in the {hb['name_en']}")
    gpu_sites.append(dict(id=pid, name=f"China Mobile 1,000-GPU pool ({p['city']})", kind="gpu_pool", region=p["city"], lat=p["lat"], lon=p["lon"],
        gpus=1000, sku="A100-equivalent (model not published)", sku_speed=1.0, gpu_busy_w=float(A100_W), gpu_idle_w=A100_W * IDLE_FRAC,
        pue=pue, price_cny_per_kwh=hb["price_cny_per_kwh"], carbon_kg_per_kwh=hb["carbon_kg_per_kwh"],
        source=join(clause("estimate: gpus = 1,000, the pool class of seed 000 ('twelve 1,000-GPU resource pools') taken as this pool's size; exact sizes are not published, so the class is a lower bound", "gpus = 1000"),
                    clause(pools["gpu_count_per_pool_min_source"], "input to gpus: 1,000-GPU class", "gpu_clusters.toml gpu_cm_pools_1000.gpu_count_per_pool_min_source"),
                    clause(pools["named_cities_source"], f"the pool exists: {p['city']} is one of the three named cities", "gpu_clusters.toml gpu_cm_pools_1000.named_cities_source"),
                    clause("estimate: sku_speed = 1.0: the accelerator model is not published; counted as A100-equivalents", "sku = A100-equivalent, sku_speed = 1.0"),
                    A100_POWER, idle_clause(A100_W), loc_clause(p, pid, "gpu_clusters.toml"), pue_cl,
                    clause(hb["price_source"], f"price_cny_per_kwh = {hb['price_cny_per_kwh']} ({hb['price_year']}, {hub_id})", f"edwc.toml {hub_id}.price_source"),
                    clause(hb["carbon_source"], f"carbon_kg_per_kwh = {hb['carbon_kg_per_kwh']} ({hb['carbon_year']}, {hub_id})", f"edwc.toml {hub_id}.carbon_source"),
                    clause(NO_RENEW, "renewable_frac = 0"))))
# Wuhan
w = GC["gpu_cm_wuhan"]
n = a100_eq(w["peak_pflops"])
pue, pue_cl = pue_national("Wuhan lies outside the eight hubs")
price, price_cl = MID_PRICE()
gpu_sites.append(dict(id="gpu_cm_wuhan", name=w["name_en"], kind="gpu_pool", region=w["province"], lat=w["lat"], lon=w["lon"],
    gpus=n, sku="A100-equivalent (models not named)", sku_speed=1.0, gpu_busy_w=float(A100_W), gpu_idle_w=A100_W * IDLE_FRAC,
    pue=pue, price_cny_per_kwh=price, carbon_kg_per_kwh=w["carbon_kg_per_kwh"],
    source=join(clause(f"derived: gpus = {fmt(w['peak_pflops'])} PFLOPS built ({P_NOTE}) / {A100_TF / 1000} PFLOPS per A100-equivalent = {fmt(n)}; the planned {fmt(w['peak_pflops_planned'])} PFLOPS is not used; not a published GPU count", f"gpus = {n}"),
                clause(w["peak_pflops_source"], f"input to gpus: {fmt(w['peak_pflops'])} PFLOPS built", "gpu_clusters.toml gpu_cm_wuhan.peak_pflops_source"),
                SKU_A100EQ, A100_POWER, idle_clause(A100_W), loc_clause(w, "gpu_cm_wuhan", "gpu_clusters.toml"), pue_cl, price_cl,
                carbon_clause(w, "gpu_cm_wuhan", "gpu_clusters.toml"), clause(NO_RENEW, "renewable_frac = 0"))))
# Nanjing
nj = GC["gpu_cm_nanjing"]
n = a100_eq(nj["peak_eflops_general_plus_intelligent"] * 1000)
pue, pue_cl = pue_hub("Nanjing is in the Yangtze River Delta hub's provinces, though not in a designated cluster")
hy = HUB["hub_yrd"]
gpu_sites.append(dict(id="gpu_cm_nanjing", name=nj["name_en"], kind="gpu_pool", region=nj["province"], lat=nj["lat"], lon=nj["lon"],
    gpus=n, sku="A100-equivalent (models not named)", sku_speed=1.0, gpu_busy_w=float(A100_W), gpu_idle_w=A100_W * IDLE_FRAC,
    pue=pue, price_cny_per_kwh=hy["price_cny_per_kwh"], carbon_kg_per_kwh=nj["carbon_kg_per_kwh"],
    source=join(clause(f"derived: gpus = {nj['peak_eflops_general_plus_intelligent']} EFLOPS general plus intelligent computing, all taken as dense FP16 AI compute (the split is not published) / {A100_TF} TFLOPS per A100-equivalent = {fmt(n)}: an upper bound; not a published GPU count", f"gpus = {n}"),
                clause(nj["capacity_source"], f"input to gpus: {nj['peak_eflops_general_plus_intelligent']} EFLOPS", "gpu_clusters.toml gpu_cm_nanjing.capacity_source"),
                SKU_A100EQ, A100_POWER, idle_clause(A100_W), loc_clause(nj, "gpu_cm_nanjing", "gpu_clusters.toml"), pue_cl,
                clause(hy["price_source"], f"price_cny_per_kwh = {hy['price_cny_per_kwh']} ({hy['price_year']}, hub_yrd)", "edwc.toml hub_yrd.price_source"),
                carbon_clause(nj, "gpu_cm_nanjing", "gpu_clusters.toml"), clause(NO_RENEW, "renewable_frac = 0"))))

GPU_REGIONS = ["dr_cn_bth", "dr_cn_yrd", "dr_cn_guangdong", "dr_cn_central", "dr_cn_northeast", "dr_cn_northwest"]
gpu_regions = [region(r) for r in GPU_REGIONS]
gpu_nodes = nodes_of(gpu_sites, gpu_regions)
gpu_links = [links_toml(l, gpu_nodes) for l in ["L_bth_harbin", "L_bth_yrd", "L_yrd_gba", "L_bth_gba"]]
gpu_links += [
    access("A_bth_cm_pool_beijing", "dr_cn_bth", "gpu_cm_pool_beijing", gpu_nodes, "access link from the Beijing-Tianjin-Hebei region to the Beijing pool"),
    access("A_yrd_cm_pool_shanghai", "dr_cn_yrd", "gpu_cm_pool_shanghai", gpu_nodes, "access link from the Yangtze River Delta region to the Shanghai pool"),
    access("A_yrd_cm_nanjing", "dr_cn_yrd", "gpu_cm_nanjing", gpu_nodes, "access link from the Yangtze River Delta region (Shanghai) to the Nanjing centre", "backbone_400g"),
    access("A_guangdong_cm_pool_guangzhou", "dr_cn_guangdong", "gpu_cm_pool_guangzhou", gpu_nodes, "access link from the Guangdong region to the Guangzhou pool"),
    access("A_central_cm_wuhan", "dr_cn_central", "gpu_cm_wuhan", gpu_nodes, "access link from the Central China region (Wuhan) to the Wuhan centre"),
    access("A_northeast_cm_harbin", "dr_cn_northeast", "gpu_cm_harbin", gpu_nodes, "access link from the Northeast region (Shenyang) to the Harbin centre", "backbone_400g"),
    access("A_northwest_cm_hohhot", "dr_cn_northwest", "gpu_cm_hohhot", gpu_nodes, "access link from the Northwest region (Xi'an) to the Hohhot centre", "backbone_400g"),
    access("A_bth_cm_hohhot", "dr_cn_bth", "gpu_cm_hohhot", gpu_nodes, "backbone link added so the network is connected (same end points as links.toml's L_bth_horinger, whose cluster contains the Hohhot centre)", "backbone_400g"),
    access("A_cm_wuhan_nanjing", "gpu_cm_wuhan", "gpu_cm_nanjing", gpu_nodes, "backbone link added so the network is connected (both are China Mobile regional centres)", "backbone_400g"),
]

# ------------------------------------------------------------------ belt_and_road
br_sites = []
PRC = POOL["br_xj_changji"]
W_TARIFF = price_est(0.40, "the upper end of the published western DC tariffs in edwc.toml (Gui'an 0.35, Zhongwei 0.36, Horinger 0.38, Qingyang ~0.40)")
FOREIGN_PRICE = price_est(0.50, "no tariff for this country in shared/data; a neutral placeholder (cpnsim's schema default, between the western Chinese DC tariffs 0.35-0.40 and the eastern metro level 0.65)")
RES_NOTE = "residency: the data's note (lower confidence: a public-knowledge summary of law, orientation not legal advice; shared/data/README lists every data-residency note as lower confidence)"
def residency_clause(p, pid, extra=""):
    return clause(p["data_residency_source"], RES_NOTE + extra, f"belt_and_road.toml {pid}.data_residency_source")

for pid in ["br_xj_changji", "br_xj_hami_yiwu"]:
    p = POOL[pid]
    n = a100_eq(p["compute_pflops"])
    pue, pue_cl = pue_national("Xinjiang is outside the eight hubs")
    if pid == "br_xj_changji":
        gcl = [clause(f"derived: gpus = {fmt(p['compute_pflops'])} PFLOPS ({P_NOTE}) / {A100_TF / 1000} PFLOPS per A100-equivalent = {fmt(n)}; the China-Central Asia computing community's 2000 P is the same capacity and is modelled once, here (belt_and_road.toml anchor_note); the planned {fmt(p['compute_pflops_planned'])} PFLOPS is not used; not a published GPU count", f"gpus = {n}"),
               clause(p["compute_pflops_source"], f"input to gpus: {fmt(p['compute_pflops'])} PFLOPS", f"belt_and_road.toml {pid}.compute_pflops_source"),
               clause(POOL["br_cn_central_asia_community"]["compute_pflops_source"], "same capacity as the community's 2000 P (not added)", "belt_and_road.toml br_cn_central_asia_community.compute_pflops_source")]
        res = residency_clause(p, pid)
    else:
        gcl = [clause(f"estimate: gpus = {fmt(p['compute_pflops'])} PFLOPS, the 'thousand-P' class of the centre lit in January 2025 (the class, not an exact figure; {P_NOTE}) / {A100_TF / 1000} PFLOPS per A100-equivalent = {fmt(n)}; the 128 P centre of 2024 is not added", f"gpus = {n}"),
               clause(p["compute_pflops_source"], f"input to gpus: {fmt(p['compute_pflops'])} PFLOPS class", f"belt_and_road.toml {pid}.compute_pflops_source")]
        res = residency_clause(PRC, "br_xj_changji", "; copied from br_xj_changji, the other Xinjiang pool: belt_and_road.toml gives no note for this one, and the same PRC law applies")
    br_sites.append(dict(id=pid, name=p["name_en"], kind="regional_pool", region=f"{p['country']} ({p['province']})", lat=p["lat"], lon=p["lon"],
        gpus=n, sku="A100-equivalent (models not named)", sku_speed=1.0, gpu_busy_w=float(A100_W), gpu_idle_w=A100_W * IDLE_FRAC,
        pue=pue, price_cny_per_kwh=W_TARIFF[0], carbon_kg_per_kwh=p["carbon_kg_per_kwh"], residency=PRC["data_residency"],
        source=join(*gcl, SKU_A100EQ, A100_POWER, idle_clause(A100_W), loc_clause(p, pid, "belt_and_road.toml"), pue_cl, W_TARIFF[1],
                    carbon_clause(p, pid, "belt_and_road.toml"), clause(NO_RENEW, "renewable_frac = 0"), res)))

SEED_BR = IND["br_10000_card_clusters"]
FOREIGN_PUE = 1.3
for pid, power_key, planned in [("br_kz", "planned_power_mw", "planned: construction of the first 20 MW module from 2026"),
                                ("br_sg", "power_mw", None), ("br_my_johor", "power_mw", None),
                                ("br_sa_neom", "power_mw_phase1", "planned: phase 1 operational by 2028"),
                                ("br_pk", "allocated_power_mw", None)]:
    p = POOL[pid]
    if pid == "br_sg":
        pue_cl = clause(p["pue_target_source"], f"pue = {p['pue_target_max']}, the IMDA target (no reported PUE in shared/data)", "belt_and_road.toml br_sg.pue_target_source")
        pue = p["pue_target_max"]
    else:
        pue = FOREIGN_PUE
        pue_cl = clause(f"estimate: pue = {FOREIGN_PUE}: no PUE for this pool in shared/data; the ceiling both Singapore (IMDA) and China (new large DCs, 2025) set, used as a placeholder", f"pue = {FOREIGN_PUE}")
    power_src = p.get(f"{power_key}_source") or p["power_mw_source"]
    renew = clause(p["renewable_share_source"], f"renewable_frac = 0 (not applied): {p['renewable_share_frac']} is the country's renewable share of generation, already inside the grid carbon factor", f"belt_and_road.toml {pid}.renewable_share_source") if "renewable_share_frac" in p else clause(NO_RENEW, "renewable_frac = 0")
    name = p["name_en"] + (f" ({planned})" if planned else "")
    br_sites.append(dict(id=pid, name=name, kind="regional_pool", region=p["country"], lat=p["lat"], lon=p["lon"],
        gpus=1000, sku="A100-equivalent (placeholder)", sku_speed=1.0, gpu_busy_w=float(A100_W), gpu_idle_w=A100_W * IDLE_FRAC,
        pue=pue, price_cny_per_kwh=FOREIGN_PRICE[0], carbon_kg_per_kwh=p["carbon_kg_per_kwh"], residency=p["data_residency"],
        source=join(clause(f"estimate: gpus = 1,000 A100-equivalents, a placeholder at the 1,000-card scale: seed 001 says only China has built 10,000-card clusters and few other Belt-and-Road countries have a 1,000-card cluster; this pool's published figure is power ({fmt(p[power_key])} MW, {power_key}), which needs an unpublished AI share to become a GPU count" + (f"; {planned}" if planned else ""), "gpus = 1000"),
                    clause(SEED_BR["source"], f"input to gpus: '{SEED_BR['value_text']}'", "belt_and_road.toml regional_indicator br_10000_card_clusters"),
                    clause(power_src, f"context, not converted: {power_key} = {fmt(p[power_key])} MW", f"belt_and_road.toml {pid}.{power_key}_source"),
                    clause("estimate: sku_speed = 1.0: no accelerator model in shared/data; counted as A100-equivalents", "sku = A100-equivalent, sku_speed = 1.0"),
                    A100_POWER, idle_clause(A100_W), loc_clause(p, pid, "belt_and_road.toml"), pue_cl, FOREIGN_PRICE[1],
                    carbon_clause(p, pid, "belt_and_road.toml"), renew, residency_clause(p, pid))))

BR_REGIONS = ["dr_kz", "dr_kg", "dr_tj", "dr_uz", "dr_pk", "dr_sa", "dr_my", "dr_sg"]
GATEWAYS = ["gw_urumqi", "gw_rawalpindi", "gw_hongkong", "gw_singapore", "gw_karachi", "gw_jeddah", "gw_zafarana", "gw_marseille"]
for rid, pid in [("dr_kg", "br_kg"), ("dr_tj", "br_tj"), ("dr_kz", "br_kz"), ("dr_pk", "br_pk"), ("dr_sg", "br_sg")]:
    assert (REG[rid]["lat"], REG[rid]["lon"]) == (POOL[pid]["lat"], POOL[pid]["lon"]), rid
br_regions = [region(r) for r in BR_REGIONS] + [gateway(g) for g in GATEWAYS]
br_nodes = nodes_of(br_sites, br_regions)
BR_L = ["L_urumqi_changji", "L_urumqi_hami", "X_urumqi_kazakhstan", "X_urumqi_kyrgyzstan", "X_urumqi_tajikistan",
        "X_urumqi_rawalpindi", "X_rawalpindi_karachi", "X_hongkong_singapore", "X_singapore_johor", "X_singapore_sg_pool",
        "X_singapore_karachi", "X_karachi_pk_pool", "X_karachi_zafarana", "X_zafarana_marseille", "X_karachi_jeddah", "X_jeddah_neom"]
br_links = [links_toml(l, br_nodes) for l in BR_L]
br_links += [
    access("A_kz_br_kz", "dr_kz", "br_kz", br_nodes, "access link from Kazakhstan (Astana) to its national pool"),
    access("A_uz_urumqi", "dr_uz", "gw_urumqi", br_nodes, "access link from Uzbekistan (Tashkent) to the Urumqi gateway: demand_regions.toml says dr_uz is served by br_xj_changji; the cross-border route is not published", "crossborder_terrestrial"),
    access("A_pk_br_pk", "dr_pk", "br_pk", br_nodes, "access link from Pakistan (Karachi) to its national pool"),
    access("A_sa_neom", "dr_sa", "br_sa_neom", br_nodes, "access link from Saudi Arabia (Riyadh) to the NEOM pool that serves it (demand_regions.toml served_by)", "crossborder_terrestrial"),
    access("A_my_johor", "dr_my", "br_my_johor", br_nodes, "access link from Malaysia (Kuala Lumpur) to the Johor pool that serves it (demand_regions.toml served_by)", "backbone_400g"),
    access("A_sg_br_sg", "dr_sg", "br_sg", br_nodes, "access link from Singapore to its pool"),
]

# ------------------------------------------------------------------ national
nat_regions = [region("dr_cn_east_other"), region("dr_cn_southwest")]
all_nodes = nodes_of(edwc_sites + gpu_sites + br_sites, edwc_regions + gpu_regions + br_regions + nat_regions)
nat_links = [links_toml(l, all_nodes) for l in ["L_bth_urumqi", "L_zhongwei_urumqi", "L_hami_chongqing", "X_gba_hongkong"]]
nat_links += [
    access("A_horinger_cm_hohhot", "cl_horinger", "gpu_cm_hohhot", all_nodes, "joins the Hohhot centre to the Horinger cluster that contains it (gpu_clusters.toml edwc_cluster = cl_horinger)"),
    access("A_east_other_bth", "dr_cn_east_other", "dr_cn_bth", all_nodes, "access link from the other eastern provinces (Jinan) to the Beijing-Tianjin-Hebei hub", "backbone_400g"),
    access("A_east_other_yrd", "dr_cn_east_other", "dr_cn_yrd", all_nodes, "access link from the other eastern provinces (Jinan) to the Yangtze River Delta hub", "backbone_400g"),
    access("A_southwest_guian", "dr_cn_southwest", "cl_guian", all_nodes, "access link from the Southwest region (Guiyang) to the Gui'an cluster", "metro_dci"),
]
used = set(EDWC_L) | {"L_bth_harbin", "L_bth_yrd", "L_yrd_gba", "L_bth_gba"} | set(BR_L) | {"L_bth_urumqi", "L_zhongwei_urumqi", "L_hami_chongqing", "X_gba_hongkong"}
assert used == set(LINK), set(LINK) - used

# ------------------------------------------------------------------ write
def header(lines): return "\n".join(f"# {l}".rstrip() for l in lines) + "\n\n"
COMMON = [
    "Every figure comes from /work/shared/data (edwc.toml, gpu_clusters.toml, belt_and_road.toml,",
    "links.toml, demand_regions.toml), or is an estimate or derivation whose method is stated.",
    "A record's `source` is a list of clauses separated by ' | '. Each clause is the shared-data",
    "source string, copied verbatim and so starting with one of its five prefixes (`seed ...`,",
    "`url: ...`, `public knowledge: ...`, `estimate: ...`, `derived: ...`), then '=>' and the",
    "fields it gives, then [file record.key] in shared/data. Clauses written here for a derivation",
    "or an estimate start with `derived:` or `estimate:`. A site's first clause is always its `gpus`.",
    "",
    "GPUs: published capacity is mostly PFLOPS of unstated precision, racks, energy or MW. It is",
    f"converted to A100-equivalents at {A100_TF} TFLOPS dense FP16 (A100 SXM4 peak) with sku_speed 1.0;",
    "these are NOT published GPU counts. Power of an A100-equivalent: the A100's 400 W board power;",
    f"idle power {IDLE_FRAC:.0%} of board power (estimate). Links: great circle x 1.5 unless links.toml",
    "has a published route length; hop_ms = 0 (propagation only); bandwidth = the default of the",
    "link's bandwidth class in links.toml (modelling defaults, mostly estimates). Links with ids A_*",
    "are not in links.toml: access and connecting links added here, all estimates.",
    "renewable_frac is the share of a site's own energy that is carbon-free beyond the grid mix (the",
    "engine computes CO2 = energy x carbon_kg_per_kwh x (1 - renewable_frac)); grid-mix shares",
    "that the provincial or national carbon factor already contains are not applied.",
    "",
    "Generated from shared/data; shared demand regions are written identically in every network",
    "so that `national` can include them more than once.",
]
def write(name, desc, top, sites, regions, links, include=None, extra_header=()):
    parts = [header([*top, "", *COMMON, *extra_header])]
    if include: parts.append(f"include = {toml_val(include)}\n")
    parts.append(f"name = {toml_str(name)}\ndescription = {toml_str(desc)}\nfibre_us_per_km = {L['latency_model']['fibre_us_per_km']}\n\n")
    for s in sites: parts.append(table("site", s) + "\n")
    for r in regions: parts.append(table("region", r) + "\n")
    for l in links: parts.append(table("link", l) + "\n")
    (OUT / f"{name}.toml").write_text("".join(parts).rstrip("\n") + "\n", encoding="utf-8")
    return sum(s["gpus"] for s in sites)

tot = {}
tot["edwc"] = write("edwc",
    "East Data, West Computing: the 10 national data-centre clusters (capacity in A100-equivalents derived from published PFLOPS, racks or energy; see each source), the 4 eastern demand regions of the demand-side hubs (weight = 2020 population, millions) and the EDWC links of links.toml. The 8 hubs are groupings, not sites: capacity lives in the clusters; an east hub's links start at its demand region (same point), a west hub's at its cluster.",
    ["Built-in network `edwc`: East Data, West Computing (东数西算)."], edwc_sites, edwc_regions, edwc_links)
tot["gpu_clusters"] = write("gpu_clusters",
    "Large AI clusters: China Mobile's 10,000-GPU-class intelligent computing centres (Harbin, 18,000 cards; Hohhot, A100-equivalents of 6.7 EFLOPS), the three named 1,000-GPU pools (Beijing, Shanghai, Guangzhou) and the Wuhan and Nanjing centres, with the demand regions they sit in (weight = 2020 population, millions). The nine unnamed pools, the BaiChuan grid and DeepSeek's training cluster have no published location and are left out.",
    ["Built-in network `gpu_clusters`: large GPU / NPU clusters."], gpu_sites, gpu_regions, gpu_links,
    extra_header=["", "Left out: the nine unnamed 1,000-GPU pools, the BaiChuan grid, China Mobile's totals and",
                  "DeepSeek-V3's 2,048 H800 (no published location). gpu_cm_hohhot sits inside cl_horinger: the",
                  "edwc network subtracts its 6.7 EFLOPS from Horinger so that `national` counts it once."])
tot["belt_and_road"] = write("belt_and_road",
    "Belt-and-Road regional compute pools (Xinjiang Changji and Hami, Kazakhstan, Singapore, Johor, NEOM, Pakistan), 8 country demand regions (weight = population, millions) and the cross-border links of links.toml. Gateways (Urumqi, Rawalpindi, Hong Kong, Singapore, Karachi, Jeddah, Zafarana, Marseille) are modelled as regions with demand_weight = 0: transit nodes that originate no jobs, since the schema has only sites and regions as nodes. GPU counts outside China are placeholders of 1,000 A100-equivalents; data-residency tags are the data's public-knowledge notes (lower confidence).",
    ["Built-in network `belt_and_road`: Belt-and-Road regional compute pools and gateways."], br_sites, br_regions, br_links,
    extra_header=["", "Left out: br_cn_central_asia_community (its 2000 P is the Changji centre's, modelled once at",
                  "br_xj_changji); br_kg and br_tj (no published capacity: the links to them end at the demand",
                  "regions dr_kg and dr_tj, at the same point); gw_khunjerab (a point on X_urumqi_rawalpindi, which",
                  "is kept whole with its published 2,950 km); the four world-region aggregates of",
                  "demand_regions.toml (no population, nominal plot points)."])
inc = ["edwc", "gpu_clusters", "belt_and_road"]
write("national",
    "The national computing-power network: edwc, gpu_clusters and belt_and_road composed (include), joined by the links of links.toml between them (Beijing and Zhongwei to the Urumqi gateway, Hami to Chongqing, Guangdong to the Hong Kong gateway) and by the Hohhot centre's link to the Horinger cluster that contains it; plus the two Chinese demand regions no included network has (other eastern provinces, Southwest), so that the Chinese regions cover all 31 provinces. Gateways are zero-demand transit regions. GPU counts are A100-equivalents derived or estimated as each source says.",
    ["Built-in network `national`: edwc + gpu_clusters + belt_and_road, and the links between them."],
    [], nat_regions, nat_links, include=inc)
for k, v in tot.items(): print(k, v)
print("national", sum(tot.values()))
