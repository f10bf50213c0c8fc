"""Where a sweep's dataset lives, as the operations its writer needs: a local directory or an object store.

:class:`cluster.sweeps.writer.SweepWriter` commits batches the same way everywhere (parts
first, then one journal record); a :class:`Storage` says how each step is done there.
:class:`LocalStorage` is a directory on a POSIX filesystem (lock by ``O_EXCL``, journal
appended and fsync'd, parts renamed into place); :class:`cluster.sweeps.objectstore.ObjectStorage`
is any filesystem :func:`pyarrow.fs.FileSystem.from_uri` opens (``s3://``, ``gs://``,
``hdfs://``), with the differences its module describes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from cluster.sweeps.journal import Commit, Journal, JournalRecords, read_journal
from cluster.sweeps.lock import LOCK, DatasetLock, LockHolder, check_unlocked
from cluster.sweeps.manifest import Format, Manifest, is_dataset, read_manifest, write_manifest
from cluster.sweeps.store import check_contents, read_part, write_table

__all__ = ["CommitLog", "LocalStorage", "Storage", "WriterLock"]


class WriterLock(Protocol):
    """A held dataset lock: who holds it, and how it is let go."""

    holder: LockHolder

    def release(self) -> None: ...


class CommitLog(Protocol):
    """An open journal: the next commit's number, and how a commit is recorded."""

    next_commit: int

    def commit(self, parts: dict[str, tuple[str, int]], done: list[str], failed: list[str], *,
               drops: dict[str, list[tuple[str, int]]] | None = None,
               retried: list[str] | None = None) -> Commit: ...

    def close(self) -> None: ...


class Storage(Protocol):
    """The dataset operations a sweep writer needs (paths inside the dataset are ``table/part``)."""

    def __str__(self) -> str: ...

    def exists(self) -> bool: ...

    def take_lock(self) -> WriterLock: ...

    def check_writable(self) -> None: ...

    def check_contents(self) -> None: ...

    def is_dataset(self) -> bool: ...

    def read_manifest(self) -> Manifest: ...

    def write_manifest(self, manifest: Manifest) -> None: ...

    def read_journal(self) -> JournalRecords: ...

    def open_journal(self, holder: LockHolder, records: JournalRecords) -> CommitLog: ...

    def clear(self) -> None: ...

    def part_files(self) -> list[tuple[str, str]]: ...

    def write_part(self, table: str, part: str, data: pa.Table, fmt: Format) -> None: ...

    def read_part(self, table: str, part: str, fmt: Format) -> pa.Table: ...

    def delete_part(self, table: str, part: str) -> None: ...

    def write_schema(self, tables: Mapping[str, pa.Schema], scenario_ids: Iterable[str]) -> None: ...


class LocalStorage:
    """A dataset in a local (or mounted shared) directory ``path``.

    Examples
    --------
    >>> import tempfile
    >>> store = LocalStorage(Path(tempfile.mkdtemp()) / "d")
    >>> store.exists(), store.is_dataset(), str(store).endswith("/d")
    (False, False, True)
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def __str__(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        """True when the directory exists."""
        return self.path.exists()

    def take_lock(self) -> DatasetLock:
        """Take the ``O_EXCL`` lock (:class:`cluster.sweeps.lock.DatasetLock`)."""
        return DatasetLock(self.path)

    def check_writable(self) -> None:
        """Refuse a locked directory or one that holds other files (:func:`cluster.sweeps.store.check_writable`)."""
        if self.path.is_dir():
            check_unlocked(self.path)
        check_contents(self.path)

    def check_contents(self) -> None:
        """Refuse a directory holding files (but the lock) and no dataset."""
        check_contents(self.path, ignore=(LOCK,))

    def is_dataset(self) -> bool:
        """True when the directory holds a cpnsim manifest."""
        return is_dataset(self.path)

    def read_manifest(self) -> Manifest:
        """The manifest, journal folded in."""
        return read_manifest(self.path)

    def write_manifest(self, manifest: Manifest) -> None:
        """Write the manifest atomically (rename), synced."""
        write_manifest(self.path, manifest)

    def read_journal(self) -> JournalRecords:
        """The journal's records."""
        return read_journal(self.path)

    def open_journal(self, holder: LockHolder, records: JournalRecords) -> Journal:
        """Open ``journal.jsonl`` for appending (a tail cut short by a kill truncated away)."""
        return Journal(self.path, holder, records.good_bytes, len(records.commits))

    def clear(self) -> None:
        """Remove everything but the lock (an overwritten dataset)."""
        for entry in os.listdir(self.path):
            if entry != LOCK:
                path = self.path / entry
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def part_files(self) -> list[tuple[str, str]]:
        """Every ``(folder, file)`` one level down: the candidate parts."""
        return [(name, file) for name in os.listdir(self.path) if (self.path / name).is_dir()
                for file in os.listdir(self.path / name)]

    def write_part(self, table: str, part: str, data: pa.Table, fmt: Format) -> None:
        """Write one part atomically (a temporary file renamed into place)."""
        write_table(data, self.path / table / part, fmt)

    def read_part(self, table: str, part: str, fmt: Format) -> pa.Table:
        """Read one part."""
        return read_part(self.path / table / part, fmt)

    def delete_part(self, table: str, part: str) -> None:
        """Delete one part (missing is fine)."""
        (self.path / table / part).unlink(missing_ok=True)

    def write_schema(self, tables: Mapping[str, pa.Schema], scenario_ids: Iterable[str]) -> None:
        """Write ``schema.json`` atomically (:func:`cluster.dataset_schema.write_schema_json`)."""
        from cluster.dataset_schema import write_schema_json

        write_schema_json(self.path, tables, scenario_ids)
