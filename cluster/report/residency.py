"""Where each country's work ran under the data-residency rules, what was rejected for them and what moving it cost.

Read from the ``jobs`` table (``origin_country``, ``site_country``, ``reject_reason``,
``transfer_cny``; issue 18) and, when present, the ``adoption`` table (adoption at the
horizon per region).  One row per origin country other than China: per replication the
shares of the country's work (reference GPU-h of its jobs) placed at home, in China and
elsewhere, the share rejected for residency and the CNY its transfers cost (inputs and results
sent home, ``jobs.transfer_cny``); then the
mean over replications with its 95 % t-interval (:func:`cluster.report.stats.mean_ci`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa

from cluster.report.data import ReportData, scenario_rows
from cluster.report.page import Omitted, Section, table_html
from cluster.report.stats import fmt, mean_ci

__all__ = ["COUNTRY_METRICS", "country_summary", "residency_section"]

_NEEDED = {"origin", "origin_country", "site_country", "reject_reason", "work_gpu_h", "replication", "scenario_id"}

COUNTRY_METRICS: tuple[tuple[str, str], ...] = (
    ("local_frac", "served at home (%)"),
    ("china_frac", "served in China (%)"),
    ("elsewhere_frac", "served elsewhere (%)"),
    ("rejected_frac", "rejected for residency (%)"),
    ("transfer_cny", "transfer cost (CNY)"),
    ("adoption_end", "adopted at the horizon (%)"),
)
"""The per-country figures of :func:`country_summary`, with their table headings."""

_PERCENT = {"local_frac", "china_frac", "elsewhere_frac", "rejected_frac", "adoption_end"}


def _per_replication(jobs: pa.Table, adoption: pa.Table | None) -> dict[str, dict[str, list[float]]]:
    """country -> metric -> one value per replication (work shares in 1, CNY, adopted fraction)."""
    cols = {name: jobs.column(name).to_pylist() for name in _NEEDED | ({"transfer_cny"} & set(jobs.column_names))}
    cost = cols.get("transfer_cny") or [0.0] * jobs.num_rows
    work: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    region_country: dict[str, str] = {}
    for i in range(jobs.num_rows):
        origin = cols["origin_country"][i]
        if origin is None or origin == "CN":
            continue
        region_country[cols["origin"][i]] = origin
        acc = work[(origin, cols["replication"][i])]
        w = cols["work_gpu_h"][i]
        site = cols["site_country"][i]
        acc["total"] += w
        if cols["reject_reason"][i] == "residency":
            acc["rejected"] += w
        elif site == origin:
            acc["local"] += w
        elif site == "CN":
            acc["china"] += w
        elif site is not None:
            acc["elsewhere"] += w
        acc["transfer_cny"] += cost[i] or 0.0
    adopted = _adoption_end(adoption, region_country)
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (country, rep), acc in sorted(work.items()):
        total = acc["total"] or float("nan")
        for key in ("local", "china", "elsewhere", "rejected"):
            out[country][f"{key}_frac"].append(acc[key] / total)
        out[country]["transfer_cny"].append(acc["transfer_cny"])
        out[country]["adoption_end"].append(adopted.get((country, rep), float("nan")))
    return out


def _adoption_end(adoption: pa.Table | None, region_country: dict[str, str]) -> dict[tuple[str, int], float]:
    """(country, replication) -> enterprise-weighted adopted fraction at the last step of its regions."""
    if adoption is None or not {"region", "step", "adopted_frac", "enterprises"} <= set(adoption.column_names):
        return {}
    rows = adoption.select(["replication", "region", "step", "adopted_frac", "enterprises"]).to_pylist()
    last: dict[int, int] = {}
    for r in rows:
        last[r["replication"]] = max(last.get(r["replication"], -1), r["step"])
    sums: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        country = region_country.get(r["region"])
        if country is None or r["step"] != last[r["replication"]]:
            continue
        acc = sums[(country, r["replication"])]
        acc[0] += r["adopted_frac"] * r["enterprises"]
        acc[1] += r["enterprises"]
    return {key: a / e for key, (a, e) in sums.items() if e > 0}


def country_summary(jobs: pa.Table, adoption: pa.Table | None = None) -> dict[str, dict[str, tuple[float, float]]]:
    """Per origin country other than China: each of :data:`COUNTRY_METRICS` as ``(mean, 95 % half-width)``.

    ``jobs`` and ``adoption`` hold one scenario (any number of replications); the work shares
    are of the reference GPU-h of the country's recorded jobs (the whole table with
    ``jobs_sample = 1``, else the sample).
    """
    return {country: {key: mean_ci(np.asarray(values, float)) for key, values in metrics.items()}
            for country, metrics in sorted(_per_replication(jobs, adoption).items())}


def _cell(key: str, mean: float, half: float) -> str:
    scale = 100.0 if key in _PERCENT else 1.0
    text = fmt(mean * scale)
    return f"{text} ± {fmt(half * scale)}" if np.isfinite(half) else text


def residency_section(data: ReportData) -> Section | Omitted:
    """The table of :func:`country_summary` for the first scenario of the dataset."""
    title = "Data residency"
    if not data.has("jobs"):
        return Omitted(title, "the dataset has no jobs table (set jobs_sample to see where each country's work ran)")
    jobs = data.tables["jobs"]
    if not set(jobs.column_names) >= _NEEDED:
        return Omitted(title, "the jobs table has no country columns (written before data residency)")
    rows = [r for r in scenario_rows(data, ()) if r.status == "ok"] if data.has("runs") else []
    sid = rows[0].scenario_id if rows else jobs.column("scenario_id")[0].as_py()
    mask = np.asarray(jobs.column("scenario_id").to_pylist(), dtype=object) == sid
    adoption: Any = data.tables.get("adoption")
    if adoption is not None:
        adoption = adoption.filter(pa.array(np.asarray(adoption.column("scenario_id").to_pylist(), object) == sid))
    summary = country_summary(jobs.filter(pa.array(mask)), adoption)
    if not summary:
        return Omitted(title, "no job came from a country with a known code other than China")
    cells = [[country, *(_cell(k, *summary[country].get(k, (float("nan"), float("nan"))))
                         for k, _ in COUNTRY_METRICS)] for country in summary]
    table = table_html(["origin country", *(h for _, h in COUNTRY_METRICS)], cells,
                       [False, *([True] * len(COUNTRY_METRICS))],
                       caption="Work of each origin country by where it ran (shares of its reference GPU-h), "
                               "mean ± 95 % t-interval over replications")
    intro = ("Where the work of each origin country outside China ran under the data-residency rules "
             "(topology/residency.toml and the scenario's [residency]), the share rejected because the rules left "
             "no site, and what moving its data (inputs and results) cost over priced links.")
    return Section("residency", title, intro, (table,))
