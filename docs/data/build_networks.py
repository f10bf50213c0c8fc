"""Maintainer script: regenerate the built-in networks edwc, gpu_clusters, belt_and_road and
national (topology/data/*.toml) from the project's reference data in ../shared/data.

    .venv/bin/python docs/data/build_networks.py                 # rewrite topology/data
    .venv/bin/python docs/data/build_networks.py --check         # compare, write nothing
    .venv/bin/python docs/data/build_networks.py --out DIR --shared-data DIR --additions FILE

The project's own sourced figures that shared/data (read-only) lacks live in docs/data/additions.toml
(new sites with their capacity ranges, links with a measured latency, amendments of a shared-data
field by a newer published figure); they are merged here, and --check covers them too. A malformed
additions file (unknown table or key, a figure without its source, a source without one of the
five prefixes, low above central or central above high, a figure that is not a finite number
in its range (FIGURE_RANGE), a boolean where a number belongs) stops the script with one line
naming the file and the key, exit status 2, nothing written.

Source strings are copied verbatim from shared/data and additions.toml; every clause of a record's `source`
starts with one of the five prefixes. Not part of the package: it is kept so the derivations
can be re-run and reviewed. tests/topology/test_build_networks.py checks that it regenerates
the shipped files byte for byte; the generated TOML itself is tested by
tests/topology/test_builtin_networks.py.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from topology.geo import great_circle_km
from topology.plumbing import write_atomic

__all__ = ["NETWORKS", "NetworkRecords", "NetworkText", "SharedData", "build_networks", "gpu_totals", "main",
           "render_networks"]

Record = dict[str, Any]
"""One record of a shared-data file or of a generated network (TOML table as a dict)."""

PREFIXES = ("seed ", "url: ", "public knowledge", "estimate: ", "derived: ")
ADDITIONS = Path(__file__).resolve().with_name("additions.toml")
"""The project's own sourced additions to shared/data (read-only), merged by :class:`SharedData`."""
NOT_PUBLISHED = "not a published GPU count"
IDLE_FRAC = 0.15
P_NOTE = "precision not stated, taken as dense FP16"
NOMINAL_KM = 20.0
FOREIGN_PUE = 1.3
NO_RENEW = (
    "estimate: renewable_frac = 0 (schema default): shared/data has no share of this site's own energy bought as "
    "green power; the grid mix is already inside carbon_kg_per_kwh"
)
RES_NOTE = (
    "residency: the data's note (lower confidence: a public-knowledge summary of law, orientation not legal advice; "
    "shared/data/README lists every data-residency note as lower confidence)"
)

# links.toml endpoints that are not nodes of these networks, and the node used instead
ENDPOINT = {
    "hub_bth": "dr_cn_bth", "hub_yrd": "dr_cn_yrd", "hub_gba": "dr_cn_guangdong", "hub_chengyu": "dr_cn_chengyu",
    "br_kg": "dr_kg", "br_tj": "dr_tj",
}
_EAST_HUB_WHY = (
    "east-hub coordinates are the metro core that generates demand (edwc.toml), the same point as demand region"
)
ENDPOINT_WHY = {
    "hub_bth": f"{_EAST_HUB_WHY} dr_cn_bth",
    "hub_yrd": f"{_EAST_HUB_WHY} dr_cn_yrd",
    "hub_gba": f"{_EAST_HUB_WHY} dr_cn_guangdong",
    "hub_chengyu": f"{_EAST_HUB_WHY} dr_cn_chengyu",
    "br_kg": "br_kg has no published compute capacity, so it is not a site; "
             "its point (Bishkek) is that of demand region dr_kg",
    "br_tj": "br_tj has no published compute capacity, so it is not a site; "
             "its point (Dushanbe) is that of demand region dr_tj",
}

# EDWC zones (topology.model.Zone) of the sites, read from their `region` label (a hub role, province,
# city or country), and of the regions, by id. An unknown label is an error: a new record needs a decision.
WEST_PROVINCES = {"Inner Mongolia", "Guizhou", "Gansu", "Ningxia"}
EAST_PROVINCES = {"Beijing", "Tianjin", "Hebei", "Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Guangdong", "Sichuan",
                  "Chongqing", "Guangzhou"}  # Guangzhou: the 1,000-GPU pools are labelled by city
OTHER_CN = {"Heilongjiang", "Hubei", "Shanxi", "China (Xinjiang)"}
ABROAD = {"Kazakhstan", "Singapore", "Malaysia", "Saudi Arabia", "Pakistan"}
REGION_ZONE = {
    "dr_cn_bth": "east", "dr_cn_yrd": "east", "dr_cn_guangdong": "east", "dr_cn_chengyu": "east",
    # Central, Northeast, other eastern provinces: no hub; Northwest (with Inner Mongolia) and Southwest (with
    # Guizhou) span zones.
    "dr_cn_central": "other", "dr_cn_northeast": "other", "dr_cn_northwest": "other", "dr_cn_east_other": "other",
    "dr_cn_southwest": "other", "gw_urumqi": "other", "gw_hongkong": "other",
}


def site_zone(label: str) -> str:
    """The EDWC zone of a site whose ``region`` label is ``label`` (hub role, province, city or country)."""
    if label in ("east", "west"):
        return label
    for zone, labels in (("west", WEST_PROVINCES), ("east", EAST_PROVINCES), ("other", OTHER_CN),
                         ("abroad", ABROAD)):
        if label in labels:
            return zone
    raise ValueError(f"no EDWC zone for site label {label!r}: add it to build_networks.py")


def with_zone(rec: Record, zone: str, after: str) -> Record:
    """``rec`` with ``zone`` inserted after its key ``after``."""
    out: Record = {}
    for k, v in rec.items():
        out[k] = v
        if k == after:
            out["zone"] = zone
    return out


# ISO 3166-1 alpha-2 country of every node of belt_and_road, from the `country` of its shared-data record
# (belt_and_road.toml pools and gateways; demand_regions.toml names); checked against those names below.
COUNTRY_CODE = {
    "China": "CN", "China (Hong Kong SAR)": "HK", "Kazakhstan": "KZ", "Kyrgyzstan": "KG", "Tajikistan": "TJ",
    "Uzbekistan": "UZ", "Pakistan": "PK", "Saudi Arabia": "SA", "Malaysia": "MY", "Singapore": "SG", "Egypt": "EG",
    "France": "FR",
}
# Price of moving a GB over a link (CNY), by whether the link crosses a border. No published wholesale
# price per GB was found for these routes: both are estimates of what a user pays, labelled as such.
PRICE_DOMESTIC = (
    0.15,
    "estimate: price_cny_per_gb = 0.15 (domestic link): the order of public clouds' inter-region transfer price "
    "within one country, about 0.02 USD/GB x 7.2 CNY/USD (public knowledge: cloud list prices; not a published "
    "price of this route)")
PRICE_CROSS_BORDER = (
    0.9,
    "estimate: price_cny_per_gb = 0.9 (cross-border link): the order of public clouds' internet egress list prices "
    "in Asia-Pacific, about 0.12 USD/GB x 7.2 CNY/USD (public knowledge: cloud list prices; not a published price "
    "of this route)")


def with_after(rec: Record, key: str, value: object, after: str) -> Record:
    """``rec`` with ``key = value`` inserted after its key ``after``."""
    out: Record = {}
    for k, v in rec.items():
        out[k] = v
        if k == after:
            out[key] = value
    return out


def with_countries(records: NetworkRecords, country: dict[str, str]) -> NetworkRecords:
    """``records`` with the ``country`` of every node (after ``zone``) and a ``price_cny_per_gb`` on every link.

    A link's price is :data:`PRICE_CROSS_BORDER` when its ends are in different countries, else
    :data:`PRICE_DOMESTIC`; the price's clause is added to the link's ``source``.
    """
    sites = [with_after(s, "country", country[s["id"]], "zone") for s in records.sites]
    regions = [with_after(r, "country", country[r["id"]], "zone") for r in records.regions]
    links = []
    for ln in records.links:
        price, why = PRICE_CROSS_BORDER if country[ln["a"]] != country[ln["b"]] else PRICE_DOMESTIC
        rec = with_after(ln, "price_cny_per_gb", price, "bandwidth_gbps")
        rec["source"] = join(rec["source"], clause(why, f"price_cny_per_gb = {price}"))
        links.append(rec)
    return NetworkRecords(sites, regions, links)


def zoned(records: NetworkRecords) -> NetworkRecords:
    """``records`` with the EDWC zone of every site and region (regions not in REGION_ZONE are abroad)."""
    return NetworkRecords([with_zone(s, site_zone(s["region"]), "region") for s in records.sites],
                          [with_zone(r, REGION_ZONE.get(r["id"], "abroad"), "name") for r in records.regions],
                          records.links)


EAST_REGIONS = ["dr_cn_bth", "dr_cn_yrd", "dr_cn_guangdong", "dr_cn_chengyu"]
EDWC_LINKS = [
    "L_bth_zhangjiakou", "L_bth_horinger", "L_bth_zhongwei", "L_bth_qingyang", "L_bth_guian",
    "L_yrd_demo", "L_yrd_wuhu", "L_yrd_qingyang", "L_yrd_guian", "L_yrd_zhongwei", "L_gba_shaoguan", "L_gba_guian",
    "L_tianfu_chongqing", "L_chongqing_guian", "L_tianfu_guian", "L_qingyang_zhongwei", "L_horinger_zhangjiakou",
    "L_bth_yrd", "L_yrd_gba", "L_bth_gba", "L_gba_chengyu", "L_bth_chengyu",
]
GPU_REGIONS = ["dr_cn_bth", "dr_cn_yrd", "dr_cn_guangdong", "dr_cn_central", "dr_cn_northeast", "dr_cn_northwest"]
GPU_LINKS = ["L_bth_harbin", "L_bth_yrd", "L_yrd_gba", "L_bth_gba"]
BR_REGIONS = ["dr_kz", "dr_kg", "dr_tj", "dr_uz", "dr_pk", "dr_sa", "dr_my", "dr_sg"]
GATEWAYS = [
    "gw_urumqi", "gw_rawalpindi", "gw_hongkong", "gw_singapore", "gw_karachi", "gw_jeddah", "gw_zafarana",
    "gw_marseille",
]
BR_LINKS = [
    "L_urumqi_changji", "L_urumqi_hami", "X_urumqi_kazakhstan", "X_urumqi_kyrgyzstan", "X_urumqi_tajikistan",
    "X_urumqi_rawalpindi", "X_rawalpindi_karachi", "X_hongkong_singapore", "X_singapore_johor", "X_singapore_sg_pool",
    "X_singapore_karachi", "X_karachi_pk_pool", "X_karachi_zafarana", "X_zafarana_marseille", "X_karachi_jeddah",
    "X_jeddah_neom",
]
NATIONAL_LINKS = ["L_bth_urumqi", "L_zhongwei_urumqi", "L_hami_chongqing", "X_gba_hongkong"]


# ------------------------------------------------------------------ text helpers
def by_id(rows: Iterable[Record]) -> dict[str, Record]:
    """Index records by their ``id``."""
    return {r["id"]: r for r in rows}


def clause(src: str, what: str, ref: str | None = None) -> str:
    """One clause of a ``source``: the shared-data source string, '=>', the fields it gives, [ref]."""
    assert src.startswith(PREFIXES), src
    if what.startswith("gpus = ") and src.startswith(("derived: ", "estimate: ")) and NOT_PUBLISHED not in src:
        src += "; " + NOT_PUBLISHED
    return f"{src} => {what}" + (f" [{ref}]" if ref else "")


def join(*clauses: str) -> str:
    """A ``source`` made of clauses."""
    return " | ".join(clauses)


def fmt(n: float) -> str:
    """A number with thousands separators."""
    return f"{n:,}"


def idle_clause(busy: float) -> str:
    """The clause deriving ``gpu_idle_w`` from the board power ``busy`` (W)."""
    return clause(
        f"estimate: gpu_idle_w = {IDLE_FRAC:.0%} of board power ({busy * IDLE_FRAC:g} W of {busy:g} W), the idle share "
        "cpnsim's default network uses for the A100 (60 of 400 W; A100 idle draw is typically 50-70 W); "
        "not a published figure",
        f"gpu_idle_w = {busy * IDLE_FRAC:g}",
    )


def carbon_clause(rec: Record, rid: str, file: str) -> str:
    """The clause for a record's grid carbon factor."""
    return clause(rec["carbon_source"], f"carbon_kg_per_kwh = {rec['carbon_kg_per_kwh']} ({rec['carbon_year']})",
                  f"{file} {rid}.carbon_source")


def price_clause(rec: Record, rid: str, file: str) -> str:
    """The clause for a record's electricity price."""
    return clause(rec["price_source"], f"price_cny_per_kwh = {rec['price_cny_per_kwh']} ({rec['price_year']})",
                  f"{file} {rid}.price_source")


def loc_clause(rec: Record, rid: str, file: str) -> str:
    """The clause for a record's coordinates."""
    return clause(rec["location_source"], f"lat = {rec['lat']}, lon = {rec['lon']}", f"{file} {rid}.location_source")


def price_est(value: float, method: str) -> tuple[float, str]:
    """An estimated price (CNY/kWh) and its clause."""
    return value, clause(f"estimate: price_cny_per_kwh = {value}: not in shared/data; {method}; not a published tariff",
                         f"price_cny_per_kwh = {value}")


def mid_price() -> tuple[float, str]:
    """The estimated price (CNY/kWh) of a Chinese site outside the hubs."""
    return price_est(0.55, "set between the western DC tariffs (0.35-0.40) and the eastern metro level (0.65), "
                           "as edwc.toml estimates cl_chongqing")


def residency_clause(p: Record, pid: str, extra: str = "") -> str:
    """The clause for a pool's data-residency tag."""
    return clause(p["data_residency_source"], RES_NOTE + extra, f"belt_and_road.toml {pid}.data_residency_source")


def endpoint(node: str) -> str:
    """The network node that stands for links.toml endpoint ``node``."""
    return ENDPOINT.get(node, node)


def nodes_of(sites: Iterable[Record], regions: Iterable[Record]) -> dict[str, tuple[float, float]]:
    """Coordinates (lat, lon in degrees) of every node."""
    return {x["id"]: (x["lat"], x["lon"]) for x in [*sites, *regions]}


# ------------------------------------------------------------------ TOML writing
def toml_str(s: str) -> str:
    """A TOML basic string."""
    return json.dumps(s, ensure_ascii=False)


def toml_val(v: object) -> str:
    """A TOML value (string, boolean, integer, float or list of them)."""
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_val(x) for x in v) + "]"
    raise TypeError(v)


def long_str(s: str, sep: str) -> str:
    """A TOML multi-line basic string whose value is s: one line per sep-separated part, joined
    by line-ending backslashes (TOML trims the newline and the next line's leading whitespace)."""
    parts = s.split(sep)
    body = (sep.rstrip() + " \\\n").join(json.dumps(p, ensure_ascii=False)[1:-1] for p in parts)
    return '"""\\\n' + body + '"""'


def table(name: str, rec: Record) -> str:
    """One ``[[name]]`` table; None values are left out, ``source`` is written one clause a line."""
    lines = [f"[[{name}]]"]
    subtables: list[str] = []
    for k, v in rec.items():
        if v is None:
            continue
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            # A list of records (a site's capacity timeline): [[name.key]] tables after this one.
            subtables.extend("\n" + table(f"{name}.{k}", x) for x in v)
            continue
        lines.append(f"{k} = {long_str(v, ' | ') if k == 'source' else toml_val(v)}")
    return "\n".join(lines) + "\n" + "".join(subtables)


def header(lines: Iterable[str]) -> str:
    """A comment block."""
    return "\n".join(f"# {line}".rstrip() for line in lines) + "\n\n"


