"""Networks as GraphML: exact round trips, networkx compatibility, and one-line errors."""

import re
from pathlib import Path

import networkx as nx
import pytest

from topology.graph import to_graph
from topology.graphml import network_from_graphml, network_to_graphml
from topology.load import builtin_names, load_network, load_network_file
from topology.model import Network
from topology.plumbing import TopologyError

# A user's file in the shape another tool might write: no edge ids, a default in a
# <key>, a yEd graphics key without attr.name, and one edge with a given route length.
USER = """\
<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:y="http://www.yworks.com/xml/graphml">
  <key id="k" for="node" attr.name="kind" attr.type="string"/>
  <key id="lat" for="node" attr.name="lat" attr.type="double"/>
  <key id="lon" for="node" attr.name="lon" attr.type="double"/>
  <key id="g" for="node" attr.name="gpus" attr.type="int"/>
  <key id="p" for="node" attr.name="pue" attr.type="double"><default>1.2</default></key>
  <key id="w" for="node" attr.name="demand_weight" attr.type="double"/>
  <key id="y" for="node" yfiles.type="nodegraphics"/>
  <key id="d" for="edge" attr.name="distance_km" attr.type="double"/>
  <key id="bw" for="edge" attr.name="bandwidth_gbps" attr.type="double"/>
  <key id="n" for="graph" attr.name="name" attr.type="string"/>
  <graph edgedefault="directed">
    <data key="n">mine</data>
    <node id="east"><data key="k">region</data><data key="lat">31.2</data><data key="lon">121.5</data>
      <data key="w">3</data><data key="y"><y:ShapeNode/></data></node>
    <node id="west"><data key="k">site</data><data key="lat">37.5</data><data key="lon">105.2</data>
      <data key="g">512</data></node>
    <node id="mid"><data key="k">site</data><data key="lat">31.4</data><data key="lon">118.4</data>
      <data key="g">64</data><data key="p">1.5</data></node>
    <edge source="east" target="mid"/>
    <edge source="mid" target="west"><data key="d">1800</data><data key="bw">40</data></edge>
  </graph>
</graphml>
"""


