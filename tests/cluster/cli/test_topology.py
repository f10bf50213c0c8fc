"""``cpnsim topology list|show|export`` and bad networks through the real command line."""

import json
import os
import re
import stat
from pathlib import Path

import networkx as nx
import pytest

from cluster.cli import main
from topology.export import network_to_json
from topology.graphml import network_to_graphml
from topology.load import builtin_names, load_network, load_network_file

GOOD = """\
name = "mine"
[[site]]
id = "west"
lat = 37.5
lon = 105.2
gpus = 512
pue = 1.1
price_cny_per_kwh = 0.36
residency = "CN"
[[region]]
id = "east"
lat = 31.2
lon = 121.5
demand_weight = 3.0
[[link]]
id = "L"
a = "east"
b = "west"
distance_km = 1800.0
bandwidth_gbps = 40.0
"""

SCENARIO = """\
network = "net.toml"
horizon_h = 24
[workload.a]
arrival_rate_per_h = 1
work_gpu_h = {dist = "constant", value = 1}
"""


def _bad_exit(result, tmp_path: Path, files: list[str], pattern: str) -> None:
    """Exit 2, one stderr line matching ``pattern``, nothing on stdout, no file written."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cpnsim: error: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)  # no output, no temporary file


def test_list_shows_every_builtin_with_its_totals(run_cli):
    result = run_cli("topology", "list")
    assert result.returncode == 0, result.stderr
    for name in builtin_names():
        net = load_network(name)
        rows = [[c.strip() for c in line.split("│")[1:-1]] for line in result.stdout.splitlines() if "│" in line]
        cells = next(row for row in rows if row[0] == name)
        assert cells[:5] == [name, str(len(net.sites)), str(len(net.regions)), str(len(net.links)),
                             f"{sum(s.gpus for s in net.sites):,}"]


def test_show_prints_sites_regions_links_with_units_and_totals(run_cli, tmp_path):
    (tmp_path / "net.toml").write_text(GOOD)
    result = run_cli("topology", "show", "net.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for heading in ("sites (1): capacity", "sites (1): energy and grid", "regions (1)", "links (1; fibre 5 µs/km"):
        assert heading in out
    for unit in ("GPUs", "W busy/idle", "PUE", "price CNY/kWh", "carbon kg CO2/kWh", "renewable %", "route km",
                 "latency ms", "bandwidth Gbit/s", "demand weight"):
        assert unit in out
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in out.splitlines() if line.startswith("│")}
    assert rows["L"] == ["east", "west", "1,800", "yes", "9.000", "40"]  # 1800 km x 5 us/km = 9 ms
    assert rows["east"] == ["", "-", "31.20", "121.50", "3", "100.0"]  # no zone in the file
    assert "CN" in out and "512" in out and "1.10" in out and "0.360" in out


def test_show_builtin_national_totals(run_cli):
    result = run_cli("topology", "show", "national")
    assert result.returncode == 0, result.stderr
    total = next(line for line in result.stdout.splitlines() if line.startswith("│ total") and "," in line)
    assert f"{sum(s.gpus for s in load_network('national').sites):,}" in total


def test_show_lists_each_sites_zone_and_the_gpus_per_zone(run_cli):
    result = run_cli("topology", "show", "national")
    assert result.returncode == 0, result.stderr
    rows: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("│"):  # the first table a site id appears in is the capacity table
            rows.setdefault(line.split("│")[1].strip(), [c.strip() for c in line.split("│")[2:-1]])
    assert rows["cl_zhongwei"][:2] == ["cluster", "west"] and rows["gpu_cm_harbin"][1] == "other"
    assert rows["br_sg"][1] == "abroad" and rows["dr_cn_bth"][1] == "east"
    net = load_network("national")
    # 4 western clusters + the Hohhot and Guiyang centres (Inner Mongolia, Guizhou), central capacities:
    # Horinger 175,160 + Gui'an 119,737 cards (107,488 Ascend 910B + 12,249 A100, its published mix, less
    # China Mobile Guiyang's carve-out) + Qingyang 320,513 + Zhongwei 208,334 + Hohhot 21,474 + Guiyang 22,000
    # = 867,218 GPUs.
    assert rows["zone west"][2] == f"{sum(s.gpus for s in net.sites if s.zone == 'west'):,}" == "867,218"
    # The capacity-range table: low, central, high and the method of every site (Gui'an by partition, its
    # range split in proportion: 59,869 / 119,737 / 239,475 cards in all).
    ranges = [line for line in result.stdout.splitlines() if line.startswith("│ cl_guian/huawei_ascend_910b ")]
    assert any("53,744" in line and "107,488" in line and "214,977" in line for line in ranges)


def test_export_graphml_to_stdout_is_read_by_networkx(run_cli, tmp_path):
    result = run_cli("topology", "export", "national", "--format", "graphml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == network_to_graphml(load_network("national"))
    path = tmp_path / "n.graphml"
    path.write_text(result.stdout)
    g = nx.read_graphml(path)
    assert g.nodes["cl_zhongwei"]["kind"] == "site" and g.nodes["dr_cn_bth"]["kind"] == "region"
    assert {"latency_ms", "bandwidth_gbps", "route_km"} <= set(next(iter(g.edges(data=True)))[2])


def test_export_out_writes_the_file_and_it_loads_back(run_cli, tmp_path):
    for fmt in ("graphml", "json"):
        out = tmp_path / f"n.{fmt}"
        result = run_cli("topology", "export", "national", "--format", fmt, "--out", str(out))
        assert result.returncode == 0 and result.stdout == "", result.stderr
        assert load_network_file(out) == load_network("national")
        # show reads the exported file (GraphML and JSON are network files too).
        shown = run_cli("topology", "show", out.name, cwd=tmp_path)
        assert shown.returncode == 0 and "sites (27)" in shown.stdout, shown.stderr
    assert json.loads((tmp_path / "n.json").read_text()) == json.loads(network_to_json(load_network("national")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.graphml", "n.json"]  # no temporary files left


def test_run_accepts_a_graphml_network(run_cli, tmp_path):
    (tmp_path / "net.graphml").write_text(network_to_graphml(load_network_file(_write(tmp_path, "n.toml", GOOD))))
    (tmp_path / "s.toml").write_text(SCENARIO.replace("net.toml", "net.graphml"))
    result = run_cli("run", "s.toml", "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "manifest.json").is_file()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


# Each broken network: (file name, text, the message's pattern after the file name).
BROKEN = {
    "dangling": ("net.toml", GOOD.replace('b = "west"', 'b = "wset"'),
                 r"link\[0\]\.b: 'wset' is not a site or region id \(did you mean 'west'\?\)"),
    "unreachable": ("net.toml", GOOD + '[[region]]\nid = "xj"\nlat = 43.8\nlon = 87.6\n',
                    r"region\[1\] \(id 'xj'\): no path to any site"),
    "duplicate": ("net.toml", GOOD.replace('id = "east"', 'id = "west"').replace('a = "east"', 'a = "west"'),
                  r"region\[0\]\.id: duplicate id 'west' \(already a site\)"),
    "zero_gpus": ("net.toml", GOOD.replace("gpus = 512", "gpus = 0"),
                  r"site\[0\]\.gpus: Input should be greater than 0, got 0"),
    "negative_bandwidth": ("net.toml", GOOD.replace("bandwidth_gbps = 40.0", "bandwidth_gbps = -40.0"),
                           r"link\[0\]\.bandwidth_gbps: Input should be greater than 0, got -40\.0"),
    "lat": ("net.toml", GOOD.replace("lat = 31.2", "lat = 131.2"),
            r"region\[0\]\.lat: Input should be less than or equal to 90, got 131\.2"),
    "graphml_xml": ("net.graphml", "<graphml><graph></graphml>", r"malformed GraphML \(XML\): mismatched tag"),
    "graphml_missing": ("net.graphml", "@drop gpus", r"node 'west': gpus: required key is missing"),
    "graphml_type": ("net.graphml", "@gpus many", r"node 'west': gpus: not a valid long .*got 'many'"),
}


def _materialise(text: str) -> str:
    """GraphML cases: '@drop KEY' / '@KEY VALUE' edit the export of GOOD."""
    if not text.startswith("@"):
        return text
    import tomllib

    from topology.model import Network

    graphml = network_to_graphml(Network.model_validate(tomllib.loads(GOOD)))
    key_id = re.search(r'<key id="(d\d+)" for="node" attr.name="gpus"', graphml).group(1)  # type: ignore[union-attr]
    old = f'<data key="{key_id}">512</data>'
    assert graphml.count(old) == 1
    words = text[1:].split()
    return graphml.replace(old, "" if words[0] == "drop" else f'<data key="{key_id}">{words[1]}</data>')


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_show_bad_network_exits_2_with_one_line(run_cli, tmp_path, case):
    name, text, pattern = BROKEN[case]
    _write(tmp_path, name, _materialise(text))
    result = run_cli("topology", "show", name, cwd=tmp_path)
    _bad_exit(result, tmp_path, [name], rf"cpnsim: error: {re.escape(name)}: {pattern}")


@pytest.mark.parametrize("case", ["unreachable", "graphml_type"])
def test_run_with_bad_network_exits_2_and_writes_nothing(run_cli, tmp_path, case):
    name, text, pattern = BROKEN[case]
    _write(tmp_path, name, _materialise(text))
    _write(tmp_path, "s.toml", SCENARIO.replace("net.toml", name))
    result = run_cli("run", "s.toml", "--out", "out", cwd=tmp_path)
    _bad_exit(result, tmp_path, [name, "s.toml"], rf"s\.toml: network: .*{re.escape(name)}: {pattern}")


def test_export_out_file_has_normal_permissions(tmp_path, capsys):
    out = tmp_path / "n.json"
    old = os.umask(0o022)
    try:
        assert main(["topology", "export", "default", "--format", "json", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_export_bad_network_leaves_no_file(run_cli, tmp_path):
    name, text, pattern = BROKEN["dangling"]
    _write(tmp_path, name, text)
    result = run_cli("topology", "export", name, "--format", "graphml", "--out", "x.graphml", cwd=tmp_path)
    _bad_exit(result, tmp_path, [name], pattern)


def test_export_to_a_missing_folder_exits_2(run_cli, tmp_path):
    result = run_cli("topology", "export", "default", "--format", "json", "--out", "no/x.json", cwd=tmp_path)
    _bad_exit(result, tmp_path, [], r"--out no/x\.json: folder no does not exist")


def test_unknown_network_name_suggests(run_cli, tmp_path):
    result = run_cli("topology", "show", "nationl", cwd=tmp_path)
    _bad_exit(result, tmp_path, [], r"'nationl' is neither a built-in network \(did you mean 'national'\?\)")
