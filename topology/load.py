"""Read networks: the built-in data sets and users' own TOML, JSON or GraphML files.

A network file has ``[[site]]``, ``[[region]]`` and ``[[link]]`` tables (see
``docs/model.md``); a ``.json`` file holds the same tables as arrays (the shape
``cpnsim topology export --format json`` writes) and a ``.graphml`` file is read by
:mod:`topology.graphml`.  Every problem is reported as one line naming the file, the
table and the key, as a :class:`~topology.plumbing.TopologyError`.  Besides the checks
on each table, a loaded network must let every region that originates work reach a
site (:mod:`topology.reach`).

Composition
-----------
A file may start with ``include = ["edwc", "gpu_clusters", "mine.toml"]``: built-in
network names, or paths of ``.toml``, ``.json`` or ``.graphml`` files relative to the
including file (a built-in network includes built-in names only).  Each included
network is loaded and checked on its own, its sites, regions and links are merged in
``include`` order, and the file's own tables follow; links may join nodes of different
included networks.  Reachability (every origin region reaches a site) is checked only
on the whole composed network, so a part may be joined up by the file including it.
The rules:

- A record with the same id may arrive more than once (two included networks that
  share a demand region, or a file that repeats an included record) only if it is
  **identical** after validation, defaults included; it is kept once, where it first
  appeared.  Any other repeated id is an error naming both places.  Within the tables
  of one file an id may still appear only once.
- The composed network takes ``name``, ``description`` and ``fibre_us_per_km`` from the
  including file; an included network whose ``fibre_us_per_km`` differs is an error,
  since its link latencies would silently change.
- Includes nest; a cycle (``a.toml`` includes ``b.toml`` includes ``a.toml``) is an error.
"""

from __future__ import annotations

import functools
import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic

from topology.chip_partitions import expand_chip_mixes
from topology.graphml import read_graphml_network
from topology.model import Link, Network, Region, Site
from topology.plumbing import TopologyError, describe_validation_error, located, nearest, read_toml
from topology.reach import check_reachable

__all__ = ["builtin_names", "check_references", "load_network", "load_network_file"]

_DATA_PACKAGE = "topology.data"
_INCLUDE = "include"
SUFFIXES = (".toml", ".json", ".graphml")
"""File suffixes :func:`load_network` reads (case-insensitive)."""

_Record = Site | Region | Link


@dataclass(frozen=True)
class _Origin:
    """Where a record was written: the file and its table entry, e.g. ``region[3]``."""

    source: str
    key: str

    def __str__(self) -> str:
        return f"{self.key} of {self.source}"


# A step of the include chain being loaded: (identity, label for messages).
_Frame = tuple[tuple[str, str], str]


@dataclass(frozen=True)
class _Loaded:
    network: Network
    origins: dict[str, _Origin]  # record id -> where it was written


class _OwnTables(Network):
    """The tables a file that includes others writes itself: they may be empty."""

    site: tuple[Site, ...] = ()
    region: tuple[Region, ...] = ()


def builtin_names() -> list[str]:
    """Names of the networks shipped with cpnsim, sorted.

    Examples
    --------
    >>> "default" in builtin_names()
    True
    """
    return list(_builtin_listing())


