"""Calibration: the model beside the published figures its network was built from (``calibration`` table)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cluster.report.data import ReportData
from cluster.report.page import Omitted, Section, table_html
from cluster.report.stats import mean_ci

__all__ = ["BandCounts", "band_counts", "calibration_section"]


@dataclass(frozen=True)
class BandCounts:
    """How many published figures lie in their band in every replication, outcomes apart from the rest.

    Attributes
    ----------
    outcome_within, outcome : int
        Figures the model reproduces that are outcomes (not ``by_construction``): within
        their band in every replication, and in all.
    construction_within, construction : int
        Figures that hold by construction (the network was built from them): within, and in all.
    not_reproduced : int
        Figures the model cannot compute (``within`` null in every replication).
    """

    outcome_within: int
    outcome: int
    construction_within: int
    construction: int
    not_reproduced: int

    def summary(self) -> str:
        """One line: ``5 of 11 outcome figures within band; 8 more hold by construction``.

        Examples
        --------
        >>> BandCounts(5, 11, 8, 8, 2).summary()
        '5 of 11 outcome figures within band in every replication; 8 more hold by construction; 2 not reproduced'
        >>> BandCounts(1, 2, 3, 4, 0).summary()
        '1 of 2 outcome figures within band in every replication; 3 more hold by construction (of 4)'
        """
        more = f"{self.construction_within} more hold by construction" + (
            f" (of {self.construction})" if self.construction_within != self.construction else "")
        tail = f"; {self.not_reproduced} not reproduced" if self.not_reproduced else ""
        return f"{self.outcome_within} of {self.outcome} outcome figures within band in every replication; {more}{tail}"


def _built_from(row: Mapping[str, object]) -> bool:
    """Whether a calibration row holds by construction (datasets before the column: its note says so)."""
    flag = row.get("by_construction")
    return bool(flag) if flag is not None else "by construction" in str(row.get("note", ""))


def band_counts(rows: Iterable[Mapping[str, object]]) -> BandCounts:
    """:class:`BandCounts` of the ``calibration`` rows of one scenario (all its replications)."""
    by_figure: dict[str, list[Mapping[str, object]]] = {}
    for r in rows:
        by_figure.setdefault(str(r["figure"]), []).append(r)
    counts = {"outcome_within": 0, "outcome": 0, "construction_within": 0, "construction": 0, "not_reproduced": 0}
    for figure_rows in by_figure.values():
        judged = [r["within"] for r in figure_rows if r["within"] is not None]
        if not judged:
            counts["not_reproduced"] += 1
            continue
        kind = "construction" if _built_from(figure_rows[0]) else "outcome"
        counts[kind] += 1
        counts[f"{kind}_within"] += all(j is True for j in judged)
    return BandCounts(**counts)


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
                      "yes" if _built_from(first) else "no", str(first["note"])])
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
