"""Networks written out: JSON (the network file's tables) and GraphML.

Both are read back by :func:`topology.load.load_network` (``.json`` / ``.graphml``) as
an equal :class:`~topology.model.Network`.
"""

from __future__ import annotations

import json
from typing import Literal

from topology.graphml import network_to_graphml
from topology.model import Network

__all__ = ["FORMATS", "ExportFormat", "export_network", "network_to_json"]

ExportFormat = Literal["graphml", "json"]
FORMATS: tuple[ExportFormat, ...] = ("graphml", "json")


def network_to_json(network: Network) -> str:
    """The network as JSON: the network file's keys, tables as arrays, defaults filled in.

    The shape is ``{"name", "description", "fibre_us_per_km", "site": [...],
    "region": [...], "link": [...]}``, each record with every key of its table
    (absent optional values are ``null``).

    Examples
    --------
    >>> from topology.load import load_network
    >>> sorted(json.loads(network_to_json(load_network("default"))))
    ['description', 'fibre_us_per_km', 'link', 'name', 'region', 'site']
    """
    data = network.model_dump(mode="json", exclude={"include"})
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def export_network(network: Network, fmt: ExportFormat) -> str:
    """The network as text in ``fmt`` (``graphml`` or ``json``)."""
    return network_to_graphml(network) if fmt == "graphml" else network_to_json(network)
