"""A sweep's dataset, written batch by batch by the one writer that holds its lock.

Layout of ``out``::

    writer.lock                         while a driver writes (cluster.sweeps.lock)
    manifest.json                       written when the sweep starts and when it ends
    journal.jsonl                       one fsync'd line per committed batch (cluster.sweeps.journal)
    <table>/part-NNNNN-<writer>.arrow   one part per table per batch
    schema.json                         when the sweep ends: every column's type, unit, description

A batch is committed by writing its parts (each atomically, by rename) and then appending
its journal line, so the cost of a commit does not grow with the sweep.  In an object
store (``s3://``, ...) the same happens through :mod:`cluster.sweeps.objectstore`: parts
uploaded whole, one journal object per commit.  Each part's key-value metadata carries
``cpnsim.version`` and ``cpnsim.scenario_ids`` (JSON list of the scenarios whose rows it
holds), as a single run's files carry ``cpnsim.version`` and ``cpnsim.scenario_id``.  Part names carry
the commit number and the writer's id, so two writers could never overwrite each other's
parts even if the lock were removed by hand.  A resumed writer deletes *orphans*: parts
no journal line lists whose writer is gone (it holds the lock, and a writer recorded on
this host is not running).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cluster.sweeps.journal import JournalRecords
from cluster.sweeps.lock import LockHolder
from cluster.sweeps.manifest import Format, Manifest, fold_commits
from cluster.sweeps.schema import conform
from cluster.sweeps.storage import CommitLog, LocalStorage, Storage
from cluster.sweeps.store import SUFFIX, now_utc, package_version, stamp
from topology.plumbing import ConfigError

__all__ = ["SweepWriter", "stamp_part"]

_WRITER_IN_NAME = re.compile(r"part-\d+-([0-9a-f]+)\.")


def stamp_part(table: pa.Table, scenario_ids: Sequence[str]) -> pa.Table:
    """``table`` with ``cpnsim.version`` and ``cpnsim.scenario_ids`` (a JSON list) in its schema metadata.

    The schema metadata is each file's key-value metadata (Arrow IPC and Parquet), where
    pyarrow, polars and DuckDB read it without cpnsim.

    Examples
    --------
    >>> meta = stamp_part(pa.table({"x": [1]}), ["a", "b"]).schema.metadata
    >>> json.loads(meta[b"cpnsim.scenario_ids"])
    ['a', 'b']
    """
    extra = {b"cpnsim.version": package_version().encode(),
             b"cpnsim.scenario_ids": json.dumps(list(scenario_ids)).encode()}
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})


class SweepWriter:
    """The writer of a sweep's dataset at ``out``; takes the dataset's lock at once.

    Use it as a context manager (or call :meth:`close`): the lock and the journal are
    released on the way out, whatever happened.

    Parameters
    ----------
    out : Path or Storage
        The dataset directory, or where else it lives (:mod:`cluster.sweeps.storage`:
        an object store through :class:`cluster.sweeps.objectstore.ObjectStorage`).
    manifest : mapping
        :class:`~cluster.sweeps.manifest.Manifest` fields of the sweep (``kind``, ``spec``,
        ``resolved_network``, ...).
    fmt : {"arrow", "parquet"}
        Table file format.
    resume : bool
        Keep the scenarios already done in an existing dataset at ``out`` (which must
        have been written from the same spec).
    overwrite : bool
        Replace an existing cpnsim dataset at ``out``.
    schemas : mapping of str to pyarrow.Schema, optional
        Sweep-wide schemas: each part of such a table is cast to it
        (:func:`cluster.sweeps.schema.conform`; ``runs``: :func:`~cluster.sweeps.schema.sweep_schema`).

    Raises
    ------
    ConfigError
        Another writer holds ``out``'s lock, or a dead one left it; ``out`` holds a dataset
        and neither ``resume`` nor ``overwrite`` is given; ``resume`` finds a dataset of a
        different spec; ``out`` is not a dataset.
    """

    def __init__(self, out: Path | Storage, manifest: Mapping[str, Any], fmt: Format = "arrow", *,
                 resume: bool = False, overwrite: bool = False, schemas: Mapping[str, pa.Schema] | None = None) -> None:
        self.store: Storage = LocalStorage(out) if isinstance(out, Path) else out
        self.out, self.fmt = out, fmt
        self.schemas = dict(schemas or {})
        self.lock = self.store.take_lock()  # before anything of the dataset is read
        self._schemas: dict[str, pa.Schema] = {}  # each table's schema as written (for schema.json)
        self._journal: CommitLog | None = None
        try:
            self._setup(manifest, resume, overwrite)
        except BaseException:
            self.close()
            raise

    def _setup(self, manifest: Mapping[str, Any], resume: bool, overwrite: bool) -> None:
        self.store.check_contents()
        existing = self.store.is_dataset()
        self._replace = False
        if existing and resume:
            old = self.store.read_manifest()
            if old.kind != "sweep" or old.spec != manifest.get("spec") or old.format != self.fmt:
                raise ConfigError(f"--out {self.out}: holds a dataset of another spec or format; cannot --resume it "
                                  "(use --overwrite to replace it)")
            records = self.store.read_journal()
            self.manifest = old.model_copy(update={"complete": False})
            self._open_journal(records)
            self._clean_orphans(records)
            self.store.write_manifest(self.manifest)
            return
        if existing and not overwrite:
            raise ConfigError(f"--out {self.out}: already holds a cpnsim dataset; pass --resume to continue it "
                              "or --overwrite to replace it")
        self._replace = existing
        self.manifest = Manifest(cpnsim=stamp(), created_utc=now_utc(), format=self.fmt, complete=False, tables={},
                                 done=(), failed=(), journal_commits=0, **manifest)

    def _open_journal(self, records: JournalRecords) -> None:
        self._journal = self.store.open_journal(self.lock.holder, records)

    def _open(self) -> CommitLog:
        # Deferred to the first write: a sweep that fails to start (say, Ray does not come
        # up) leaves an existing dataset as it was.
        if self._journal is not None:
            return self._journal
        if self._replace:
            self.store.clear()
        self.store.write_manifest(self.manifest)
        self._open_journal(JournalRecords())
        assert self._journal is not None
        return self._journal

    @property
    def holder(self) -> LockHolder:
        """This writer (host, pid, Ray job, writer id)."""
        return self.lock.holder

    @property
    def done_ids(self) -> set[str]:
        """Scenario ids already in the dataset when it was opened (run or failed)."""
        return set(self.manifest.done or ()) | set(self.manifest.failed or ())

    def _clean_orphans(self, records: JournalRecords) -> None:
        listed = {(name, part) for name, entry in self.manifest.tables.items() for part in entry.parts}
        for name, file in self.store.part_files():
            if (name, file) in listed:
                continue
            match = _WRITER_IN_NAME.search(file)
            writer = records.writers.get(match.group(1)) if match else None
            if writer is not None and writer.writer != self.holder.writer and not writer.gone() \
                    and writer.host == self.holder.host:
                continue  # its writer still runs on this host (someone removed its lock): not ours to delete
            self.store.delete_part(name, file)

    def add(self, tables: Mapping[str, pa.Table], done: list[str], failed: list[str]) -> None:
        """Write one part per table, then commit them with the ``done`` and ``failed`` ids (one journal line)."""
        journal = self._open()
        number = journal.next_commit
        parts: dict[str, tuple[str, int]] = {}
        for name, table in tables.items():
            if name in self.schemas:
                table = conform(table, self.schemas[name])
            part = f"part-{number:05d}-{self.holder.writer}{SUFFIX[self.fmt]}"
            table = stamp_part(table, [*done, *failed])
            self.store.write_part(name, part, table, self.fmt)
            self._schemas.setdefault(name, table.schema)
            parts[name] = (part, table.num_rows)
        journal.commit(parts, done, failed)

    def retry_failed(self) -> list[str]:
        """Take the failed scenarios out of the dataset so that the sweep runs them again.

        For each commit that holds failed rows, one journal line drops its parts that hold
        them and adds rewritten parts without them, and takes the ids out of ``failed``: the
        dataset is whole after each line (a scenario is there failed, or not there and due
        to run).  Only ``resume`` writers; failures recorded before the journal existed
        (manifest version 2 without ``journal_commits``) are not in any commit and stay.

        Returns
        -------
        list of str
            The scenario ids taken out (now to be run).
        """
        journal = self._open()
        commits = self.store.read_journal().commits
        failed = set(self.manifest.failed or ())
        live: dict[int, list[str]] = {}
        last = {i: c.number for c in commits for i in c.failed if i in failed}  # where each row is now
        for scenario_id, number in last.items():
            live.setdefault(number, []).append(scenario_id)
        listed = {(name, part) for name, entry in self.manifest.tables.items() for part in entry.parts}
        retried: list[str] = []
        for number, ids in sorted(live.items()):
            drops: dict[str, list[tuple[str, int]]] = {}
            parts: dict[str, tuple[str, int]] = {}
            new_number = journal.next_commit
            for name, (part, rows) in commits[number].parts.items():
                if (name, part) not in listed:
                    continue
                table = self.store.read_part(name, part, self.fmt)
                if "scenario_id" not in table.column_names:
                    continue
                keep = table.filter(pc.invert(pc.is_in(table["scenario_id"], value_set=pa.array(ids))))
                if keep.num_rows == table.num_rows:
                    continue
                drops[name] = [(part, rows)]
                if keep.num_rows:
                    keep = stamp_part(keep, pc.unique(keep["scenario_id"]).to_pylist())
                    new = f"part-{new_number:05d}-{self.holder.writer}{SUFFIX[self.fmt]}"
                    self.store.write_part(name, new, keep, self.fmt)
                    parts[name] = (new, keep.num_rows)
            journal.commit(parts, [], [], drops=drops, retried=sorted(ids))
            for name, dropped in drops.items():
                for part, _ in dropped:
                    self.store.delete_part(name, part)
            retried += ids
        self.manifest = fold_commits(self.manifest, self.store.read_journal().commits)
        return sorted(retried)

    def finish(self, updates: Mapping[str, Any] | None = None) -> None:
        """Write the final manifest (every commit folded in, ``updates`` set), marked complete, and ``schema.json``.

        ``schema.json`` is :func:`cluster.dataset_schema.schema_document` of every table
        (the sweep-wide schema of ``runs``) and every scenario id, done or failed.
        """
        self._open()
        folded = fold_commits(self.manifest, self.store.read_journal().commits)
        self.manifest = folded.model_copy(update={**(updates or {}), "complete": True, "finished_utc": now_utc()})
        self.store.write_manifest(self.manifest)
        schemas = {}
        for name, entry in self.manifest.tables.items():
            if name in self._schemas:
                schemas[name] = self._schemas[name]
            elif entry.parts:  # written by an earlier session of a resumed sweep
                schemas[name] = self.store.read_part(name, entry.parts[-1], self.fmt).schema
        self.store.write_schema(schemas, [*(self.manifest.done or ()), *(self.manifest.failed or ())])

    def close(self) -> None:
        """Close the journal and release the lock (idempotent)."""
        if self._journal is not None:
            self._journal.close()
        self.lock.release()

    def __enter__(self) -> SweepWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
