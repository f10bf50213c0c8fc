"""A sweep's dataset in an object store (``s3://``, ``gs://``, ``hdfs://``) through :mod:`pyarrow.fs`.

The layout and the commit protocol are those of a local dataset
(:mod:`cluster.sweeps.writer`), with three differences forced by object stores:

* **Parts are written whole, under their final name** (no temporary name and rename: an
  S3 "rename" is a copy and a delete, not atomic).  That is safe because (1) an object
  store makes an object visible only once its upload has completed (an interrupted
  multipart upload leaves no object), so no reader ever sees half a part; (2) a part
  becomes data only when a journal record lists it, and that record is written after the
  part; (3) part names carry the commit number and the writer id, so no part is ever
  overwritten.  A part uploaded by a driver killed before its commit is an orphan, deleted
  by the next writer as on a local disk.
* **The journal is one object per record** under ``journal/`` (``writer-<id>.json``, and
  ``NNNNN-<id>.json`` per commit) instead of lines appended to ``journal.jsonl``: objects
  cannot be appended to, and rewriting one growing object would make every commit cost
  more than the last.  Each record object is written whole (one PUT): the commit.
* **The lock cannot be exclusive-create** (pyarrow exposes no conditional PUT).  The
  driver checks that ``writer.lock`` is absent, writes it with its unique writer id, waits
  :data:`CONFIRM_S`, reads it back and proceeds only if it still holds its own id; it also
  re-reads the lock before every commit and stops if another writer's id is there.  The
  race window: two drivers that both find no lock within the same ~:data:`CONFIRM_S`
  (plus a few round trips) can both confirm.  The second writer then wins the object (last
  PUT wins) and the first stops at its next commit, but any batch the first committed in
  that window is in the journal twice (once per writer) — so do not start two drivers on
  one ``--out`` within a second of each other; a driver started later is refused with
  one line as on a local disk.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from cluster.sweeps.journal import Commit, JournalRecords, add_record, commit_of, commit_record
from cluster.sweeps.lock import LOCK, LockHolder, lock_refusal, read_holder_text
from cluster.sweeps.manifest import MANIFEST, Format, Manifest, fold_commits, manifest_from_json, manifest_text
from cluster.sweeps.store import table_bytes, table_from_bytes
from topology.plumbing import ConfigError, SchemaError

if TYPE_CHECKING:
    import pyarrow.fs as pafs

__all__ = ["CONFIRM_S", "GCS_RETRY_S", "JOURNAL_DIR", "ObjectLock", "ObjectStorage", "redact_uri"]

CONFIRM_S = 1.0
"""Seconds between writing the lock object and reading it back to confirm it is ours."""
JOURNAL_DIR = "journal"
"""Folder of the journal's record objects."""
GCS_RETRY_S = 30.0
"""``gs://``: seconds the client retries a failing call (unless the URI sets ``retry_limit_seconds``)."""

_SECRET = {"access_key", "secret_key", "session_token"}
_COMMIT = re.compile(r"^(\d+)-([0-9a-f]+)\.json$")


def redact_uri(uri: str) -> str:
    """``uri`` without credentials (query keys ``access_key``, ``secret_key``, ``session_token``, user info).

    Examples
    --------
    >>> redact_uri("s3://k:s@bucket/x?access_key=k&secret_key=s&endpoint_override=h:9000")
    's3://bucket/x?endpoint_override=h%3A9000'
    """
    parts = urlsplit(uri)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in _SECRET])
    return urlunsplit((parts.scheme, parts.hostname or "", parts.path, query, ""))


