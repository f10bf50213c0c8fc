"""Per-job views from the optional ``jobs`` table (issue 5): wait distributions and job outcomes by class.

Column names are matched from short candidate lists, so the section follows the table as
it lands; it is omitted with a note when the needed columns are missing.
"""

from __future__ import annotations

import numpy as np

from cluster.report.data import ReportData, column, scenario_label, scenario_rows
from cluster.report.figures import colours, figure, to_svg
from cluster.report.page import Omitted, Section, figure_html

__all__ = ["jobs_section"]

_STATUS_COLOURS = {"done": "#009E73", "running": "#56B4E9", "queued": "#B8C2CC", "unmet": "#E69F00",
                   "failed": "#D55E00", "rejected": "#CC79A7"}
MAX_CURVES = 8


def _ecdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.sort(values[np.isfinite(values)])
    return x, np.arange(1, x.size + 1) / max(x.size, 1)


def jobs_section(data: ReportData) -> Section | Omitted:
    """Wait ECDF per job class (run) or per scenario (sweep), and job outcomes per class."""
    title = "Jobs"
    if not data.has("jobs"):
        return Omitted(title, "the dataset has no jobs table (set jobs_sample in the scenario to record jobs)")
    table = data.tables["jobs"]
    names = table.column_names
    # Column names are those of sim.tables.JOBS_COLUMNS (the dataset's schema).
    cls_col = "class" if "class" in names else None
    wait_col = "wait_h" if "wait_h" in names else None
    status_col = "status" if "status" in names else None
    if cls_col is None or (wait_col is None and status_col is None):
        return Omitted(title, "the jobs table lacks a class, wait_h or status column")
    sid = np.asarray(table.column("scenario_id").to_pylist(), dtype=object)
    klass = np.asarray(table.column(cls_col).to_pylist(), dtype=object)
    classes = [str(c) for c in dict.fromkeys(klass)]
    rows = [r for r in scenario_rows(data, ()) if r.status == "ok"] if data.has("runs") else []
    blocks = []
    if wait_col is not None:
        wait = column(table, wait_col)
        if data.kind == "sweep" and rows:
            groups = [(scenario_label(data, r), sid == r.scenario_id) for r in rows[:MAX_CURVES]]
            what = "one curve per scenario, all classes together"
        else:
            groups = [(c, klass == c) for c in classes]
            what = "one curve per job class"
        palette = colours([g for g, _ in groups])
        with figure(10.0, 3.4) as fig:
            ax = fig.subplots()
            for name, sel in groups:
                x, y = _ecdf(wait[sel])
                if x.size:
                    ax.step(x, y * 100, where="post", color=palette[name], label=f"{name} ({x.size:,} jobs)")
            ax.set_xscale("symlog", linthresh=0.01)
            ax.set_xlim(left=0)
            ax.set_xlabel("wait from arrival to start (h, log scale above 0.01 h)")
            ax.set_ylabel("jobs started within (%)")
            ax.set_ylim(0, 100)
            ax.legend(loc="lower right")
            svg = to_svg(fig, "jobs-wait", "Distribution of job waits")
        blocks.append(figure_html(svg, f"Cumulative distribution of job waits; {what}. A curve that reaches "
                                       "100 % at small waits means jobs started almost at once."))
    if status_col is not None:
        status = np.asarray(table.column(status_col).to_pylist(), dtype=object)
        present = {str(s) for s in status}
        kinds = [k for k in _STATUS_COLOURS if k in present] + sorted(present - set(_STATUS_COLOURS))
        palette = colours(kinds) | {k: v for k, v in _STATUS_COLOURS.items() if k in kinds}
        first = sid == (rows[0].scenario_id if rows else sid[0])
        with figure(10.0, 0.35 * len(classes) + 1.3) as fig:
            ax = fig.subplots()
            left = np.zeros(len(classes))
            for k in kinds:
                counts = np.array([np.sum(first & (klass == c) & (status == k)) for c in classes], dtype=float)
                totals = np.array([max(np.sum(first & (klass == c)), 1) for c in classes], dtype=float)
                share = 100 * counts / totals
                ax.barh(np.arange(len(classes)), share, left=left, color=palette[k], label=k, height=0.65)
                left += share
            ax.set_yticks(np.arange(len(classes)), classes)
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_xlabel("share of the class's jobs (%)")
            ax.grid(axis="y", visible=False)
            fig.legend(loc="outside right upper", title="status", title_fontsize=8.5)
            svg = to_svg(fig, "jobs-status", "Job outcomes by class")
        which = f" ({scenario_label(data, rows[0])})" if data.kind == "sweep" and rows else ""
        blocks.append(figure_html(svg, f"What became of each class's jobs{which}: done, failed, unmet (not "
                                       "started within the class's maximum wait), or still running or queued at "
                                       "the horizon."))
    intro = "Per-job detail from the jobs table (all jobs, or the deterministic sample the scenario asked for)."
    return Section("jobs", title, intro, tuple(blocks))