def _write(tmp_path: Path, text: str, name: str = "net.graphml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(TopologyError) as info:
        load_network_file(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    return message


def _broken(old: str, new: str) -> str:
    assert USER.count(old) == 1, old
    return USER.replace(old, new)


# -- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_network_round_trips_exactly(tmp_path, name):
    net = load_network(name)
    back = load_network_file(_write(tmp_path, network_to_graphml(net)))
    assert back == net  # every field, file order and each link's a -> b orientation


def test_national_round_trip_keeps_optional_fields(tmp_path):
    net = load_network("national")
    back = load_network_file(_write(tmp_path, network_to_graphml(net)))
    given = [link.id for link in net.links if link.distance_km is not None]
    assert given and [link.id for link in back.links if link.distance_km is not None] == given
    assert [s.residency for s in back.sites] == [s.residency for s in net.sites]
    assert any(s.residency for s in net.sites) and any(s.residency is None for s in net.sites)


def test_parallel_links_survive(tmp_path):
    net = Network.model_validate(
        {
            "site": [{"id": "s", "lat": 0, "lon": 0, "gpus": 1}],
            "region": [{"id": "r", "lat": 0, "lon": 1}],
            "link": [
                {"id": "fast", "a": "r", "b": "s", "distance_km": 100.0},
                {"id": "slow", "a": "s", "b": "r", "distance_km": 1000.0, "hop_ms": 2.0},
            ],
        }
    )
    assert network_from_graphml(network_to_graphml(net), "x") == net


# -- what networkx sees -----------------------------------------------------------------


def test_networkx_reads_the_export_with_typed_attributes(tmp_path):
    net = load_network("national")
    path = _write(tmp_path, network_to_graphml(net))
    g = nx.read_graphml(path)
    assert g.graph["name"] == "national" and g.graph["fibre_us_per_km"] == 5.0
    assert set(g.nodes) == {s.id for s in net.sites} | {r.id for r in net.regions}
    assert g.number_of_edges() == len(net.links)  # no parallel links in national
    harbin = g.nodes["gpu_cm_harbin"]
    site = next(s for s in net.sites if s.id == "gpu_cm_harbin")
    assert harbin["kind"] == "site" and harbin["site_kind"] == site.kind
    assert (harbin["gpus"], harbin["lat"], harbin["lon"], harbin["pue"]) == (site.gpus, site.lat, site.lon, site.pue)
    assert isinstance(harbin["gpus"], int) and isinstance(harbin["pue"], float)
    region = net.regions[0]
    assert g.nodes[region.id]["kind"] == "region" and g.nodes[region.id]["demand_weight"] == region.demand_weight
    ours = to_graph(net)
    for a, b, data in ours.edges(data=True):
        theirs = g.edges[a, b]
        assert theirs["id"] == data["id"]
        assert theirs["latency_ms"] == data["latency_ms"]  # written with repr(): exact
        assert theirs["route_km"] == data["route_km"]
        assert theirs["bandwidth_gbps"] == data["bandwidth_gbps"]
    link = next(link for link in net.links if link.distance_km is not None)
    assert g.edges[link.a, link.b]["distance_km"] == link.distance_km


# -- users' own files ---------------------------------------------------------------------


def test_user_graphml_loads_with_defaults_and_generated_link_ids(tmp_path):
    net = load_network_file(_write(tmp_path, USER))
    assert net.name == "mine"
    assert [s.id for s in net.sites] == ["west", "mid"] and [r.id for r in net.regions] == ["east"]
    assert net.sites[0].gpus == 512 and net.sites[0].pue == 1.2  # the <key>'s default
    assert net.sites[1].pue == 1.5
    assert net.sites[0].kind == "cluster"  # the model's default
    assert net.regions[0].demand_weight == 3.0
    ends = [(link.id, link.a, link.b) for link in net.links]
    assert ends == [("east-mid", "east", "mid"), ("mid-west", "mid", "west")]
    assert net.links[0].distance_km is None and net.links[1].distance_km == 1800.0
    assert net.links[1].bandwidth_gbps == 40.0


def test_scenario_network_may_be_graphml(tmp_path):
    from sim.scenario import load_scenario

    _write(tmp_path, USER, "mine.graphml")
    scenario = tmp_path / "s.toml"
    workload = '[workload.a]\narrival_rate_per_h = 1\nwork_gpu_h = {dist = "constant", value = 1}\n'
    scenario.write_text('network = "mine.graphml"\n' + workload, encoding="utf-8")
    loaded = load_scenario(str(scenario), [], None)
    assert loaded.network == load_network_file(tmp_path / "mine.graphml")


def test_toml_may_include_graphml(tmp_path):
    _write(tmp_path, USER, "mine.graphml")
    top = tmp_path / "top.toml"
    top.write_text('include = ["mine.graphml", "edwc"]\nname = "both"\n[[link]]\nid = "x"\na = "mid"\nb = "cl_wuhu"\n')
    net = load_network_file(top)
    # The partition joins of edwc's mixed site (Gui'an, topology.chip_partitions) come after the file's links.
    assert [s.id for s in net.sites][:2] == ["west", "mid"] and [k.id for k in net.links if "~" not in k.id][-1] == "x"


# -- errors: one line naming the file, the node or edge, and the key ----------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('<graph edgedefault="directed">', '<graph edgedefault="directed"', "malformed GraphML (XML): not well-formed"),
        ("<data key=\"g\">64</data>", "", "node 'mid': gpus: required key is missing"),
        ("<data key=\"g\">64</data>", "<data key=\"g\">many</data>",
         "node 'mid': gpus: not a valid int (declared by key 'g'), got 'many'"),
        ("<data key=\"g\">64</data>", "<data key=\"g\">0</data>",
         "node 'mid': gpus: Input should be greater than 0, got 0"),
        ("<data key=\"g\">64</data>", "<data key=\"g\">-3</data>",
         "node 'mid': gpus: Input should be greater than 0, got -3"),
        ('<data key="lat">37.5</data>', '<data key="lat">97.5</data>',
         "node 'west': lat: Input should be less than or equal to 90, got 97.5"),
        ('<data key="lon">121.5</data>', '<data key="lon">-181</data>',
         "node 'east': lon: Input should be greater than or equal to -180, got -181.0"),
        ('<data key="bw">40</data>', '<data key="bw">0</data>',
         "edge 'mid-west': bandwidth_gbps: Input should be greater than 0, got 0.0"),
        ('<node id="mid"><data key="k">site</data>', '<node id="mid"><data key="k">farm</data>',
         "node 'mid': kind: must be 'site' or 'region', got 'farm'"),
        ('<node id="mid"><data key="k">site</data>', '<node id="mid">',
         "node 'mid': kind: required key is missing ('site' or 'region')"),
        ('<node id="mid">', '<node id="west">', "node 'west': id: duplicate id (already a site)"),
        ('<edge source="east" target="mid"/>', '<edge source="east" target="mdi"/>',
         "edge 'east-mdi': target: 'mdi' is not a node id (did you mean 'mid'?)"),
        ('<edge source="east" target="mid"/>', '<edge source="mid" target="mid"/>',
         "edge 'mid-mid': target: edge joins 'mid' to itself"),
        ('<edge source="east" target="mid"/>', '<edge id="west" source="east" target="mid"/>',
         "edge 'west': id: duplicate id 'west' (already a site)"),
        ('<edge source="east" target="mid"/>', '<edge target="mid"/>', "edge[0]: <edge> has no source attribute"),
        ('<data key="d">1800</data>', '<data key="d">1800</data><data key="q">1</data>',
         "edge[1]: <data key='q'> has no <key> declaring it"),
        ('<data key="n">mine</data>', '<data key="n">mine</data><data key="k">x</data>',
         "graph: kind: key 'k' is declared for nodes"),
        ('<data key="w">3</data>', '<data key="w">3</data><data key="g">1</data>',
         "node 'east': gpus: unknown key; valid keys: id, name, zone, lat, lon, demand_weight, country, source"),
        ('<key id="n" for="graph" attr.name="name"', '<key id="n" for="graph" attr.name="nme"',
         "graph: nme: unknown key (did you mean 'name'?)"),
        ('<edge source="east" target="mid"/>', "",
         "node 'east': no path to any site (demand_weight 3; add a link)"),
    ],
)
def test_bad_graphml_is_one_line_naming_node_edge_and_key(tmp_path, old, new, expected):
    path = _write(tmp_path, _broken(old, new))
    message = _error(path)
    assert message.startswith(f"{path}: {expected}"), message


