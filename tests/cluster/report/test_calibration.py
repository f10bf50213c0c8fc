"""The report's calibration section: the calibration table per figure, over replications."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pyarrow as pa

from cluster.report.calibration import calibration_section
from cluster.report.data import ReportData
from cluster.report.page import Omitted, Section
from sim.tables import build_table, value_columns


def _row(rep: int, figure: str, model: float | None, low: float, high: float) -> dict[str, object]:
    within = None if model is None else low <= model <= high
    values: dict[str, object] = {
        "figure": figure, "label": f"label {figure}", "unit": "u", "model": model, "published": 1.0, "low": low,
        "high": high, "within": within, "as_of": "2025", "note": f"note {figure}", "source": "estimate: s",
        "band_source": "estimate: b",
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
    assert "0 of 1 reproducible figures within their band in every replication (0 of them by construction" in html


def test_the_caption_counts_figures_in_band_and_those_by_construction(tmp_path: Path) -> None:
    rows = [_row(0, "a", 1.0, 0.0, 2.0), _row(0, "c", 1.0, 0.0, 2.0), _row(0, "d", 5.0, 0.0, 2.0)]
    rows[1]["note"] = "within by construction: the site was sized from it"
    section = calibration_section(_data(tmp_path, rows))
    assert isinstance(section, Section)
    assert "2 of 3 reproducible figures within their band in every replication (1 of them by construction" in (
        section.blocks[0])


def test_without_a_calibration_table_the_section_says_why(tmp_path: Path) -> None:
    omitted = calibration_section(ReportData(tmp_path, cast(Any, None), {}, (), None))
    assert isinstance(omitted, Omitted) and "edwc and national" in omitted.note