class ObjectStorage:
    """A dataset at ``uri`` in a filesystem :func:`pyarrow.fs.FileSystem.from_uri` opens.

    Parameters
    ----------
    uri : str
        ``s3://bucket/prefix`` (credentials and endpoint from the usual ``AWS_*`` variables,
        or query keys such as ``endpoint_override``, ``scheme``, ``region``), ``gs://``,
        ``hdfs://``.

    Raises
    ------
    ConfigError
        One line naming ``--out`` when pyarrow cannot open the filesystem.
    """

    def __init__(self, uri: str) -> None:
        import pyarrow.fs as pafs  # deferred: only object-store datasets need it

        self.uri = uri
        self.label = redact_uri(uri)
        parts = urlsplit(uri)
        if parts.scheme == "gs" and "retry_limit_seconds" not in dict(parse_qsl(parts.query)):
            # Without credentials the GCS client retries for ~15 minutes before failing.
            query = "&".join(q for q in (parts.query, f"retry_limit_seconds={GCS_RETRY_S:g}") if q)
            uri = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        try:
            fs, root = pafs.FileSystem.from_uri(uri)
        except (pa.ArrowException, ValueError, OSError) as exc:
            raise ConfigError(f"--out {self.label}: pyarrow cannot open it ({_first_line(exc)})") from None
        self.fs: pafs.FileSystem = fs
        self.root = root.rstrip("/")

    def __str__(self) -> str:
        return self.label

    def _path(self, *names: str) -> str:
        return "/".join((self.root, *names))

    def _get(self, *names: str) -> bytes | None:
        try:
            with self.fs.open_input_stream(self._path(*names)) as stream:
                return bytes(stream.read())
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"--out {self.label}: cannot read {'/'.join(names)} ({_first_line(exc)})") from None

    def _put(self, data: bytes | pa.Buffer, *names: str) -> None:
        try:
            with self.fs.open_output_stream(self._path(*names)) as stream:
                stream.write(data)
        except OSError as exc:
            raise ConfigError(f"--out {self.label}: cannot write {'/'.join(names)} ({_first_line(exc)})") from None

    def put_bytes(self, data: bytes | pa.Buffer, name: str) -> None:
        """Upload ``data`` whole as the object ``name`` at the top of the dataset.

        Raises
        ------
        ConfigError
            The upload failed (one line naming the object).
        """
        self._put(data, name)

    def _files(self) -> list[str]:
        """Every object under the root, as paths relative to it."""
        import pyarrow.fs as pafs

        try:
            infos = self.fs.get_file_info(pafs.FileSelector(self.root, recursive=True, allow_not_found=True))
        except OSError as exc:
            raise ConfigError(f"--out {self.label}: cannot list it ({_first_line(exc)})") from None
        return [i.path[len(self.root) + 1 :] for i in infos if i.type == pafs.FileType.File]

    def exists(self) -> bool:
        """True when any object lies under the root."""
        return bool(self._files())

    def take_lock(self) -> ObjectLock:
        """Take the lock object (:class:`ObjectLock`)."""
        return ObjectLock(self)

    def holder(self) -> LockHolder | Literal[False] | None:
        """The holder named by the lock object: None if unreadable, False if there is none."""
        data = self._get(LOCK)
        if data is None:
            return False
        return read_holder_text(data.decode("utf-8", errors="replace"))

    def check_unlocked(self) -> None:
        """Refuse the dataset when a lock object is there (naming its holder, or saying it is stale)."""
        holder = self.holder()
        if holder is False:
            return
        raise lock_refusal(self.label, f"{self.label}/{LOCK}", holder)

    def check_writable(self) -> None:
        """Refuse a locked dataset, or a prefix that holds objects and no dataset."""
        self.check_unlocked()
        self.check_contents()

    def check_contents(self) -> None:
        """Refuse a prefix holding objects (but the lock) and no cpnsim manifest."""
        if any(f != LOCK for f in self._files()) and not self.is_dataset():
            raise ConfigError(f"--out {self.label}: holds objects and is not a cpnsim dataset; refusing to replace it")

    def is_dataset(self) -> bool:
        """True when a cpnsim ``manifest.json`` is there."""
        data = self._get(MANIFEST)
        try:
            return data is not None and "cpnsim" in json.loads(data)
        except ValueError:
            return False

    def read_manifest(self) -> Manifest:
        """The manifest, journal folded in.

        Raises
        ------
        SchemaError
            No cpnsim manifest there.
        """
        data = self._get(MANIFEST)
        if data is None:
            raise SchemaError(f"{self.label}: not a cpnsim dataset (no {MANIFEST})")
        try:
            parsed = json.loads(data)
        except ValueError as exc:
            raise SchemaError(f"{self.label}/{MANIFEST}: not JSON ({exc})") from None
        manifest = manifest_from_json(parsed, f"{self.label}/{MANIFEST}")
        if manifest.kind != "sweep":
            return manifest
        return fold_commits(manifest, self.read_journal().commits)

    def write_manifest(self, manifest: Manifest) -> None:
        """Write ``manifest.json`` whole (one PUT)."""
        self._put(manifest_text(manifest).encode("utf-8"), MANIFEST)

    def read_journal(self) -> JournalRecords:
        """The journal's records, commits in order.

        Raises
        ------
        SchemaError
            A record object is not a journal record, or two commits share a number (two
            writers raced for the lock: see the module docstring).
        """
        records = JournalRecords()
        names = sorted(f[len(JOURNAL_DIR) + 1 :] for f in self._files() if f.startswith(JOURNAL_DIR + "/"))
        commits: list[str] = []
        for name in names:
            if name.startswith("writer-"):
                self._add(records, name)
            elif _COMMIT.match(name):
                commits.append(name)
        for position, name in enumerate(commits):
            number = int(_COMMIT.match(name).group(1))  # type: ignore[union-attr]
            if number != position:
                raise SchemaError(f"{self.label}/{JOURNAL_DIR}: commit {position} is missing or written twice "
                                  f"({name}); two writers may have raced for the lock")
            self._add(records, name)
        return records

    def _add(self, records: JournalRecords, name: str) -> None:
        data = self._get(JOURNAL_DIR, name)
        try:
            add_record(records, json.loads(data or b""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SchemaError(f"{self.label}/{JOURNAL_DIR}/{name}: not a journal record ({exc})") from None

    def open_journal(self, holder: LockHolder, records: JournalRecords) -> ObjectJournal:
        """Start this writer's session in the journal (its writer record)."""
        return ObjectJournal(self, holder, len(records.commits))

    def put_record(self, name: str, record: dict[str, Any]) -> None:
        """Write one journal record object ``journal/<name>``."""
        self._put(json.dumps(record, separators=(",", ":")).encode("utf-8"), JOURNAL_DIR, name)

    def clear(self) -> None:
        """Delete every object but the lock (an overwritten dataset)."""
        for name in self._files():
            if name != LOCK:
                self.fs.delete_file(self._path(name))

    def part_files(self) -> list[tuple[str, str]]:
        """Every ``(folder, object)`` one level down, the journal's excepted: the candidate parts."""
        pairs = [tuple(f.split("/")) for f in self._files()]
        return [(p[0], p[1]) for p in pairs if len(p) == 2 and p[0] != JOURNAL_DIR]

    def write_part(self, table: str, part: str, data: pa.Table, fmt: Format) -> None:
        """Upload one part whole under its final name (see the module docstring for why that is safe)."""
        self._put(table_bytes(data, fmt), table, part)

    def read_part(self, table: str, part: str, fmt: Format) -> pa.Table:
        """Download and decode one part."""
        data = self._get(table, part)
        if data is None:
            raise SchemaError(f"{self.label}/{table}/{part}: listed by the journal but missing")
        return table_from_bytes(data, fmt)

    def delete_part(self, table: str, part: str) -> None:
        """Delete one part (missing is fine)."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.delete_file(self._path(table, part))

    def write_schema(self, tables: Mapping[str, pa.Schema], scenario_ids: Iterable[str]) -> None:
        """Write ``schema.json`` (:func:`cluster.dataset_schema.schema_document`) whole."""
        from cluster.dataset_schema import SCHEMA_JSON, schema_document

        text = json.dumps(schema_document(tables, scenario_ids), indent=2, ensure_ascii=False) + "\n"
        self._put(text.encode("utf-8"), SCHEMA_JSON)

    def delete_lock(self) -> None:
        """Delete the lock object (missing is fine)."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.delete_file(self._path(LOCK))

    def put_lock(self, holder: LockHolder) -> None:
        """Write the lock object naming ``holder``."""
        self._put((json.dumps(asdict(holder)) + "\n").encode("utf-8"), LOCK)


class ObjectLock:
    """The lock object of an object-store dataset, held by this process while it writes.

    Written, then read back after :data:`CONFIRM_S`: see the module docstring for the race
    window that remains.

    Raises
    ------
    ConfigError
        A lock object is there already (its holder named), or another writer's id was
        read back.
    """

    def __init__(self, storage: ObjectStorage, confirm_s: float = CONFIRM_S) -> None:
        self.storage = storage
        self.holder = LockHolder.here()
        storage.check_unlocked()
        storage.put_lock(self.holder)
        self._held = True
        time.sleep(confirm_s)
        self.confirm()

    def confirm(self) -> None:
        """Check that the lock object still names this writer.

        Raises
        ------
        ConfigError
            Another writer's id is there (it wrote the lock after this one); this writer stops.
        """
        now = self.storage.holder()
        if isinstance(now, LockHolder) and now.writer == self.holder.writer:
            return
        self._held = False  # not ours to delete
        who = now.describe() if isinstance(now, LockHolder) else "an unreadable or missing lock"
        raise ConfigError(f"--out {self.storage.label}: another sweep took the lock ({who}); stopping this one")

    def release(self) -> None:
        """Delete the lock object if it still names this writer."""
        if not self._held:
            return
        self._held = False
        now = self.storage.holder()
        if isinstance(now, LockHolder) and now.writer == self.holder.writer:
            self.storage.delete_lock()


class ObjectJournal:
    """The journal of an object-store dataset opened by the writer holding its lock.

    Each commit is one object ``journal/NNNNN-<writer>.json`` (written whole); the lock is
    read back before each (:meth:`ObjectLock.confirm`).
    """

    def __init__(self, storage: ObjectStorage, holder: LockHolder, first_commit: int) -> None:
        self.storage = storage
        self.writer = holder.writer
        self.next_commit = first_commit
        storage.put_record(f"writer-{holder.writer}.json", {"writer": asdict(holder)})

    def commit(self, parts: dict[str, tuple[str, int]], done: list[str], failed: list[str], *,
               drops: dict[str, list[tuple[str, int]]] | None = None, retried: list[str] | None = None) -> Commit:
        """Write the object that commits ``parts`` (and ``drops``, ``retried``); returns the commit."""
        holder = self.storage.holder()
        if not (isinstance(holder, LockHolder) and holder.writer == self.writer):
            who = holder.describe() if isinstance(holder, LockHolder) else "no lock object"
            raise ConfigError(f"--out {self.storage.label}: the lock now names {who}, not this writer; stopping "
                              "before committing (parts of this batch are orphans)")
        number = self.next_commit
        record = commit_record(number, self.writer, parts, done, failed, drops, retried)
        self.storage.put_record(f"{number:05d}-{self.writer}.json", record)
        self.next_commit += 1
        return commit_of(record)

    def close(self) -> None:
        """Nothing to close (every record is its own object)."""


def _first_line(exc: BaseException, limit: int = 300) -> str:
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."
