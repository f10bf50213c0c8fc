"""The append-only journal of a sweep: ``<out>/journal.jsonl``, one fsync'd line per commit.

A sweep writes each batch's part files first (atomically, through a rename) and then
appends one line naming them, with the scenario ids they hold; that line *is* the commit.
So the cost of a commit does not grow with the sweep (the manifest used to be rewritten
whole after every batch), and a driver killed at any moment leaves parts that are either
listed (data) or not (orphans, removed by the next writer).  A line cut short by a kill is
not a commit: readers ignore it and the next writer truncates it.

Two kinds of line::

    {"writer": {"writer": "3fa2c1d0", "host": "h", "pid": 12, "ray_job_id": null, "started_utc": "..."}}
    {"commit": 0, "writer": "3fa2c1d0", "parts": {"runs": ["part-00000-3fa2c1d0.arrow", 4]},
     "done": ["id1"], "failed": []}

A commit of ``--resume --retry-failed`` also carries ``drops`` (per table, parts that
leave the dataset: each part holding a failed scenario's rows is replaced by a rewritten
part without them) and ``retried`` (the failed ids that are no longer failed, so the
sweep runs them again).  Both take effect with that one line.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cluster.sweeps.lock import LockHolder
from topology.plumbing import SchemaError

__all__ = ["JOURNAL", "Commit", "Journal", "JournalRecords", "add_record", "commit_of", "commit_record",
           "read_journal"]

JOURNAL = "journal.jsonl"


@dataclass(frozen=True)
class Commit:
    """One committed batch.

    Attributes
    ----------
    number : int
        Position in the journal (0, 1, ...).
    writer : str
        Id of the writer that wrote its parts.
    parts : dict of str to (str, int)
        Per table: the part file and its rows.
    done, failed : tuple of str
        Scenario ids that ran / failed in this batch.
    drops : dict of str to tuple of (str, int)
        Per table: parts (and their rows) that leave the dataset with this commit.
    retried : tuple of str
        Failed scenario ids taken out of ``failed`` (to be run again).
    """

    number: int
    writer: str
    parts: dict[str, tuple[str, int]]
    done: tuple[str, ...]
    failed: tuple[str, ...]
    drops: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    retried: tuple[str, ...] = ()


@dataclass
class JournalRecords:
    """What a journal holds: its commits, the writers that wrote it, and its good length in bytes."""

    commits: list[Commit] = field(default_factory=list)
    writers: dict[str, LockHolder] = field(default_factory=dict)
    good_bytes: int = 0


def _commit(data: dict[str, Any], number: int) -> Commit:
    return Commit(number=number, writer=str(data["writer"]),
                  parts={k: (str(v[0]), int(v[1])) for k, v in data["parts"].items()},
                  done=tuple(data.get("done", ())), failed=tuple(data.get("failed", ())),
                  drops={k: tuple((str(p), int(n)) for p, n in v) for k, v in data.get("drops", {}).items()},
                  retried=tuple(data.get("retried", ())))


def add_record(records: JournalRecords, data: dict[str, Any]) -> None:
    """Add one parsed journal record (a commit or a writer) to ``records``.

    Raises
    ------
    KeyError, TypeError, ValueError, AttributeError
        ``data`` is not a journal record (callers name the file and line).
    """
    if "commit" in data:
        records.commits.append(_commit(data, len(records.commits)))
    else:
        w = data["writer"]
        records.writers[w["writer"]] = LockHolder(**w)


def commit_record(number: int, writer: str, parts: dict[str, tuple[str, int]], done: list[str], failed: list[str],
                  drops: dict[str, list[tuple[str, int]]] | None = None,
                  retried: list[str] | None = None) -> dict[str, Any]:
    """The JSON record of one commit, as a journal line (or an object-store journal entry) holds it."""
    record: dict[str, Any] = {"commit": number, "writer": writer, "parts": parts, "done": done, "failed": failed}
    if drops or retried:
        record.update(drops=drops or {}, retried=retried or [])
    return record


def commit_of(record: dict[str, Any]) -> Commit:
    """The :class:`Commit` a record made by :func:`commit_record` stands for."""
    return _commit(record, int(record["commit"]))


def read_journal(out: Path) -> JournalRecords:
    """Read ``<out>/journal.jsonl`` (empty records when there is none).

    Raises
    ------
    SchemaError
        A line other than the last is not a journal record (the last may be cut short by
        a kill and is then ignored).
    """
    records = JournalRecords()
    try:
        raw = (out / JOURNAL).read_bytes()
    except FileNotFoundError:
        return records
    lines = raw.split(b"\n")
    offset = 0
    for i, line in enumerate(lines):
        if i == len(lines) - 1:
            break  # after the last newline: empty, or a line cut short (never a commit)
        try:
            add_record(records, json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SchemaError(f"{out / JOURNAL}: line {i + 1} is not a journal record ({exc})") from None
        offset += len(line) + 1
    records.good_bytes = offset
    return records


class Journal:
    """The journal opened for appending by the writer that holds the dataset's lock.

    Parameters
    ----------
    out : Path
        The dataset directory.
    holder : LockHolder
        This writer; recorded as the first line of its session.
    good_bytes : int
        Length of the journal's whole lines (:attr:`JournalRecords.good_bytes`); a tail cut
        short by a kill is truncated away.
    first_commit : int
        Number of the next commit (commits already in the journal).
    """

    def __init__(self, out: Path, holder: LockHolder, good_bytes: int, first_commit: int) -> None:
        self.path = out / JOURNAL
        self.next_commit = first_commit
        self.writer = holder.writer
        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o644)
        os.truncate(fd, good_bytes)
        os.lseek(fd, 0, os.SEEK_END)
        self._fd = fd
        self._append({"writer": asdict(holder)})

    def _append(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        os.write(self._fd, data)  # one write of one line; O_APPEND not needed: one writer holds the lock
        os.fsync(self._fd)

    def commit(self, parts: dict[str, tuple[str, int]], done: list[str], failed: list[str], *,
               drops: dict[str, list[tuple[str, int]]] | None = None, retried: list[str] | None = None) -> Commit:
        """Append (and fsync) the line that commits ``parts`` (and ``drops``, ``retried``); returns the commit."""
        number = self.next_commit
        record = commit_record(number, self.writer, parts, done, failed, drops, retried)
        self._append(record)
        self.next_commit += 1
        return _commit(record, number)

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