# ------------------------------------------------------------------ inputs and outputs
@dataclass(frozen=True)
class SharedData:
    """The five reference files of shared/data, parsed."""

    edwc: Record
    gpu_clusters: Record
    belt_and_road: Record
    links: Record
    demand_regions: Record
    additions: Record = field(default_factory=dict)
    """The project's sourced additions (docs/data/additions.toml, :func:`read_additions`); empty: none."""

    @classmethod
    def read(cls, folder: Path, additions: Path | None = ADDITIONS) -> SharedData:
        """Read ``edwc.toml``, ``gpu_clusters.toml``, ``belt_and_road.toml``, ``links.toml`` and
        ``demand_regions.toml`` from ``folder``, and the additions file ``additions`` (None: none).

        Raises
        ------
        AdditionsError
            When the additions file is malformed (:func:`read_additions`).
        """
        def load(name: str) -> Record:
            return tomllib.loads((folder / f"{name}.toml").read_text())
        shared = cls(load("edwc"), load("gpu_clusters"), load("belt_and_road"), load("links"), load("demand_regions"))
        return shared if additions is None else replace(shared, additions=read_additions(additions, shared))

    @property
    def a100(self) -> Record:
        """The A100 SXM4 record of gpu_clusters.toml: the unit of A100-equivalents."""
        return by_id(self.gpu_clusters["gpu_sku"])["nvidia_a100_sxm4_80gb"]


@dataclass(frozen=True)
class NetworkRecords:
    """The sites, regions and links one generated network file defines itself."""

    sites: list[Record]
    regions: list[Record]
    links: list[Record]


# ------------------------------------------------------------------ the project's additions to shared/data
class AdditionsError(ValueError):
    """A malformed additions file; the message is one line naming the file and the key."""


_SITE_TEXT = ("id", "name_en", "operator", "city", "province", "as_of", "capacity_method", "replaces", "carved_out_of",
              "grid_of")
_SITE_FIGURES = ("lat", "lon", "peak_pflops", "peak_pflops_low", "peak_pflops_high", "gpu_count", "gpu_count_low",
                 "gpu_count_high", "pue_reported", "pue_reported_year", "pue_target_max", "price_cny_per_kwh",
                 "carbon_kg_per_kwh", "carbon_year")
_SOURCE_OF = {  # figure or reference -> the key holding its source (companions share their figure's source)
    "lat": "location_source", "lon": "location_source", "pue_reported_year": "pue_reported_source",
    "carbon_year": "carbon_source", "price_cny_per_kwh": "price_source", "carbon_kg_per_kwh": "carbon_source",
    "replaces": "replaces_source", "carved_out_of": "carved_out_of_source", "grid_of": "grid_of_source",
    "pue_target_max": "pue_target_source",
}
ADDITION_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # table -> (required keys, allowed keys)
    "gpu_cluster": (
        frozenset({"id", "name_en", "operator", "city", "province", "as_of", "capacity_method", "chips_source"}),
        frozenset({*_SITE_TEXT, *_SITE_FIGURES, "chips_source", "pue_target_source",
                   *(_SOURCE_OF.get(k, f"{k}_source") for k in _SITE_FIGURES + _SITE_TEXT[7:])})),
    "link": (frozenset({"id", "a", "b", "bandwidth_class"}),
             frozenset({"id", "a", "b", "bandwidth_class", "one_way_latency_ms", "one_way_latency_ms_source", "note"})),
    "amendment": (frozenset({"table", "id", "field", "value", "was", "as_of", "source"}),
                  frozenset({"table", "id", "field", "value", "was", "as_of", "source"})),
}
"""The tables an additions file may hold, with the keys each record must and may have."""
RANGED = ("peak_pflops", "gpu_count")  # a site's capacity figures, each with optional _low and _high
CARVABLE = ("cl_guian",)  # sites whose published bound build_networks.py reduces by the sites carved out of it
AMENDABLE = (("gpu_cluster", "gpu_cm_wuhan", "peak_pflops"),)  # (table, id, field) whose amendment is cited
FIGURE_RANGE: dict[str, tuple[float, float]] = {
    # figure -> closed interval of accepted values (finite numbers, not booleans; capacities checked apart)
    "lat": (-90.0, 90.0), "lon": (-180.0, 180.0), "pue_reported": (1.0, 3.0), "pue_target_max": (1.0, 3.0),
    "pue_reported_year": (1990, 2100), "carbon_year": (1990, 2100), "price_cny_per_kwh": (0.0, 10.0),
    "carbon_kg_per_kwh": (0.0, 2.0), "one_way_latency_ms": (0.0, 1000.0),
}
"""Bounds of the additions' figures other than capacities: a value outside is a typo, not a finding."""


def _is_number(value: object) -> bool:
    """A finite int or float that is not a bool (TOML's true would otherwise pass as 1)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _addition_problem(table: str, rec: Record, shared: SharedData) -> tuple[str, str] | None:
    """The first problem of one additions record, as (key, why), or ``None``."""
    required, allowed = ADDITION_KEYS[table]
    for key in rec:
        if key not in allowed:
            return key, f"unknown key (known: {', '.join(sorted(allowed))})"
    for key in sorted(required - set(rec)):
        return key, "missing"
    for key, value in rec.items():
        if key in FIGURE_RANGE:
            lo, hi = FIGURE_RANGE[key]
            if not _is_number(value) or not lo <= value <= hi:
                return key, f"must be a finite number in [{lo:g}, {hi:g}], got {value!r}"
        if key == "source" or key.endswith("_source"):
            if not isinstance(value, str) or not value.startswith(PREFIXES):
                return key, f"a source must start with one of {', '.join(repr(p) for p in PREFIXES)}"
        elif table == "gpu_cluster" and key in _SITE_FIGURES + _SITE_TEXT[7:]:
            source = _SOURCE_OF.get(key, f"{key}_source")
            if source not in rec:
                return key, f"no {source}: every figure needs its source"
    if table == "gpu_cluster":
        if not any(k in rec for k in RANGED):
            return "peak_pflops", "a site needs peak_pflops or gpu_count"
        if "replaces" not in rec and not {"lat", "lon"} <= set(rec):
            return "lat", "a new site needs lat and lon"
        if "replaces" not in rec and "pue_target_max" not in rec:
            return "pue_target_max", "a new site needs its PUE target"
        priced = "grid_of" in rec or {"price_cny_per_kwh", "carbon_kg_per_kwh"} <= set(rec)
        if "replaces" not in rec and not priced:
            return "grid_of", "a new site needs price_cny_per_kwh and carbon_kg_per_kwh, or grid_of"
        for key in RANGED:
            ends = [rec.get(f"{key}_low"), rec.get(key), rec.get(f"{key}_high")]
            if (ends[0] is not None or ends[2] is not None) and ends[1] is None:
                return key, f"{key}_low or {key}_high without {key}"
            given = [v for v in ends if v is not None]
            if any(not _is_number(v) or v <= 0 for v in given):
                return key, f"capacity must be a finite positive number, got {', '.join(repr(v) for v in given)}"
            if given != sorted(given):
                return f"{key}_low" if ends[0] is not None and ends[0] > ends[1] else f"{key}_high", (
                    f"low <= {key} <= high does not hold: {' <= '.join(str(v) for v in given)}")
        edwc = {r["id"] for t in ("hub", "cluster") for r in shared.edwc[t]}
        pools = {p["id"] for g in shared.gpu_clusters["gpu_cluster"] for p in g.get("pool", [])}
        for key, known, what in (("grid_of", edwc, "an edwc.toml hub or cluster"),
                                 ("carved_out_of", set(CARVABLE), "a site whose bound may be carved ("
                                  + ", ".join(CARVABLE) + ")")):
            if key in rec and rec[key] not in known:
                return key, f"{rec[key]!r} is not {what}"
        if "replaces" in rec and rec["replaces"] != f"gpu_cm_pools_1000 pool {rec['id']}":
            return "replaces", f"only a named pool of gpu_cm_pools_1000 can be replaced, by its own id: " \
                               f"'gpu_cm_pools_1000 pool <id>' with <id> one of {', '.join(sorted(pools))}"
        if "replaces" in rec and rec["id"] not in pools:
            return "id", f"{rec['id']!r} is not a named pool of gpu_cm_pools_1000 ({', '.join(sorted(pools))})"
    if table == "link":
        if rec["bandwidth_class"] not in {b["id"] for b in shared.links["bandwidth_class"]}:
            return "bandwidth_class", f"unknown bandwidth class {rec['bandwidth_class']!r}"
        if "one_way_latency_ms" not in rec and "note" not in rec:
            return "note", "a link without a measured latency is an estimated access link: say why in note"
    if table == "amendment":
        if (rec["table"], rec["id"], rec["field"]) not in AMENDABLE:
            return "field", (f"{rec['table']} {rec['id']}.{rec['field']} is not amendable (build_networks.py cites "
                             f"an amendment where it uses the field: {', '.join(' '.join(a) for a in AMENDABLE)})")
        if not _is_number(rec["value"]) or rec["value"] <= 0:
            return "value", f"must be a finite positive number, got {rec['value']!r}"
        target = by_id(shared.gpu_clusters["gpu_cluster"]).get(rec["id"], {})
        if target.get(rec["field"]) != rec["was"]:
            return "was", f"shared/data gives {rec['field']} = {target.get(rec['field'])!r}, not {rec['was']!r}"
    return None


def read_additions(path: Path, shared: SharedData) -> Record:
    """The additions file at ``path``, checked against :data:`ADDITION_KEYS` and ``shared``.

    Raises
    ------
    AdditionsError
        One line ``<path>: <table>[<i>].<key>: <why>`` for the first malformed record.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AdditionsError(f"{path}: {' '.join(str(exc).split())}") from None
    for table, rows in data.items():
        if table not in ADDITION_KEYS:
            raise AdditionsError(f"{path}: {table}: unknown table (known: {', '.join(ADDITION_KEYS)})")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise AdditionsError(f"{path}: {table}: must be an array of tables ([[{table}]])")
        for i, rec in enumerate(rows):
            problem = _addition_problem(table, rec, shared)
            if problem is not None:
                raise AdditionsError(f"{path}: {table}[{i}].{problem[0]}: {problem[1]}")
    shared_ids = {*(r["id"] for t in ("hub", "cluster") for r in shared.edwc[t]),
                  *(g["id"] for g in shared.gpu_clusters["gpu_cluster"]),
                  *(p["id"] for g in shared.gpu_clusters["gpu_cluster"] for p in g.get("pool", [])),
                  *(p["id"] for t in ("pool", "gateway") for p in shared.belt_and_road[t]),
                  *(r["id"] for r in shared.demand_regions["region"])}
    nodes = shared_ids | {r["id"] for r in data.get("gpu_cluster", [])}
    for i, rec in enumerate(data.get("gpu_cluster", [])):
        if "replaces" not in rec and rec["id"] in shared_ids:
            raise AdditionsError(f"{path}: gpu_cluster[{i}].id: {rec['id']!r} is already an id of shared/data "
                                 "(a record standing in for a placeholder says so in replaces)")
    for i, ln in enumerate(data.get("link", [])):
        for end in ("a", "b"):
            if ln[end] not in nodes:
                raise AdditionsError(f"{path}: link[{i}].{end}: {ln[end]!r} is not a node id of shared/data or of "
                                     "this file's gpu_cluster records")
    return data


def amended(data: SharedData) -> tuple[SharedData, dict[tuple[str, str], Record]]:
    """``data`` with every amendment of its additions applied, and the amendments by (id, field)."""
    amendments = {(a["id"], a["field"]): a for a in data.additions.get("amendment", [])}
    if not amendments:
        return data, amendments
    clusters = []
    for rec in data.gpu_clusters["gpu_cluster"]:
        fix = {f: a for (i, f), a in amendments.items() if i == rec["id"]}
        for f, a in fix.items():  # keep shared/data's source of the superseded value
            amendments[(rec["id"], f)] = {**a, "was_source": rec[f"{f}_source"]}
        rec = {**rec, **{f: a["value"] for f, a in fix.items()}, **{f"{f}_source": a["source"] for f, a in fix.items()}}
        clusters.append(rec)
    gpu_clusters = {**data.gpu_clusters, "gpu_cluster": clusters}
    return replace(data, gpu_clusters=gpu_clusters), amendments


