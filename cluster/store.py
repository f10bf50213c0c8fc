"""The output directory as a dataset: ``<out>/<table>/part-*.arrow`` + ``manifest.json``.

Writes are atomic: everything goes to a hidden temporary directory beside ``out``
that is renamed into place only when complete, so an interrupted or failed write
leaves no half-written dataset.  An existing cpnsim dataset at ``out`` is replaced;
any other non-empty directory is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from sim.tables import SCHEMA_VERSION
from topology.plumbing import ConfigError, SchemaError

__all__ = [
    "MANIFEST",
    "Format",
    "SweepWriter",
    "check_writable",
    "git_revision",
    "package_version",
    "read_manifest",
    "read_table",
    "write_dataset",
]

Format = Literal["arrow", "parquet"]
MANIFEST = "manifest.json"
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
    root = Path(__file__).resolve().parent.parent
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _is_dataset(path: Path) -> bool:
    try:
        return "cpnsim" in json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def check_writable(out: Path) -> None:
    """Refuse an ``out`` that exists and is neither empty nor a cpnsim dataset.

    Raises
    ------
    ConfigError
        Naming the directory; checked before any simulation so nothing is wasted.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not _is_dataset(out):
        raise ConfigError(f"--out {out}: directory is not empty and is not a cpnsim dataset; refusing to replace it")


def _write_part(table: pa.Table, path: Path, fmt: Format) -> None:
    # One record batch per file: a table concatenated from many small ones has one chunk per
    # piece, and each chunk would become a record batch with every buffer compressed apart
    # (64 one-row scenarios: 30x the write time, 10x the file size).
    table = table.combine_chunks()
    if fmt == "arrow":
        options = ipc.IpcWriteOptions(compression="zstd")
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema, options=options) as writer:
            writer.write_table(table)
    else:
        pq.write_table(table, str(path), compression="zstd")


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
        Extra manifest entries; cpnsim adds version, schema version, git revision,
        format, creation time and the table row counts.
    fmt : {"arrow", "parquet"}
        Arrow IPC files (zstd) or Parquet (zstd).

    Returns
    -------
    Path
        ``out``.
    """
    check_writable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a dataset is not.
        entries: dict[str, Any] = {}
        for name, table in tables.items():
            (tmp / name).mkdir()
            part = f"part-00000{_SUFFIX[fmt]}"
            _write_part(table, tmp / name / part, fmt)
            entries[name] = {"rows": table.num_rows, "parts": [part]}
        full = {
            "cpnsim": {"version": package_version(), "schema_version": SCHEMA_VERSION, "git_revision": git_revision()},
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "format": fmt,
            "tables": entries,
            **manifest,
        }
        with open(tmp / MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(full, fh, indent=2, sort_keys=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "dataset")
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of the dataset at ``out``.

    Raises
    ------
    SchemaError
        ``out`` is not a cpnsim dataset.
    """
    try:
        manifest: dict[str, Any] = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{out}: not a cpnsim dataset ({exc})") from None
    if "cpnsim" not in manifest:
        raise SchemaError(f"{out / MANIFEST}: not a cpnsim manifest (no 'cpnsim' key)")
    return manifest


def read_table(out: Path, name: str) -> pa.Table:
    """Read every part of table ``name`` of the dataset at ``out``.

    Examples
    --------
    ``read_table(Path("cpnsim-out/east-west"), "runs").to_pandas()``
    """
    manifest = read_manifest(out)
    if name not in manifest["tables"]:
        raise SchemaError(f"{out}: no table {name!r} (tables: {', '.join(manifest['tables'])})")
    import pyarrow.dataset as pads  # deferred: 0.2 s to import, only readers need it

    fmt = "ipc" if manifest["format"] == "arrow" else "parquet"
    # Only the parts the manifest lists: a part written by a sweep killed before it
    # updated the manifest is not part of the dataset.  Parts of a sweep may differ in
    # their param.* columns (set and type): each is read alone, then unified.
    parts = [str(out / name / part) for part in manifest["tables"][name]["parts"]]
    if len(parts) == 1:
        return pads.dataset(parts[0], format=fmt).to_table()
    tables = [pads.dataset(part, format=fmt).to_table() for part in parts]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")


def _write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class SweepWriter:
    """A sweep's dataset, written part by part: ``<out>/<table>/part-NNNNN<suffix>``.

    Each :meth:`add` writes one part per table atomically (temporary file, then
    ``os.replace``) and then rewrites ``manifest.json`` atomically with the ids done,
    so a sweep killed at any moment leaves a readable dataset of whole batches.

    Parameters
    ----------
    out : Path
        The dataset directory.
    manifest : mapping
        Entries recorded in the manifest (``kind``, ``spec``, ...).
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
        existing = _is_dataset(out)
        if existing and resume:
            old = read_manifest(out)
            if old.get("kind") != "sweep" or old.get("spec") != manifest.get("spec") or old.get("format") != fmt:
                raise ConfigError(f"--out {out}: holds a dataset of another spec or format; cannot --resume it "
                                  "(use --overwrite to replace it)")
            self.manifest: dict[str, Any] = old
            self._clean_orphans()
            self._opened = True
        else:
            if existing and not overwrite:
                raise ConfigError(f"--out {out}: already holds a cpnsim dataset; pass --resume to continue it "
                                  "or --overwrite to replace it")
            self._replace = existing
            self.manifest = {
                "cpnsim": {"version": package_version(), "schema_version": SCHEMA_VERSION,
                           "git_revision": git_revision()},
                "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "format": fmt,
                "complete": False,
                "tables": {},
                "done": [],
                "failed": [],
                **manifest,
            }

    def _open(self) -> None:
        # Deferred to the first write: a sweep that fails to start (say, Ray does not come
        # up) leaves an existing dataset as it was.
        if self._opened:
            return
        if self._replace:
            shutil.rmtree(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(self.out / MANIFEST, self.manifest)
        self._opened = True

    @property
    def done_ids(self) -> set[str]:
        """Scenario ids already in the dataset (run or failed)."""
        return set(self.manifest["done"]) | set(self.manifest["failed"])

    def _clean_orphans(self) -> None:
        for name in os.listdir(self.out):
            folder = self.out / name
            if not folder.is_dir():
                continue
            listed = set(self.manifest["tables"].get(name, {}).get("parts", []))
            for file in os.listdir(folder):
                if file not in listed:
                    (folder / file).unlink()

    def _next_part(self) -> int:
        numbers = [int(p[5:10]) for t in self.manifest["tables"].values() for p in t["parts"]]
        return max(numbers, default=-1) + 1

    def add(self, tables: Mapping[str, pa.Table], done: list[str], failed: list[str]) -> None:
        """Write one part per table, then record ``done`` and ``failed`` ids in the manifest."""
        self._open()
        number = self._next_part()
        for name, table in tables.items():
            folder = self.out / name
            folder.mkdir(exist_ok=True)
            part = f"part-{number:05d}{_SUFFIX[self.fmt]}"
            tmp = folder / f".{part}.tmp"
            _write_part(table, tmp, self.fmt)
            os.replace(tmp, folder / part)
            entry = self.manifest["tables"].setdefault(name, {"rows": 0, "parts": []})
            entry["rows"] += table.num_rows
            entry["parts"].append(part)
        self.manifest["done"].extend(done)
        self.manifest["failed"].extend(failed)
        _write_json_atomic(self.out / MANIFEST, self.manifest)

    def finish(self) -> None:
        """Mark the dataset complete."""
        self._open()
        self.manifest["complete"] = True
        self.manifest["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        _write_json_atomic(self.out / MANIFEST, self.manifest)
