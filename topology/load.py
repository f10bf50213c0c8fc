"""Read networks from TOML: the built-in data sets and users' own files.

A network file has ``[[site]]``, ``[[region]]`` and ``[[link]]`` tables (see
``docs/model.md``).  Every problem is reported as one line naming the file, the
table and the key, as a :class:`~topology.errors.TopologyError`.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic

from topology._pydantic_errors import describe_validation_error
from topology.errors import TopologyError, located, nearest
from topology.model import Network

__all__ = ["builtin_names", "check_references", "load_network", "load_network_file", "read_toml"]

_DATA_PACKAGE = "topology.data"


def builtin_names() -> list[str]:
    """Names of the networks shipped with cpnsim, sorted.

    Examples
    --------
    >>> "default" in builtin_names()
    True
    """
    files = resources.files(_DATA_PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def read_toml(path: Path, error: type[Exception] = TopologyError) -> dict[str, Any]:
    """Parse a TOML file, turning I/O and syntax errors into one-line ``error``s."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(located(str(path), "", "file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(located(str(path), "", f"cannot read: {exc}")) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(located(str(path), "", f"malformed TOML: {exc}")) from None


def load_network(spec: str, base_dir: Path | None = None) -> Network:
    """Load a network by built-in name or by path.

    Parameters
    ----------
    spec : str
        A built-in name (see :func:`builtin_names`) or a path to a ``.toml`` file.
        A relative path is taken from ``base_dir``.
    base_dir : Path, optional
        Directory relative paths are resolved against (the scenario file's folder).

    Raises
    ------
    TopologyError
        Unknown name, unreadable file or invalid content.
    """
    names = builtin_names()
    if spec in names:
        ref = resources.files(_DATA_PACKAGE).joinpath(f"{spec}.toml")
        data = tomllib.loads(ref.read_text(encoding="utf-8"))
        return _validate(data, f"<built-in network {spec!r}>")
    path = Path(spec)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.suffix.lower() != ".toml":
        hint = nearest(spec, names)
        if hint or not path.suffix:
            raise TopologyError(
                f"network {spec!r} is neither a built-in network"
                + (f" (did you mean '{hint}'?)" if hint else f" ({', '.join(names)})")
                + " nor a .toml file"
            )
        raise TopologyError(located(str(path), "", "networks are read from .toml files"))
    return load_network_file(path)


def load_network_file(path: Path) -> Network:
    """Read and validate a network TOML file (see :func:`load_network`)."""
    return _validate(read_toml(path), str(path))


def _validate(data: dict[str, Any], source: str) -> Network:
    try:
        network = Network.model_validate(data)
    except pydantic.ValidationError as err:
        raise TopologyError(describe_validation_error(err, source, Network, data)) from None
    check_references(network, source)
    return network


def check_references(network: Network, source: str) -> None:
    """Check ids are unique and every link joins two known nodes.

    Raises
    ------
    TopologyError
        Naming the table, index and key of the first offence.
    """
    seen: dict[str, str] = {}
    ids = [("site", i, s.id) for i, s in enumerate(network.sites)]
    ids += [("region", i, r.id) for i, r in enumerate(network.regions)]
    ids += [("link", i, link.id) for i, link in enumerate(network.links)]
    for table, i, record_id in ids:
        if record_id in seen:
            raise TopologyError(
                located(source, f"{table}[{i}].id", f"duplicate id {record_id!r} (already a {seen[record_id]})")
            )
        seen[record_id] = table
    nodes = [s.id for s in network.sites] + [r.id for r in network.regions]
    for i, link in enumerate(network.links):
        for end in ("a", "b"):
            node = getattr(link, end)
            if node not in nodes:
                hint = nearest(node, nodes)
                tail = f" (did you mean '{hint}'?)" if hint else ""
                raise TopologyError(
                    located(source, f"link[{i}].{end}", f"{node!r} is not a site or region id{tail}")
                )
        if link.a == link.b:
            raise TopologyError(located(source, f"link[{i}].b", f"link joins {link.a!r} to itself"))
