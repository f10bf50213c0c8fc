"""The network records: defaults, bounds, frozenness, unknown keys."""

import pydantic
import pytest

from topology.model import Link, Network, Region, Site


def _site(**kw) -> Site:
    return Site(**{"id": "s", "lat": 10.0, "lon": 20.0, "gpus": 8, **kw})


def test_site_defaults():
    s = _site()
    assert (s.kind, s.sku, s.sku_speed, s.pue) == ("cluster", "reference", 1.0, 1.3)
    assert (s.gpu_busy_w, s.gpu_idle_w, s.renewable_frac, s.region) == (400.0, 80.0, 0.0, None)


def test_records_are_frozen():
    s = _site()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        s.gpus = 16
    assert s.gpus == 8


@pytest.mark.parametrize(
    ("record", "kw", "match"),
    [
        (Site, {"id": "s", "lat": 0, "lon": 0, "gpus": 1, "gpu": 1}, "Extra inputs are not permitted"),
        (Site, {"id": "", "lat": 0, "lon": 0, "gpus": 1}, "at least 1 character"),
        (Site, {"id": "s", "lat": 0, "lon": 0, "gpus": 1, "sku_speed": 0}, "greater than 0"),
        (Site, {"id": "s", "lat": 0, "lon": 0, "gpus": 1, "renewable_frac": 1.5}, "less than or equal to 1"),
        (Site, {"id": "s", "lat": 0, "lon": 0, "gpus": 1, "kind": "farm"}, "'hub', 'cluster'"),
        (Region, {"id": "r", "lat": 0, "lon": 0, "demand_weight": -1}, "greater than or equal to 0"),
        (Link, {"id": "l", "a": "x", "b": "y", "route_factor": 0.9}, "greater than or equal to 1"),
        (Link, {"id": "l", "a": "x", "b": "y", "bandwidth_gbps": 0}, "greater than 0"),
        (Link, {"id": "l", "a": "x", "b": "y", "distance_km": -5}, "greater than or equal to 0"),
        (Link, {"id": "l", "a": "x", "b": "y", "hop_ms": -0.1}, "greater than or equal to 0"),
    ],
)
def test_bounds_and_unknown_keys(record, kw, match):
    with pytest.raises(pydantic.ValidationError, match=match):
        record(**kw)


def test_network_needs_a_site_and_a_region():
    with pytest.raises(pydantic.ValidationError, match="at least 1 item"):
        Network(site=(), region=(Region(id="r", lat=0, lon=0),))
    with pytest.raises(pydantic.ValidationError, match="at least 1 item"):
        Network(site=(_site(),), region=())


def test_network_plural_views_keep_file_order():
    sites = (_site(id="b"), _site(id="a"))
    regions = (Region(id="r", lat=0, lon=0),)
    links = (Link(id="l", a="a", b="r"),)
    net = Network(site=sites, region=regions, link=links)
    assert net.sites == sites and net.regions == regions and net.links == links
    assert net.fibre_us_per_km == 5.0 and net.name == "network"
    assert Network(site=sites, region=regions).links == ()
