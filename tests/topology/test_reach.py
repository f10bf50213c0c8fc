"""Every region that originates work must reach a site; the error names where it was written."""

from pathlib import Path

import pytest

from topology.load import load_network, load_network_file
from topology.model import Network
from topology.plumbing import TopologyError
from topology.reach import origin_regions, unreachable_regions

SITE = '[[site]]\nid = "{id}"\nlat = 30.0\nlon = 110.0\ngpus = 8\n'
REGION = '[[region]]\nid = "{id}"\nlat = 31.0\nlon = 111.0\ndemand_weight = {weight}\n'
LINK = '[[link]]\nid = "{id}"\na = "{a}"\nb = "{b}"\n'


def _net(weights: dict[str, float], links: list[tuple[str, str]]) -> Network:
    return Network.model_validate(
        {
            "site": [{"id": "s1", "lat": 0, "lon": 0, "gpus": 1}, {"id": "s2", "lat": 0, "lon": 1, "gpus": 1}],
            "region": [{"id": rid, "lat": 0, "lon": 2, "demand_weight": w} for rid, w in weights.items()],
            "link": [{"id": f"{a}-{b}", "a": a, "b": b} for a, b in links],
        }
    )


def _error(path: Path) -> str:
    with pytest.raises(TopologyError) as info:
        load_network_file(path)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def test_origin_regions_are_the_weighted_ones_or_all():
    assert origin_regions(_net({"a": 1, "b": 0, "c": 2}, [])) == [0, 2]
    assert origin_regions(_net({"a": 0, "b": 0}, [])) == [0, 1]  # all zero: drawn uniformly


def test_unreachable_regions_follow_paths_through_regions_and_sites():
    # a - b - s1; c - d (no site); e alone; zero-weight d and e are not origins.
    net = _net({"a": 1, "b": 1, "c": 1, "d": 0, "e": 0}, [("a", "b"), ("b", "s1"), ("c", "d")])
    assert unreachable_regions(net) == [2]
    # A site-to-site link does not help a region that reaches no site.
    assert unreachable_regions(_net({"a": 1}, [("s1", "s2")])) == [0]
    assert unreachable_regions(_net({"a": 1}, [("a", "s2")])) == []


def test_all_zero_weights_check_every_region():
    assert unreachable_regions(_net({"a": 0, "b": 0}, [("a", "s1")])) == [1]


def test_unreachable_region_names_file_table_and_id(tmp_path):
    text = SITE.format(id="s") + REGION.format(id="bj", weight=2) + REGION.format(id="xj", weight=1.5)
    path = tmp_path / "net.toml"
    path.write_text(text + LINK.format(id="L", a="bj", b="s"), encoding="utf-8")
    assert _error(path) == f"{path}: region[1] (id 'xj'): no path to any site (demand_weight 1.5; add a link)"


def test_several_unreachable_regions_are_counted(tmp_path):
    text = SITE.format(id="s") + REGION.format(id="a", weight=1) + REGION.format(id="b", weight=1)
    path = tmp_path / "net.toml"
    path.write_text(text, encoding="utf-8")
    assert _error(path).endswith(": region[0] (id 'a'): no path to any site (demand_weight 1; add a link; "
                                 "1 more region(s) too)")


def test_zero_weight_region_without_path_is_allowed(tmp_path):
    text = SITE.format(id="s") + REGION.format(id="a", weight=1) + REGION.format(id="spare", weight=0)
    path = tmp_path / "net.toml"
    path.write_text(text + LINK.format(id="L", a="a", b="s"), encoding="utf-8")
    assert [r.id for r in load_network_file(path).regions] == ["a", "spare"]


def test_included_part_may_be_unreachable_until_the_top_file_links_it(tmp_path):
    (tmp_path / "part.toml").write_text(SITE.format(id="s") + REGION.format(id="r", weight=1), encoding="utf-8")
    linked = tmp_path / "linked.toml"
    linked.write_text('include = ["part.toml"]\n' + LINK.format(id="L", a="r", b="s"), encoding="utf-8")
    assert [link.id for link in load_network_file(linked).links] == ["L"]
    unlinked = tmp_path / "unlinked.toml"
    unlinked.write_text('include = ["part.toml"]\n', encoding="utf-8")
    part = tmp_path / "part.toml"
    assert _error(unlinked) == (
        f"{unlinked}: region[0] (id 'r') of {part}: no path to any site (demand_weight 1; add a link)"
    )


def test_json_network_is_checked_too(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(
        '{"site": [{"id": "s", "lat": 0, "lon": 0, "gpus": 1}], "region": [{"id": "r", "lat": 0, "lon": 0}]}',
        encoding="utf-8",
    )
    assert _error(path) == f"{path}: region[0] (id 'r'): no path to any site (demand_weight 1; add a link)"


@pytest.mark.parametrize("name", ["default", "edwc", "gpu_clusters", "belt_and_road", "national"])
def test_builtin_networks_pass(name):
    assert unreachable_regions(load_network(name)) == []
