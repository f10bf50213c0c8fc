"""Summary table: the scenario (or the sweep's axes) and its outcomes from ``runs``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cluster.report.data import ReportData, ScenarioRow, scenario_rows
from cluster.report.page import Omitted, Section, table_html
from cluster.report.stats import fmt, mean_ci

__all__ = ["ADOPTION", "OUTCOMES", "Outcome", "largest_mean", "outcomes", "rescaled", "summary_section"]


@dataclass(frozen=True)
class Outcome:
    """A ``runs`` column shown as an outcome.

    Attributes
    ----------
    column : str
        Column of ``runs``.
    label : str
        Short name for headings and axes.
    unit : str
        Unit shown (after ``scale``).
    scale : float
        Factor from the stored unit to the shown one (100 for a fraction shown in %).
    """

    column: str
    label: str
    unit: str
    scale: float = 1.0

    @property
    def heading(self) -> str:
        """``label (unit)``."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


OUTCOMES = (
    Outcome("jobs_done", "jobs done", "jobs"),
    Outcome("wait_mean_h", "mean wait", "h"),
    Outcome("wait_p95_h", "p95 wait", "h"),
    Outcome("utilisation", "utilisation", "%", 100.0),
    Outcome("energy_mwh", "energy", "MWh"),
    Outcome("cost_cny", "electricity cost", "CNY"),
    Outcome("co2_t", "CO₂", "t"),
)


MAX_ROWS = 40  # a sweep table longer than this shows its first SHOWN_ROWS, the rest folded
SHOWN_ROWS = 20

ADOPTION = Outcome("adoption_frac_end", "adoption at horizon", "%", 100.0)


def outcomes(data: ReportData) -> tuple[Outcome, ...]:
    """The outcomes ``runs`` has: :data:`OUTCOMES`, then adoption at the horizon when the runs had adoption on."""
    runs = data.tables["runs"]
    found = [o for o in OUTCOMES if o.column in runs.column_names]
    if ADOPTION.column in runs.column_names and runs.column(ADOPTION.column).null_count < runs.num_rows:
        found.append(ADOPTION)
    return tuple(found)


# Larger units for big totals, so a column reads 11.4 TWh rather than 11,384,505 MWh.
_LARGER = {"MWh": ((1e6, "TWh"), (1e3, "GWh")), "CNY": ((1e9, "bn CNY"), (1e6, "M CNY")),
           "t": ((1e6, "Mt"), (1e3, "kt")), "jobs": ((1e6, "M jobs"),)}


def rescaled(outcome: Outcome, largest: float) -> Outcome:
    """``outcome`` in the larger unit that keeps ``largest`` (in shown units) at or above 1.

    Examples
    --------
    >>> rescaled(Outcome("energy_mwh", "energy", "MWh"), 11_384_505.0).heading
    'energy (TWh)'
    >>> rescaled(Outcome("energy_mwh", "energy", "MWh"), 950.0).heading
    'energy (MWh)'
    """
    for factor, unit in _LARGER.get(outcome.unit, ()):
        if math.isfinite(largest) and abs(largest) >= factor:
            return Outcome(outcome.column, outcome.label, unit, outcome.scale / factor)
    return outcome


def _cell(values: np.ndarray, outcome: Outcome, with_ci: bool) -> str:
    mean, half = mean_ci(values * outcome.scale)
    if with_ci and math.isfinite(half):
        return f"{fmt(mean)} ± {fmt(half, 2)}"
    return fmt(mean)


def largest_mean(rows: list[ScenarioRow], outcome: Outcome) -> float:
    """The largest absolute replication mean of ``outcome`` over the scenarios that ran (NaN if none)."""
    means = [mean_ci(r.outcomes[outcome.column] * outcome.scale)[0] for r in rows if r.status == "ok"]
    finite = [abs(m) for m in means if math.isfinite(m)]
    return max(finite, default=math.nan)


def summary_section(data: ReportData) -> Section | Omitted:
    """The summary table; omitted when the dataset has no ``runs`` rows."""
    if not data.has("runs"):
        return Omitted("Summary", "the dataset has no runs table")
    found = outcomes(data)
    rows = scenario_rows(data, tuple(o.column for o in found))
    shown = tuple(rescaled(o, largest_mean(rows, o)) for o in found)
    reps = max((len(next(iter(r.outcomes.values()), [])) for r in rows), default=0)
    ci_note = "± is the half-width of the 95 % confidence interval over replications (Student t)"
    if data.kind == "run":
        row = rows[0]
        body = [[o.heading, fmt(mean_ci(row.outcomes[o.column] * o.scale)[0]),
                 fmt(mean_ci(row.outcomes[o.column] * o.scale)[1], 2)] for o in shown]
        table = table_html(["outcome", "mean", "± 95 % CI"], body, [False, True, True])
        intro = (f"Outcomes of {reps} replication(s) over the statistics window; {ci_note}"
                 + (" (— with a single replication)." if reps < 2 else "."))
        return Section("summary", "Summary", intro, (table,))
    failed = any(r.status != "ok" for r in rows)
    headers = [f"{a.short} ({a.unit})" if a.unit and a.unit != "1" else a.short for a in data.axes]
    headers += [o.heading for o in shown] + (["status"] if failed else [])
    numeric = [a.numeric for a in data.axes] + [True] * len(shown) + ([False] if failed else [])
    body, classes = [], []
    for r in rows:
        cells = [a.text(r.settings[a.key]) for a in data.axes]
        cells += [_cell(r.outcomes[o.column], o, True) if r.status == "ok" else "—" for o in shown]
        if failed:
            cells.append("ok" if r.status == "ok" else f"failed: {r.error}"[:80])
        body.append(cells)
        classes.append("" if r.status == "ok" else "failed")
    fixed = ", ".join(f"{k} = {v}" for k, v in data.fixed.items())
    intro = (f"{len(rows)} scenarios, {reps} replication(s) each; one row per scenario, mean over its replications; "
             f"{ci_note}." + (f" Held fixed: {fixed}." if fixed else ""))
    if len(body) <= MAX_ROWS:
        return Section("summary", "Summary", intro, (table_html(headers, body, numeric, row_classes=classes),))
    # A long sweep: the first rows, and every row behind a <details> (no script needed to open it).
    head = table_html(headers, body[:SHOWN_ROWS], numeric, f"The first {SHOWN_ROWS} of {len(body)} scenarios.",
                      classes[:SHOWN_ROWS])
    full = table_html(headers, body, numeric, row_classes=classes)
    return Section("summary", "Summary", intro,
                   (head, f"<details><summary>All {len(body)} scenarios</summary>{full}</details>"))
