"""Bar labels of the report's per-scenario energy chart."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from cluster.report import energy


def test_long_scenario_labels_become_numbers_and_short_ones_stay(monkeypatch: Any) -> None:
    rows = [SimpleNamespace(label="policy = nearest"), SimpleNamespace(label="policy = edwc")]
    monkeypatch.setattr(energy, "scenario_label", lambda data, row: row.label)
    assert energy.bar_labels(None, rows) == ["policy = nearest", "policy = edwc"]  # type: ignore[arg-type]
    rows.append(SimpleNamespace(label="x" * (energy.LABEL_CHARS + 1)))
    assert energy.bar_labels(None, rows) == ["1", "2", "3"]  # type: ignore[arg-type]
    rows[-1].label = "x" * energy.LABEL_CHARS
    assert energy.bar_labels(None, rows)[-1] == "x" * energy.LABEL_CHARS  # type: ignore[arg-type]
