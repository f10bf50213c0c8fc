"""The output directory as a dataset: ``<out>/<table>/part-*.arrow`` + ``manifest.json``.

Every file is written through :func:`topology.plumbing.write_atomic` (a temporary file,
then a rename).  A whole dataset (:func:`write_dataset`) is made atomic one level up: it
is written into a hidden directory beside ``out`` that is renamed into place only when
complete, so an interrupted or failed write leaves no half-written dataset.  A sweep
(:class:`SweepWriter`) instead grows in place, one part per table per batch, and its
manifest lists only whole batches.  An existing cpnsim dataset at ``out`` is replaced;
any other non-empty directory is refused.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from cluster.sweeps.manifest import (
    MANIFEST_VERSION,
    CpnsimStamp,
    Format,
    Manifest,
    TableParts,
    is_dataset,
    read_manifest,
    write_manifest,
)
from sim.tables import SCHEMA_VERSION
from topology.plumbing import ConfigError, SchemaError, write_atomic

__all__ = [
    "SweepWriter",
    "check_writable",
    "git_revision",
    "package_version",
    "read_table",
    "slug",
    "write_dataset",
    "write_table",
]

_SUFFIX = {"arrow": ".arrow", "parquet": ".parquet"}


def package_version() -> str:
    """The installed cpnsim version (``0+unknown`` when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cpnsim")
    except PackageNotFoundError:
        return "0+unknown"


def git_revision() -> str | None:
    """The git commit of the cpnsim source tree (``+dirty`` if modified), if it is a checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "") if rev else None


def slug(name: str) -> str:
    """``name`` made safe as a file or folder name (the default ``cpnsim-out/<slug>``).

    Examples
    --------
    >>> slug("east west/nearest"), slug("///")
    ('east-west-nearest', 'scenario')
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "scenario"


def _stamp() -> CpnsimStamp:
    return CpnsimStamp(version=package_version(), schema_version=SCHEMA_VERSION, git_revision=git_revision(),
                       manifest_version=MANIFEST_VERSION)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_writable(out: Path) -> None:
    """Refuse an ``out`` that exists and is neither empty nor a cpnsim dataset.

    Raises
    ------
    ConfigError
        Naming the directory; checked before any simulation so nothing is wasted.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not is_dataset(out):
        raise ConfigError(f"--out {out}: directory is not empty and is not a cpnsim dataset; refusing to replace it")


def write_table(table: pa.Table, path: Path, fmt: Format = "arrow") -> Path:
    """Write ``table`` to the file ``path`` atomically: Arrow IPC (zstd) or Parquet (zstd).

    The parent directory is created if missing; no half-written file is ever at ``path``.

    Returns
    -------
    Path
        ``path``.
    """
    # One record batch per file: a table concatenated from many small ones has one chunk per
    # piece, and each chunk would become a record batch with every buffer compressed apart
    # (64 one-row scenarios: 30x the write time, 10x the file size).
    table = table.combine_chunks()

    def write(handle: IO[bytes]) -> None:
        if fmt == "arrow":
            options = ipc.IpcWriteOptions(compression="zstd")
            with ipc.new_file(pa.PythonFile(handle, mode="w"), table.schema, options=options) as writer:
                writer.write_table(table)
        else:
            pq.write_table(table, handle, compression="zstd")

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, write)


def write_dataset(
    out: Path,
    tables: Mapping[str, pa.Table],
    manifest: Mapping[str, Any],
    fmt: Format = "arrow",
) -> Path:
    """Write ``tables`` and ``manifest`` to ``out`` atomically.

    Parameters
    ----------
    out : Path
        The dataset directory; its parent is created if missing.
    tables : mapping of str to pyarrow.Table
        Each becomes ``<out>/<name>/part-00000<suffix>``.
    manifest : mapping
        The :class:`~cluster.sweeps.manifest.Manifest` fields of this kind of dataset
        (``kind``, ``source``, ``resolved_network``, ...); cpnsim adds version, schema
        versions, git revision, format, creation time and the table row counts.
    fmt : {"arrow", "parquet"}
        Arrow IPC files (zstd) or Parquet (zstd).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ConfigError
        ``out`` exists and is neither empty nor a cpnsim dataset.
    """
    check_writable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkdtemp: that makes the folder private (0700), and a dataset is not.
    tmp = out.parent / f".{out.name}.tmp-{secrets.token_hex(6)}"
    tmp.mkdir(0o777)
    try:
        entries: dict[str, TableParts] = {}
        for name, table in tables.items():
            part = f"part-00000{_SUFFIX[fmt]}"
            write_table(table, tmp / name / part, fmt)
            entries[name] = TableParts(rows=table.num_rows, parts=(part,))
        write_manifest(tmp, Manifest(cpnsim=_stamp(), created_utc=_now(), format=fmt, tables=entries, **manifest))
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{secrets.token_hex(6)}"
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_table(out: Path, name: str) -> pa.Table:
    """Read every part of table ``name`` of the dataset at ``out``.

    Raises
    ------
    SchemaError
        ``out`` is not a cpnsim dataset or has no table ``name``.

    Examples
    --------
    ``read_table(Path("cpnsim-out/east-west"), "runs").to_pandas()``
    """
    manifest = read_manifest(out)
    if name not in manifest.tables:
        raise SchemaError(f"{out}: no table {name!r} (tables: {', '.join(manifest.tables)})")
    import pyarrow.dataset as pads  # deferred: 0.2 s to import, only readers need it

    fmt = "ipc" if manifest.format == "arrow" else "parquet"
    # Only the parts the manifest lists: a part written by a sweep killed before it
    # updated the manifest is not part of the dataset.  Parts of a sweep may differ in
    # their param.* columns (set and type): each is read alone, then unified.
    parts = [str(out / name / part) for part in manifest.tables[name].parts]
    if len(parts) == 1:
        return pads.dataset(parts[0], format=fmt).to_table()
    tables = [pads.dataset(part, format=fmt).to_table() for part in parts]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")


class SweepWriter:
    """A sweep's dataset, written part by part: ``<out>/<table>/part-NNNNN<suffix>``.

    Each :meth:`add` writes one part per table atomically and then rewrites
    ``manifest.json`` atomically with the ids done, so a sweep killed at any moment
    leaves a readable dataset of whole batches.

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

    Raises
    ------
    ConfigError
        ``out`` holds a dataset and neither ``resume`` nor ``overwrite`` is given, or
        ``resume`` finds a dataset of a different spec, or ``out`` is not a dataset.
    """

    def __init__(self, out: Path, manifest: Mapping[str, Any], fmt: Format = "arrow", *,
                 resume: bool = False, overwrite: bool = False) -> None:
        check_writable(out)
        self.out, self.fmt = out, fmt
        self._opened = self._replace = False
        existing = is_dataset(out)
        if existing and resume:
            old = read_manifest(out)
            if old.kind != "sweep" or old.spec != manifest.get("spec") or old.format != fmt:
                raise ConfigError(f"--out {out}: holds a dataset of another spec or format; cannot --resume it "
                                  "(use --overwrite to replace it)")
            self.manifest = old
            self._clean_orphans()
            self._opened = True
        else:
            if existing and not overwrite:
                raise ConfigError(f"--out {out}: already holds a cpnsim dataset; pass --resume to continue it "
                                  "or --overwrite to replace it")
            self._replace = existing
            self.manifest = Manifest(cpnsim=_stamp(), created_utc=_now(), format=fmt, complete=False, tables={},
                                     done=(), failed=(), **manifest)

    def _open(self) -> None:
        # Deferred to the first write: a sweep that fails to start (say, Ray does not come
        # up) leaves an existing dataset as it was.
        if self._opened:
            return
        if self._replace:
            shutil.rmtree(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        write_manifest(self.out, self.manifest)
        self._opened = True

    @property
    def done_ids(self) -> set[str]:
        """Scenario ids already in the dataset (run or failed)."""
        return set(self.manifest.done or ()) | set(self.manifest.failed or ())

    def _clean_orphans(self) -> None:
        for name in os.listdir(self.out):
            folder = self.out / name
            if not folder.is_dir():
                continue
            entry = self.manifest.tables.get(name)
            listed = set(entry.parts) if entry is not None else set()
            for file in os.listdir(folder):
                if file not in listed:
                    (folder / file).unlink()

    def _next_part(self) -> int:
        numbers = [int(p[5:10]) for t in self.manifest.tables.values() for p in t.parts]
        return max(numbers, default=-1) + 1

    def add(self, tables: Mapping[str, pa.Table], done: list[str], failed: list[str]) -> None:
        """Write one part per table, then record ``done`` and ``failed`` ids in the manifest."""
        self._open()
        number = self._next_part()
        entries = dict(self.manifest.tables)
        for name, table in tables.items():
            part = f"part-{number:05d}{_SUFFIX[self.fmt]}"
            write_table(table, self.out / name / part, self.fmt)
            entry = entries.get(name, TableParts(rows=0))
            entries[name] = TableParts(rows=entry.rows + table.num_rows, parts=(*entry.parts, part))
        self.manifest = self.manifest.model_copy(update={
            "tables": entries, "done": (*(self.manifest.done or ()), *done),
            "failed": (*(self.manifest.failed or ()), *failed)})
        write_manifest(self.out, self.manifest)

    def finish(self) -> None:
        """Mark the dataset complete."""
        self._open()
        self.manifest = self.manifest.model_copy(update={"complete": True, "finished_utc": _now()})
        write_manifest(self.out, self.manifest)
