"""The output directory as a dataset: ``<out>/<table>/part-*.arrow`` + ``manifest.json``.

Every file is written through :func:`topology.plumbing.write_atomic` (a temporary file,
then a rename).  A whole dataset (:func:`write_dataset`) is made atomic one level up: it
is written into a hidden directory beside ``out`` that is renamed into place only when
complete, so an interrupted or failed write leaves no half-written dataset.  A sweep
(:class:`cluster.sweeps.writer.SweepWriter`) instead grows in place, one part per table
per batch, committed by its journal.  An existing cpnsim dataset at ``out`` is replaced;
any other non-empty directory is refused, and so is one whose lock a sweep holds.
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

from cluster.sweeps.lock import check_unlocked
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
    "SUFFIX",
    "check_contents",
    "check_writable",
    "code_revision",
    "git_revision",
    "now_utc",
    "package_version",
    "read_part",
    "read_table",
    "slug",
    "stamp",
    "table_bytes",
    "table_from_bytes",
    "write_dataset",
    "write_table",
]

SUFFIX = {"arrow": ".arrow", "parquet": ".parquet"}
"""File suffix of a part, by format."""


def package_version() -> str:
    """The installed cpnsim version (``0+unknown`` when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cpnsim")
    except PackageNotFoundError:
        return "0+unknown"


REVISION_ENV = "CPNSIM_REVISION"
"""Environment variable that names the code revision where git cannot (inside a Ray job)."""
REVISION_FILE = "REVISION"
"""A file at the project root holding the revision (``git rev-parse HEAD > REVISION``)."""


def git_revision() -> str | None:
    """The git commit of the cpnsim source tree (``+dirty`` if modified), if it is a checkout."""
    return code_revision()[0]


def code_revision(root: Path | None = None) -> tuple[str | None, str]:
    """The code revision of this cpnsim and where it came from (or why it is unknown).

    In order: git, when the package is a checkout (``+dirty`` if modified); the
    :data:`REVISION_ENV` variable (``ray job submit --runtime-env-json
    '{"env_vars": {"CPNSIM_REVISION": "..."}}'``); a :data:`REVISION_FILE` at the project
    root, uploaded with the working dir.  ``ray job submit`` does not upload ``.git``, so
    without one of the last two a job's revision is None, with the reason.

    Parameters
    ----------
    root : Path, optional
        The project root (default: the one this package was imported from).

    Returns
    -------
    (str or None, str)
        The revision and its source (``"git"``, ``"env CPNSIM_REVISION"``, ``"file REVISION"``)
        or the reason it is None.
    """
    root = root or Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                 timeout=5, check=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=5, check=True).stdout.strip()
            if rev:
                return rev + ("+dirty" if dirty else ""), "git"
        except (OSError, subprocess.SubprocessError):
            pass
    if os.environ.get(REVISION_ENV, "").strip():
        return os.environ[REVISION_ENV].strip(), f"env {REVISION_ENV}"
    try:
        text = (root / REVISION_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    if text:
        return text.split()[0], f"file {REVISION_FILE}"
    return None, (f"unknown: {root} has no usable .git (a Ray job's working dir is uploaded without it), no "
                  f"{REVISION_ENV} and no {REVISION_FILE} file")


def slug(name: str) -> str:
    """``name`` made safe as a file or folder name (the default ``cpnsim-out/<slug>``).

    Examples
    --------
    >>> slug("east west/nearest"), slug("///")
    ('east-west-nearest', 'scenario')
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "scenario"


def stamp() -> CpnsimStamp:
    """What is writing a dataset now: version, schema versions, git revision."""
    revision, source = code_revision()
    return CpnsimStamp(version=package_version(), schema_version=SCHEMA_VERSION, git_revision=revision,
                       revision_source=source,
                       manifest_version=MANIFEST_VERSION)


def now_utc() -> str:
    """The time now, ISO 8601 in UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_writable(out: Path) -> None:
    """Refuse an ``out`` that exists and is neither empty nor a cpnsim dataset.

    Raises
    ------
    ConfigError
        Naming the directory; checked before any simulation so nothing is wasted.  Also
        when a sweep holds the directory's lock, naming the holder
        (:func:`cluster.sweeps.lock.check_unlocked`).
    """
    if out.is_dir():
        check_unlocked(out)
    check_contents(out)


def check_contents(out: Path, ignore: tuple[str, ...] = ()) -> None:
    """Refuse an ``out`` that is not a directory, or holds files (but ``ignore``) and no dataset.

    Raises
    ------
    ConfigError
        Naming the directory.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(p.name not in ignore for p in out.iterdir()) and not is_dataset(out):
        raise ConfigError(f"--out {out}: directory is not empty and is not a cpnsim dataset; refusing to replace it")


def write_table(table: pa.Table, path: Path, fmt: Format = "arrow") -> Path:
    """Write ``table`` to the file ``path`` atomically: Arrow IPC (zstd) or Parquet (zstd).

    The parent directory is created if missing; no half-written file is ever at ``path``.
    A ``path`` in an object store (``s3://b/x/t.arrow``, also as a ``Path`` that collapsed
    its ``//``) is uploaded whole, which is atomic there.

    Returns
    -------
    Path
        ``path``.
    """
    # One record batch per file: a table concatenated from many small ones has one chunk per
    # piece, and each chunk would become a record batch with every buffer compressed apart
    # (64 one-row scenarios: 30x the write time, 10x the file size).
    from cluster.sweeps.location import object_storage

    remote = object_storage(path.parent)  # s3://bucket/x/file.arrow: uploaded whole, never a local "s3:" folder
    if remote is not None:
        remote.put_bytes(table_bytes(table, fmt), path.name)
        return path
    table = table.combine_chunks()

    def write(handle: IO[bytes]) -> None:
        _encode(table, pa.PythonFile(handle, mode="w"), fmt)

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, write)


def _encode(table: pa.Table, sink: pa.NativeFile, fmt: Format) -> None:
    if fmt == "arrow":
        options = ipc.IpcWriteOptions(compression="zstd")
        with ipc.new_file(sink, table.schema, options=options) as writer:
            writer.write_table(table)
    else:
        pq.write_table(table, sink, compression="zstd")


def table_bytes(table: pa.Table, fmt: Format = "arrow") -> pa.Buffer:
    """``table`` encoded as one file's bytes, as :func:`write_table` writes it (for an object store).

    Examples
    --------
    >>> t = pa.table({"x": [1, 2]})
    >>> table_from_bytes(table_bytes(t, "parquet"), "parquet").equals(t)
    True
    """
    sink = pa.BufferOutputStream()
    _encode(table.combine_chunks(), sink, fmt)
    return sink.getvalue()


def table_from_bytes(data: pa.Buffer | bytes, fmt: Format = "arrow") -> pa.Table:
    """The table of one part file's bytes (Arrow IPC or Parquet)."""
    reader = pa.BufferReader(data)
    if fmt == "arrow":
        return ipc.open_file(reader).read_all()
    return pq.read_table(reader)


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
            part = f"part-00000{SUFFIX[fmt]}"
            write_table(table, tmp / name / part, fmt)
            entries[name] = TableParts(rows=table.num_rows, parts=(part,))
        write_manifest(tmp, Manifest(cpnsim=stamp(), created_utc=now_utc(), format=fmt, tables=entries, **manifest))
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


def read_part(path: Path, fmt: Format = "arrow") -> pa.Table:
    """Read one part file (Arrow IPC or Parquet)."""
    if fmt == "arrow":
        with pa.memory_map(str(path)) as source:
            return ipc.open_file(source).read_all()
    return pq.read_table(path)


def read_table(out: Path | str, name: str) -> pa.Table:
    """Read every part of table ``name`` of the dataset at ``out`` (a directory, or a URI such as ``s3://b/x``).

    Raises
    ------
    SchemaError
        ``out`` is not a cpnsim dataset or has no table ``name``.

    Examples
    --------
    ``read_table(Path("cpnsim-out/east-west"), "runs").to_pandas()``
    """
    from cluster.sweeps.location import object_storage

    remote = object_storage(out)  # s3://, gs://, hdfs://: the parts are read through pyarrow.fs
    manifest = read_manifest(out)
    if name not in manifest.tables:
        raise SchemaError(f"{remote or out}: no table {name!r} (tables: {', '.join(manifest.tables)})")
    if remote is not None:
        pieces = [remote.read_part(name, part, manifest.format) for part in manifest.tables[name].parts]
        return pa.concat_tables(pieces, promote_options="permissive") if pieces else pa.table({})
    import pyarrow.dataset as pads  # deferred: 0.2 s to import, only readers need it

    out = Path(out)
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