# ------------------------------------------------------------------ derivations
class NetworkBuilder:
    """Derive the records of the four networks from the shared data (pure: reads nothing)."""

    def __init__(self, data: SharedData, amendments: dict[tuple[str, str], Record] | None = None) -> None:
        e, g, b, links, r = data.edwc, data.gpu_clusters, data.belt_and_road, data.links, data.demand_regions
        self.add_site = by_id(data.additions.get("gpu_cluster", []))
        self.add_links: list[Record] = data.additions.get("link", [])
        self.amendments = amendments or {}
        self.hub, self.cl = by_id(e["hub"]), by_id(e["cluster"])
        self.cluster_order = [c["id"] for c in e["cluster"]]
        self.pol, self.nat = by_id(e["policy_target"]), by_id(e["national_figure"])
        self.sku, self.gc = by_id(g["gpu_sku"]), by_id(g["gpu_cluster"])
        self.pool, self.gw, self.ind = by_id(b["pool"]), by_id(b["gateway"]), by_id(b["regional_indicator"])
        self.link, self.bw = by_id(links["link"]), by_id(links["bandwidth_class"])
        self.reg = by_id(r["region"])
        self.cmpool = by_id(self.gc["gpu_cm_pools_1000"]["pool"])
        a100 = data.a100
        self.a100_tf: float = a100["peak_fp16_tflops_dense"]  # 312
        self.a100_w: float = a100["board_power_w"]  # 400
        self.a100_power = clause(
            a100["peak_source"],
            f"gpu_busy_w = {self.a100_w} (A100 SXM4 board power; applied to one A100-equivalent of a fleet whose "
            "models are not published, an estimate)",
            "gpu_clusters.toml gpu_sku nvidia_a100_sxm4_80gb.board_power_w")
        self.sku_a100eq = clause(
            f"derived: sku_speed = 1.0 by construction: capacity is counted in A100-equivalents of {self.a100_tf} "
            "TFLOPS dense FP16 (A100 SXM4, gpu_clusters.toml); the published figures do not name the accelerator "
            "models",
            "sku = A100-equivalent, sku_speed = 1.0")
        self.nat_pue = self.pol["hub_pue_2025"]

    def a100_eq(self, pflops: float) -> int:
        """A100-equivalents (count) of ``pflops`` PFLOPS dense FP16."""
        return round(pflops * 1000 / self.a100_tf)

    # -------------------------------------------------------------- nodes and links
    def region(self, rid: str) -> Record:
        """A demand region, weighted by population (millions)."""
        r = self.reg[rid]
        loc = clause(r["location_source"], f"lat = {r['lat']}, lon = {r['lon']} (representative city {r['rep_city']})",
                     f"demand_regions.toml {rid}.location_source")
        pop = clause(r["population_source"],
                     f"demand_weight = {r['population_m']} = population in millions ({r['population_year']})",
                     f"demand_regions.toml {rid}.population_source")
        return dict(id=rid, name=r["name_en"], lat=r["lat"], lon=r["lon"], demand_weight=r["population_m"],
                    source=join(loc, pop))

    def gateway(self, gid: str) -> Record:
        """A gateway, modelled as a region that originates no jobs."""
        g = self.gw[gid]
        return dict(id=gid, name=g["name_en"] + " (gateway, transit only)", lat=g["lat"], lon=g["lon"],
                    demand_weight=0.0,
                    source=join(
                        clause(g["location_source"], f"lat = {g['lat']}, lon = {g['lon']}",
                               f"belt_and_road.toml gateway {gid}.location_source"),
                        clause("estimate: demand_weight = 0 by construction: a gateway is modelled as a transit region "
                               "(the network schema has only sites and regions as nodes), so it originates no jobs",
                               "demand_weight = 0"),
                        clause(g["role_source"], f"role: {g['role']}",
                               f"belt_and_road.toml gateway {gid}.role_source")))

    def links_toml(self, lid: str, nodes: dict[str, tuple[float, float]]) -> Record:
        """A link of links.toml, its hub endpoints mapped to nodes of the network (``ENDPOINT``)."""
        ln = self.link[lid]
        a, b = endpoint(ln["a"]), endpoint(ln["b"])
        bw = self.bw[ln["bandwidth_class"]]
        notes = [f"{ln[e]} modelled as {ENDPOINT[ln[e]]}: {ENDPOINT_WHY[ln[e]]}"
                 for e in ("a", "b") if ln[e] in ENDPOINT]
        rec: Record = dict(id=lid, a=a, b=b)
        gc = great_circle_km(*nodes[a], *nodes[b])
        if ln["route_source"].startswith("url:"):
            rec["distance_km"] = float(ln["route_km"])
            what = f"distance_km = {ln['route_km']} (published route length)"
        elif ln["route_factor"] == 1.0:  # nominal intra-city link between co-located nodes
            rec["distance_km"] = float(ln["route_km"])
            what = f"distance_km = {ln['route_km']} (nominal; the endpoints share one coordinate)"
        else:
            assert ln["route_factor"] == 1.5
            great_circle = ln["great_circle_km"]
            assert abs(gc - great_circle) <= max(2.0, 0.01 * great_circle), (lid, gc, great_circle)
            what = (f"route = great circle x 1.5 ({gc:.0f} km x 1.5 = {gc * 1.5:.0f} km; "
                    "distance_km unset, route_factor 1.5)")
        if notes:
            what += "; " + "; ".join(notes)
        what += "; hop_ms = 0 (propagation only, as links.toml's latency estimates)"
        rec["bandwidth_gbps"] = float(bw["default_gbps"])
        rec["source"] = join(
            clause(ln["route_source"], what, f"links.toml link {lid}.route_source"),
            clause(bw["source"], f"bandwidth_gbps = {bw['default_gbps']} (default of bandwidth class {bw['id']})",
                   f"links.toml bandwidth_class {bw['id']}"))
        return rec

    def access(self, lid: str, a: str, b: str, nodes: dict[str, tuple[float, float]], why: str,
               bw_class: str = "metro_dci") -> Record:
        """A link not in links.toml, added here (an estimate)."""
        gc = great_circle_km(*nodes[a], *nodes[b])
        bw = self.bw[bw_class]
        rec: Record = dict(id=lid, a=a, b=b)
        if gc < 1.0:
            rec["distance_km"] = NOMINAL_KM
            route = clause(
                f"estimate: nominal {NOMINAL_KM:g} km metro link: the endpoints share one coordinate; the same "
                "nominal length links.toml uses for co-located gateways and pools (X_singapore_sg_pool, "
                "X_karachi_pk_pool); no published route",
                f"distance_km = {NOMINAL_KM:g}; {why}")
        else:
            route = clause(
                f"estimate: great circle x 1.5 ({gc:.0f} km x 1.5 = {gc * 1.5:.0f} km), the default route factor of "
                "links.toml's latency_model; no published route",
                f"distance_km unset, route_factor 1.5; {why}")
        rec["bandwidth_gbps"] = float(bw["default_gbps"])
        rec["source"] = join(route, clause(
            bw["source"], f"bandwidth_gbps = {bw['default_gbps']} (default of bandwidth class {bw_class})",
            f"links.toml bandwidth_class {bw_class}"))
        return rec

    # -------------------------------------------------------------- site helpers
    def cap(self, cid: str, metric: str, value: float | None = None) -> Record:
        """The one capacity figure of cluster ``cid`` with ``metric`` (and ``value``, if given)."""
        rows: list[Record] = [c for c in self.cl[cid].get("capacity", [])
                if c["metric"] == metric and (value is None or c["value"] == value)]
        assert len(rows) == 1, (cid, metric, rows)
        return rows[0]

    def cap_clause(self, cid: str, c: Record, use: str) -> str:
        """The clause citing capacity figure ``c`` of cluster ``cid``."""
        return clause(c["source"], f"{use}: {c['metric']} = {fmt(c['value'])} {c['unit']} (as of {c['as_of']})",
                      f"edwc.toml {cid}.capacity {c['metric']}")

    def pflops_derived(self, cid: str, c: Record, pflops: float, prefix: str, extra: str) -> tuple[int, list[str]]:
        """GPUs (A100-equivalents) of ``pflops`` PFLOPS, with the clauses that derive them."""
        n = self.a100_eq(pflops)
        return n, [clause(f"{prefix}: gpus = {fmt(pflops)} PFLOPS ({P_NOTE}) / {self.a100_tf / 1000} PFLOPS per "
                          "A100-equivalent (A100 SXM4 dense FP16 peak, gpu_clusters.toml) = "
                          f"{fmt(n)} A100-equivalents; {extra}; not a published GPU count", f"gpus = {n}"),
                   self.cap_clause(cid, c, "input to gpus")]

    def edwc_site(self, cid: str, gpus: int, gpu_clauses: list[str], renew: float | None = None,
                  renew_clause: str | None = None) -> Record:
        """A national data-centre cluster of EDWC as a site."""
        c = self.cl[cid]
        if "pue_reported" in c:
            pue = c["pue_reported"]
            pue_cl = clause(c["pue_reported_source"],
                            f"pue = {pue}, reported ({c['pue_reported_year']}); "
                            f"preferred to the target {c['pue_target_max']}",
                            f"edwc.toml {cid}.pue_reported_source")
        else:
            pue = c["pue_target_max"]
            pue_cl = clause(c["pue_target_source"], f"pue = {pue}, the policy target (no reported PUE in shared/data)",
                            f"edwc.toml {cid}.pue_target_source")
        rec: Record = dict(
            id=cid, name=f"{c['name_en']} ({c['province']})", kind="cluster", region=c["role"], lat=c["lat"],
            lon=c["lon"], gpus=gpus, sku="A100-equivalent", sku_speed=1.0, gpu_busy_w=float(self.a100_w),
            gpu_idle_w=self.a100_w * IDLE_FRAC, pue=pue, price_cny_per_kwh=c["price_cny_per_kwh"],
            carbon_kg_per_kwh=c["carbon_kg_per_kwh"], renewable_frac=renew)
        rec["source"] = join(*gpu_clauses, self.sku_a100eq, self.a100_power, idle_clause(self.a100_w),
                             loc_clause(c, cid, "edwc.toml"), pue_cl, price_clause(c, cid, "edwc.toml"),
                             carbon_clause(c, cid, "edwc.toml"), renew_clause or clause(NO_RENEW, "renewable_frac = 0"))
        return rec

    def pue_national(self, why: str) -> tuple[float, str]:
        """The 2025 national PUE target for new large data centres, and its clause."""
        return 1.3, clause(self.nat_pue["source"],
                           f"pue = 1.3, the 2025 national target for new large data centres ({why}; "
                           "no reported PUE in shared/data)", "edwc.toml policy_target hub_pue_2025")

    def pue_hub(self, why: str) -> tuple[float, str]:
        """The 2025 PUE target for hub nodes, and its clause."""
        value = self.nat_pue["value"]
        return value, clause(self.nat_pue["source"],
                             f"pue = {value}, the 2025 target for hub nodes ({why}; no reported PUE in shared/data)",
                             "edwc.toml policy_target hub_pue_2025")

    # -------------------------------------------------------------- the project's additions
    def carved(self, cid: str) -> list[tuple[str, float]]:
        """The additions sites carved out of site ``cid``'s published bound, with their central PFLOPS."""
        return [(sid, self.addition_pflops(r)[1]) for sid, r in self.add_site.items() if r.get("carved_out_of") == cid]

    def guian_bound_pflops(self) -> float:
        """Gui'an's upper bound (PFLOPS): Guizhou's intelligent computing less the sites carved out of it."""
        c = self.cap("cl_guian", "province_compute_eflops")
        guizhou: float = c["value"] * 1000 * 0.98
        return guizhou - sum(p for _, p in self.carved("cl_guian"))

    @staticmethod
    def addition_ends(rec: Record, key: str) -> tuple[float, float, float]:
        """Low, central and high value of an additions site's capacity figure ``key`` (ends default to central)."""
        mid = float(rec[key])
        return float(rec.get(f"{key}_low", mid)), mid, float(rec.get(f"{key}_high", mid))

    def addition_pflops(self, rec: Record) -> tuple[float, float, float]:
        """Low, central and high PFLOPS (dense FP16) of an additions site; cards count at the A100's rate."""
        key, per = ("peak_pflops", 1.0) if "peak_pflops" in rec else ("gpu_count", self.a100_tf / 1000)
        low, mid, high = self.addition_ends(rec, key)
        return low * per, mid * per, high * per

    def addition_site(self, sid: str, kind: str = "gpu_pool") -> Record:
        """The site of additions record ``sid``, its capacity range included (``ranged`` keeps it)."""
        rec, ref = self.add_site[sid], f"additions.toml {sid}"
        a100_tf, a100_w = self.a100_tf, self.a100_w
        low_p, mid_p, high_p = self.addition_pflops(rec)
        gpus, low, high = self.a100_eq(mid_p), self.a100_eq(low_p), self.a100_eq(high_p)
        if "peak_pflops" in rec:
            how = (f"{fmt(round(low_p))} / {fmt(round(mid_p))} / {fmt(round(high_p))} PFLOPS (low / central / high; "
                   f"{P_NOTE}) / {a100_tf / 1000} PFLOPS per A100-equivalent")
        else:
            low, gpus, high = (round(x) for x in self.addition_ends(rec, "gpu_count"))
            how = (f"{fmt(low)} / {fmt(gpus)} / {fmt(high)} cards (low / central / high), each counted as one "
                   f"A100-equivalent ({a100_tf} TFLOPS dense FP16; the models are not published)")
        clauses = [clause(f"derived: capacity range (additions): from the project's additions to shared/data "
                          f"(docs/data/additions.toml): "
                          f"{how} = {fmt(low)} / {fmt(gpus)} / {fmt(high)}; method: {rec['capacity_method']}; "
                          "not a published GPU count",
                          f"gpus = {gpus} (central), gpus_low = {low}, gpus_high = {high}")]
        for key in ("gpu_count", "peak_pflops"):
            for end in ("", "_low", "_high"):
                if f"{key}{end}_source" in rec:
                    unit = "cards" if key == "gpu_count" else "PFLOPS"
                    clauses.append(clause(rec[f"{key}{end}_source"],
                                          f"input to gpus: {key}{end} = {fmt(rec[key + end])} {unit} "
                                          f"(as of {rec['as_of']})", f"{ref}.{key}{end}_source"))
        clauses += [clause(rec["chips_source"], "sku = A100-equivalent, sku_speed = 1.0", f"{ref}.chips_source"),
                    self.a100_power, idle_clause(a100_w)]
        if "replaces" in rec:
            clauses.append(clause(rec["replaces_source"], f"replaces {rec['replaces']}", f"{ref}.replaces_source"))
        if "carved_out_of" in rec:
            clauses.append(clause(rec["carved_out_of_source"],
                                  f"subtracted from {rec['carved_out_of']}'s bound ({fmt(round(mid_p))} PFLOPS)",
                                  f"{ref}.carved_out_of_source"))
        site: Record = dict(id=sid, name=rec["name_en"], kind=kind, region=rec["province"])
        if "lat" in rec:
            site.update(lat=rec["lat"], lon=rec["lon"])
            clauses.append(clause(rec["location_source"], f"lat = {rec['lat']}, lon = {rec['lon']}",
                                  f"{ref}.location_source"))
        site.update(gpus=gpus, gpus_low=low, gpus_high=high, capacity_method=rec["capacity_method"],
                    sku="A100-equivalent (mix not published)", sku_speed=1.0, gpu_busy_w=float(a100_w),
                    gpu_idle_w=a100_w * IDLE_FRAC)
        if "pue_reported" in rec:
            site["pue"] = rec["pue_reported"]
            clauses.append(clause(rec["pue_reported_source"],
                                  f"pue = {rec['pue_reported']}, measured ({rec['pue_reported_year']}); preferred to "
                                  f"the target {rec['pue_target_max']}", f"{ref}.pue_reported_source"))
        if "pue_target_max" in rec:  # its clause is added with pue_target (_pue_target)
            site.setdefault("pue", rec["pue_target_max"])
        if "grid_of" in rec:
            g = self.cl.get(rec["grid_of"]) or self.hub[rec["grid_of"]]
            site.update(price_cny_per_kwh=g["price_cny_per_kwh"], carbon_kg_per_kwh=g["carbon_kg_per_kwh"])
            clauses += [clause(rec["grid_of_source"], f"price and carbon of {rec['grid_of']}", f"{ref}.grid_of_source"),
                        price_clause(g, rec["grid_of"], "edwc.toml"), carbon_clause(g, rec["grid_of"], "edwc.toml")]
        elif "price_cny_per_kwh" in rec:
            site.update(price_cny_per_kwh=rec["price_cny_per_kwh"], carbon_kg_per_kwh=rec["carbon_kg_per_kwh"])
            clauses += [clause(rec["price_source"], f"price_cny_per_kwh = {rec['price_cny_per_kwh']}",
                               f"{ref}.price_source"),
                        clause(rec["carbon_source"],
                               f"carbon_kg_per_kwh = {rec['carbon_kg_per_kwh']} ({rec['carbon_year']})",
                               f"{ref}.carbon_source")]
        site["source"] = join(*clauses, clause(NO_RENEW, "renewable_frac = 0"))
        return site

    def replaced_pool(self, placeholder: Record) -> Record:
        """The named pool ``placeholder`` as its additions record publishes it: capacity, name and sku from the
        record; location, power, PUE, price and carbon as the placeholder had them."""
        new = self.addition_site(placeholder["id"], placeholder["kind"])
        out: Record = {}
        for k, v in placeholder.items():
            out[k] = new["name"] if k == "name" else new.get(k, v) if k in ("gpus", "sku") else v
            if k == "gpus":
                out.update(gpus_low=new["gpus_low"], gpus_high=new["gpus_high"],
                           capacity_method=new["capacity_method"])
        mine = new["source"].split(" | ")
        theirs = placeholder["source"].split(" | ")
        out["source"] = join(*mine[:mine.index(self.a100_power)],
                             *(c for c in mine if c.startswith(self.add_site[placeholder["id"]]["replaces_source"])),
                             *theirs[theirs.index(self.a100_power):])
        return out

    def addition_links(self, nodes: dict[str, tuple[float, float]]) -> list[Record]:
        """The links of the additions file: measured (distance = latency x fibre speed) or access estimates."""
        out = []
        for ln in self.add_links:
            a, b = endpoint(ln["a"]), endpoint(ln["b"])
            if "one_way_latency_ms" not in ln:
                out.append(self.access(ln["id"], a, b, nodes, ln["note"], ln["bandwidth_class"]))
                continue
            ms = ln["one_way_latency_ms"]
            km = ms / FIBRE_MS_PER_KM
            bw = self.bw[ln["bandwidth_class"]]
            notes = [f"{ln[e]} modelled as {ENDPOINT[ln[e]]}: {ENDPOINT_WHY[ln[e]]}" for e in ("a", "b")
                     if ln[e] in ENDPOINT]
            source = join(
                clause(f"derived: distance_km = {ms:g} ms measured one-way / {FIBRE_MS_PER_KM} ms per km (5 us/km, "
                       f"links.toml latency_model) = {km:g} km, the route length that gives the measured latency "
                       f"(great circle {great_circle_km(*nodes[a], *nodes[b]):.0f} km); hop_ms = 0",
                       f"distance_km = {km:g}" + ("; " + "; ".join(notes) if notes else "")),
                clause(ln["one_way_latency_ms_source"], f"input to distance_km: {ms:g} ms one-way",
                       f"additions.toml {ln['id']}.one_way_latency_ms_source"),
                clause(bw["source"], f"bandwidth_gbps = {bw['default_gbps']} (default of bandwidth class {bw['id']})",
                       f"links.toml bandwidth_class {bw['id']}"))
            out.append(dict(id=ln["id"], a=a, b=b, distance_km=km, bandwidth_gbps=float(bw["default_gbps"]),
                            source=source))
        return out

    # -------------------------------------------------------------- edwc
    def edwc_sites(self) -> list[Record]:
        """The ten EDWC clusters, in the file order of edwc.toml."""
        sites = []
        a100_tf = self.a100_tf
        # Zhangjiakou
        c = self.cap("cl_zhangjiakou", "compute_intelligent_pflops")
        n, gpu_cl = self.pflops_derived(
            "cl_zhangjiakou", c, c["value"], "derived",
            "intelligent (AI) computing only; the 17,500 P general-purpose figure is not added (different precision)")
        zj = self.cl["cl_zhangjiakou"]
        sites.append(self.edwc_site("cl_zhangjiakou", n, gpu_cl, zj["renewable_share_frac"], clause(
            zj["renewable_share_source"],
            f"renewable_frac = {zj['renewable_share_frac']}: {zj['renewable_share_scope']} "
            f"({zj['renewable_share_year']}); green power bought by the data centres, on top of the Hebei grid factor "
            "(which ignores green-power contracts)",
            "edwc.toml cl_zhangjiakou.renewable_share_source")))
        # YRD demo zone: no capacity
        n = 1000
        sites.append(self.edwc_site("cl_yrd_demo", n, [clause(
            f"estimate: gpus = {fmt(n)} A100-equivalents, a placeholder: no public capacity figure was found for this "
            "cluster (edwc.toml capacity_note); sized at the 1,000-GPU pool class of seed 000 (China Mobile's "
            "1,000-GPU pool in Shanghai, ~58 km away)", f"gpus = {n}")]))
        # Wuhu
        c = self.cap("cl_wuhu", "platform_intelligent_pflops")
        n, gpu_cl = self.pflops_derived(
            "cl_wuhu", c, c["value"], "derived",
            "the platform aggregates 34 data centres, some outside Wuhu, so this is an upper bound for the cluster")
        sites.append(self.edwc_site("cl_wuhu", n, gpu_cl))
        # Shaoguan: energy
        c = self.cap("cl_shaoguan", "dc_electricity_twh")
        sg = self.cl["cl_shaoguan"]
        pue_sg = sg["pue_target_max"]
        kw_fac = c["value"] * 1e9 / 8760
        kw_it = kw_fac / pue_sg
        n = round(kw_it / (self.a100_w / 1000))
        sites.append(self.edwc_site("cl_shaoguan", n, [
            clause(f"estimate: gpus = {c['value']} TWh/year (2025 consumption of six data centres, a lower bound) / "
                   f"8,760 h = {kw_fac / 1000:.1f} MW facility power / PUE {pue_sg} = {kw_it / 1000:.1f} MW IT / "
                   f"{self.a100_w} W per A100-equivalent = {fmt(n)}; assumes all IT energy went to A100-class GPUs at "
                   "board power; the 500,000-rack figure is a plan and is not used", f"gpus = {n}"),
            self.cap_clause("cl_shaoguan", c, "input to gpus")],
            None, clause(sg["renewable_share_source"],
                         f"renewable_frac = 0 (not applied): the {sg['renewable_share_frac']} is the "
                         f"{sg['renewable_share_scope']}; that grid mix is already inside the Guangdong carbon factor, "
                         "so applying it as the site's carbon-free share would count it twice",
                         "edwc.toml cl_shaoguan.renewable_share_source")))
        # Tianfu: provincial target
        c = self.cap("cl_tianfu", "province_compute_target_pflops")
        n, gpu_cl = self.pflops_derived(
            "cl_tianfu", c, c["value"], "estimate",
            "Sichuan's province-wide 2027 target for all computing, taken as the cluster's capacity: an upper bound, "
            "not current capacity")
        tf = self.cl["cl_tianfu"]
        sites.append(self.edwc_site("cl_tianfu", n, gpu_cl, None, clause(
            tf["renewable_share_source"],
            f"renewable_frac = 0 (not applied): the {tf['renewable_share_frac']} is the {tf['renewable_share_scope']}; "
            f"that grid mix is already inside the Sichuan carbon factor ({tf['carbon_kg_per_kwh']}), so applying it "
            "again would count it twice",
            "edwc.toml cl_tianfu.renewable_share_source")))
        # Chongqing: racks x national intelligent density
        c = self.cap("cl_chongqing", "racks_in_use")
        nat_ef, nat_racks = self.nat["cn_intelligent_compute_eflops_2025h1"], self.nat["cn_racks_standard_2025h1"]
        per_rack_tf = nat_ef["value"] * 1e6 / nat_racks["value"]
        n = round(c["value"] * per_rack_tf / a100_tf)
        sites.append(self.edwc_site("cl_chongqing", n, [
            clause(f"estimate: gpus = {fmt(c['value'])} racks (city-wide, 2020) x {per_rack_tf:.1f} TFLOPS FP16 of "
                   f"intelligent computing per rack (national mean, mid-2025: {nat_ef['value']} EFLOPS / "
                   f"{nat_racks['value'] / 1e6:g} M racks) / {a100_tf} TFLOPS per A100-equivalent = {fmt(n)}; "
                   "mixes a 2020 rack count with a 2025 national density", f"gpus = {n}"),
            self.cap_clause("cl_chongqing", c, "input to gpus"),
            clause(nat_ef["source"], f"input to gpus: {nat_ef['value']} {nat_ef['unit']}",
                   "edwc.toml national_figure cn_intelligent_compute_eflops_2025h1"),
            clause(nat_racks["source"], f"input to gpus: {fmt(nat_racks['value'])} {nat_racks['unit']}",
                   "edwc.toml national_figure cn_racks_standard_2025h1")]))
        # Horinger: Inner Mongolia intelligent minus Hohhot
        c = self.cap("cl_horinger", "compute_total_pflops")
        hoh = self.gc["gpu_cm_hohhot"]
        intel = 116000
        assert "116,000 P" in c["unit"]
        hoh_p = round(hoh["peak_eflops"] * 1000)
        n = self.a100_eq(intel - hoh_p)
        hr = self.cl["cl_horinger"]
        sites.append(self.edwc_site("cl_horinger", n, [
            clause(f"estimate: gpus = ({fmt(intel)} P intelligent computing of all Inner Mongolia - {fmt(hoh_p)} P of "
                   "China Mobile's Hohhot centre, which sits inside this cluster and is modelled as gpu_cm_hohhot in "
                   f"the gpu_clusters network) / {a100_tf / 1000} PFLOPS per A100-equivalent = {fmt(n)} ({P_NOTE}); "
                   "a province-wide figure taken as the cluster's, so an upper bound; the 150,000 racks of Horinger "
                   "New Area are not used", f"gpus = {n}"),
            self.cap_clause("cl_horinger", c, "input to gpus"),
            clause(hoh["peak_eflops_source"], f"input to gpus: Hohhot centre {hoh['peak_eflops']} EFLOPS, subtracted",
                   "gpu_clusters.toml gpu_cm_hohhot.peak_eflops_source")],
            hr["renewable_share_frac"], clause(
                hr["renewable_share_source"],
                f"renewable_frac = {hr['renewable_share_frac']}: {hr['renewable_share_scope']} "
                f"({hr['renewable_share_year']}), on top of the provincial grid factor",
                "edwc.toml cl_horinger.renewable_share_source")))
        # Gui'an: Guizhou 85 EFLOPS x 0.98 intelligent
        c = self.cap("cl_guian", "province_compute_eflops")
        intel_p = self.guian_bound_pflops()
        n = self.a100_eq(intel_p)
        carved = "".join(f" - {fmt(round(p))} PFLOPS of {sid} (carved out: {self.add_site[sid]['name_en']}, modelled "
                         "as its own site)" for sid, p in self.carved("cl_guian"))
        sites.append(self.edwc_site("cl_guian", n, [
            clause(f"estimate: gpus = ({c['value']} EFLOPS (all Guizhou) x 0.98 intelligent share ('over 98%')"
                   f"{carved}) = {fmt(round(intel_p))} PFLOPS ({P_NOTE}) / {a100_tf / 1000} PFLOPS per "
                   f"A100-equivalent = {fmt(n)}; a province-wide figure taken as the cluster's, so an upper bound",
                   f"gpus = {n}"),
            self.cap_clause("cl_guian", c, "input to gpus"),
            *(clause(self.add_site[sid]["carved_out_of_source"], f"input to gpus: {sid} subtracted",
                     f"additions.toml {sid}.carved_out_of_source") for sid, _ in self.carved("cl_guian"))]))
        # Qingyang
        c = self.cap("cl_qingyang", "compute_intelligent_pflops", 100000)
        n, gpu_cl = self.pflops_derived("cl_qingyang", c, c["value"], "derived",
                                        "the end-2025 lower bound; the 51,000 P of end-2024 is not added")
        sites.append(self.edwc_site("cl_qingyang", n, gpu_cl))
        # Zhongwei
        c = self.cap("cl_zhongwei", "compute_total_pflops")
        n, gpu_cl = self.pflops_derived(
            "cl_zhongwei", c, c["value"], "derived",
            "the figure is total computing (its intelligent share is not published), so an upper bound for AI "
            "capacity; the 820,000-rack project is a plan and is not used")
        sites.append(self.edwc_site("cl_zhongwei", n, gpu_cl))
        assert [s["id"] for s in sites] == self.cluster_order  # file order of edwc.toml
        return sites

    def edwc(self) -> NetworkRecords:
        """The ``edwc`` network: clusters, eastern demand regions and EDWC links."""
        sites = self.edwc_sites()
        for rid in EAST_REGIONS:
            h = self.hub[self.reg[rid]["served_by_hub"]]
            assert h["role"] == "east"
            assert (h["lat"], h["lon"]) == (self.reg[rid]["lat"], self.reg[rid]["lon"]), rid
        regions = [self.region(r) for r in EAST_REGIONS]
        nodes = nodes_of(sites, regions)
        links = [self.links_toml(lid, nodes) for lid in EDWC_LINKS]
        links.append(self.access(
            "A_chengyu_tianfu", "dr_cn_chengyu", "cl_tianfu", nodes,
            "access link added so the Chengdu-Chongqing region reaches a cluster (links.toml has only hub-to-hub links "
            "for hub_chengyu); Chengdu is the point of both the region and cl_tianfu"))
        return NetworkRecords(sites, regions, links)

    # -------------------------------------------------------------- gpu_clusters
    def gpu_sites(self) -> list[Record]:
        """China Mobile's large GPU centres and named 1,000-GPU pools."""
        sites = []
        a100_tf, a100_w = self.a100_tf, self.a100_w
        hoh, hr = self.gc["gpu_cm_hohhot"], self.cl["cl_horinger"]
        # Harbin
        h = self.gc["gpu_cm_harbin"]
        speed = round(h["per_card_tflops_fp16_implied"] / a100_tf, 3)
        asc = self.sku["huawei_ascend_910"]
        busy = float(asc["board_power_w"])
        pue, pue_cl = self.pue_national("Harbin lies outside the eight hubs")
        price, price_cl = mid_price()
        sites.append(dict(
            id="gpu_cm_harbin", name=h["name_en"], kind="gpu_pool", region=h["province"], lat=h["lat"], lon=h["lon"],
            gpus=h["gpu_count"], sku="domestic AI accelerator (model not named)", sku_speed=speed, gpu_busy_w=busy,
            gpu_idle_w=busy * IDLE_FRAC, pue=pue, price_cny_per_kwh=price, carbon_kg_per_kwh=h["carbon_kg_per_kwh"],
            source=join(
                clause(h["gpu_count_source"], f"gpus = {h['gpu_count']} (published card count)",
                       "gpu_clusters.toml gpu_cm_harbin.gpu_count_source"),
                clause(f"derived: sku_speed = {h['per_card_tflops_fp16_implied']} TFLOPS FP16 per card / {a100_tf} "
                       f"TFLOPS (A100 dense FP16) = {speed}; whether the 6.93 EFLOPS is dense is not stated",
                       f"sku_speed = {speed}"),
                clause(h["per_card_tflops_fp16_implied_source"],
                       f"input to sku_speed: {h['per_card_tflops_fp16_implied']} TFLOPS FP16 per card",
                       "gpu_clusters.toml gpu_cm_harbin.per_card_tflops_fp16_implied_source"),
                clause(h["peak_eflops_fp16_source"], f"input to sku_speed: {h['peak_eflops_fp16']} EFLOPS FP16",
                       "gpu_clusters.toml gpu_cm_harbin.peak_eflops_fp16_source"),
                clause(h["gpu_sku_class_source"], f"sku: {h['gpu_sku_class']}",
                       "gpu_clusters.toml gpu_cm_harbin.gpu_sku_class_source"),
                clause(f"estimate: gpu_busy_w = {busy:g} W, the published maximum power of Huawei's Ascend 910 (the "
                       "only domestic accelerator with a board power in gpu_clusters.toml) used as a proxy: Harbin's "
                       "chip model is not named", f"gpu_busy_w = {busy:g}"),
                clause(asc["peak_source"], f"input to gpu_busy_w: Ascend 910 maximum {asc['board_power_w']} W",
                       "gpu_clusters.toml gpu_sku huawei_ascend_910.peak_source"),
                idle_clause(busy), loc_clause(h, "gpu_cm_harbin", "gpu_clusters.toml"), pue_cl, price_cl,
                carbon_clause(h, "gpu_cm_harbin", "gpu_clusters.toml"), clause(NO_RENEW, "renewable_frac = 0"))))
        # Hohhot
        n = self.a100_eq(hoh["peak_eflops"] * 1000)
        assert n >= hoh["gpu_count_min"]
        sites.append(dict(
            id="gpu_cm_hohhot", name=hoh["name_en"], kind="gpu_pool", region=hoh["province"], lat=hoh["lat"],
            lon=hoh["lon"], gpus=n, sku="A100-equivalent (mixed fleet, models not named)", sku_speed=1.0,
            gpu_busy_w=float(a100_w), gpu_idle_w=a100_w * IDLE_FRAC, pue=hoh["pue_reported"],
            price_cny_per_kwh=hr["price_cny_per_kwh"], carbon_kg_per_kwh=hoh["carbon_kg_per_kwh"],
            renewable_frac=hr["renewable_share_frac"],
            source=join(
                clause(f"derived: gpus = {fmt(round(hoh['peak_eflops'] * 1000))} PFLOPS (precision not stated; FP16 "
                       f"assumed by analogy with Harbin, as gpu_clusters.toml does) / {a100_tf / 1000} PFLOPS per "
                       f"A100-equivalent = {fmt(n)} A100-equivalents, consistent with the published '10,000+ GPUs'",
                       f"gpus = {n}"),
                clause(hoh["peak_eflops_source"], f"input to gpus: {hoh['peak_eflops']} EFLOPS",
                       "gpu_clusters.toml gpu_cm_hohhot.peak_eflops_source"),
                clause(hoh["gpu_count_min_source"], f"check on gpus: at least {fmt(hoh['gpu_count_min'])} GPUs",
                       "gpu_clusters.toml gpu_cm_hohhot.gpu_count_min_source"),
                self.sku_a100eq, self.a100_power, idle_clause(a100_w),
                loc_clause(hoh, "gpu_cm_hohhot", "gpu_clusters.toml"),
                clause(hoh["pue_reported_source"],
                       f"pue = {hoh['pue_reported']}, reported for building B07 (one building; 'as low as')",
                       "gpu_clusters.toml gpu_cm_hohhot.pue_reported_source"),
                clause(hr["price_source"],
                       f"price_cny_per_kwh = {hr['price_cny_per_kwh']} ({hr['price_year']}, Inner Mongolia; the Hohhot "
                       "centre sits inside cl_horinger)", "edwc.toml cl_horinger.price_source"),
                carbon_clause(hoh, "gpu_cm_hohhot", "gpu_clusters.toml"),
                clause(hr["renewable_share_source"],
                       f"renewable_frac = {hr['renewable_share_frac']}: {hr['renewable_share_scope']}, applied to this "
                       "centre inside the cluster", "edwc.toml cl_horinger.renewable_share_source"))))
        # Named 1,000-GPU pools
        pools = self.gc["gpu_cm_pools_1000"]
        for pid, hub_id in [("gpu_cm_pool_beijing", "hub_bth"), ("gpu_cm_pool_shanghai", "hub_yrd"),
                            ("gpu_cm_pool_guangzhou", "hub_gba")]:
            p, hb = self.cmpool[pid], self.hub[hub_id]
            assert p["edwc_hub"] == hub_id
            pue, pue_cl = self.pue_hub(f"the pool is in the {hb['name_en']}")
            sites.append(dict(
                id=pid, name=f"China Mobile 1,000-GPU pool ({p['city']})", kind="gpu_pool", region=p["city"],
                lat=p["lat"], lon=p["lon"], gpus=1000, sku="A100-equivalent (model not published)", sku_speed=1.0,
                gpu_busy_w=float(a100_w), gpu_idle_w=a100_w * IDLE_FRAC, pue=pue,
                price_cny_per_kwh=hb["price_cny_per_kwh"], carbon_kg_per_kwh=hb["carbon_kg_per_kwh"],
                source=join(
                    clause("estimate: gpus = 1,000, the pool class of seed 000 ('twelve 1,000-GPU resource pools') "
                           "taken as this pool's size; exact sizes are not published, so the class is a lower bound",
                           "gpus = 1000"),
                    clause(pools["gpu_count_per_pool_min_source"], "input to gpus: 1,000-GPU class",
                           "gpu_clusters.toml gpu_cm_pools_1000.gpu_count_per_pool_min_source"),
                    clause(pools["named_cities_source"],
                           f"the pool exists: {p['city']} is one of the three named cities",
                           "gpu_clusters.toml gpu_cm_pools_1000.named_cities_source"),
                    clause("estimate: sku_speed = 1.0: the accelerator model is not published; counted as "
                           "A100-equivalents", "sku = A100-equivalent, sku_speed = 1.0"),
                    self.a100_power, idle_clause(a100_w), loc_clause(p, pid, "gpu_clusters.toml"), pue_cl,
                    clause(hb["price_source"],
                           f"price_cny_per_kwh = {hb['price_cny_per_kwh']} ({hb['price_year']}, {hub_id})",
                           f"edwc.toml {hub_id}.price_source"),
                    clause(hb["carbon_source"],
                           f"carbon_kg_per_kwh = {hb['carbon_kg_per_kwh']} ({hb['carbon_year']}, {hub_id})",
                           f"edwc.toml {hub_id}.carbon_source"),
                    clause(NO_RENEW, "renewable_frac = 0"))))
            if pid in self.add_site:  # a published size replaces the class placeholder
                sites[-1] = self.replaced_pool(sites[-1])
        # Wuhan
        w = self.gc["gpu_cm_wuhan"]
        n = self.a100_eq(w["peak_pflops"])
        pue, pue_cl = self.pue_national("Wuhan lies outside the eight hubs")
        price, price_cl = mid_price()
        sites.append(dict(
            id="gpu_cm_wuhan", name=w["name_en"], kind="gpu_pool", region=w["province"], lat=w["lat"], lon=w["lon"],
            gpus=n, sku="A100-equivalent (models not named)", sku_speed=1.0, gpu_busy_w=float(a100_w),
            gpu_idle_w=a100_w * IDLE_FRAC, pue=pue, price_cny_per_kwh=price, carbon_kg_per_kwh=w["carbon_kg_per_kwh"],
            source=join(
                clause(f"derived: gpus = {fmt(w['peak_pflops'])} PFLOPS built ({P_NOTE}) / {a100_tf / 1000} PFLOPS per "
                       f"A100-equivalent = {fmt(n)}; the planned {fmt(w['peak_pflops_planned'])} PFLOPS is not used; "
                       "not a published GPU count", f"gpus = {n}"),
                *self.wuhan_clauses(w),
                self.sku_a100eq, self.a100_power, idle_clause(a100_w),
                loc_clause(w, "gpu_cm_wuhan", "gpu_clusters.toml"),
                pue_cl, price_cl, carbon_clause(w, "gpu_cm_wuhan", "gpu_clusters.toml"),
                clause(NO_RENEW, "renewable_frac = 0"))))
        # Nanjing
        nj = self.gc["gpu_cm_nanjing"]
        n = self.a100_eq(nj["peak_eflops_general_plus_intelligent"] * 1000)
        pue, pue_cl = self.pue_hub("Nanjing is in the Yangtze River Delta hub's provinces, though not in a designated "
                                   "cluster")
        hy = self.hub["hub_yrd"]
        sites.append(dict(
            id="gpu_cm_nanjing", name=nj["name_en"], kind="gpu_pool", region=nj["province"], lat=nj["lat"],
            lon=nj["lon"], gpus=n, sku="A100-equivalent (models not named)", sku_speed=1.0, gpu_busy_w=float(a100_w),
            gpu_idle_w=a100_w * IDLE_FRAC, pue=pue, price_cny_per_kwh=hy["price_cny_per_kwh"],
            carbon_kg_per_kwh=nj["carbon_kg_per_kwh"],
            source=join(
                clause(f"derived: gpus = {nj['peak_eflops_general_plus_intelligent']} EFLOPS general plus intelligent "
                       "computing, all taken as dense FP16 AI compute (the split is not published) / "
                       f"{a100_tf} TFLOPS per A100-equivalent = {fmt(n)}: an upper bound; not a published GPU count",
                       f"gpus = {n}"),
                clause(nj["capacity_source"], f"input to gpus: {nj['peak_eflops_general_plus_intelligent']} EFLOPS",
                       "gpu_clusters.toml gpu_cm_nanjing.capacity_source"),
                self.sku_a100eq, self.a100_power, idle_clause(a100_w),
                loc_clause(nj, "gpu_cm_nanjing", "gpu_clusters.toml"), pue_cl,
                clause(hy["price_source"],
                       f"price_cny_per_kwh = {hy['price_cny_per_kwh']} ({hy['price_year']}, hub_yrd)",
                       "edwc.toml hub_yrd.price_source"),
                carbon_clause(nj, "gpu_cm_nanjing", "gpu_clusters.toml"), clause(NO_RENEW, "renewable_frac = 0"))))
        return sites

    def wuhan_clauses(self, w: Record) -> list[str]:
        """The clauses citing China Mobile Wuhan's built PFLOPS: shared/data's, or the amendment and the old figure."""
        amendment = self.amendments.get(("gpu_cm_wuhan", "peak_pflops"))
        if amendment is None:
            return [clause(w["peak_pflops_source"], f"input to gpus: {fmt(w['peak_pflops'])} PFLOPS built",
                           "gpu_clusters.toml gpu_cm_wuhan.peak_pflops_source")]
        return [clause(amendment["source"], f"input to gpus: {fmt(amendment['value'])} PFLOPS built (as of "
                                            f"{amendment['as_of']}; was {fmt(amendment['was'])})",
                       "additions.toml amendment gpu_cm_wuhan.peak_pflops"),
                clause(amendment["was_source"], f"superseded: {fmt(amendment['was'])} PFLOPS at the opening",
                       "gpu_clusters.toml gpu_cm_wuhan.peak_pflops_source")]

    def gpu_clusters(self) -> NetworkRecords:
        """The ``gpu_clusters`` network: GPU centres, their regions, backbone and access links."""
        sites = self.gpu_sites()
        regions = [self.region(r) for r in GPU_REGIONS]
        nodes = nodes_of(sites, regions)
        links = [self.links_toml(lid, nodes) for lid in GPU_LINKS]
        links += [
            self.access("A_bth_cm_pool_beijing", "dr_cn_bth", "gpu_cm_pool_beijing", nodes,
                        "access link from the Beijing-Tianjin-Hebei region to the Beijing pool"),
            self.access("A_yrd_cm_pool_shanghai", "dr_cn_yrd", "gpu_cm_pool_shanghai", nodes,
                        "access link from the Yangtze River Delta region to the Shanghai pool"),
            self.access("A_yrd_cm_nanjing", "dr_cn_yrd", "gpu_cm_nanjing", nodes,
                        "access link from the Yangtze River Delta region (Shanghai) to the Nanjing centre",
                        "backbone_400g"),
            self.access("A_guangdong_cm_pool_guangzhou", "dr_cn_guangdong", "gpu_cm_pool_guangzhou", nodes,
                        "access link from the Guangdong region to the Guangzhou pool"),
            self.access("A_central_cm_wuhan", "dr_cn_central", "gpu_cm_wuhan", nodes,
                        "access link from the Central China region (Wuhan) to the Wuhan centre"),
            self.access("A_northeast_cm_harbin", "dr_cn_northeast", "gpu_cm_harbin", nodes,
                        "access link from the Northeast region (Shenyang) to the Harbin centre", "backbone_400g"),
            self.access("A_northwest_cm_hohhot", "dr_cn_northwest", "gpu_cm_hohhot", nodes,
                        "access link from the Northwest region (Xi'an) to the Hohhot centre", "backbone_400g"),
            self.access("A_bth_cm_hohhot", "dr_cn_bth", "gpu_cm_hohhot", nodes,
                        "backbone link added so the network is connected (same end points as links.toml's "
                        "L_bth_horinger, whose cluster contains the Hohhot centre)", "backbone_400g"),
            self.access("A_cm_wuhan_nanjing", "gpu_cm_wuhan", "gpu_cm_nanjing", nodes,
                        "backbone link added so the network is connected (both are China Mobile regional centres)",
                        "backbone_400g"),
        ]
        return NetworkRecords(sites, regions, links)

    # -------------------------------------------------------------- belt_and_road
    def br_sites(self) -> list[Record]:
        """The Belt-and-Road regional pools: two in Xinjiang, five abroad."""
        sites = []
        a100_tf, a100_w = self.a100_tf, self.a100_w
        prc = self.pool["br_xj_changji"]
        w_tariff = price_est(0.40, "the upper end of the published western DC tariffs in edwc.toml (Gui'an 0.35, "
                                   "Zhongwei 0.36, Horinger 0.38, Qingyang ~0.40)")
        foreign_price = price_est(0.50, "no tariff for this country in shared/data; a neutral placeholder (cpnsim's "
                                        "schema default, between the western Chinese DC tariffs 0.35-0.40 and the "
                                        "eastern metro level 0.65)")
        for pid in ["br_xj_changji", "br_xj_hami_yiwu"]:
            p = self.pool[pid]
            n = self.a100_eq(p["compute_pflops"])
            pue, pue_cl = self.pue_national("Xinjiang is outside the eight hubs")
            if pid == "br_xj_changji":
                community = self.pool["br_cn_central_asia_community"]
                gpu_cl = [
                    clause(f"derived: gpus = {fmt(p['compute_pflops'])} PFLOPS ({P_NOTE}) / {a100_tf / 1000} PFLOPS "
                           f"per A100-equivalent = {fmt(n)}; the China-Central Asia computing community's 2000 P is "
                           "the same capacity and is modelled once, here (belt_and_road.toml anchor_note); the "
                           f"planned {fmt(p['compute_pflops_planned'])} PFLOPS is not used; not a published GPU count",
                           f"gpus = {n}"),
                    clause(p["compute_pflops_source"], f"input to gpus: {fmt(p['compute_pflops'])} PFLOPS",
                           f"belt_and_road.toml {pid}.compute_pflops_source"),
                    clause(community["compute_pflops_source"], "same capacity as the community's 2000 P (not added)",
                           "belt_and_road.toml br_cn_central_asia_community.compute_pflops_source")]
                res = residency_clause(p, pid)
            else:
                gpu_cl = [
                    clause(f"estimate: gpus = {fmt(p['compute_pflops'])} PFLOPS, the 'thousand-P' class of the centre "
                           f"lit in January 2025 (the class, not an exact figure; {P_NOTE}) / {a100_tf / 1000} PFLOPS "
                           f"per A100-equivalent = {fmt(n)}; the 128 P centre of 2024 is not added", f"gpus = {n}"),
                    clause(p["compute_pflops_source"], f"input to gpus: {fmt(p['compute_pflops'])} PFLOPS class",
                           f"belt_and_road.toml {pid}.compute_pflops_source")]
                res = residency_clause(prc, "br_xj_changji",
                                       "; copied from br_xj_changji, the other Xinjiang pool: belt_and_road.toml gives "
                                       "no note for this one, and the same PRC law applies")
            sites.append(dict(
                id=pid, name=p["name_en"], kind="regional_pool", region=f"{p['country']} ({p['province']})",
                lat=p["lat"], lon=p["lon"], gpus=n, sku="A100-equivalent (models not named)", sku_speed=1.0,
                gpu_busy_w=float(a100_w), gpu_idle_w=a100_w * IDLE_FRAC, pue=pue, price_cny_per_kwh=w_tariff[0],
                carbon_kg_per_kwh=p["carbon_kg_per_kwh"], residency=prc["data_residency"],
                source=join(*gpu_cl, self.sku_a100eq, self.a100_power, idle_clause(a100_w),
                            loc_clause(p, pid, "belt_and_road.toml"), pue_cl, w_tariff[1],
                            carbon_clause(p, pid, "belt_and_road.toml"), clause(NO_RENEW, "renewable_frac = 0"), res)))

        seed_br = self.ind["br_10000_card_clusters"]
        for pid, power_key, planned in [
            ("br_kz", "planned_power_mw", "planned: construction of the first 20 MW module from 2026"),
            ("br_sg", "power_mw", None), ("br_my_johor", "power_mw", None),
            ("br_sa_neom", "power_mw_phase1", "planned: phase 1 operational by 2028"),
            ("br_pk", "allocated_power_mw", None),
        ]:
            p = self.pool[pid]
            if pid == "br_sg":
                pue_cl = clause(p["pue_target_source"],
                                f"pue = {p['pue_target_max']}, the IMDA target (no reported PUE in shared/data)",
                                "belt_and_road.toml br_sg.pue_target_source")
                pue = p["pue_target_max"]
            else:
                pue = FOREIGN_PUE
                pue_cl = clause(f"estimate: pue = {FOREIGN_PUE}: no PUE for this pool in shared/data; the ceiling both "
                                "Singapore (IMDA) and China (new large DCs, 2025) set, used as a placeholder",
                                f"pue = {FOREIGN_PUE}")
            power_src = p.get(f"{power_key}_source") or p["power_mw_source"]
            if "renewable_share_frac" in p:
                renew = clause(p["renewable_share_source"],
                               f"renewable_frac = 0 (not applied): {p['renewable_share_frac']} is the country's "
                               "renewable share of generation, already inside the grid carbon factor",
                               f"belt_and_road.toml {pid}.renewable_share_source")
            else:
                renew = clause(NO_RENEW, "renewable_frac = 0")
            name = p["name_en"] + (f" ({planned})" if planned else "")
            sites.append(dict(
                id=pid, name=name, kind="regional_pool", region=p["country"], lat=p["lat"], lon=p["lon"],
                gpus=1000, sku="A100-equivalent (placeholder)", sku_speed=1.0, gpu_busy_w=float(a100_w),
                gpu_idle_w=a100_w * IDLE_FRAC, pue=pue, price_cny_per_kwh=foreign_price[0],
                carbon_kg_per_kwh=p["carbon_kg_per_kwh"], residency=p["data_residency"],
                source=join(
                    clause("estimate: gpus = 1,000 A100-equivalents, a placeholder at the 1,000-card scale: seed 001 "
                           "says only China has built 10,000-card clusters and few other Belt-and-Road countries have "
                           f"a 1,000-card cluster; this pool's published figure is power ({fmt(p[power_key])} MW, "
                           f"{power_key}), which needs an unpublished AI share to become a GPU count"
                           + (f"; {planned}" if planned else ""), "gpus = 1000"),
                    clause(seed_br["source"], f"input to gpus: '{seed_br['value_text']}'",
                           "belt_and_road.toml regional_indicator br_10000_card_clusters"),
                    clause(power_src, f"context, not converted: {power_key} = {fmt(p[power_key])} MW",
                           f"belt_and_road.toml {pid}.{power_key}_source"),
                    clause("estimate: sku_speed = 1.0: no accelerator model in shared/data; counted as "
                           "A100-equivalents", "sku = A100-equivalent, sku_speed = 1.0"),
                    self.a100_power, idle_clause(a100_w), loc_clause(p, pid, "belt_and_road.toml"), pue_cl,
                    foreign_price[1], carbon_clause(p, pid, "belt_and_road.toml"), renew, residency_clause(p, pid))))
        return sites

    def belt_and_road(self) -> NetworkRecords:
        """The ``belt_and_road`` network: pools, country regions, gateways and cross-border links."""
        sites = self.br_sites()
        for rid, pid in [("dr_kg", "br_kg"), ("dr_tj", "br_tj"), ("dr_kz", "br_kz"), ("dr_pk", "br_pk"),
                         ("dr_sg", "br_sg")]:
            assert (self.reg[rid]["lat"], self.reg[rid]["lon"]) == (self.pool[pid]["lat"], self.pool[pid]["lon"]), rid
        regions = [self.region(r) for r in BR_REGIONS] + [self.gateway(g) for g in GATEWAYS]
        nodes = nodes_of(sites, regions)
        links = [self.links_toml(lid, nodes) for lid in BR_LINKS]
        links += [
            self.access("A_kz_br_kz", "dr_kz", "br_kz", nodes,
                        "access link from Kazakhstan (Astana) to its national pool"),
            self.access("A_uz_urumqi", "dr_uz", "gw_urumqi", nodes,
                        "access link from Uzbekistan (Tashkent) to the Urumqi gateway: demand_regions.toml says dr_uz "
                        "is served by br_xj_changji; the cross-border route is not published",
                        "crossborder_terrestrial"),
            self.access("A_pk_br_pk", "dr_pk", "br_pk", nodes,
                        "access link from Pakistan (Karachi) to its national pool"),
            self.access("A_sa_neom", "dr_sa", "br_sa_neom", nodes,
                        "access link from Saudi Arabia (Riyadh) to the NEOM pool that serves it (demand_regions.toml "
                        "served_by)", "crossborder_terrestrial"),
            self.access("A_my_johor", "dr_my", "br_my_johor", nodes,
                        "access link from Malaysia (Kuala Lumpur) to the Johor pool that serves it "
                        "(demand_regions.toml served_by)", "backbone_400g"),
            self.access("A_sg_br_sg", "dr_sg", "br_sg", nodes, "access link from Singapore to its pool"),
        ]
        return NetworkRecords(sites, regions, links)

    def br_countries(self) -> dict[str, str]:
        """Node id -> ISO code for belt_and_road, read from the shared-data records' country names."""
        names = {pid: p["country"] for pid, p in self.pool.items() if "country" in p}
        names.update({gid: g["country"] for gid, g in self.gw.items()})
        names.update({rid: self.reg[rid]["name_en"] for rid in BR_REGIONS})
        return {node: COUNTRY_CODE[name] for node, name in names.items() if name in COUNTRY_CODE}

    # -------------------------------------------------------------- national
    def national(self, parts: Sequence[NetworkRecords]) -> NetworkRecords:
        """The ``national`` network: what ``parts`` do not have (two regions) and the links between them."""
        regions = [self.region("dr_cn_east_other"), self.region("dr_cn_southwest")]
        # New sites of the project's additions (docs/data/additions.toml); those replacing a placeholder are built
        # where the placeholder was.
        sites = [self.addition_site(sid) for sid, r in self.add_site.items() if "replaces" not in r]
        nodes = nodes_of([*(s for p in parts for s in p.sites), *sites],
                         [*(r for p in parts for r in p.regions), *regions])
        links = [self.links_toml(lid, nodes) for lid in NATIONAL_LINKS]
        links += [
            self.access("A_horinger_cm_hohhot", "cl_horinger", "gpu_cm_hohhot", nodes,
                        "joins the Hohhot centre to the Horinger cluster that contains it (gpu_clusters.toml "
                        "edwc_cluster = cl_horinger)"),
            self.access("A_east_other_bth", "dr_cn_east_other", "dr_cn_bth", nodes,
                        "access link from the other eastern provinces (Jinan) to the Beijing-Tianjin-Hebei hub",
                        "backbone_400g"),
            self.access("A_east_other_yrd", "dr_cn_east_other", "dr_cn_yrd", nodes,
                        "access link from the other eastern provinces (Jinan) to the Yangtze River Delta hub",
                        "backbone_400g"),
            self.access("A_southwest_guian", "dr_cn_southwest", "cl_guian", nodes,
                        "access link from the Southwest region (Guiyang) to the Gui'an cluster", "metro_dci"),
            *self.addition_links(nodes),
        ]
        used = {*EDWC_LINKS, *GPU_LINKS, *BR_LINKS, *NATIONAL_LINKS}
        assert used == set(self.link), set(self.link) - used
        return NetworkRecords(sites, regions, links)


