"""Calibration: the model beside the published figures its network was built from (``calibration`` table)."""

from __future__ import annotations

import math

import numpy as np

from cluster.calibration_bands import band_counts, built_from
from cluster.report.data import ReportData
from cluster.report.page import Omitted, Section, table_html
from cluster.report.stats import mean_ci

__all__ = ["calibration_section"]


def _num(value: float) -> str:
    if not math.isfinite(value):
        return "∞" if value == math.inf else "–"
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.3g}"


def calibration_section(data: ReportData) -> Section | Omitted:
    """One row per published figure: model (mean ± 95 % CI over replications), published, band, within."""
    title = "Calibration"
    if not data.has("calibration"):
        return Omitted(title, "the dataset has no calibration table (only runs on a network with published "
                              "reference figures, the built-in edwc and national, write one)")
    rows = data.tables["calibration"].to_pylist()
    scenarios = sorted({str(r["scenario_id"]) for r in rows})
    shown = scenarios[0]
    by_figure: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        if r["scenario_id"] == shown:
            by_figure.setdefault(str(r["figure"]), []).append(r)
    cells, classes = [], []
    for figure_rows in by_figure.values():
        first = figure_rows[0]
        models = np.array([float(str(r["model"])) if r["model"] is not None else math.nan for r in figure_rows])
        mean, half = mean_ci(models)
        model = _num(mean) + (f" ± {_num(half)}" if math.isfinite(half) else "")
        judged = [r["within"] for r in figure_rows if r["within"] is not None]
        within = "–" if not judged else f"{sum(j is True for j in judged)} of {len(judged)}"
        cells.append([str(first["label"]), str(first["unit"]), model, _num(float(str(first["published"]))),
                      f"{_num(float(str(first['low'])))} – {_num(float(str(first['high'])))}", within,
                      "yes" if built_from(first) else "no", str(first["note"])])
        classes.append("" if judged and all(judged) else "failed")
    counts = band_counts(r for figure_rows in by_figure.values() for r in figure_rows)
    caption = (f"{counts.summary()}; by construction: the network was built from the figure (a capacity a site "
               "was sized from, the fitted latency mean, an upper bound equal to a site's high end), so its row "
               "tests nothing; model: mean ± 95 % CI over replications; within: replications whose value lies in "
               "the band" + (f"; scenario {shown} of {len(scenarios)}" if len(scenarios) > 1 else ""))
    table = table_html(("figure", "unit", "model", "published", "band", "within", "by construction",
                        "why they may differ"), cells,
                       (False, False, True, True, True, True, False, False), caption, classes)
    intro = ("Each published figure the network was built from, beside the model's value. Bands are published "
             "bounds (a target) or stated tolerances; sources are in the dataset's calibration table. Greyed rows "
             "lie outside their band or cannot be reproduced.")
    return Section("calibration", title, intro, (table,))
