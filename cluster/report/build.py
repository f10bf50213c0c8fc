"""Assemble the report page from its sections and write it atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cluster.report.adoption import adoption_section
from cluster.report.data import ReportData, load_report_data
from cluster.report.energy import energy_section
from cluster.report.jobs import jobs_section
from cluster.report.links import links_section
from cluster.report.network_map import network_section
from cluster.report.page import Omitted, Section, render_page
from cluster.report.response import response_section
from cluster.report.summary import summary_section
from cluster.report.utilisation import utilisation_section
from topology.plumbing import ConfigError

__all__ = ["SECTIONS", "build_report", "render_report", "write_report"]

SECTIONS: tuple[Callable[[ReportData], Section | Omitted], ...] = (
    summary_section,
    response_section,
    adoption_section,
    utilisation_section,
    energy_section,
    network_section,
    links_section,
    jobs_section,
)
"""Section builders in page order; each returns its section or an :class:`Omitted` note."""


def _facts(data: ReportData) -> list[tuple[str, str]]:
    m = data.manifest
    facts = [("dataset", str(data.out))]
    if data.kind == "sweep":
        reps = (m.get("spec") or {}).get("replications") or ((m.get("spec") or {}).get("base") or {}).get(
            "replications", 1)
        facts += [("scenarios", f"{m.get('scenarios', '?')} ({len(m.get('failed', []))} failed)"),
                  ("replications", str(reps)), ("sweep seed", str(m.get("seed")))]
        base = (m.get("spec") or {}).get("base") or {}
    else:
        base = m.get("scenario") or {}
        facts += [("replications", str(m.get("replications"))), ("seed", str(m.get("seed")))]
    if base:
        setting = {**base, **data.fixed}  # a sweep axis with one value overrides the base
        facts += [("network", str(setting.get("network", "default"))),
                  ("horizon", _horizon(float(setting.get("horizon_h", 720.0))))]
        if "policy" not in {a.key for a in data.axes}:
            facts.append(("policy", str(setting.get("policy", "?"))))
    cp = m.get("cpnsim") or {}
    facts += [("cpnsim", f"{cp.get('version', '?')}"), ("written", str(m.get("finished_utc") or m.get("created_utc")))]
    return facts


def _horizon(hours: float) -> str:
    """``240 h (10 days)``, ``26,298 h (3.0 years)``: hours, and the unit a person thinks in."""
    if hours >= 2 * 8766:
        return f"{hours:,.0f} h ({hours / 8766:.1f} years)"
    if hours >= 72:
        return f"{hours:,.0f} h ({hours / 24:g} days)"
    return f"{hours:g} h"


def render_report(data: ReportData) -> str:
    """The report page of ``data`` as HTML text (deterministic: same dataset, same page)."""
    m = data.manifest
    if data.kind == "sweep":
        spec = m.get("spec") or {}
        keys = ", ".join(a.key for a in data.axes) or "no varying axis"
        lede = str(spec.get("description") or f"A sweep over {keys}.")
    else:
        lede = str((m.get("scenario") or {}).get("description") or "A single scenario.")
    sections = [build(data) for build in SECTIONS]
    cp = m.get("cpnsim") or {}
    footer = (f"Made by cpnsim report from {data.out} (schema {cp.get('schema_version', '?')}, "
              f"git {cp.get('git_revision') or 'unknown'}). Self-contained: no scripts, fonts or network requests.")
    return render_page(data.title, lede, _facts(data), sections, footer)


def build_report(out: Path) -> str:
    """Read the dataset at ``out`` and return its report page as HTML text.

    Raises
    ------
    SchemaError
        ``out`` is not a readable cpnsim dataset.
    """
    return render_report(load_report_data(out))


def write_report(out: Path, html_path: Path | None = None) -> Path:
    """Write the report of the dataset at ``out`` to ``html_path`` (default ``<out>/report.html``).

    The page is written to a temporary file beside ``html_path`` and renamed into place,
    so a failed or interrupted report leaves no half-written page.

    Raises
    ------
    SchemaError
        ``out`` is not a readable cpnsim dataset.
    ConfigError
        ``html_path``'s directory does not exist or is not writable.
    """
    if html_path is not None and not html_path.parent.is_dir():  # before the work of building the page
        raise ConfigError(f"--html {html_path}: directory {html_path.parent} does not exist")
    page = build_report(out)  # raises SchemaError first when ``out`` is not a dataset
    target = html_path if html_path is not None else out / "report.html"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise ConfigError(f"--html {target}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a report is for reading.
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