# ------------------------------------------------------------------ capacity ranges and power (issue 17)
# Every site's capacity is a range: `gpus` (central), `gpus_low`, `gpus_high` and `capacity_method`.
# The rule applied to a site depends on what its published figure is (docs/model.md, "Capacity ranges"):
#   bound     the figure bounds the site from above (province-wide, platform, total computing, a target):
#             high = the figure; central = half, low = a quarter of it (the site's share is not published)
#   precision an installed figure for the site whose precision is not stated: high = central = the figure;
#             low = half (if its "P" counted sparse FP16, 2x dense, the dense capacity is half)
#   count     a published card count: low = central = high
#   floor     a published lower bound with a published target above it: low = central = the bound, high = target
#   class     a placeholder at a size class: low = central = the class, high as stated
#   energy    derived from energy: central = IT energy / (board + server overhead) per GPU; high = board power
#             only (all IT energy to accelerator boards); low = half of central (half the IT energy non-AI)
#   spread    an estimate from mixed-year or class figures: low = half, high = twice the central value
BOUND_CENTRAL, BOUND_LOW = 0.5, 0.25
CAP_RULE: dict[str, tuple[str, str]] = {
    "cl_zhangjiakou": ("precision", "installed (2025-06); site; precision not stated"),
    "cl_yrd_demo": ("class", "placeholder (no published capacity); site"),
    "cl_wuhu": ("bound", "installed (2025-09); platform of 34 data centres, some outside the cluster, so an upper "
                         "bound; precision not stated"),
    "cl_shaoguan": ("energy", "installed, from 2025 electricity of six data centres (a lower bound on consumption); "
                              "site"),
    "cl_tianfu": ("bound", "planned: Sichuan's province-wide 2027 target for all computing, an upper bound"),
    "cl_chongqing": ("spread", "installed, from 2020 city-wide racks x the 2025 national AI density per rack; "
                               "precision FP16 (national figure)"),
    "cl_horinger": ("bound", "installed (2025); province-wide (Inner Mongolia, less the Hohhot centre), an upper "
                             "bound; precision not stated"),
    "cl_guian": ("bound", "installed (2025-08); province-wide (Guizhou, 98 % intelligent), an upper bound; "
                          "precision not stated"),
    "cl_qingyang": ("floor", "installed (end-2025, a lower bound); site; precision not stated; high = the 2026 "
                             "target"),
    "cl_zhongwei": ("bound", "installed (2025); site, total computing of which the AI share is not published, an "
                             "upper bound; precision not stated"),
    "gpu_cm_harbin": ("count", "installed; site; published card count"),
    "gpu_cm_hohhot": ("hohhot", "installed; site; EFLOPS of unstated precision, at least 10,000 GPUs published"),
    "gpu_cm_pool_beijing": ("class", "placeholder at the published 1,000-GPU pool class (a lower bound); site"),
    "gpu_cm_pool_shanghai": ("class", "placeholder at the published 1,000-GPU pool class (a lower bound); site"),
    "gpu_cm_pool_guangzhou": ("class", "placeholder at the published 1,000-GPU pool class (a lower bound); site"),
    "gpu_cm_wuhan": ("precision", "installed (built part); site; precision not stated"),
    "gpu_cm_nanjing": ("bound", "installed; site, general plus intelligent computing (split not published), an "
                                "upper bound; precision not stated"),
    "br_xj_changji": ("precision", "installed; site; precision not stated"),
    "br_xj_hami_yiwu": ("spread", "installed; site; a 'thousand-P' size class, not an exact figure"),
    "br_kz": ("class", "placeholder at the 1,000-card class; planned (first module from 2026); published as power"),
    "br_sg": ("class", "placeholder at the 1,000-card class; country's data-centre power published, AI share not"),
    "br_my_johor": ("class", "placeholder at the 1,000-card class; state's data-centre power published, AI share not"),
    "br_sa_neom": ("class", "placeholder at the 1,000-card class; planned (phase 1 by 2028); published as power"),
    "br_pk": ("class", "placeholder at the 1,000-card class; power allocated to mining and AI, AI share not "
                       "published"),
}
CLASS_HIGH: dict[str, tuple[int, str]] = {
    "cl_yrd_demo": (10000, "estimate: gpus_high = 10,000, the 10,000-card class (seed 001: only China has built "
                           "10,000-card clusters); no capacity figure for this cluster was found"),
    "pool": (2000, "estimate: gpus_high = 2,000: a pool published as of the 1,000-GPU class is taken as at most twice "
                   "that (the next published class is 10,000)"),
    "abroad": (10000, "estimate: gpus_high = 10,000, the 10,000-card class (seed 001: only China has built "
                      "10,000-card clusters, few other Belt-and-Road countries a 1,000-card one); the published power "
                      "(MW) would allow more, but its AI share is not published"),
}
# Per-accelerator server overhead: CPU, memory, NICs, storage and fans of the server that holds it.
DGX_A100_MAX_W, DGX_A100_GPUS = 6500.0, 8
OVERHEAD_SRC = ("public knowledge: NVIDIA DGX A100 datasheet: system power 6.5 kW max with 8 A100 SXM4 at 400 W "
                "each")
