"""Bar labels of the report's per-scenario energy chart."""

from __future__ import annotations

from cluster.report import energy


def test_long_scenario_labels_become_numbers_and_short_ones_stay() -> None:
    labels = ["policy = nearest", "policy = edwc"]
    assert energy.bar_labels(labels) == ["policy = nearest", "policy = edwc"]
    assert energy.bar_labels([*labels, "x" * (energy.LABEL_CHARS + 1)]) == ["1", "2", "3"]
    assert energy.bar_labels([*labels, "x" * energy.LABEL_CHARS])[-1] == "x" * energy.LABEL_CHARS
