"""`cpnsim run`'s calibration print-out: the by-construction column and the line counting outcomes apart."""

from __future__ import annotations

from rich.console import Console

from cluster.summary import print_calibration
from sim.tables import build_table, value_columns


def _row(rep: int, figure: str, model: float | None, by_construction: bool) -> dict[str, object]:
    values: dict[str, object] = {
        "figure": figure, "label": f"label {figure}", "unit": "u", "model": model, "published": 1.0, "low": 0.0,
        "high": 2.0, "within": None if model is None else 0.0 <= model <= 2.0, "as_of": "2025",
        "note": f"note {figure}", "source": "estimate: s", "band_source": "estimate: b",
        "by_construction": by_construction,
    }
    assert set(values) == set(value_columns("calibration"))
    return {"scenario_id": "s", "replication": rep, **values}


def test_the_line_under_the_table_counts_outcomes_apart_from_figures_by_construction() -> None:
    rows = [
        _row(0, "in", 1.0, False), _row(1, "in", 1.5, False),  # an outcome in band in both replications
        _row(0, "half", 1.0, False), _row(1, "half", 3.0, False),  # an outcome out of band once
        _row(0, "built", 1.0, True), _row(1, "built", 1.0, True),  # by construction
        _row(0, "none", None, False), _row(1, "none", None, False),  # not reproduced
    ]
    table = build_table("calibration", {name: [r[name] for r in rows] for name in rows[0]})
    console = Console(record=True, width=200)
    print_calibration(console, table)
    text = console.export_text()
    header = next(line for line in text.splitlines() if "figure" in line and "within" in line)
    assert "by construction" in header
    assert "1 of 2 outcome figures within band in every replication; 1 more hold by construction; " \
           "1 not reproduced" in text
    built = next(line for line in text.splitlines() if "label built" in line)
    assert built.rstrip(" │").endswith("yes")


def test_a_table_written_before_the_by_construction_column_reads_it_from_the_note_in_row_and_count() -> None:
    rows = [_row(0, "in", 1.0, False), _row(0, "built", 1.0, False)]
    rows[1]["note"] = "matches by construction (the site's GPUs are this figure / 312 TFLOPS)"
    table = build_table("calibration", {name: [r[name] for r in rows] for name in rows[0]})
    table = table.drop_columns(["by_construction"])
    console = Console(record=True, width=200)
    print_calibration(console, table)
    text = console.export_text()
    assert "1 of 1 outcome figures within band in every replication; 1 more hold by construction" in text
    built = next(line for line in text.splitlines() if "label built" in line)
    assert built.rstrip(" │").endswith("yes")
    outcome = next(line for line in text.splitlines() if "label in " in line)
    assert outcome.rstrip(" │").endswith("no")
