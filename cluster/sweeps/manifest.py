"""``manifest.json``, the description of a dataset, as a typed model with its reader and writer.

Every dataset (``cpnsim run``, ``sweep``, ``search``) has one.  Version 2 of its shape
(``cpnsim.manifest_version``) adds :class:`NetworkRecord`: the network the scenarios ran
on, so a reader (the report) never resolves it again from scenario text and paths that
may have moved.  Version 1 datasets read as before, with ``resolved_network`` absent.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict

from cluster.sweeps.journal import Commit, read_journal
from topology.model import Network
from topology.plumbing import SchemaError, StrictModel, describe_validation_error, write_atomic

__all__ = [
    "MANIFEST",
    "MANIFEST_VERSION",
    "CpnsimStamp",
    "Format",
    "Manifest",
    "NetworkRecord",
    "TableParts",
    "fold_commits",
    "is_dataset",
    "manifest_from_json",
    "manifest_text",
    "network_record",
    "read_manifest",
    "write_manifest",
]

Format = Literal["arrow", "parquet"]
MANIFEST = "manifest.json"
MANIFEST_VERSION = 2
"""Shape of the manifest: 1 before it recorded the network, 2 with ``resolved_network``."""


class CpnsimStamp(StrictModel):
    """What wrote the dataset.

    Attributes
    ----------
    version : str
        The cpnsim package version.
    schema_version : str
        Version of the output tables' schemas (``sim.tables.SCHEMA_VERSION``).
    git_revision : str or None
        The source tree's commit (``+dirty`` if modified): from git in a checkout, else
        from ``CPNSIM_REVISION`` or a ``REVISION`` file (:func:`cluster.sweeps.store.code_revision`).
    revision_source : str or None
        Where ``git_revision`` came from, or why it is None (absent before it was recorded).
    manifest_version : int
        :data:`MANIFEST_VERSION` of the writer (1 when absent: written before it existed).
    """

    version: str
    schema_version: str
    git_revision: str | None = None
    revision_source: str | None = None
    manifest_version: int = 1


class TableParts(StrictModel):
    """One table of the dataset: ``<out>/<table>/<part>`` files and their total rows."""

    rows: int
    parts: tuple[str, ...] = ()


class NetworkRecord(StrictModel):
    """The network a dataset's scenarios ran on (a sweep's: its base scenario's).

    Attributes
    ----------
    name : str
        The network's own name.
    source : str
        What the scenario named: a built-in network or a file path as written.
    digest : str
        SHA-256 (hex) of the network's canonical JSON.
    network : Network
        The network itself, ``[sites.<id>]`` overrides of the scenario applied.
    """

    name: str
    source: str
    digest: str
    network: Network


class Manifest(BaseModel):
    """The content of ``manifest.json``.

    Fields that only some kinds of dataset have are None elsewhere and left out of the
    file.  Keys this version does not know (written by another cpnsim) are kept, not
    refused: a dataset stays readable.

    Attributes
    ----------
    cpnsim : CpnsimStamp
        Package version, schema versions and git revision of the writer.
    created_utc, finished_utc : str
        ISO 8601 times (UTC, seconds); ``finished_utc`` for a finished sweep.
    format : {"arrow", "parquet"}
        File format of the parts.
    kind : str
        ``"run"``, ``"sweep"`` or ``"search"``.
    complete : bool, optional
        Sweeps: every scenario has run.
    tables : dict of str to TableParts
        The tables and the parts that belong to them (a part not listed is not data).
    done, failed : tuple of str, optional
        Sweeps: scenario ids run ok / failed.
    journal_commits : int, optional
        Sweeps: commits of ``journal.jsonl`` already folded into ``tables``, ``done`` and
        ``failed`` (:func:`read_manifest` folds in the rest).
    source : str, optional
        The scenario or sweep spec file.
    scenario_id : str, optional
        Runs: the scenario's id.
    seed : int, optional
        The scenario's or sweep's root seed.
    replications : int, optional
        Runs: replications.
    network : str, optional
        Runs: the network's name.
    resolved_network : NetworkRecord, optional
        The network itself (manifest version 2 on).
    scenario : dict, optional
        Runs and searches: the resolved scenario.
    spec : dict, optional
        Sweeps: the spec as read, ``base`` resolved to a table.
    points : int, optional
        Sweeps: points of the spec's design (grid product x samples), duplicates included;
        known before any point is expanded, so written when the sweep starts.
    scenarios : int, optional
        Sweeps: distinct scenarios in the spec.  The driver expands the spec as it runs
        (:func:`cluster.sweeps.run_sweep`), so a sweep writes it with its final manifest
        (a dataset of an interrupted sweep may lack it).
    duplicates : int, optional
        Sweeps: points equal to an earlier point (run once): ``points - scenarios``; written
        with ``scenarios``.
    cpnsim_version : str, optional
        Sweeps: the package version (as ``cpnsim.version``).
    design : dict, optional
        Saltelli sweeps: the design's row order (:class:`cluster.sweeps.spec.SweepSpec`).
    trace : dict, optional
        Runs replaying a trace: its statistics.
    search : dict, optional
        Searches: target, varied sites, bracket and status.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    cpnsim: CpnsimStamp
    created_utc: str
    finished_utc: str | None = None
    format: Format = "arrow"
    complete: bool | None = None
    tables: dict[str, TableParts] = pydantic.Field(default_factory=dict)
    done: tuple[str, ...] | None = None
    failed: tuple[str, ...] | None = None
    journal_commits: int | None = None
    kind: str = "run"
    source: str | None = None
    scenario_id: str | None = None
    seed: int | None = None
    replications: int | None = None
    network: str | None = None
    resolved_network: NetworkRecord | None = None
    spec: dict[str, Any] | None = None
    points: int | None = None
    scenarios: int | None = None
    duplicates: int | None = None
    cpnsim_version: str | None = None
    design: dict[str, Any] | None = None
    scenario: dict[str, Any] | None = None
    trace: dict[str, Any] | None = None
    search: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The manifest as JSON data, fields that do not apply (None) left out."""
        return {k: v for k, v in self.model_dump(mode="json").items() if v is not None}


def network_record(network: Network, source: str) -> NetworkRecord:
    """The :class:`NetworkRecord` of ``network``, which a scenario named as ``source``.

    Examples
    --------
    >>> from topology.load import load_network
    >>> record = network_record(load_network("default"), "default")
    >>> record.name, len(record.digest)
    ('default', 64)
    """
    text = json.dumps(network.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return NetworkRecord(name=network.name, source=source, digest=hashlib.sha256(text.encode()).hexdigest(),
                         network=network)


def is_dataset(out: Path) -> bool:
    """True when ``out`` holds a cpnsim manifest (a dataset this package may replace)."""
    try:
        return "cpnsim" in json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def fold_commits(manifest: Manifest, commits: Sequence[Commit]) -> Manifest:
    """``manifest`` with the journal ``commits`` beyond ``journal_commits`` folded in."""
    new = commits[manifest.journal_commits or 0 :]
    if not new:
        return manifest
    rows = {name: entry.rows for name, entry in manifest.tables.items()}
    parts = {name: list(entry.parts) for name, entry in manifest.tables.items()}
    done, failed = list(manifest.done or ()), list(manifest.failed or ())
    for commit in new:
        for name, dropped in commit.drops.items():
            for part, n in dropped:
                rows[name] -= n
                parts[name].remove(part)
        if commit.retried:
            retried = set(commit.retried)
            failed = [i for i in failed if i not in retried]
        for name, (part, n) in commit.parts.items():
            rows[name] = rows.get(name, 0) + n
            parts.setdefault(name, []).append(part)
        done += commit.done
        failed += commit.failed
    return manifest.model_copy(update={
        "tables": {name: TableParts(rows=rows[name], parts=tuple(parts[name])) for name in rows},
        "done": tuple(done), "failed": tuple(failed), "journal_commits": len(commits)})


def read_manifest(out: Path | str) -> Manifest:
    """The manifest of the dataset at ``out`` (a directory, or a URI such as ``s3://b/x``), journal folded in.

    A sweep writes its manifest when it starts and when it ends; between the two, the
    batches it has committed are lines of ``journal.jsonl`` (:mod:`cluster.sweeps.journal`),
    which this reader adds to ``tables``, ``done`` and ``failed``.

    Raises
    ------
    SchemaError
        ``out`` is not a cpnsim dataset, or its manifest does not fit :class:`Manifest`.
    """
    from cluster.sweeps.location import object_storage

    remote = object_storage(out)  # s3://, gs://, hdfs://: the same dataset in an object store
    if remote is not None:
        return remote.read_manifest()
    out = Path(out)
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{out}: not a cpnsim dataset ({exc})") from None
    manifest = manifest_from_json(data, str(path))
    if manifest.kind != "sweep":
        return manifest
    return fold_commits(manifest, read_journal(out).commits)


def manifest_from_json(data: Any, where: str) -> Manifest:
    """The :class:`Manifest` of parsed ``manifest.json`` content (journal not folded in).

    Raises
    ------
    SchemaError
        ``data`` is not a cpnsim manifest; the message names ``where``.
    """
    if not isinstance(data, dict) or "cpnsim" not in data:
        raise SchemaError(f"{where}: not a cpnsim manifest (no 'cpnsim' key)")
    try:
        return Manifest.model_validate(data)
    except pydantic.ValidationError as err:
        raise SchemaError(describe_validation_error(err, where, Manifest, data)) from None


def manifest_text(manifest: Manifest) -> str:
    """The text of ``manifest.json`` for ``manifest``."""
    return json.dumps(manifest.to_json(), indent=2, sort_keys=False) + "\n"


def write_manifest(out: Path, manifest: Manifest) -> Path:
    """Write ``manifest`` to ``<out>/manifest.json`` atomically, synced to disk.

    The sync matters to a sweep: the manifest is what says which parts are data, so it
    must not reach the disk before the parts it lists (which are written first).
    """
    text = manifest_text(manifest)

    def write(handle: IO[bytes]) -> None:
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())

    return write_atomic(out / MANIFEST, write)
