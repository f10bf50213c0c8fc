"""cpnsim.topology: the computing-power network as data.

Sites (where compute lives), demand regions (where work originates) and the links
between them; built-in data sets; a networkx view and region-to-site latencies;
GraphML and JSON export and import; the reachability check of user networks.
"""

from topology.export import export_network, network_to_json
from topology.graph import region_site_latency_ms, to_graph
from topology.graphml import network_to_graphml, read_graphml_network
from topology.load import builtin_names, load_network, load_network_file
from topology.model import Link, Network, Region, Site
from topology.plumbing import ConfigError, CpnsimError, SchemaError, TopologyError

__all__ = [
    "ConfigError",
    "CpnsimError",
    "Link",
    "Network",
    "Region",
    "SchemaError",
    "Site",
    "TopologyError",
    "builtin_names",
    "export_network",
    "load_network",
    "load_network_file",
    "network_to_graphml",
    "network_to_json",
    "read_graphml_network",
    "region_site_latency_ms",
    "to_graph",
]
