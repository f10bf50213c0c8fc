"""``cpnsim report``: one self-contained HTML page of plots and tables for a run or sweep dataset.

Each section is a small module with one pure function of :class:`ReportData` that returns
its :class:`~cluster.report.page.Section` (figures as inline SVG made with matplotlib) or an
:class:`~cluster.report.page.Omitted` note when the dataset lacks its data.

The names below are imported on first use, so ``import cluster.report`` does not import
matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cluster.report.build import SECTIONS, build_report, render_report, write_report
    from cluster.report.data import ReportData, load_report_data

__all__ = ["SECTIONS", "ReportData", "build_report", "load_report_data", "render_report", "write_report"]

_WHERE = {"SECTIONS": "build", "build_report": "build", "render_report": "build", "write_report": "build",
          "ReportData": "data", "load_report_data": "data"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'cluster.report' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"cluster.report.{_WHERE[name]}"), name)
