"""Loading networks: the built-in data set, user files, and one-line error messages."""

import re
from pathlib import Path

import pytest

from topology.load import builtin_names, load_network, load_network_file
from topology.model import Network
from topology.plumbing import CpnsimError, TopologyError, read_toml

# A small valid network; tests replace one line of it to break it in one place.
VALID = """\
name = "tiny"
fibre_us_per_km = 4.0

[[site]]
id = "cl_zhongwei"
lat = 37.51
lon = 105.19
gpus = 1024

[[site]]
id = "cl_wuhu"
lat = 31.35
lon = 118.43
gpus = 512
pue = 1.25

[[region]]
id = "dr_cn_yrd"
lat = 31.23
lon = 121.47
demand_weight = 235.22

[[link]]
id = "L_yrd_wuhu"
a = "dr_cn_yrd"
b = "cl_wuhu"

[[link]]
id = "L_wuhu_zhongwei"
a = "cl_wuhu"
b = "cl_zhongwei"
distance_km = 1800.0
"""


def _write(tmp_path: Path, text: str, name: str = "net.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _broken(old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


def _error(path: Path) -> str:
    with pytest.raises(TopologyError) as info:
        load_network_file(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    return message


# -- built-in data -----------------------------------------------------------------


def test_builtin_names_sorted_and_contain_default():
    names = builtin_names()
    assert "default" in names
    assert names == sorted(names)
    assert all(not n.endswith(".toml") and n != "__init__" for n in names)


def test_default_network_loads():
    net = load_network("default")
    assert isinstance(net, Network)
    assert net.name == "default"
    assert len(net.sites) == 5
    assert len(net.regions) == 3
    assert len(net.links) == 10
    assert {r.id for r in net.regions} == {"dr_cn_bth", "dr_cn_yrd", "dr_cn_guangdong"}
    assert net.sites[0].id == "cl_zhangjiakou"  # file order is kept
    assert sum(s.gpus for s in net.sites) == 3 * 512 + 2 * 1024


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_network_loads(name):
    net = load_network(name)
    assert net.sites and net.regions


def test_unknown_builtin_suggests_nearest():
    expected = (
        "network 'defualt' is neither a built-in network (did you mean 'default'?) nor a .toml, .json or .graphml file"
    )
    with pytest.raises(TopologyError, match=f"^{re.escape(expected)}$"):
        load_network("defualt")


def test_unknown_builtin_without_near_name_lists_names():
    with pytest.raises(TopologyError, match=r"'zzzzzz' is neither a built-in network \(.*default.*\) nor a \.toml"):
        load_network("zzzzzz")


def test_unknown_suffix_is_rejected(tmp_path):
    path = tmp_path / "net.csv"
    message = "networks are read from .toml, .json or .graphml files"
    with pytest.raises(TopologyError, match=rf"^{re.escape(str(path))}: {re.escape(message)}$"):
        load_network(str(path))


# -- user files --------------------------------------------------------------------


def test_user_file_loads(tmp_path):
    net = load_network_file(_write(tmp_path, VALID))
    assert net.name == "tiny"
    assert net.fibre_us_per_km == 4.0
    assert [s.id for s in net.sites] == ["cl_zhongwei", "cl_wuhu"]
    assert net.sites[1].gpus == 512 and net.sites[1].pue == 1.25
    assert net.sites[0].pue == 1.3  # default
    assert net.regions[0].demand_weight == 235.22
    assert net.links[0].distance_km is None and net.links[1].distance_km == 1800.0


def test_load_network_by_path_relative_to_base_dir(tmp_path):
    _write(tmp_path, VALID, "mine.toml")
    net = load_network("mine.toml", base_dir=tmp_path)
    assert net == load_network_file(tmp_path / "mine.toml")
    assert load_network(str(tmp_path / "mine.toml")) == net


def test_file_not_found(tmp_path):
    path = tmp_path / "missing.toml"
    with pytest.raises(TopologyError, match=rf"^{re.escape(str(path))}: file not found$"):
        load_network("missing.toml", base_dir=tmp_path)


def test_read_toml_raises_the_error_class_asked_for(tmp_path):
    class MineError(CpnsimError):
        pass

    with pytest.raises(MineError, match="file not found"):
        read_toml(tmp_path / "nope.toml", error=MineError)


def test_malformed_toml(tmp_path):
    path = _write(tmp_path, VALID.replace("[[region]]", "[[region]"))
    message = _error(path)
    assert "malformed TOML" in message
    assert "line 17" in message  # tomllib's position is passed on


def test_not_utf8(tmp_path):
    path = tmp_path / "net.toml"
    path.write_bytes(b'name = "\xff\xfe"\n')
    assert "cannot read" in _error(path)


# -- validation errors: file, key path, bad value ---------------------------------


def test_unknown_key_suggests_nearest(tmp_path):
    path = _write(tmp_path, _broken("pue = 1.25", "pue = 1.25\nprice_cny_kwh = 0.4"))
    message = _error(path)
    assert message == f"{path}: site[1].price_cny_kwh: unknown key (did you mean 'price_cny_per_kwh'?)"


def test_unknown_key_in_link_and_top_level(tmp_path):
    path = _write(tmp_path, _broken("distance_km = 1800.0", "distance_km = 1800.0\nhop = 2"))
    assert _error(path) == f"{path}: link[1].hop: unknown key (did you mean 'hop_ms'?)"
    path = _write(tmp_path, "fibre_us_km = 5.0\n" + VALID)
    assert _error(path) == f"{path}: fibre_us_km: unknown key (did you mean 'fibre_us_per_km'?)"


def test_unknown_key_without_near_name_lists_valid_keys(tmp_path):
    path = _write(tmp_path, _broken("demand_weight = 235.22", "demand_weight = 235.22\nqqq = 1"))
    message = _error(path)
    assert "region[0].qqq: unknown key; valid keys: id, name, zone, lat, lon, demand_weight, country, source" in message


def test_misspelt_required_key_suggests_nearest(tmp_path):
    path = _write(tmp_path, _broken("gpus = 512", "gpu = 512"))
    message = _error(path)
    assert "site[1].gpu: unknown key (did you mean 'gpus'?)" in message


def test_missing_required_key(tmp_path):
    path = _write(tmp_path, _broken("gpus = 512\n", ""))
    assert _error(path) == f"{path}: site[1].gpus: required key is missing"


def test_missing_site_table(tmp_path):
    text = VALID.split("[[site]]")[0] + '[[region]]\nid = "r"\nlat = 0.0\nlon = 0.0\n'
    assert _error(_write(tmp_path, text)).endswith(": site: required key is missing")


def test_wrong_type(tmp_path):
    path = _write(tmp_path, _broken("gpus = 512", 'gpus = "many"'))
    message = _error(path)
    assert message.startswith(f"{path}: site[1].gpus: Input should be a valid integer")
    assert message.endswith("got 'many'")


def test_wrong_kind_lists_literals(tmp_path):
    path = _write(tmp_path, _broken("gpus = 512", 'gpus = 512\nkind = "hubb"'))
    message = _error(path)
    assert "site[1].kind:" in message and "'gpu_pool'" in message and message.endswith("got 'hubb'")


@pytest.mark.parametrize("gpus", [0, -4])
def test_non_positive_gpus(tmp_path, gpus):
    path = _write(tmp_path, _broken("gpus = 512", f"gpus = {gpus}"))
    assert _error(path) == f"{path}: site[1].gpus: Input should be greater than 0, got {gpus}"


@pytest.mark.parametrize(
    ("old", "new", "key", "bound"),
    [
        ("lat = 37.51", "lat = 95.0", "site[0].lat", "less than or equal to 90"),
        ("lat = 31.23", "lat = -90.5", "region[0].lat", "greater than or equal to -90"),
        ("lon = 105.19", "lon = 180.5", "site[0].lon", "less than or equal to 180"),
    ],
)
def test_coordinates_out_of_range(tmp_path, old, new, key, bound):
    path = _write(tmp_path, _broken(old, new))
    bad = new.split(" = ")[1]
    assert _error(path) == f"{path}: {key}: Input should be {bound}, got {bad}"


def test_pue_below_one(tmp_path):
    path = _write(tmp_path, _broken("pue = 1.25", "pue = 0.9"))
    assert _error(path) == f"{path}: site[1].pue: Input should be greater than or equal to 1, got 0.9"


# -- references between tables ----------------------------------------------------


def test_duplicate_site_id(tmp_path):
    path = _write(tmp_path, _broken('id = "cl_wuhu"', 'id = "cl_zhongwei"'))
    assert _error(path) == f"{path}: site[1].id: duplicate id 'cl_zhongwei' (already a site)"


def test_duplicate_id_across_tables(tmp_path):
    path = _write(tmp_path, _broken('id = "L_yrd_wuhu"', 'id = "dr_cn_yrd"'))
    assert _error(path) == f"{path}: link[0].id: duplicate id 'dr_cn_yrd' (already a region)"


def test_dangling_link_end_names_key_and_suggests(tmp_path):
    path = _write(tmp_path, _broken('b = "cl_zhongwei"', 'b = "cl_zhongwai"'))
    message = _error(path)
    assert message == f"{path}: link[1].b: 'cl_zhongwai' is not a site or region id (did you mean 'cl_zhongwei'?)"


def test_dangling_link_end_without_near_name(tmp_path):
    path = _write(tmp_path, _broken('a = "dr_cn_yrd"', 'a = "xyz"'))
    assert _error(path) == f"{path}: link[0].a: 'xyz' is not a site or region id"


def test_link_to_itself(tmp_path):
    path = _write(tmp_path, _broken('a = "cl_wuhu"', 'a = "cl_zhongwei"'))
    assert _error(path) == f"{path}: link[1].b: link joins 'cl_zhongwei' to itself"


def test_region_id_equal_to_a_site_id(tmp_path):
    path = _write(tmp_path, _broken('id = "dr_cn_yrd"', 'id = "cl_wuhu"'))
    assert _error(path) == f"{path}: region[0].id: duplicate id 'cl_wuhu' (already a site)"


def test_zero_bandwidth(tmp_path):
    path = _write(tmp_path, _broken("distance_km = 1800.0", "distance_km = 1800.0\nbandwidth_gbps = 0"))
    assert _error(path) == f"{path}: link[1].bandwidth_gbps: Input should be greater than 0, got 0"


def test_bad_zone_names_the_key_and_the_zones(tmp_path):
    path = _write(tmp_path, _broken("gpus = 512", 'gpus = 512\nzone = "north"'))
    message = _error(path)
    assert message.startswith(f"{path}: site[1].zone") and "'east'" in message and "'abroad'" in message, message
    assert "\n" not in message