@functools.cache
def _builtin_listing() -> tuple[str, ...]:
    """The data directory's network names, listed once per process (a sweep loads a network per point)."""
    files = resources.files(_DATA_PACKAGE).iterdir()
    return tuple(sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml")))


def load_network(spec: str, base_dir: Path | None = None) -> Network:
    """Load a network by built-in name or by path.

    Parameters
    ----------
    spec : str
        A built-in name (see :func:`builtin_names`) or a path to a ``.toml``, ``.json``
        or ``.graphml`` file.  A relative path is taken from ``base_dir``.
    base_dir : Path, optional
        Directory relative paths are resolved against (the scenario file's folder).

    Raises
    ------
    TopologyError
        Unknown name, unreadable file or invalid content.
    """
    names = builtin_names()
    if spec in names:
        return _builtin_network(spec)
    path = Path(spec)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.suffix.lower() not in SUFFIXES:
        hint = nearest(spec, names)
        if hint or not path.suffix:
            raise TopologyError(_not_a_network(spec, names, hint))
        raise TopologyError(located(str(path), "", "networks are read from .toml, .json or .graphml files"))
    return load_network_file(path)


@functools.cache
def _builtin_network(name: str) -> Network:
    """A built-in network, parsed once per process: a sweep names it for every point.

    The :class:`Network` is frozen, so every caller may share the one instance.
    """
    loaded = _load_builtin(name, ())
    _check_reachable(loaded, f"<built-in network {name!r}>")
    return expand_chip_mixes(loaded.network)


def load_network_file(path: Path) -> Network:
    """Read and validate a network file, by its suffix: TOML, JSON or GraphML.

    Raises
    ------
    TopologyError
        One line naming the file, the table (or node/edge) and the key.
    """
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        loaded = _load_graphml(path)
    elif suffix == ".json":
        loaded = _load_json(path, ())
    else:
        loaded = _load_file(path, ())
    _check_reachable(loaded, str(path))
    # Mixed sites become one partition per SKU only now, so that every file of an include
    # chain names the site itself (topology.chip_partitions).
    return expand_chip_mixes(loaded.network)


def _check_reachable(loaded: _Loaded, source: str) -> None:
    """Reachability of the composed network, naming where each region was written."""

    def key(index: int, region: Region) -> str:
        origin = loaded.origins.get(region.id, _Origin(source, f"region[{index}]"))
        where = origin.key if origin.key.startswith("node ") else f"{origin.key} (id {region.id!r})"
        return where if origin.source == source else f"{where} of {origin.source}"

    check_reachable(loaded.network, source, key)


def _not_a_network(spec: str, names: list[str], hint: str | None) -> str:
    return (
        f"network {spec!r} is neither a built-in network"
        + (f" (did you mean '{hint}'?)" if hint else f" ({', '.join(names)})")
        + " nor a .toml, .json or .graphml file"
    )


def _load_builtin(name: str, stack: tuple[_Frame, ...]) -> _Loaded:
    ref = resources.files(_DATA_PACKAGE).joinpath(f"{name}.toml")
    data = tomllib.loads(ref.read_text(encoding="utf-8"))
    label = f"<built-in network {name!r}>"
    return _compose(data, label, None, (*stack, (("builtin", name), label)))


def _load_file(path: Path, stack: tuple[_Frame, ...]) -> _Loaded:
    data = read_toml(path, TopologyError)
    return _compose(data, str(path), path.parent, (*stack, (("file", str(path.resolve())), str(path))))


def _load_json(path: Path, stack: tuple[_Frame, ...]) -> _Loaded:
    """A JSON network: the TOML tables as arrays (``include`` works the same way)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TopologyError(located(str(path), "", "file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TopologyError(located(str(path), "", f"cannot read: {exc}")) from None
    except json.JSONDecodeError as exc:
        raise TopologyError(located(str(path), "", f"malformed JSON: {exc}")) from None
    if not isinstance(data, dict):
        raise TopologyError(located(str(path), "", f"must be a JSON object, got {type(data).__name__}"))
    return _compose(data, str(path), path.parent, (*stack, (("file", str(path.resolve())), str(path))))


def _validate(data: dict[str, Any], source: str) -> Network:
    try:
        network = Network.model_validate(data)
    except pydantic.ValidationError as err:
        raise TopologyError(describe_validation_error(err, source, Network, data)) from None
    check_references(network, source)
    return network


def _records(network: Network) -> list[tuple[str, int, _Record]]:
    out: list[tuple[str, int, _Record]] = [("site", i, s) for i, s in enumerate(network.sites)]
    out += [("region", i, r) for i, r in enumerate(network.regions)]
    out += [("link", i, link) for i, link in enumerate(network.links)]
    return out


def _compose(data: dict[str, Any], source: str, base_dir: Path | None, stack: tuple[_Frame, ...]) -> _Loaded:
    """Validate ``data`` read from ``source``, first loading and merging its includes."""
    if _INCLUDE not in data:
        network = _validate(data, source)
        return _Loaded(network, {rec.id: _Origin(source, f"{t}[{i}]") for t, i, rec in _records(network)})
    data = dict(data)
    includes = data.pop(_INCLUDE)
    if not isinstance(includes, list) or not all(isinstance(s, str) and s for s in includes):
        raise TopologyError(
            located(source, _INCLUDE, f"must be a list of built-in network names or file paths, got {includes!r}")
        )
    try:
        own = _OwnTables.model_validate(data)
    except pydantic.ValidationError as err:
        raise TopologyError(describe_validation_error(err, source, _OwnTables, data)) from None

    tables: dict[str, list[_Record]] = {"site": [], "region": [], "link": []}
    kept: dict[str, tuple[str, _Record, _Origin]] = {}  # id -> (table, record, origin)

    def add(table: str, record: _Record, origin: _Origin, key: str) -> None:
        previous = kept.get(record.id)
        if previous is None:
            kept[record.id] = (table, record, origin)
            tables[table].append(record)
        elif previous[0] != table or previous[1] != record:
            raise TopologyError(
                located(source, key, f"duplicate id {record.id!r}: {origin} differs from {previous[2]}")
            )

    for i, spec in enumerate(includes):
        key = f"{_INCLUDE}[{i}]"
        part = _load_include(spec, source, key, base_dir, stack)
        if part.network.fibre_us_per_km != own.fibre_us_per_km:
            raise TopologyError(
                located(
                    source,
                    key,
                    f"fibre_us_per_km {part.network.fibre_us_per_km} of {spec!r} differs from this network's "
                    f"{own.fibre_us_per_km}; set the same value in both",
                )
            )
        for table, _, record in _records(part.network):
            add(table, record, part.origins[record.id], key)

    own_tables: dict[str, str] = {}  # id -> table, for duplicates inside this file
    for table, i, record in _records(own):
        if record.id in own_tables:
            raise TopologyError(
                located(source, f"{table}[{i}].id", f"duplicate id {record.id!r} (already a {own_tables[record.id]})")
            )
        own_tables[record.id] = table
        add(table, record, _Origin(source, f"{table}[{i}]"), f"{table}[{i}].id")

    nodes = [r.id for r in tables["site"]] + [r.id for r in tables["region"]]
    _check_link_ends(source, [(i, link) for i, link in enumerate(own.links)], nodes)
    for table in ("site", "region"):
        if not tables[table]:
            raise TopologyError(located(source, table, f"no [[{table}]] in this file or the networks it includes"))
    network = Network(
        name=own.name,
        description=own.description,
        fibre_us_per_km=own.fibre_us_per_km,
        site=tuple(r for r in tables["site"] if isinstance(r, Site)),
        region=tuple(r for r in tables["region"] if isinstance(r, Region)),
        link=tuple(r for r in tables["link"] if isinstance(r, Link)),
    )
    check_references(network, source)  # a safety net: every rule is checked above
    return _Loaded(network, {record_id: origin for record_id, (_, _, origin) in kept.items()})


def _load_include(spec: str, source: str, key: str, base_dir: Path | None, stack: tuple[_Frame, ...]) -> _Loaded:
    """Load the network ``spec`` that ``source`` includes at ``key``, refusing cycles."""
    names = builtin_names()
    identity: tuple[str, str]
    if spec in names:
        identity, label = ("builtin", spec), f"<built-in network {spec!r}>"
    else:
        if base_dir is None:
            raise TopologyError(located(source, key, f"{spec!r} is not a built-in network ({', '.join(names)})"))
        path = Path(spec)
        if not path.is_absolute():
            path = base_dir / path
        if path.suffix.lower() not in SUFFIXES:
            raise TopologyError(located(source, key, _not_a_network(spec, names, nearest(spec, names))))
        if not path.is_file():
            raise TopologyError(located(source, key, f"file not found: {path}"))
        identity, label = ("file", str(path.resolve())), str(path)
    seen = [frame[0] for frame in stack]
    if identity in seen:
        chain = [frame[1] for frame in stack[seen.index(identity) :]] + [label]
        raise TopologyError(located(source, key, f"include cycle: {' -> '.join(chain)}"))
    if identity[0] == "builtin":
        return _load_builtin(spec, stack)
    if path.suffix.lower() == ".graphml":
        return _load_graphml(path)
    if path.suffix.lower() == ".json":
        return _load_json(path, stack)
    return _load_file(path, stack)


def _load_graphml(path: Path) -> _Loaded:
    """A GraphML network, with each record's origin named by its node or edge id."""
    network = read_graphml_network(path)
    nodes = [s.id for s in network.sites] + [r.id for r in network.regions]
    origins = {node: _Origin(str(path), f"node {node!r}") for node in nodes}
    origins.update({link.id: _Origin(str(path), f"edge {link.id!r}") for link in network.links})
    return _Loaded(network, origins)


def _check_link_ends(source: str, links: list[tuple[int, Link]], nodes: list[str]) -> None:
    known = set(nodes)
    for i, link in links:
        for end in ("a", "b"):
            node = getattr(link, end)
            if node not in known:
                hint = nearest(node, nodes)
                tail = f" (did you mean '{hint}'?)" if hint else ""
                raise TopologyError(located(source, f"link[{i}].{end}", f"{node!r} is not a site or region id{tail}"))
        if link.a == link.b:
            raise TopologyError(located(source, f"link[{i}].b", f"link joins {link.a!r} to itself"))


def check_references(network: Network, source: str) -> None:
    """Check ids are unique and every link joins two known nodes.

    Raises
    ------
    TopologyError
        Naming the table, index and key of the first offence.
    """
    seen: dict[str, str] = {}
    for table, i, record in _records(network):
        if record.id in seen:
            raise TopologyError(
                located(source, f"{table}[{i}].id", f"duplicate id {record.id!r} (already a {seen[record.id]})")
            )
        seen[record.id] = table
    nodes = [s.id for s in network.sites] + [r.id for r in network.regions]
    _check_link_ends(source, list(enumerate(network.links)), nodes)