SERVER_IDLE_FRAC = 0.5


def _cap_clause(rule: str, gpus: int, low: int, high: int, extra: str = "") -> str:
    """The clause giving a site's capacity range under ``rule``."""
    why = {
        "bound": f"the published figure bounds the site from above, so it is gpus_high; the site's share of it is not "
                 f"published: central = {BOUND_CENTRAL:g} x, low = {BOUND_LOW:g} x the bound",
        "precision": "the source does not state the precision: if its P counted sparse FP16 (2 x dense), the dense "
                     "capacity is half; low = half, high = the figure",
        "count": "a published card count: no range",
        "floor": "the published figure is a lower bound: low = central = it; high = the published next-year target",
        "class": "a placeholder at a published size class: low = central = the class",
        "energy": "central counts each GPU's server overhead in the IT power (as gpu_busy_w does); high = board power "
                  "only (every IT watt to accelerator boards); low = half of central (half the IT energy to non-AI "
                  "servers)",
        "spread": "an estimate from mixed-year or size-class figures: low = half, high = twice the central value",
        "hohhot": "low = the published minimum GPU count; high = central (the EFLOPS figure)",
    }[rule]
    prefix = "derived" if rule == "count" else "estimate"
    return clause(f"{prefix}: capacity range ({rule}): {why}" + (f"; {extra}" if extra else ""),
                  f"gpus = {gpus} (central), gpus_low = {low}, gpus_high = {high}")


