"""Assemble the report page from its sections and write it atomically."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cluster.report.adoption import adoption_section
from cluster.report.calibration import calibration_section
from cluster.report.data import ReportData, dataset_label, load_report_data
from cluster.report.energy import energy_section
from cluster.report.hourly import hourly_section
from cluster.report.jobs import jobs_section
from cluster.report.links import links_section
from cluster.report.network_map import network_section
from cluster.report.page import Omitted, Section, render_page
from cluster.report.policies import policy_section
from cluster.report.residency import residency_section
from cluster.report.response import response_section
from cluster.report.summary import summary_section
from cluster.report.utilisation import utilisation_section
from cluster.sweeps.location import object_storage
from topology.plumbing import ConfigError, write_atomic

__all__ = ["SECTIONS", "build_report", "render_report", "write_report"]

SECTIONS: tuple[Callable[[ReportData], Section | Omitted], ...] = (
    summary_section,
    response_section,
    adoption_section,
    utilisation_section,
    energy_section,
    hourly_section,
    policy_section,
    network_section,
    links_section,
    jobs_section,
    residency_section,
    calibration_section,
)
"""Section builders in page order; each returns its section or an :class:`Omitted` note."""


def _facts(data: ReportData) -> list[tuple[str, str]]:
    m = data.manifest
    facts = [("dataset", dataset_label(data.out))]
    if data.kind == "sweep":
        spec = m.spec or {}
        reps = spec.get("replications") or (spec.get("base") or {}).get("replications", 1)
        scenarios = "?" if m.scenarios is None else m.scenarios
        facts += [("scenarios", f"{scenarios} ({len(m.failed or ())} failed)"),
                  ("replications", str(reps)), ("sweep seed", str(m.seed))]
        base = spec.get("base") or {}
    else:
        base = m.scenario or {}
        facts += [("replications", str(m.replications)), ("seed", str(m.seed))]
    if base:
        setting = {**base, **data.fixed}  # a sweep axis with one value overrides the base
        facts += [("network", str(setting.get("network", "default"))),
                  ("horizon", _horizon(float(setting.get("horizon_h", 720.0))))]
        if "policy" not in {a.key for a in data.axes}:
            facts.append(("policy", str(setting.get("policy", "?"))))
    facts += [("cpnsim", m.cpnsim.version), ("written", str(m.finished_utc or m.created_utc))]
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
        spec = m.spec or {}
        keys = ", ".join(a.key for a in data.axes) or "no varying axis"
        lede = str(spec.get("description") or f"A sweep over {keys}.")
    else:
        lede = str((m.scenario or {}).get("description") or "A single scenario.")
    sections = [build(data) for build in SECTIONS]
    footer = (f"Made by cpnsim report from {dataset_label(data.out)} (schema {m.cpnsim.schema_version}, "
              f"git {m.cpnsim.git_revision or 'unknown'}). Self-contained: no scripts, fonts or network requests.")
    return render_page(data.title, lede, _facts(data), sections, footer)


def build_report(out: Path | str) -> str:
    """Read the dataset at ``out`` (a directory or an object-store URI) and return its report page as HTML text.

    Raises
    ------
    SchemaError
        ``out`` is not a readable cpnsim dataset.
    """
    return render_report(load_report_data(out))


def write_report(out: Path | str, html_path: Path | None = None) -> Path | str:
    """Write the report of the dataset at ``out`` to ``html_path`` (default ``<out>/report.html``).

    The page is written atomically (:func:`topology.plumbing.write_atomic`), so a failed or
    interrupted report leaves no half-written page.  A dataset in an object store
    (``out`` a URI such as ``s3://bucket/x``) is read through pyarrow.fs; its default page
    is uploaded whole beside it (one PUT: readers see the old page or the new one), and
    the URI (without secrets) is returned.

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
    remote = object_storage(out)
    if remote is not None and html_path is None:
        remote.put_bytes(page.encode("utf-8"), "report.html")
        where = urlsplit(remote.label)
        return urlunsplit(where._replace(path=where.path.rstrip("/") + "/report.html"))
    target = html_path if html_path is not None else Path(out) / "report.html"
    try:
        return write_atomic(target, page)
    except OSError as exc:
        raise ConfigError(f"--html {target}: cannot write there ({exc.strerror})") from None
