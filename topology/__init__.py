"""cpnsim.topology: the computing-power network as data.

Sites (where compute lives), demand regions (where work originates) and the links
between them; built-in data sets; a networkx view and region-to-site latencies.
"""

from topology.errors import ConfigError, CpnsimError, SchemaError, TopologyError
from topology.graph import region_site_latency_ms, to_graph
from topology.load import builtin_names, load_network, load_network_file
from topology.model import Link, Network, Region, Site

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
    "load_network",
    "load_network_file",
    "region_site_latency_ms",
    "to_graph",
]
