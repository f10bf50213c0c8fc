"""Networks as GraphML: write any network for networkx, Gephi or yEd; read users' own.

The shape (also in ``docs/model.md``):

- **graph** data: ``name``, ``description``, ``fibre_us_per_km`` (all optional).
- **node**: its ``id`` is the site or region id; data ``kind`` is ``site`` or ``region``
  (required), then the keys of :class:`~topology.model.Site` or
  :class:`~topology.model.Region` under the same names, except that a site's own
  ``kind`` (hub, cluster, ...) is called ``site_kind``.
- **edge**: ``source`` and ``target`` are the link's ends ``a`` and ``b``; its GraphML
  ``id`` (or, failing that, an ``id`` data key) is the link id, else ``source-target``
  is used.  Data: the keys of :class:`~topology.model.Link`, plus two derived keys the
  writer adds for tools that read the file, ``route_km`` and ``latency_ms`` (one way);
  on reading they are checked against the values computed from the other keys, so an
  edited latency is an error rather than silently ignored.  Direction is ignored.

Reading a file the writer produced gives back an equal :class:`~topology.model.Network`.
The reader is a small ElementTree parser rather than ``networkx.read_graphml`` so that
every problem names the node or edge and the key.  Data keys without ``attr.name``
(yEd's graphics) are skipped.
"""

from __future__ import annotations

import json
import math
import typing
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from topology.graph import link_latency_ms, link_route_km, node_coords
from topology.model import Link, Network, Region, Site, SiteKind
from topology.plumbing import TopologyError, describe_validation_error, located, nearest

__all__ = ["DERIVED_EDGE_KEYS", "network_from_graphml", "network_to_graphml", "read_graphml_network"]

DERIVED_EDGE_KEYS = ("route_km", "latency_ms")
"""Edge data the writer adds and the reader checks but does not store."""

_SITE_KIND_KEY = "site_kind"
_SITE_KINDS: tuple[str, ...] = typing.get_args(SiteKind)
_NODE_KINDS = ("site", "region")
_GRAPH_KEYS = ("name", "description", "fibre_us_per_km")
_NS = "http://graphml.graphdrawing.org/xmlns"
_REL_TOL = 1e-9  # derived values are written with repr(), so they come back exact


def network_to_graphml(network: Network) -> str:
    """The network as a GraphML document (see the module docstring for its shape).

    Parameters
    ----------
    network : Network
        Any loaded network.

    Returns
    -------
    str
        GraphML text, readable by ``networkx.read_graphml`` and by
        :func:`read_graphml_network`.

    Examples
    --------
    >>> from topology.load import load_network
    >>> text = network_to_graphml(load_network("default"))
    >>> text.startswith("<?xml") and "latency_ms" in text
    True
    """
    coords = node_coords(network)
    nodes: list[tuple[str, dict[str, Any]]] = []
    for site in network.sites:
        data = site.model_dump(exclude={"id"}, exclude_none=True)
        if site.timeline is not None:  # a list of records: one JSON string attribute
            data["timeline"] = json.dumps(site.model_dump(mode="json", include={"timeline"})["timeline"])
        nodes.append((site.id, {"kind": "site", _SITE_KIND_KEY: data.pop("kind"), **data}))
    for region in network.regions:
        nodes.append((region.id, {"kind": "region", **region.model_dump(exclude={"id"}, exclude_none=True)}))
    edges: list[tuple[Link, dict[str, Any]]] = []
    for link in network.links:
        data = link.model_dump(exclude={"id", "a", "b"}, exclude_none=True)
        data["route_km"] = link_route_km(link, coords)
        data["latency_ms"] = link_latency_ms(link, coords, network.fibre_us_per_km)
        edges.append((link, data))
    graph_data = {"name": network.name, "description": network.description,
                  "fibre_us_per_km": network.fibre_us_per_km}

    # Written by hand, not by networkx.write_graphml, to keep file order and each link's
    # a -> b orientation (networkx walks its adjacency instead), so a read-back is equal.
    root = ET.Element("graphml", {"xmlns": _NS})
    key_ids: dict[tuple[str, str], str] = {}
    for domain, records in (("graph", [graph_data]), ("node", [d for _, d in nodes]), ("edge", [d for _, d in edges])):
        for record in records:
            for name, value in record.items():
                if (domain, name) not in key_ids:
                    key_ids[domain, name] = key_id = f"d{len(key_ids)}"
                    attrs = {"id": key_id, "for": domain, "attr.name": name, "attr.type": _xml_type(value)}
                    ET.SubElement(root, "key", attrs)
    graph = ET.SubElement(root, "graph", {"edgedefault": "undirected"})

    def add_data(element: ET.Element, domain: str, data: dict[str, Any]) -> None:
        for name, value in data.items():
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)  # str(float) is repr
            ET.SubElement(element, "data", {"key": key_ids[domain, name]}).text = text

    add_data(graph, "graph", graph_data)
    for node_id, data in nodes:
        add_data(ET.SubElement(graph, "node", {"id": node_id}), "node", data)
    for link, data in edges:
        add_data(ET.SubElement(graph, "edge", {"id": link.id, "source": link.a, "target": link.b}), "edge", data)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml_type(value: Any) -> str:
    """The GraphML ``attr.type`` of a value of a network record."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def read_graphml_network(path: Path) -> Network:
    """Read and validate a network from a GraphML file.

    Raises
    ------
    TopologyError
        One line naming the file, the node or edge id and the key.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TopologyError(located(str(path), "", "file not found")) from None
    except OSError as exc:
        raise TopologyError(located(str(path), "", f"cannot read: {exc}")) from None
    return network_from_graphml(data, str(path))


