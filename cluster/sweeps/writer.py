"""A sweep's dataset, written batch by batch by the one writer that holds its lock.

Layout of ``out``::

    writer.lock                         while a driver writes (cluster.sweeps.lock)
    manifest.json                       written when the sweep starts and when it ends
    journal.jsonl                       one fsync'd line per committed batch (cluster.sweeps.journal)
    <table>/part-NNNNN-<writer>.arrow   one part per table per batch

A batch is committed by writing its parts (each atomically, by rename) and then appending
its journal line, so the cost of a commit does not grow with the sweep.  Part names carry
the commit number and the writer's id, so two writers could never overwrite each other's
parts even if the lock were removed by hand.  A resumed writer deletes *orphans*: parts
no journal line lists whose writer is gone (it holds the lock, and a writer recorded on
this host is not running).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cluster.sweeps.journal import Journal, JournalRecords, read_journal
from cluster.sweeps.lock import LOCK, DatasetLock, LockHolder
from cluster.sweeps.manifest import Format, Manifest, fold_commits, is_dataset, read_manifest, write_manifest
from cluster.sweeps.schema import conform
from cluster.sweeps.store import SUFFIX, check_contents, now_utc, read_part, stamp, write_table
from topology.plumbing import ConfigError

__all__ = ["SweepWriter"]

_WRITER_IN_NAME = re.compile(r"part-\d+-([0-9a-f]+)\.")


class SweepWriter:
    """The writer of a sweep's dataset at ``out``; takes the dataset's lock at once.

    Use it as a context manager (or call :meth:`close`): the lock and the journal are
    released on the way out, whatever happened.

    Parameters
    ----------
    out : Path
        The dataset directory.
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

    def __init__(self, out: Path, manifest: Mapping[str, Any], fmt: Format = "arrow", *,
                 resume: bool = False, overwrite: bool = False, schemas: Mapping[str, pa.Schema] | None = None) -> None:
        self.out, self.fmt = out, fmt
        self.schemas = dict(schemas or {})
        self.lock = DatasetLock(out)  # before anything of the dataset is read
        self._journal: Journal | None = None
        try:
            self._setup(manifest, resume, overwrite)
        except BaseException:
            self.close()
            raise

    def _setup(self, manifest: Mapping[str, Any], resume: bool, overwrite: bool) -> None:
        check_contents(self.out, ignore=(LOCK,))
        existing = is_dataset(self.out)
        self._replace = False
        if existing and resume:
            old = read_manifest(self.out)
            if old.kind != "sweep" or old.spec != manifest.get("spec") or old.format != self.fmt:
                raise ConfigError(f"--out {self.out}: holds a dataset of another spec or format; cannot --resume it "
                                  "(use --overwrite to replace it)")
            records = read_journal(self.out)
            self.manifest = old.model_copy(update={"complete": False})
            self._open_journal(records)
            self._clean_orphans(records)
            write_manifest(self.out, self.manifest)
            return
        if existing and not overwrite:
            raise ConfigError(f"--out {self.out}: already holds a cpnsim dataset; pass --resume to continue it "
                              "or --overwrite to replace it")
        self._replace = existing
        self.manifest = Manifest(cpnsim=stamp(), created_utc=now_utc(), format=self.fmt, complete=False, tables={},
                                 done=(), failed=(), journal_commits=0, **manifest)

    def _open_journal(self, records: JournalRecords) -> None:
        self._journal = Journal(self.out, self.lock.holder, records.good_bytes, len(records.commits))

    def _open(self) -> Journal:
        # Deferred to the first write: a sweep that fails to start (say, Ray does not come
        # up) leaves an existing dataset as it was.
        if self._journal is not None:
            return self._journal
        if self._replace:
            for entry in os.listdir(self.out):
                if entry != LOCK:
                    path = self.out / entry
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        write_manifest(self.out, self.manifest)
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
        for name in os.listdir(self.out):
            folder = self.out / name
            if not folder.is_dir():
                continue
            for file in os.listdir(folder):
                if (name, file) in listed:
                    continue
                match = _WRITER_IN_NAME.search(file)
                writer = records.writers.get(match.group(1)) if match else None
                if writer is not None and writer.writer != self.holder.writer and not writer.gone() \
                        and writer.host == self.holder.host:
                    continue  # its writer still runs on this host (someone removed its lock): not ours to delete
                (folder / file).unlink()

    def add(self, tables: Mapping[str, pa.Table], done: list[str], failed: list[str]) -> None:
        """Write one part per table, then commit them with the ``done`` and ``failed`` ids (one journal line)."""
        journal = self._open()
        number = journal.next_commit
        parts: dict[str, tuple[str, int]] = {}
        for name, table in tables.items():
            if name in self.schemas:
                table = conform(table, self.schemas[name])
            part = f"part-{number:05d}-{self.holder.writer}{SUFFIX[self.fmt]}"
            write_table(table, self.out / name / part, self.fmt)
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
        commits = read_journal(self.out).commits
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
                table = read_part(self.out / name / part, self.fmt)
                if "scenario_id" not in table.column_names:
                    continue
                keep = table.filter(pc.invert(pc.is_in(table["scenario_id"], value_set=pa.array(ids))))
                if keep.num_rows == table.num_rows:
                    continue
                drops[name] = [(part, rows)]
                if keep.num_rows:
                    new = f"part-{new_number:05d}-{self.holder.writer}{SUFFIX[self.fmt]}"
                    write_table(keep, self.out / name / new, self.fmt)
                    parts[name] = (new, keep.num_rows)
            journal.commit(parts, [], [], drops=drops, retried=sorted(ids))
            for name, dropped in drops.items():
                for part, _ in dropped:
                    (self.out / name / part).unlink(missing_ok=True)
            retried += ids
        self.manifest = fold_commits(self.manifest, read_journal(self.out).commits)
        return sorted(retried)

    def finish(self) -> None:
        """Write the final manifest (every commit folded in) and mark the dataset complete."""
        self._open()
        folded = fold_commits(self.manifest, read_journal(self.out).commits)
        self.manifest = folded.model_copy(update={"complete": True, "finished_utc": now_utc()})
        write_manifest(self.out, self.manifest)

    def close(self) -> None:
        """Close the journal and release the lock (idempotent)."""
        if self._journal is not None:
            self._journal.close()
        self.lock.release()

    def __enter__(self) -> SweepWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
