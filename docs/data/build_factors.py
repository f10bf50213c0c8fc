"""Maintainer script: regenerate workloads/data/regional_factors.toml (demand-side adoption factors of
every demand region) from the regional indicators in ../shared/data.

    .venv/bin/python docs/data/build_factors.py                # rewrite workloads/data/regional_factors.toml
    .venv/bin/python docs/data/build_factors.py --check        # compare, write nothing (exit 1 if stale)
    .venv/bin/python docs/data/build_factors.py --out FILE --shared-data DIR

The mapping (docs/model.md, "Regional factors from data"): a demand factor f of region r is

    f_r = prod_i (x_i,r / x_i,ref) ** e_i

over the indicators i that shared/data gives for r and that feed f, where x_i,ref is a reference
measured the same way (same definition; the same date where the data allow it) and e_i the
indicator's elasticity (an estimate, stated with its range).  A factor with no indicator is 1
and is listed under the region's ``without_data``; indicators that shared/data holds but that
have no comparable reference are listed under ``unused`` with the reason.  Not part of the
package: tests/workloads/test_regional_factors.py checks that it regenerates the shipped file
byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEMAND_FACTORS", "INDICATORS", "Indicator", "build_factors", "main", "render"]

DEMAND_FACTORS = ("anticipated_benefits", "expected_costs", "social_impact", "facilitating_conditions")
ELASTICITY = 0.5
ELASTICITY_SOURCE = ("estimate: elasticity 0.5 of a demand factor to each indicator ratio (a region with half the "
                     "reference's indicator gets 0.71), not published; documented range 0.25-1 (docs/model.md)")
CN_KINDS = ("cn_metro_group", "cn_macro_region")
BR_KIND = "country"
# Which world region of shared/data's regional indicators each Belt-and-Road country belongs to.
SUBREGION = {"dr_kz": "Central and South Asia", "dr_kg": "Central and South Asia", "dr_tj": "Central and South Asia",
             "dr_uz": "Central and South Asia", "dr_pk": "Central and South Asia"}
SUBREGION_SOURCE = ("public knowledge: Kazakhstan, Kyrgyzstan, Tajikistan and Uzbekistan are Central Asian, "
                    "Pakistan South Asian (UN M49)")


@dataclass(frozen=True)
class Indicator:
    """One indicator that feeds a demand factor.

    Attributes
    ----------
    name : str
        Indicator key (as in shared/data).
    factor : str
        The demand factor it feeds.
    meaning : str
        Why this indicator stands for that factor.
    """

    name: str
    factor: str
    meaning: str


INDICATORS = (
    Indicator("fiveg_share_of_mobile_frac", "facilitating_conditions",
              "5G subscriptions as a share of mobile subscriptions: the network infrastructure that AI services "
              "reach users over (UTAUT facilitating conditions)"),
    Indicator("fixed_broadband_penetration_frac", "facilitating_conditions",
              "fixed broadband subscriptions per inhabitant: the infrastructure enterprises reach computing over"),
)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _cn_fiveg(regions: list[dict[str, Any]]) -> tuple[dict[str, tuple[float, str]], str]:
    """5G share per Chinese region over the population-weighted mean of the regions reported at the same date."""
    have = [r for r in regions if r.get("kind") in CN_KINDS and "fiveg_share_of_mobile_frac" in r]
    by_date: dict[str, list[dict[str, Any]]] = {}
    for r in have:
        by_date.setdefault(str(r["fiveg_as_of"]), []).append(r)
    out: dict[str, tuple[float, str]] = {}
    notes = []
    for date, group in sorted(by_date.items()):
        pop = sum(r["population_m"] for r in group)
        ref = sum(r["fiveg_share_of_mobile_frac"] * r["population_m"] for r in group) / pop
        ids = ", ".join(r["id"] for r in group)
        notes.append(f"{date}: {ids}")
        for r in group:
            x = r["fiveg_share_of_mobile_frac"]
            f = (x / ref) ** ELASTICITY
            out[r["id"]] = (f, f"fiveg_share_of_mobile_frac {x} ({date}, demand_regions.toml {r['id']}) / {_fmt(ref)} "
                               f"(population-weighted mean over the regions reported at the same date: {ids}) "
                               f"** {ELASTICITY}")
    reason = ("reference: the population-weighted mean of the Chinese regions that report the share at the same date "
              f"({'; '.join(notes)}); the national share (cn_national, 0.567) is 10 months later and would make "
              "every reporting region look worse")
    return out, reason


def _br_broadband(data: dict[str, Any], roads: dict[str, Any]) -> tuple[dict[str, tuple[float, str]], str]:
    """Fixed broadband penetration of a country's world region over China's."""
    cn = data["cn_national"]
    cn_pop_m = sum(r["population_m"] for r in data["region"] if r.get("kind") in CN_KINDS)
    ref = cn["fixed_broadband_users"] / (cn_pop_m * 1e6)
    values = {i["region"]: i for i in roads["regional_indicator"] if i["id"].startswith("fixed_broadband_penetration")}
    out: dict[str, tuple[float, str]] = {}
    for rid, sub in SUBREGION.items():
        ind = values[sub]
        x = ind["value_frac"]
        f = (x / ref) ** ELASTICITY
        out[rid] = (f, f"fixed_broadband_penetration_frac {x} ({sub}, {ind['year']}, belt_and_road.toml "
                       f"{ind['id']}) / {_fmt(ref)} (China: fixed_broadband_users {cn['fixed_broadband_users']} "
                       f"({cn['fixed_broadband_as_of']}) / {_fmt(cn_pop_m)} M residents, 2020 census) ** {ELASTICITY}")
    reason = ("reference: China's fixed broadband users per resident (cn_national.fixed_broadband_users over the "
              "census population of the nine Chinese regions); the countries' figures are their world region's")
    return out, reason


def build_factors(data: dict[str, Any], roads: dict[str, Any]) -> list[dict[str, Any]]:
    """Per demand region of shared/data: its four demand factors, their sources, ``without_data`` and ``unused``."""
    fiveg, _ = _cn_fiveg(data["region"])
    broadband, _ = _br_broadband(data, roads)
    rows = []
    for r in data["region"]:
        if r.get("kind") not in (*CN_KINDS, BR_KIND):
            continue  # world regions are plot points, not demand regions of a network
        contributions: dict[str, list[tuple[float, str]]] = {f: [] for f in DEMAND_FACTORS}
        if r["id"] in fiveg:
            contributions["facilitating_conditions"].append(fiveg[r["id"]])
        if r["id"] in broadband:
            contributions["facilitating_conditions"].append(broadband[r["id"]])
        unused = []
        if "talent_note" in r:
            unused.append("talent_note: a shortfall for this region only, with no comparable figure for any other "
                          "region or the nation")
        if "digital_economy_gdp_frac" in r:
            unused.append("digital_economy_gdp_frac: no comparable figure for any other region or for China in "
                          "shared/data")
        if r.get("kind") == BR_KIND:
            unused.append("rd_intensity (belt_and_road.toml rd_intensity_central_se_asia): an upper bound for "
                          "unnamed countries, not a figure of this one")
        row: dict[str, Any] = {"id": r["id"]}
        without = []
        for f in DEMAND_FACTORS:
            parts = contributions[f]
            value = 1.0
            for v, _ in parts:
                value *= v
            row[f] = round(value, 6)
            if parts:
                row[f"{f}_source"] = "derived: " + " x ".join(s for _, s in parts)
            else:
                row[f"{f}_source"] = "derived: no indicator in shared/data feeds this factor for this region: neutral 1"
                without.append(f)
        row["without_data"] = without
        row["unused"] = unused
        rows.append(row)
    return rows


def render(data: dict[str, Any], roads: dict[str, Any]) -> str:
    """The TOML text of regional_factors.toml."""
    _, fiveg_ref = _cn_fiveg(data["region"])
    _, bb_ref = _br_broadband(data, roads)
    lines = [
        "# Demand-side adoption factors per demand region, derived from the regional indicators in shared/data.",
        "# GENERATED by docs/data/build_factors.py: do not edit; rerun the script (docs/model.md,",
        "# \"Regional factors from data\"). f = prod_i (x_i / x_i,ref) ** elasticity; a factor without data is 1.",
        "",
        'schema_version = "1"',
        f"elasticity = {ELASTICITY}",
        f"elasticity_source = {json.dumps(ELASTICITY_SOURCE)}",
        f"subregion_source = {json.dumps(SUBREGION_SOURCE)}",
        "",
    ]
    refs = {"fiveg_share_of_mobile_frac": fiveg_ref, "fixed_broadband_penetration_frac": bb_ref}
    for ind in INDICATORS:
        lines += ["[[indicator]]", f"name = {json.dumps(ind.name)}", f"factor = {json.dumps(ind.factor)}",
                  f"meaning = {json.dumps(ind.meaning)}", f"reference = {json.dumps(refs[ind.name])}", ""]
    for row in build_factors(data, roads):
        lines.append("[[region]]")
        for key, value in row.items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        lines.append("")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared-data", type=Path, default=repo.parent / "shared" / "data", metavar="DIR",
                        help="folder of the reference data (default: ../shared/data beside the repository)")
    parser.add_argument("--out", type=Path, default=repo / "workloads" / "data" / "regional_factors.toml",
                        metavar="FILE", help="file written (default: workloads/data/regional_factors.toml)")
    parser.add_argument("--check", action="store_true",
                        help="compare with --out instead of writing it; exit status 1 when it differs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate (or, with ``--check``, compare) the regional factors file.

    Returns
    -------
    int
        Exit status: 0, or 1 when ``--check`` found the file stale or missing.
    """
    args = _parser().parse_args(argv)
    with open(args.shared_data / "demand_regions.toml", "rb") as f:
        data = tomllib.load(f)
    with open(args.shared_data / "belt_and_road.toml", "rb") as f:
        roads = tomllib.load(f)
    text = render(data, roads)
    if args.check:
        if not args.out.is_file() or args.out.read_bytes() != text.encode("utf-8"):
            print(f"{args.out}: differs from what {args.shared_data} generates", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
