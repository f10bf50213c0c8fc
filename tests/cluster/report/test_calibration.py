"""The report's calibration section: the calibration table per figure, over replications."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pyarrow as pa

from cluster.calibration_bands import BandCounts, band_counts
from cluster.report.calibration import calibration_section
from cluster.report.data import ReportData
from cluster.report.page import Omitted, Section
from sim.tables import build_table, value_columns


def _row(rep: int, figure: str, model: float | None, low: float, high: float,
         by_construction: bool = False) -> dict[str, object]:
    within = None if model is None else low <= model <= high
    values: dict[str, object] = {
        "figure": figure, "label": f"label {figure}", "unit": "u", "model": model, "published": 1.0, "low": low,
        "high": high, "within": within, "as_of": "2025", "note": f"note {figure}", "source": "estimate: s",
        "band_source": "estimate: b", "by_construction": by_construction,
    }
    assert set(values) == set(value_columns("calibration"))
    return {"scenario_id": "s", "replication": rep, **values}


def _data(tmp_path: Path, rows: list[dict[str, object]]) -> ReportData:
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    tables: dict[str, pa.Table] = {"calibration": build_table("calibration", columns)} if rows else {}
    return ReportData(tmp_path, cast(Any, None), tables, (), None)


def test_model_is_the_replication_mean_with_a_t_interval_and_within_counts(tmp_path: Path) -> None:
    rows = [_row(0, "a", 1.0, 0.0, 2.0), _row(1, "a", 3.0, 0.0, 2.0),
            _row(0, "b", None, 0.0, 1.0), _row(1, "b", None, 0.0, 1.0)]
    section = calibration_section(_data(tmp_path, rows))
    assert isinstance(section, Section)
    html = section.blocks[0]
    # mean 2, half-width t(0.975, 1) x s / sqrt(2) = 12.706 x 1.414 / 1.414 = 12.7.
    assert "label a" in html and '<td class="num">2<span class="ci"> ± 12.7</span></td>' in html
    assert "1 of 2" in html  # 1.0 inside [0, 2], 3.0 outside
    assert "note b" in html and html.count('class="failed"') == 2  # a misses once, b cannot be reproduced
    assert "0 of 1 outcome figures within band in every replication; 0 more hold by construction; 1 not reproduced" in (
        html)


def test_the_caption_counts_outcome_figures_apart_from_those_by_construction(tmp_path: Path) -> None:
    # a: outcome, in band; c: by construction, in band; d: outcome, outside; e: by construction, outside.
    rows = [_row(0, "a", 1.0, 0.0, 2.0), _row(0, "c", 1.0, 0.0, 2.0, True), _row(0, "d", 5.0, 0.0, 2.0),
            _row(0, "e", 5.0, 0.0, 2.0, True)]
    section = calibration_section(_data(tmp_path, rows))
    assert isinstance(section, Section)
    html = section.blocks[0]
    assert "1 of 2 outcome figures within band in every replication; 1 more hold by construction (of 2)" in html
    assert html.count("<td>yes</td>") == 2  # the by-construction column


def test_band_counts_need_every_replication_in_band_and_read_old_datasets_by_their_note() -> None:
    rows = [_row(0, "a", 1.0, 0.0, 2.0), _row(1, "a", 3.0, 0.0, 2.0),  # outcome, one replication out
            _row(0, "b", 1.0, 0.0, 2.0), _row(1, "b", 1.5, 0.0, 2.0),  # outcome, in band
            _row(0, "c", 1.0, 0.0, 2.0, True), _row(1, "c", 1.0, 0.0, 2.0, True),
            _row(0, "n", None, 0.0, 2.0), _row(1, "n", None, 0.0, 2.0)]
    assert band_counts(rows) == BandCounts(1, 2, 1, 1, 1)
    # A dataset written before the column: a row whose note says "by construction" counts as such.
    old = [{k: v for k, v in r.items() if k != "by_construction"} for r in rows]
    old[4]["note"] = old[5]["note"] = "matches by construction (the site's GPUs are this figure / 312 TFLOPS)"
    assert band_counts(old) == BandCounts(1, 2, 1, 1, 1)


def test_without_a_calibration_table_the_section_says_why(tmp_path: Path) -> None:
    omitted = calibration_section(ReportData(tmp_path, cast(Any, None), {}, (), None))
    assert isinstance(omitted, Omitted) and "edwc and national" in omitted.note