def capacity_range(site: Record, builder: NetworkBuilder) -> Record:
    """``site`` with ``gpus_low``, ``gpus_high`` and ``capacity_method`` after ``gpus`` (rule :data:`CAP_RULE`).

    Under the ``bound`` and ``energy`` rules the central value replaces ``gpus`` and the clauses that
    derived the old ``gpus`` now give ``gpus_high``.
    """
    rule, method = CAP_RULE[site["id"]]
    g = site["gpus"]
    extra = ""
    src = site["source"]
    if rule == "bound":
        central, low, high = round(g * BOUND_CENTRAL), round(g * BOUND_LOW), g
        src = src.replace(f"=> gpus = {g}", f"=> gpus_high = {g}")
    elif rule == "energy":
        board = site["gpu_busy_w"]
        central = round(g * board / (board + DGX_OVERHEAD_W))
        low, high = round(central / 2), g
        src = src.replace(f"=> gpus = {g}", f"=> gpus_high = {g}")
        extra = f"central = {fmt(g)} x {board:g} W / ({board:g} + {DGX_OVERHEAD_W:g}) W = {fmt(central)}"
    elif rule == "precision":
        central, low, high = g, round(g / 2), g
    elif rule == "count":
        central, low, high = g, g, g
    elif rule == "floor":
        central, low, high = g, g, builder.a100_eq(150000)
        c = builder.cap(site["id"], "compute_intelligent_pflops", 100000)
        assert "2026 target above 150,000 PFLOPS" in c["source"], c["source"]
        extra = (f"high = 150,000 PFLOPS (2026 target) / {builder.a100_tf / 1000} PFLOPS per A100-equivalent = "
                 f"{fmt(high)}, from the same source: {c['source']}")
    elif rule == "class":
        key = site["id"] if site["id"] in CLASS_HIGH else ("pool" if site["kind"] == "gpu_pool" else "abroad")
        high, extra = CLASS_HIGH[key]
        central, low = g, g
    elif rule == "spread":
        central, low, high = g, round(g / 2), 2 * g
    else:  # hohhot
        gmin = builder.gc["gpu_cm_hohhot"]["gpu_count_min"]
        central, low, high = g, gmin, g
    out = with_after(site, "gpus_low", low, "gpus")
    out = with_after(out, "gpus_high", high, "gpus_low")
    out = with_after(out, "capacity_method", method, "gpus_high")
    out["gpus"] = central
    out["source"] = join(_cap_clause(rule, central, low, high, extra), src)
    return out


DGX_OVERHEAD_W = (DGX_A100_MAX_W - DGX_A100_GPUS * 400.0) / DGX_A100_GPUS  # 412.5 W


def with_power(site: Record, builder: NetworkBuilder) -> Record:
    """``site`` with its busy and idle IT power per GPU including server overhead, and its PUE target.

    ``gpu_busy_w`` becomes board power + :data:`DGX_OVERHEAD_W`; ``gpu_idle_w`` the board's idle
    power + :data:`SERVER_IDLE_FRAC` of the overhead; ``board_power_w`` and ``server_overhead_w``
    record the split.  ``pue_target`` is the site's policy target where there is one.
    """
    board, idle = site["gpu_busy_w"], site["gpu_idle_w"]
    busy, idle_it = board + DGX_OVERHEAD_W, idle + DGX_OVERHEAD_W * SERVER_IDLE_FRAC
    out = dict(site, gpu_busy_w=busy, gpu_idle_w=idle_it)
    out = with_after(out, "board_power_w", board, "gpu_idle_w")
    out = with_after(out, "server_overhead_w", DGX_OVERHEAD_W, "board_power_w")
    target = _pue_target(site, builder)
    if target is not None:
        out = with_after(out, "pue_target", target[0], "pue")
    power = clause(
        f"derived: server overhead per accelerator = ({DGX_A100_MAX_W:g} W DGX A100 maximum - {DGX_A100_GPUS} x "
        f"400 W boards) / {DGX_A100_GPUS} = {DGX_OVERHEAD_W:g} W (CPU, memory, network, storage, fans), applied to "
        "every accelerator of the site (server models are not published; an estimate outside DGX-class servers); "
        f"from {OVERHEAD_SRC}",
        f"server_overhead_w = {DGX_OVERHEAD_W:g}, board_power_w = {board:g}, gpu_busy_w = {busy:g}")
    idle_cl = clause(
        f"estimate: an idle server draws about {SERVER_IDLE_FRAC:.0%} of its peak (typical of dual-socket servers' "
        "idle-to-peak ratio; not a published figure for these sites), applied to the overhead",
        f"gpu_idle_w = {idle:g} (board idle) + {DGX_OVERHEAD_W * SERVER_IDLE_FRAC:g} = {idle_it:g}")
    out["source"] = join(out["source"], power, idle_cl, *([target[1]] if target else []))
    return out


