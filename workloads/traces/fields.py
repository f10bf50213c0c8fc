"""Parsing one field of a trace row, with a message that says what was expected."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from workloads.traces.errors import TraceError, where

__all__ = [
    "MISSING",
    "BadFieldError",
    "column_index",
    "csv_rows",
    "is_missing",
    "open_text",
    "parse_datetime_s",
    "parse_float",
    "parse_seconds",
]

MISSING = frozenset({"", "none", "null", "nan", "na", "n/a"})
"""Field values read as "no value" (compared lower-cased): traces write ``None``, ``NA`` or nothing."""

_EPOCH = datetime(1970, 1, 1)


class BadFieldError(ValueError):
    """One field of a row is malformed; the format module adds the file and line."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def is_missing(text: str | None) -> bool:
    """Whether ``text`` stands for no value (``None``, empty, ``NA``, ...)."""
    return text is None or text.strip().lower() in MISSING


def parse_float(text: str, field: str, *, minimum: float = 0.0, required: bool = True) -> float | None:
    """A finite number >= ``minimum``; ``None`` for a missing value unless ``required``.

    Raises
    ------
    BadFieldError
        Not a number, not finite, below ``minimum``, or missing but required.

    Examples
    --------
    >>> parse_float("4550879.0", "start_time")
    4550879.0
    >>> parse_float("", "end_time", required=False) is None
    True
    """
    # The number first: missing values are rare, and this is the hot path of a load.
    try:
        value = float(text)
    except ValueError:
        if not is_missing(text):
            raise BadFieldError(field, f"expected a number, got {text!r}") from None
        value = math.nan
    if value != value:  # NaN: no value (pandas writes missing numbers as nan)
        if required:
            raise BadFieldError(field, "missing value")
        return None
    if value < minimum or value == math.inf:
        raise BadFieldError(field, f"expected a number >= {minimum:g}, got {text!r}")
    return value


def parse_datetime_s(text: str | None, field: str, *, required: bool = True) -> float | None:
    """Seconds since 1970 of a ``YYYY-MM-DD HH:MM:SS`` time; ``None`` for a missing value.

    Times without a zone are read as they are written (no local-time or daylight-saving
    conversion), so differences between them do not depend on the machine's zone.

    Examples
    --------
    >>> parse_datetime_s("1970-01-02 00:00:01", "submit_time")
    86401.0
    """
    try:
        when = datetime.fromisoformat(text)  # type: ignore[arg-type]  # None is caught below
    except (ValueError, TypeError):
        if not is_missing(text):
            raise BadFieldError(field, f"expected a time YYYY-MM-DD HH:MM:SS, got {text!r}") from None
        if required:
            raise BadFieldError(field, "missing value") from None
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return (when - _EPOCH).total_seconds()


def parse_seconds(text: str, field: str) -> float | None:
    """A duration in seconds (>= 0), ``None`` when missing."""
    return parse_float(text, field, required=False)


def open_text(path: Path) -> TextIO:
    """Open a trace file as text (UTF-8, BOM tolerated), or raise :class:`TraceError`."""
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise TraceError(f"{path}: cannot read trace: {err.strerror or err}") from None


def csv_rows(handle: TextIO, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` of each non-blank CSV row, one row at a time.

    ``line`` is the physical line the row ends on (1-based), which is where an editor
    shows it.  A row the CSV reader cannot split (an unterminated quote) is fatal.
    """
    reader = csv.reader(handle)
    try:
        for fields in reader:
            if len(fields) > 1 or (fields and fields[0].strip()):  # skip blank lines
                yield reader.line_num, fields
    except csv.Error as err:
        raise TraceError(where(str(path), reader.line_num, "", f"unreadable CSV: {err}")) from None
    except UnicodeDecodeError as err:
        raise TraceError(where(str(path), reader.line_num + 1, "", f"not UTF-8 text: {err.reason}")) from None


def column_index(header: Sequence[str], needed: Sequence[str], path: Path, line: int) -> dict[str, int]:
    """Positions of the columns of ``header``; the ``needed`` ones must be there.

    Raises
    ------
    TraceError
        A needed column is missing (the message lists the header it found).
    """
    index = {name.strip(): i for i, name in enumerate(header)}
    missing = [name for name in needed if name not in index]
    if missing:
        raise TraceError(
            where(str(path), line, "", f"missing column(s) {', '.join(missing)} (header has {', '.join(index)})")
        )
    return index
