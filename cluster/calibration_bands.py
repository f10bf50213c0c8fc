"""Counting a ``calibration`` table's figures in their band: outcomes apart from figures that hold by construction.

Shared by the terminal summary of ``cpnsim run`` (:mod:`cluster.summary`), the report's
calibration section (:mod:`cluster.report.calibration`) and the quoted figures
(``docs/figures.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["BandCounts", "band_counts", "built_from"]


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


def built_from(row: Mapping[str, object]) -> bool:
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
        kind = "construction" if built_from(figure_rows[0]) else "outcome"
        counts[kind] += 1
        counts[f"{kind}_within"] += all(j is True for j in judged)
    return BandCounts(**counts)
