"""JSON export: a stable shape (the network file's tables) that loads back as an equal network."""

import json

import pytest

from topology.export import FORMATS, export_network, network_to_json
from topology.graphml import network_to_graphml
from topology.load import builtin_names, load_network, load_network_file
from topology.model import Link, Region, Site
from topology.plumbing import TopologyError


def test_formats():
    assert FORMATS == ("graphml", "json")
    net = load_network("default")
    assert export_network(net, "graphml") == network_to_graphml(net)
    assert export_network(net, "json") == network_to_json(net)


def test_json_shape_is_the_network_file_tables():
    data = json.loads(network_to_json(load_network("national")))
    assert list(data) == ["name", "description", "fibre_us_per_km", "site", "region", "link"]
    # Keys added later (country, price_cny_per_gb) are written only where set: every other key always is.
    by_id = {r["id"]: r for r in data["site"] + data["region"]}
    # A capacity timeline is written only for sites that have one (sim.capacity_timeline).
    # Chip mixes (chips, and parent on their partitions) are written only where set: no built-in site has one.
    # Nor has any a power envelope (power_envelope_mw), written only where set.
    assert [f for f in data["site"][0] if f != "timeline"] == [
        f for f in Site.model_fields if f not in ("country", "timeline", "chips", "parent", "power_envelope_mw")]
    # br_sg has every later key set (country, capacity range, power split, PUE target).
    assert [f for f in by_id["br_sg"] if f != "timeline"] == [
        f for f in Site.model_fields if f not in ("timeline", "chips", "parent", "power_envelope_mw")]
    assert list(data["region"][0]) == [f for f in Region.model_fields if f != "country"]
    assert list(by_id["dr_kz"]) == list(Region.model_fields)
    assert list(data["link"][0]) == [f for f in Link.model_fields if f != "price_cny_per_gb"]
    cross = next(link for link in data["link"] if link["id"] == "X_urumqi_kazakhstan")
    assert list(cross) == list(Link.model_fields)
    assert data["link"][0]["distance_km"] is None or isinstance(data["link"][0]["distance_km"], float)


@pytest.mark.parametrize("name", builtin_names())
def test_json_round_trips_exactly(tmp_path, name):
    net = load_network(name)
    path = tmp_path / f"{name}.json"
    path.write_text(network_to_json(net), encoding="utf-8")
    assert load_network_file(path) == net
    assert load_network(str(path)) == net


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "malformed JSON: Expecting property name enclosed in double quotes"),
        ("[1]", "must be a JSON object, got list"),
        ('{"site": [{"id": "s", "lat": 0, "lon": 0, "gpus": 0}], "region": []}',
         "site[0].gpus: Input should be greater than 0, got 0"),
    ],
)
def test_bad_json(tmp_path, text, message):
    path = tmp_path / "net.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TopologyError) as info:
        load_network_file(path)
    assert str(info.value).startswith(f"{path}: {message}")