def _pue_target(site: Record, builder: NetworkBuilder) -> tuple[float, str] | None:
    """The policy PUE target of ``site`` and its clause, or ``None`` where none applies (abroad, no target)."""
    sid = site["id"]
    if sid in builder.add_site and "pue_target_max" in builder.add_site[sid]:
        rec = builder.add_site[sid]
        value = rec["pue_target_max"]
        pue = "" if "pue_reported" in rec else f", pue = {value} (no measured PUE published)"
        return value, clause(rec["pue_target_source"], f"pue_target = {value}{pue}",
                             f"additions.toml {sid}.pue_target_source")
    if sid in builder.cl:
        c = builder.cl[sid]
        return c["pue_target_max"], clause(c["pue_target_source"], f"pue_target = {c['pue_target_max']}",
                                           f"edwc.toml {sid}.pue_target_source")
    if sid == "gpu_cm_hohhot":
        c = builder.cl["cl_horinger"]
        return c["pue_target_max"], clause(c["pue_target_source"],
                                           f"pue_target = {c['pue_target_max']} (the Horinger cluster's)",
                                           "edwc.toml cl_horinger.pue_target_source")
    if sid == "br_sg":
        p = builder.pool["br_sg"]
        return p["pue_target_max"], clause(p["pue_target_source"], f"pue_target = {p['pue_target_max']}",
                                           "belt_and_road.toml br_sg.pue_target_source")
    if site.get("country") not in (None, "CN") or site["region"] in ABROAD:
        return None
    nat = builder.nat_pue
    value = site["pue"]
    return value, clause(nat["source"], f"pue_target = {value} (the national target that gives this site's pue)",
                         "edwc.toml policy_target hub_pue_2025")


def ranged(records: NetworkRecords, builder: NetworkBuilder) -> NetworkRecords:
    """``records`` with every site's capacity range (:func:`capacity_range`) and power split (:func:`with_power`)."""
    return NetworkRecords([with_power(s if "gpus_low" in s else capacity_range(s, builder), builder)
                           for s in records.sites], records.regions, records.links)


# ------------------------------------------------------------------ published chip mixes (issue 17)
# Sites whose data say what their chips are get a `chips` mix (topology/chips.py), which the loader runs as one
# partition per SKU; every other site stays one pool of A100-equivalents (its sku says "mix not published").
CHIPS_TOML = Path(__file__).resolve().parents[2] / "topology" / "chips.toml"
HARBIN_SKU = "domestic_harbin_385tf"
GUIAN_DOMESTIC = 0.9
ASCEND_910B_W = 390.0
ASCEND_910B_W_WHY = (
    "estimate: board_power_w = 390 W for the Ascend 910B: no board power is published in a retrieved source "
    "(gpu_clusters.toml: the blog's 310 W repeats the 2019 Ascend 910's figure, so it is not used); the Ascend 910's "
    "published 310 W maximum at 256 TFLOPS FP16, scaled to the 910B's ~320 TFLOPS at the same energy per operation "
    "(both 7 nm-class parts of one design line), gives 310 x 320 / 256 = 387.5 W, rounded to 390 W; not a published "
    "figure")
CHIP_KEYS = ("sku", "sku_speed", "board_power_w", "gpu_busy_w")  # set per SKU by a mix (topology.model.Site)


def _retarget(src: str, old: str, new: str) -> str:
    """``src`` with the fields one clause gives (``=> old``) now ``=> new``; ``old`` must occur once."""
    assert src.count(f"=> {old}") == 1, (old, src)
    return src.replace(f"=> {old}", f"=> {new}")


def _drop_clauses(src: str, *clauses: str) -> str:
    """``src`` without the clauses ``clauses`` (each must be present)."""
    parts = src.split(" | ")
    for c in clauses:
        assert c in parts, c
    return join(*(p for p in parts if p not in clauses))


def _as_mix(site: Record, chips: list[Record], first: list[str], builder: NetworkBuilder) -> Record:
    """``site`` holding ``chips``: the per-SKU keys dropped, ``first`` clauses leading its source.

    The clauses that gave the A100-equivalent's speed and board power no longer apply; the
    server-overhead clause keeps its overhead and hands board and busy power to the SKUs.
    """
    out = {k: v for k, v in site.items() if k not in CHIP_KEYS and k != "timeline"}
    assert "timeline" not in site, site["id"]  # a mixed site cannot have a timeline (topology.model.Site)
    board, busy = site["board_power_w"], site["gpu_busy_w"]
    src = _retarget(site["source"], f"server_overhead_w = {DGX_OVERHEAD_W:g}, board_power_w = {board:g}, "
                                    f"gpu_busy_w = {busy:g}",
                    f"server_overhead_w = {DGX_OVERHEAD_W:g} (board_power_w and gpu_busy_w: per SKU of chips)")
    if builder.sku_a100eq in src.split(" | "):
        src = _drop_clauses(src, builder.sku_a100eq, builder.a100_power)
    head, *rest = src.split(" | ")
    # The first clause stays the one giving gpus (a network file's convention), unless ``first`` gives them.
    out["source"] = join(*first, src) if "=> gpus = " in first[0] else join(head, *first, *rest)
    out["chips"] = chips
    return out


def _chip_catalogue() -> dict[str, Record]:
    """The SKUs of topology/chips.toml, by id."""
    return by_id(tomllib.loads(CHIPS_TOML.read_text(encoding="utf-8"))["sku"])


def guian_mix(site: Record, builder: NetworkBuilder) -> Record:
    """Gui'an (all Guizhou, ~90 % domestic chips) as 90 % of its compute on Ascend 910B and 10 % on A100.

    Every end of the capacity range keeps its compute (PFLOPS): the mix turns each into
    cards, so ``gpus``, ``gpus_low`` and ``gpus_high`` become card counts.
    """
    c = builder.cap("cl_guian", "province_compute_eflops")
    assert "~90% domestic chips" in c["source"], c["source"]
    b = builder.sku["huawei_ascend_910b"]
    b_tf, a_tf = b["peak_fp16_tflops_dense"], builder.a100_tf
    high_p = builder.guian_bound_pflops()  # PFLOPS, the range's high end (capacity_range, rule "bound")
    assert builder.a100_eq(high_p) == site["gpus_high"], site
    cards = {}
    for key, frac in (("gpus", BOUND_CENTRAL), ("gpus_low", BOUND_LOW), ("gpus_high", 1.0)):
        pflops = high_p * frac
        cards[key] = (pflops, round(pflops * 1000 * GUIAN_DOMESTIC / b_tf),
                      round(pflops * 1000 * (1 - GUIAN_DOMESTIC) / a_tf))
    p, n_b, n_a = cards["gpus"]
    sums = {k: v[1] + v[2] for k, v in cards.items()}
    terms = "; ".join(f"{k.replace('gpus', 'central') if k == 'gpus' else k.removeprefix('gpus_')} "
                      f"({fmt(round(v[0]))} PFLOPS): {fmt(v[1])} + {fmt(v[2])} = {fmt(sums[k])}"
                      for k, v in cards.items())
    lead = [
        clause(f"derived: chips, the published mix: Guizhou's computing is '~90% domestic chips' with no models named; "
               f"read as {GUIAN_DOMESTIC:.0%} of each end's compute on Huawei Ascend 910B ({b_tf} TFLOPS dense FP16, "
               "the current domestic accelerator of the catalogue with a published FP16 peak; the 2019 Ascend 910 is "
               f"its predecessor) and {1 - GUIAN_DOMESTIC:.0%} on A100 ({a_tf} TFLOPS, the reference GPU standing for "
               f"the imported rest): central {fmt(round(p))} PFLOPS = {GUIAN_DOMESTIC} x {fmt(round(p * 1000))} TFLOPS "
               f"/ {b_tf} = {fmt(n_b)} Ascend 910B + {1 - GUIAN_DOMESTIC:.1f} x {fmt(round(p * 1000))} / {a_tf} = "
               f"{fmt(n_a)} A100; Ascend 910B + A100 per end: {terms}; the share is read as a share of compute (the "
               "source does not say of what); cards, not A100-equivalents",
               f"gpus = {sums['gpus']} (central), gpus_low = {sums['gpus_low']}, gpus_high = {sums['gpus_high']}; "
               f"chips = {n_b} huawei_ascend_910b + {n_a} nvidia_a100_sxm4_80gb"),
        clause(c["source"], "input to chips: ~90 % domestic", "edwc.toml cl_guian.capacity province_compute_eflops"),
        clause(b["peak_source"], f"input to chips: Ascend 910B {b_tf} TFLOPS dense FP16",
               "gpu_clusters.toml gpu_sku huawei_ascend_910b.peak_source"),
    ]
    src = _retarget(site["source"], f"gpus = {site['gpus']} (central), gpus_low = {site['gpus_low']}, "
                                    f"gpus_high = {site['gpus_high']}",
                    f"input to chips: the range in A100-equivalents, central {site['gpus']}, low {site['gpus_low']}, "
                    f"high {site['gpus_high']}")
    src = _retarget(src, f"gpus_high = {site['gpus_high']}", f"input to chips: high end {fmt(round(high_p))} PFLOPS")
    src = join(src, clause(
        f"estimate: gpu_idle_w = {site['gpu_idle_w']:g} W for every card of the mix, the A100's (the site's one idle "
        f"figure applies to each partition); the 910B's {IDLE_FRAC:.0%} of {ASCEND_910B_W:g} W would be "
        f"{(400 - ASCEND_910B_W) * IDLE_FRAC:g} W less", f"gpu_idle_w = {site['gpu_idle_w']:g} (all partitions)"))
    out = _as_mix(dict(site, source=src), [
        dict(sku="huawei_ascend_910b", gpus=n_b, board_power_w=ASCEND_910B_W, source=ASCEND_910B_W_WHY),
        dict(sku="nvidia_a100_sxm4_80gb", gpus=n_a)], lead, builder)
    out.update(gpus=sums["gpus"], gpus_low=sums["gpus_low"], gpus_high=sums["gpus_high"])
    out["capacity_method"] = (f"{site['capacity_method']}; chips: {GUIAN_DOMESTIC:.0%} of the compute on Ascend 910B, "
                              "the rest A100, so the counts are cards")
    return out


def harbin_mix(site: Record, builder: NetworkBuilder) -> Record:
    """Harbin (18,000 domestic cards, model not named) as one mix entry of the catalogue's Harbin SKU."""
    h = builder.gc["gpu_cm_harbin"]
    sku = _chip_catalogue()[HARBIN_SKU]
    assert sku["tflops_fp16_dense"] == h["per_card_tflops_fp16_implied"], sku  # chips.toml copies the data's figure
    assert sku["board_power_w"] == site["board_power_w"], sku
    speed = round(h["per_card_tflops_fp16_implied"] / builder.a100_tf, 3)
    src = _retarget(site["source"], f"sku_speed = {speed}",
                    f"input to chips: {HARBIN_SKU}.tflops_fp16_dense = {h['per_card_tflops_fp16_implied']} "
                    "(topology/chips.toml), sku_speed = its ratio to the A100's")
    src = _retarget(src, f"gpu_busy_w = {site['board_power_w']:g}",
                    f"input to chips: {HARBIN_SKU}.board_power_w = {site['board_power_w']:g} (topology/chips.toml)")
    lead = [clause(f"derived: chips = {fmt(site['gpus'])} x {HARBIN_SKU}, the catalogue's SKU for Harbin's published "
                   f"cards (100 % domestic, model not named, {h['per_card_tflops_fp16_implied']} TFLOPS FP16 each): a "
                   "mix of one SKU keeps the site's id",
                   f"chips = {site['gpus']} {HARBIN_SKU}, all of gpus (published card count)")]
    return _as_mix(dict(site, source=src), [dict(sku=HARBIN_SKU, gpus=site["gpus"])], lead, builder)


CHIP_MIXES = {"cl_guian": guian_mix, "gpu_cm_harbin": harbin_mix}
"""Site id -> the function giving its published chip mix."""


def with_chip_mixes(records: NetworkRecords, builder: NetworkBuilder) -> NetworkRecords:
    """``records`` with the published chip mix of every site in :data:`CHIP_MIXES` (after :func:`ranged`)."""
    return NetworkRecords([CHIP_MIXES[s["id"]](s, builder) if s["id"] in CHIP_MIXES else s for s in records.sites],
                          records.regions, records.links)


# ------------------------------------------------------------------ capacity timelines (issue 14)
def capacity_timelines(builder: NetworkBuilder) -> dict[str, list[Record]]:
    """The published build-out: dated capacity levels of the sites that have more than one dated figure.

    Each level is a ``timeline`` step (``date``, ``gpus``, ``source``; read by
    ``sim.capacity_timeline``): GPUs (A100-equivalents, as ``gpus``) in force from 00:00 of
    ``date``.  A figure "as of end-YYYY" is in force from 1 January of the next year.  A
    site's ``gpus`` stays the figure a run without a calendar uses.
    """
    a100_tf = builder.a100_tf

    def level(pflops: float, day: str, *clauses: str) -> Record:
        n = builder.a100_eq(pflops)
        return dict(date=day, gpus=n, source=join(
            clause(f"derived: gpus = {fmt(pflops)} PFLOPS ({P_NOTE}) / {a100_tf / 1000} PFLOPS per A100-equivalent = "
                   f"{fmt(n)}, in force from {day}", f"timeline gpus = {n} from {day}"), *clauses))

    # Qingyang: 51,000 P at end-2024 and 100,000 P at end-2025 (both published), 150,000 P targeted for 2026.
    end24 = builder.cap("cl_qingyang", "compute_intelligent_pflops", 51000)
    end25 = builder.cap("cl_qingyang", "compute_intelligent_pflops", 100000)
    qingyang = [
        level(end24["value"], "2025-01-01", builder.cap_clause("cl_qingyang", end24, "timeline level (end-2024)")),
        level(end25["value"], "2026-01-01", builder.cap_clause("cl_qingyang", end25, "timeline level (end-2025)")),
        level(150000, "2027-01-01",
              clause("estimate: the 2026 target of the source below ('2026 target above 150,000 PFLOPS') is met by "
                     "end-2026; a plan, not a published installed figure", "timeline level (end-2026)"),
              builder.cap_clause("cl_qingyang", end25, "the 2026 target")),
    ]
    # Wuhan: 1,500 P built at the 8 January opening (2024), to reach 6,800 P by the end of that year.
    w = builder.gc["gpu_cm_wuhan"]
    amendment = builder.amendments.get(("gpu_cm_wuhan", "peak_pflops"))
    if amendment is None:
        wuhan_src = clause(w["peak_pflops_source"], "timeline levels",
                           "gpu_clusters.toml gpu_cm_wuhan.peak_pflops_source")
        wuhan = [
            level(w["peak_pflops"], "2024-01-08", wuhan_src),
            level(w["peak_pflops_planned"], "2025-01-01",
                  clause("estimate: the planned expansion to the source's year-end figure is met on time (end-2024)",
                         "timeline level (end-2024)"), wuhan_src),
        ]
    else:
        # The newer figure (additions.toml) replaces the plan: 1,500 P at the opening, 2,000 P as of May 2025.
        year, month = (int(x) for x in amendment["as_of"].split("-"))
        day = f"{year + month // 12}-{month % 12 + 1:02d}-01"
        wuhan = [
            level(amendment["was"], "2024-01-08", clause(amendment["was_source"], "timeline level (opening)",
                                                         "gpu_clusters.toml gpu_cm_wuhan.peak_pflops_source")),
            level(amendment["value"], day,
                  clause(f"estimate: a figure as of {amendment['as_of']} is in force from the first day of the next "
                         "month; the 6,800 P the opening report planned for end-2024 is not used (the 2025 figure "
                         "does not confirm it)", f"timeline level ({amendment['as_of']})"),
                  clause(amendment["source"], "timeline level", "additions.toml amendment gpu_cm_wuhan.peak_pflops")),
        ]
    return {"cl_qingyang": qingyang, "gpu_cm_wuhan": wuhan}