@dataclass(frozen=True)
class _Key:
    """A ``<key>`` declaration: the attribute's name, type, domain and default."""

    name: str
    type: str
    domain: str
    default: str | None


def _tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]  # drop the GraphML namespace, if any


def _children(element: ET.Element, tag: str) -> list[ET.Element]:
    return [child for child in element if _tag(child) == tag]


def _convert(text: str, attr_type: str) -> Any:
    """Convert ``text`` to the declared GraphML type; ``ValueError`` if it is not one."""
    if attr_type in ("int", "long"):
        return int(text.strip())
    if attr_type in ("float", "double"):
        return float(text.strip())
    if attr_type == "boolean":
        word = text.strip().lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
        raise ValueError(text)
    return text


def _read_keys(root: ET.Element, source: str) -> dict[str, _Key | None]:
    """The ``<key>`` declarations by id; ``None`` for keys without ``attr.name`` (skipped)."""
    keys: dict[str, _Key | None] = {}
    for i, key in enumerate(_children(root, "key")):
        key_id, name = key.get("id"), key.get("attr.name")
        if key_id is None:
            raise TopologyError(located(source, f"key[{i}]", "<key> has no id attribute"))
        if name is None:
            keys[key_id] = None  # e.g. yEd graphics: not an attribute of ours
            continue
        attr_type = key.get("attr.type", "string")
        if attr_type not in ("boolean", "int", "long", "float", "double", "string"):
            raise TopologyError(located(source, f"key[{i}] (id {key_id!r})",
                                        f"attribute {name!r} has unknown attr.type {attr_type!r}"))
        defaults = _children(key, "default")
        keys[key_id] = _Key(name, attr_type, key.get("for", "all"), defaults[0].text or "" if defaults else None)
    return keys


