"""The error a malformed trace raises."""

from __future__ import annotations

from topology.plumbing import CpnsimError

__all__ = ["TraceError", "where"]


class TraceError(CpnsimError):
    """A trace file is unreadable, lacks a column, or has a malformed row.

    The message is one line, ``file:line: field: message``, so the row can be found
    with any editor (``line`` counts physical lines from 1, the header included).
    """


def where(path: str, line: int, field: str, message: str) -> str:
    """Format a trace problem as ``file:line: field: message``.

    Examples
    --------
    >>> where("cluster_log.csv", 7, "gpu_num", "expected an integer >= 0, got 'x'")
    "cluster_log.csv:7: gpu_num: expected an integer >= 0, got 'x'"
    """
    head = f"{path}:{line}" if line > 0 else path
    return f"{head}: {field}: {message}" if field else f"{head}: {message}"