def with_timelines(records: NetworkRecords, builder: NetworkBuilder) -> NetworkRecords:
    """``records`` with each site of :func:`capacity_timelines` given its ``timeline`` (the last key)."""
    timelines = capacity_timelines(builder)
    sites = [{**s, "timeline": timelines[s["id"]]} if s["id"] in timelines else s for s in records.sites]
    return NetworkRecords(sites, records.regions, records.links)


# ------------------------------------------------------------------ route factor calibrated to CAICT (issue 17)
# links.toml estimates every unpublished route as great circle x 1.5 (the MIIT plan's ceiling, taken as typical).
# CAICT measured the optical-layer latency between the hub-cluster cities (Q1 2024): mean 9.7 ms, max 17.1 ms.
# Domestic estimated routes get the one route factor that makes the mean one-way latency over the 28 pairs of hub
# nodes 9.7 ms; the max is then a check, not a fit. Cross-border routes keep 1.5 (CAICT measured China only).
HUB_NODES = ["dr_cn_bth", "dr_cn_yrd", "dr_cn_guangdong", "dr_cn_chengyu", "cl_horinger", "cl_guian", "cl_qingyang",
             "cl_zhongwei"]
FIBRE_MS_PER_KM = 0.005
DOMESTIC_ZONES = {"east", "west", "other"}


def _hub_latencies_ms(built: dict[str, NetworkRecords], factor: float, domestic: set[str]) -> list[float]:
    """One-way shortest-path latency (ms) of every pair of :data:`HUB_NODES` with route factor ``factor``."""
    import itertools

    import networkx as nx

    nodes = {x["id"]: (x["lat"], x["lon"]) for r in built.values() for x in [*r.sites, *r.regions]}
    graph = nx.Graph()
    for r in built.values():
        for ln in r.links:
            if "distance_km" in ln:
                km = ln["distance_km"]
            else:
                km = great_circle_km(*nodes[ln["a"]], *nodes[ln["b"]]) * (factor if ln["id"] in domestic else 1.5)
            graph.add_edge(ln["a"], ln["b"], ms=km * FIBRE_MS_PER_KM)
    return [nx.shortest_path_length(graph, a, b, weight="ms") for a, b in itertools.combinations(HUB_NODES, 2)]


def calibrated_routes(built: dict[str, NetworkRecords], data: SharedData) -> dict[str, NetworkRecords]:
    """``built`` with ``route_factor`` on every domestic link whose route is estimated, fitted to CAICT's mean."""
    caict = by_id(data.links["latency_measurement"])["caict_2024q1_interhub_optical"]
    zone = {x["id"]: x["zone"] for r in built.values() for x in [*r.sites, *r.regions]}
    domestic = {ln["id"] for r in built.values() for ln in r.links
                if "distance_km" not in ln and {zone[ln["a"]], zone[ln["b"]]} <= DOMESTIC_ZONES}
    lo, hi = 1.0, 1.5
    for _ in range(60):  # bisection: the mean grows with the factor
        mid = (lo + hi) / 2
        ms = _hub_latencies_ms(built, mid, domestic)
        lo, hi = (mid, hi) if sum(ms) / len(ms) < caict["mean_ms"] else (lo, mid)
    factor = round((lo + hi) / 2, 3)
    ms = _hub_latencies_ms(built, factor, domestic)
    why = clause(
        f"derived: route_factor = {factor}: the one factor for domestic routes whose length is not published that "
        f"makes the mean one-way propagation latency between the 28 pairs of hub nodes {sum(ms) / len(ms):.2f} ms, "
        f"CAICT's measured mean {caict['mean_ms']} ms (optical layer, between hub-cluster cities, read as one-way); "
        f"the modelled max is then {max(ms):.2f} ms against CAICT's {caict['max_ms']} ms (a check, not fitted); "
        "replaces links.toml's great circle x 1.5; from " + caict["source"],
        f"route_factor = {factor}", "links.toml latency_measurement caict_2024q1_interhub_optical")
    out = {}
    for name, r in built.items():
        links = []
        for ln in r.links:
            if ln["id"] in domestic:
                ln = with_after(ln, "route_factor", factor, "b")
                ln["source"] = join(ln["source"], why)
            links.append(ln)
        out[name] = NetworkRecords(r.sites, r.regions, links)
    return out


def build_networks(data: SharedData) -> dict[str, NetworkRecords]:
    """The records of ``edwc``, ``gpu_clusters``, ``belt_and_road`` and ``national``, in that order."""
    data, amendments = amended(data)
    builder = NetworkBuilder(data, amendments)
    parts = {"edwc": builder.edwc(), "gpu_clusters": builder.gpu_clusters(), "belt_and_road": builder.belt_and_road()}
    built = {**parts, "national": builder.national(list(parts.values()))}
    out = calibrated_routes({name: zoned(with_chip_mixes(ranged(records, builder), builder))
                             for name, records in built.items()}, data)
    out["belt_and_road"] = with_countries(out["belt_and_road"], builder.br_countries())
    out = {name: with_timelines(records, builder) for name, records in out.items()}  # the published build-out
    return out


# ------------------------------------------------------------------ rendering
@dataclass(frozen=True)
class NetworkText:
    """The prose of one generated file: its description, first header lines and extra header lines."""

    description: str
    top: tuple[str, ...]
    extra_header: tuple[str, ...] = ()
    include: tuple[str, ...] = ()


NETWORKS = {
    "edwc": NetworkText(
        "East Data, West Computing: the 10 national data-centre clusters (capacity in A100-equivalents derived from "
        "published PFLOPS, racks or energy; see each source), the 4 eastern demand regions of the demand-side hubs "
        "(weight = 2020 population, millions) and the EDWC links of links.toml. The 8 hubs are groupings, not sites: "
        "capacity lives in the clusters; an east hub's links start at its demand region (same point), a west hub's at "
        "its cluster.",
        ("Built-in network `edwc`: East Data, West Computing (东数西算).",),
        ("", "cl_guian's bound (all Guizhou) excludes China Mobile's Guiyang centre, which the project's",
         "additions (docs/data/additions.toml) give and only `national` holds, as gpu_cm_guiyang: so",
         "`national` counts Guizhou once, and this network alone holds Guizhou less that centre.")),
    "gpu_clusters": NetworkText(
        "Large AI clusters: China Mobile's 10,000-GPU-class intelligent computing centres (Harbin, 18,000 cards; "
        "Hohhot, A100-equivalents of 6.7 EFLOPS), the three named 1,000-GPU pools (Beijing, Shanghai, Guangzhou) and "
        "the Wuhan and Nanjing centres, with the demand regions they sit in (weight = 2020 population, millions). The "
        "nine unnamed pools, the BaiChuan grid and DeepSeek's training cluster have no published location and are "
        "left out.",
        ("Built-in network `gpu_clusters`: large GPU / NPU clusters.",),
        ("", "Left out: the nine unnamed 1,000-GPU pools, the BaiChuan grid, China Mobile's totals and",
         "DeepSeek-V3's 2,048 H800 (no published location). gpu_cm_hohhot sits inside cl_horinger: the",
         "edwc network subtracts its 6.7 EFLOPS from Horinger so that `national` counts it once.")),
    "belt_and_road": NetworkText(
        "Belt-and-Road regional compute pools (Xinjiang Changji and Hami, Kazakhstan, Singapore, Johor, NEOM, "
        "Pakistan), 8 country demand regions (weight = population, millions) and the cross-border links of links.toml. "
        "Gateways (Urumqi, Rawalpindi, Hong Kong, Singapore, Karachi, Jeddah, Zafarana, Marseille) are modelled as "
        "regions with demand_weight = 0: transit nodes that originate no jobs, since the schema has only sites and "
        "regions as nodes. GPU counts outside China are placeholders of 1,000 A100-equivalents; data-residency tags "
        "are the data's public-knowledge notes (lower confidence).",
        ("Built-in network `belt_and_road`: Belt-and-Road regional compute pools and gateways.",),
        ("", "Left out: br_cn_central_asia_community (its 2000 P is the Changji centre's, modelled once at",
         "br_xj_changji); br_kg and br_tj (no published capacity: the links to them end at the demand",
         "regions dr_kg and dr_tj, at the same point); gw_khunjerab (a point on X_urumqi_rawalpindi, which",
         "is kept whole with its published 2,950 km); the four world-region aggregates of",
         "demand_regions.toml (no population, nominal plot points).",
         "country: the ISO 3166-1 alpha-2 code of the node's country in shared/data (a classification), read",
         "by the data-residency rules (topology/residency.toml). price_cny_per_gb: an estimate on every",
         "link, 0.9 CNY/GB across a border and 0.15 CNY/GB within a country (see each link's source).")),
    "national": NetworkText(
        "The national computing-power network: edwc, gpu_clusters and belt_and_road composed (include), joined by the "
        "links of links.toml between them (Beijing and Zhongwei to the Urumqi gateway, Hami to Chongqing, Guangdong to "
        "the Hong Kong gateway) and by the Hohhot centre's link to the Horinger cluster that contains it; plus the two "
        "Chinese demand regions no included network has (other eastern provinces, Southwest), so that the Chinese "
        "regions cover all 31 provinces, and the sites the project's sourced additions to shared/data give "
        "(docs/data/additions.toml: Shanxi and the rest of Hubei, each a province's AI compute as one site, and "
        "China Mobile's Guiyang centre, carved out of Gui'an) with their links. Gateways are zero-demand transit "
        "regions. GPU counts are A100-equivalents derived or estimated as each source says.",
        ("Built-in network `national`: edwc + gpu_clusters + belt_and_road, the links between them, and the sites",
         "of the project's additions to shared/data (docs/data/additions.toml)."),
        include=("edwc", "gpu_clusters", "belt_and_road")),
}
"""The generated networks, in the order they are built, and the prose of each file."""


def common_header(a100_tf: float) -> list[str]:
    """The header lines every generated file shares; ``a100_tf`` is the A100's dense FP16 TFLOPS."""
    return [
        "Every figure comes from /work/shared/data (edwc.toml, gpu_clusters.toml, belt_and_road.toml,",
        "links.toml, demand_regions.toml), from the project's sourced additions to it (docs/data/additions.toml,",
        "[additions.toml record.key]), or is an estimate or derivation whose method is stated.",
        "A record's `source` is a list of clauses separated by ' | '. Each clause is the shared-data",
        "source string, copied verbatim and so starting with one of its five prefixes (`seed ...`,",
        "`url: ...`, `public knowledge: ...`, `estimate: ...`, `derived: ...`), then '=>' and the",
        "fields it gives, then [file record.key] in shared/data. Clauses written here for a derivation",
        "or an estimate start with `derived:` or `estimate:`. A site's first clause is always its `gpus`.",
        "",
        "GPUs: published capacity is mostly PFLOPS of unstated precision, racks, energy or MW. It is",
        f"converted to A100-equivalents at {a100_tf} TFLOPS dense FP16 (A100 SXM4 peak) with sku_speed 1.0;",
        "these are NOT published GPU counts. `gpus` is the central estimate; `gpus_low`, `gpus_high` and",
        "`capacity_method` give the range and how it was read (installed vs planned, site vs province,",
        "precision stated or not; rules in build_networks.py, CAP_RULE). Power of an A100-equivalent: the",
        f"A100's 400 W board power (board_power_w) plus {DGX_OVERHEAD_W:g} W of server overhead (server_overhead_w,",
        f"from the DGX A100's 6.5 kW) = gpu_busy_w; idle: {IDLE_FRAC:.0%} of board power plus "
        f"{SERVER_IDLE_FRAC:.0%} of the overhead",
        "(estimates). pue is measured where published, else the target; pue_target keeps the target.",
        "Links: great circle x 1.5 unless links.toml has a published route length, except domestic routes,",
        "whose route_factor is fitted to CAICT's measured mean hub-to-hub latency (calibrated_routes);",
        "hop_ms = 0 (propagation only); bandwidth = the default of the",
        "link's bandwidth class in links.toml (modelling defaults, mostly estimates). Links with ids A_*",
        "are not in links.toml: access and connecting links added here, all estimates.",
        "renewable_frac is the share of a site's own energy that is carbon-free beyond the grid mix (the",
        "engine computes CO2 = energy x carbon_kg_per_kwh x (1 - renewable_frac)); grid-mix shares",
        "that the provincial or national carbon factor already contains are not applied.",
        "zone: the EDWC zone (east: a province of the four eastern hubs; west: Inner Mongolia, Guizhou,",
        "Gansu, Ningxia; other: elsewhere in China, or a demand region spanning zones; abroad), read",
        "from the site's hub role, province or country; a classification, not a figure.",
        "",
        "Generated from shared/data; shared demand regions are written identically in every network",
        "so that `national` can include them more than once.",
    ]


def render_network(name: str, text: NetworkText, records: NetworkRecords, data: SharedData) -> str:
    """The TOML file of network ``name``."""
    parts = [header([*text.top, "", *common_header(data.a100["peak_fp16_tflops_dense"]), *text.extra_header])]
    if text.include:
        parts.append(f"include = {toml_val(list(text.include))}\n")
    fibre = data.links["latency_model"]["fibre_us_per_km"]
    parts.append(f"name = {toml_str(name)}\ndescription = {toml_str(text.description)}\nfibre_us_per_km = {fibre}\n\n")
    parts += [table("site", s) + "\n" for s in records.sites]
    parts += [table("region", r) + "\n" for r in records.regions]
    parts += [table("link", ln) + "\n" for ln in records.links]
    return "".join(parts).rstrip("\n") + "\n"


def render_networks(data: SharedData, built: dict[str, NetworkRecords]) -> dict[str, str]:
    """File name (``<network>.toml``) -> content of every network ``built`` from ``data``."""
    return {f"{name}.toml": render_network(name, NETWORKS[name], built[name], data) for name in NETWORKS}


def gpu_totals(built: dict[str, NetworkRecords]) -> dict[str, int]:
    """GPUs (A100-equivalents and cards, summed) of every network; ``national``'s include its parts'."""
    totals = {name: sum(s["gpus"] for s in records.sites) for name, records in built.items()}
    totals["national"] += sum(v for k, v in totals.items() if k != "national")  # its own sites and its parts
    return totals


# ------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared-data", type=Path, default=repo.parent / "shared" / "data", metavar="DIR",
                        help="folder of the reference data (default: ../shared/data beside the repository)")
    parser.add_argument("--out", type=Path, default=repo / "topology" / "data", metavar="DIR",
                        help="folder the network files are written to (default: topology/data)")
    parser.add_argument("--additions", type=Path, default=ADDITIONS, metavar="FILE",
                        help="the project's sourced additions to the reference data "
                             "(default: docs/data/additions.toml)")
    parser.add_argument("--check", action="store_true",
                        help="compare the generated files with those in --out instead of writing them; "
                             "exit status 1 when any differs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate (or, with ``--check``, compare) the network files; print GPUs per network.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        Exit status: 0; 1 when ``--check`` found a file that differs or is missing; 2 when the
        additions file is malformed (one line naming the file and key on stderr, nothing written).
    """
    args = _parser().parse_args(argv)
    try:
        data = SharedData.read(args.shared_data, args.additions)
    except AdditionsError as exc:
        print(exc, file=sys.stderr)
        return 2
    built = build_networks(data)
    files = render_networks(data, built)
    if args.check:
        stale = [name for name, text in files.items()
                 if not (args.out / name).is_file() or (args.out / name).read_bytes() != text.encode("utf-8")]
        for name in stale:
            print(f"{args.out / name}: differs from what {args.shared_data} generates", file=sys.stderr)
        return 1 if stale else 0
    for name, text in files.items():
        write_atomic(args.out / name, text)
    for name, total in gpu_totals(built).items():
        print(name, total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