def _read_data(
    element: ET.Element, domain: str, keys: dict[str, _Key | None], where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The typed data of one graph, node or edge element, and the key defaults it lacks.

    Defaults are returned apart because a ``for="node"`` key covers sites and regions
    alike: the caller keeps only the defaults that the record's table has.
    """
    out: dict[str, Any] = {}
    for data in _children(element, "data"):
        key_id = data.get("key", "")
        if key_id not in keys:
            raise TopologyError(located(where, "", f"<data key={key_id!r}> has no <key> declaring it"))
        key = keys[key_id]
        if key is None:
            continue
        if key.domain not in (domain, "all"):
            raise TopologyError(located(where, key.name, f"key {key_id!r} is declared for {key.domain}s"))
        if key.name in out:
            raise TopologyError(located(where, key.name, "given twice"))
        try:
            out[key.name] = _convert(data.text or "", key.type)
        except ValueError:
            raise TopologyError(
                located(where, key.name, f"not a valid {key.type} (declared by key {key_id!r}), got {data.text!r}")
            ) from None
    defaults: dict[str, Any] = {}
    for key_id, key in keys.items():
        if key is not None and key.domain in (domain, "all") and key.default is not None and key.name not in out:
            try:
                defaults[key.name] = _convert(key.default, key.type)
            except ValueError:
                raise TopologyError(
                    located(where, key.name, f"default of key {key_id!r} is not a valid {key.type}, "
                            f"got {key.default!r}")
                ) from None
    return out, defaults


def _with_defaults(data: dict[str, Any], defaults: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {**{k: v for k, v in defaults.items() if k in names}, **data}


_SITE_NAMES = set(Site.model_fields) - {"kind"} | {_SITE_KIND_KEY}
_REGION_NAMES = set(Region.model_fields)
_LINK_NAMES = set(Link.model_fields) - {"a", "b"} | set(DERIVED_EDGE_KEYS)


def _validate(model: type[pydantic.BaseModel], data: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        raise TopologyError(describe_validation_error(err, where, model, data)) from None


def _node(element: ET.Element, index: int, keys: dict[str, _Key | None], source: str) -> Site | Region:
    node_id = element.get("id")
    if not node_id:
        raise TopologyError(located(source, f"node[{index}]", "<node> has no id attribute"))
    where = f"{source}: node {node_id!r}"
    data, defaults = _read_data(element, "node", keys, where)
    kind = data.pop("kind", defaults.get("kind"))
    if kind is None:
        raise TopologyError(located(where, "kind", "required key is missing ('site' or 'region')"))
    if kind not in _NODE_KINDS:
        raise TopologyError(located(where, "kind", f"must be 'site' or 'region', got {kind!r}"))
    if data.setdefault("id", node_id) != node_id:
        raise TopologyError(located(where, "id", f"data id {data['id']!r} differs from the node id"))
    data = _with_defaults(data, defaults, _REGION_NAMES if kind == "region" else _SITE_NAMES)
    if kind == "region":
        region: Region = _validate(Region, data, where)
        return region
    if _SITE_KIND_KEY in data:
        site_kind = data.pop(_SITE_KIND_KEY)
        if site_kind not in _SITE_KINDS:
            choices = ", ".join(repr(k) for k in _SITE_KINDS)
            raise TopologyError(located(where, _SITE_KIND_KEY, f"must be one of {choices}, got {site_kind!r}"))
        data["kind"] = site_kind
    if isinstance(data.get("timeline"), str):  # written as JSON (network_to_graphml)
        try:
            data["timeline"] = json.loads(data["timeline"])
        except ValueError as exc:
            raise TopologyError(located(where, "timeline", f"not a JSON list of steps: {exc}")) from None
    site: Site = _validate(Site, data, where)
    return site


def _edge(
    element: ET.Element, index: int, keys: dict[str, _Key | None], source: str, taken: dict[str, str]
) -> tuple[Link, dict[str, float], str]:
    """One link, the derived values the file gives for it, and the label naming it."""
    ends = {end: element.get(end) for end in ("source", "target")}
    for end, node in ends.items():
        if not node:
            raise TopologyError(located(source, f"edge[{index}]", f"<edge> has no {end} attribute"))
    a, b = str(ends["source"]), str(ends["target"])
    data, defaults = _read_data(element, "edge", keys, f"{source}: edge[{index}]")
    data = _with_defaults(data, defaults, _LINK_NAMES)
    link_id = element.get("id") or data.get("id")
    if not link_id:
        link_id = f"{a}-{b}"
        suffix = 2
        while link_id in taken:
            link_id, suffix = f"{a}-{b}-{suffix}", suffix + 1
    if data.setdefault("id", link_id) != link_id:
        raise TopologyError(located(f"{source}: edge {link_id!r}", "id", f"data id {data['id']!r} differs"))
    where = f"{source}: edge {link_id!r}"
    for key in ("a", "b"):
        if key in data:
            raise TopologyError(located(where, key, "the ends of an edge are its source and target attributes"))
    derived = {key: data.pop(key) for key in DERIVED_EDGE_KEYS if key in data}
    link: Link = _validate(Link, {**data, "a": a, "b": b}, where)
    return link, derived, where


def network_from_graphml(data: bytes | str, source: str) -> Network:
    """Parse and validate GraphML text read from ``source`` (see :func:`read_graphml_network`)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise TopologyError(located(source, "", f"malformed GraphML (XML): {exc}")) from None
    if _tag(root) != "graphml":
        raise TopologyError(located(source, "", f"not GraphML: the root element is <{_tag(root)}>, not <graphml>"))
    keys = _read_keys(root, source)
    graphs = _children(root, "graph")
    if len(graphs) != 1:
        raise TopologyError(located(source, "", f"expected one <graph> element, found {len(graphs)}"))
    return _network(graphs[0], keys, source)


def _network(graph: ET.Element, keys: dict[str, _Key | None], source: str) -> Network:
    top, defaults = _read_data(graph, "graph", keys, f"{source}: graph")
    top = _with_defaults(top, defaults, set(_GRAPH_KEYS))
    for name in top:
        if name not in _GRAPH_KEYS:
            hint = nearest(name, _GRAPH_KEYS)
            tail = f" (did you mean '{hint}'?)" if hint else f"; valid keys: {', '.join(_GRAPH_KEYS)}"
            raise TopologyError(located(f"{source}: graph", name, f"unknown key{tail}"))

    taken: dict[str, str] = {}  # id -> "site", "region" or "link": one namespace, as in TOML
    sites: list[Site] = []
    regions: list[Region] = []
    for i, element in enumerate(_children(graph, "node")):
        record = _node(element, i, keys, source)
        table = "site" if isinstance(record, Site) else "region"
        if record.id in taken:
            where = f"{source}: node {record.id!r}"
            raise TopologyError(located(where, "id", f"duplicate id (already a {taken[record.id]})"))
        taken[record.id] = table
        if isinstance(record, Site):
            sites.append(record)
        else:
            regions.append(record)

    nodes = list(taken)
    links: list[tuple[Link, dict[str, float], str]] = []
    for i, element in enumerate(_children(graph, "edge")):
        link, derived, where = _edge(element, i, keys, source, taken)
        if link.id in taken:
            raise TopologyError(located(where, "id", f"duplicate id {link.id!r} (already a {taken[link.id]})"))
        taken[link.id] = "link"
        for end, node in (("source", link.a), ("target", link.b)):
            if node not in nodes:
                hint = nearest(node, nodes)
                tail = f" (did you mean '{hint}'?)" if hint else ""
                raise TopologyError(located(where, end, f"{node!r} is not a node id{tail}"))
        if link.a == link.b:
            raise TopologyError(located(where, "target", f"edge joins {link.a!r} to itself"))
        links.append((link, derived, where))

    for table, records in (("site", sites), ("region", regions)):
        if not records:
            raise TopologyError(located(source, "", f"no node with kind = '{table}'; a network needs at least one"))
    network: Network = _validate(
        Network,
        {**top, "site": sites, "region": regions, "link": [link for link, _, _ in links]},
        f"{source}: graph",
    )
    _check_derived(network, links)
    return network


def _check_derived(network: Network, links: list[tuple[Link, dict[str, float], str]]) -> None:
    """A ``route_km`` or ``latency_ms`` in the file must equal what the link's keys give."""
    coords = node_coords(network)
    for link, derived, where in links:
        computed = {
            "route_km": link_route_km(link, coords),
            "latency_ms": link_latency_ms(link, coords, network.fibre_us_per_km),
        }
        for key, given in derived.items():
            if not isinstance(given, int | float) or isinstance(given, bool):
                raise TopologyError(located(where, key, f"must be a number, got {given!r}"))
            if not math.isclose(given, computed[key], rel_tol=_REL_TOL, abs_tol=1e-9):
                raise TopologyError(
                    located(
                        where,
                        key,
                        f"{given:g} differs from {computed[key]:g} computed from the link's ends, distance_km, "
                        f"route_factor and hop_ms; it is derived: change those keys, or drop {key}",
                    )
                )