def test_edited_latency_is_an_error_not_ignored(tmp_path):
    text = network_to_graphml(load_network("default"))
    first = re.search(r'<data key="(d\d+)">([0-9.]+)</data>\s*</edge>', text)
    assert first is not None  # latency_ms is the last data of each edge
    path = _write(tmp_path, text.replace(first.group(0), first.group(0).replace(first.group(2), "99.0"), 1))
    message = _error(path)
    assert message.startswith(f"{path}: edge 'L_bth_zhangjiakou': latency_ms: 99 differs from 1.2134")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<nope/>", "not GraphML: the root element is <nope>, not <graphml>"),
        ("<graphml/>", "expected one <graph> element, found 0"),
        ("", "malformed GraphML (XML): no element found"),
    ],
)
def test_not_a_graphml_document(tmp_path, text, expected):
    path = _write(tmp_path, text)
    assert _error(path).startswith(f"{path}: {expected}")


def test_a_network_needs_a_site_node(tmp_path):
    text = USER.split("<node id=\"west\">")[0] + "</graph>\n</graphml>\n"
    path = _write(tmp_path, text)
    assert _error(path) == f"{path}: no node with kind = 'site'; a network needs at least one"


def test_graphml_file_not_found(tmp_path):
    path = tmp_path / "none.graphml"
    assert _error(path) == f"{path}: file not found"


def test_example_user_network_loads():
    path = Path(__file__).resolve().parents[2] / "examples" / "networks" / "east_west.graphml"
    net = load_network_file(path)
    assert net.name == "east-west-graphml"
    assert [(s.id, s.gpus, s.pue) for s in net.sites] == [("zhongwei", 1024, 1.1), ("guian", 512, 1.2)]
    assert [r.id for r in net.regions] == ["shanghai", "beijing"]
    assert [link.id for link in net.links] == ["shanghai-guian", "beijing-zhongwei", "zhongwei-guian"]
    assert net.links[1].distance_km == 1400.0
