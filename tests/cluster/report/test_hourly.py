"""The report's hour-by-hour section (cluster/report/hourly.py): drawn for hourly runs with signals only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cluster.api import run
from cluster.report.data import load_report_data
from cluster.report.hourly import day_by_hour, hourly_section
from cluster.report.page import Omitted, Section

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "edwc_hourly.toml"


def test_day_by_hour_averages_rows_of_the_same_hour() -> None:
    t = np.array([0.0, 0.0, 23.5, 24.0, 47.0])
    grid = day_by_hour(t, np.array([1.0, 3.0, 5.0, 7.0, np.nan]))
    assert grid.shape == (2, 24)
    assert grid[0, 0] == 2.0 and grid[0, 23] == 5.0 and grid[1, 0] == 7.0
    assert np.isnan(grid[1, 23])  # the only row of that hour was null


@pytest.mark.parametrize(("overrides", "drawn"), [
    ({}, True),
    ({"signals": {"enabled": False, "time_aware": False, "defer": False}}, False),
])
def test_section_drawn_only_with_hourly_signals(tmp_path: Path, overrides: dict[str, object], drawn: bool) -> None:
    out = tmp_path / "run"
    run(EXAMPLE, {"horizon_h": 48, "replications": 1, **overrides}, out=out)
    section = hourly_section(load_report_data(out))
    assert isinstance(section, Section if drawn else Omitted)
    if isinstance(section, Section):
        assert len(section.blocks) == 3 and all("<svg" in block for block in section.blocks)
    else:
        assert "do not change by the hour" in section.note
