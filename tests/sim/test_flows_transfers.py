"""Input transfers wired into the model (sim.transfers) on a hand-made three-node network."""

from __future__ import annotations

import math
import textwrap

import pytest

from sim.engine import Engine
from sim.run import run_replication, run_scenario
from sim.scenario import load_scenario
from sim.transfers import LOCAL_LATENCY_MS, Transfers, remote_matrix, window_cap_gbps
from topology.graph import region_site_latency_ms
from topology.load import load_network

# Region "near" sits beside site "a" (10 km of fibre); region "far" beside site "b".
# near -- a: 10 km, 1000 Gbit/s     near -- b: 1000 km, 8 Gbit/s     far -- b: 10 km
# Latency at 5 us/km: near->a 0.05 ms, near->b 5 ms, far->b 0.05 ms,
# far->a = far->b->near->a = 0.05 + 5 + 0.05 = 5.1 ms.  Site b is much cheaper, so `cheapest` sends everything there.
NETWORK = """
name = "tiny"
[[site]]
id = "a"
lat = 30.0
lon = 120.0
gpus = 64
price_cny_per_kwh = 0.6
[[site]]
id = "b"
lat = 38.0
lon = 106.0
gpus = 64
price_cny_per_kwh = 0.3
[[region]]
id = "near"
lat = 30.0
lon = 120.1
[[region]]
id = "far"
lat = 38.0
lon = 106.1
demand_weight = 0.0
[[link]]
id = "near-a"
a = "near"
b = "a"
distance_km = 10
bandwidth_gbps = 1000
[[link]]
id = "near-b"
a = "near"
b = "b"
distance_km = 1000
bandwidth_gbps = 8
[[link]]
id = "far-b"
a = "far"
b = "b"
distance_km = 10
bandwidth_gbps = 1000
"""


def _scenario(tmp_path, *overrides, input_gb="{dist=\"constant\", value=36}"):
    (tmp_path / "tiny.toml").write_text(NETWORK, encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        textwrap.dedent(
            """
            network = "tiny.toml"
            policy = "cheapest"
            horizon_h = 200.0
            metric_interval_h = 50.0
            [workload.train]
            arrival_rate_per_h = 0.5
            work_gpu_h = {dist = "constant", value = 2.0}
            """
        ),
        encoding="utf-8",
    )
    if input_gb is not None:
        with (tmp_path / "s.toml").open("a", encoding="utf-8") as f:
            f.write(f"input_gb = {input_gb}\n")
    return load_scenario(tmp_path / "s.toml", list(overrides))


def test_home_regions_paths_and_latency(tmp_path):
    (tmp_path / "tiny.toml").write_text(NETWORK, encoding="utf-8")
    network = load_network(str(tmp_path / "tiny.toml"))
    latency = region_site_latency_ms(network)
    assert LOCAL_LATENCY_MS == 2.5
    assert remote_matrix(latency) == [[False, True], [True, False]]  # 0.05 ms is co-located, 5 ms is not
    assert remote_matrix(latency, local_ms=6.0) == [[False, False], [False, False]]
    transfers = Transfers(network, Engine(), latency)
    assert transfers.remote == [[False, True], [True, False]]
    links, latency_ms, cap = transfers.path(0, 1)  # near -> b: the direct 1000 km link
    assert links == (1,) and latency_ms == pytest.approx(5.0) and cap == math.inf  # no [wan] window: no cap
    links, latency_ms, _ = transfers.path(1, 0)  # far -> b -> near -> a
    assert links == (2, 1, 0) and latency_ms == pytest.approx(5.1)


def test_two_transfers_share_the_bottleneck(tmp_path):
    # 36 GB from near to b over 8 Gbit/s = 1 GB/s.  Both start at t = 0 and share it:
    # 0.5 GB/s each -> 72 s, + 5 ms -> delivered at 72.005 s.
    (tmp_path / "tiny.toml").write_text(NETWORK, encoding="utf-8")
    network = load_network(str(tmp_path / "tiny.toml"))
    engine = Engine()
    transfers = Transfers(network, engine, region_site_latency_ms(network))
    got = []
    for name in ("x", "y"):
        transfers.send(0, 1, 36.0, lambda v: got.append((v, engine.now * 3600)), name)
    assert transfers.in_flight == 2
    engine.run(1.0)
    assert got == [("x", pytest.approx(72.005)), ("y", pytest.approx(72.005))]
    assert transfers.in_flight == 0 and transfers.time_sum_h == pytest.approx(2 * 72.005 / 3600)


def test_remote_jobs_move_their_input_and_are_conserved(tmp_path):
    result = run_replication(_scenario(tmp_path))
    row, model = result.runs_row, result.model
    # Every job comes from "near" and goes to the cheaper site b, which is remote: all transfer.
    assert row["jobs_arrived"] > 50
    assert row["jobs_arrived"] == (
        row["jobs_done"] + row["jobs_queued_end"] + row["jobs_running_end"] + row["jobs_rejected"]
        + row["jobs_in_transfer_end"]
    )
    assert model.transfers.sent == row["jobs_arrived"]
    assert row["transfers_done"] == model.pools[1].arrived and model.pools[0].arrived == 0
    # Alone, a 36 GB transfer takes 36 s + 5 ms; overlaps only make it longer.
    assert row["transfer_mean_h"] >= (36 + 0.005) / 3600 * (1 - 1e-9)
    # Bytes: the near-b link carried every delivered input (none in flight at the end for this seed).
    assert row["jobs_in_transfer_end"] == 0
    links = result.columns["links"]
    moved = {link: sum(g for lid, g in zip(links["link_id"], links["moved_gb"], strict=True) if lid == link)
             for link in ("near-a", "near-b", "far-b")}
    assert moved["near-b"] == pytest.approx(36.0 * row["transfers_done"], rel=1e-9)
    assert moved["near-a"] == 0 and moved["far-b"] == 0
    # Mean utilisation of near-b over the run: bytes / (capacity x time).
    util = sum(u * (t1 - t0) for lid, u, t0, t1 in zip(links["link_id"], links["utilisation"], links["t_start_h"],
                                                         links["t_end_h"], strict=True) if lid == "near-b")
    assert util == pytest.approx(moved["near-b"] * 1e9 / (8e9 / 8 * 3600), rel=1e-9)


def test_links_table_has_a_row_per_link_per_interval_and_is_deterministic(tmp_path):
    a, b = run_scenario(_scenario(tmp_path)), run_scenario(_scenario(tmp_path))
    assert a.table("links") is not None and a.table("links").equals(b.table("links"))
    assert a.table("links").num_rows == 3 * 4  # 3 links x 200 h / 50 h
    assert set(a.tables()) == {"runs", "sites", "links", "timings"}


def test_local_jobs_and_classes_without_input_do_not_transfer(tmp_path):
    no_input = run_replication(_scenario(tmp_path, input_gb=None))
    assert no_input.model.transfers.sent == 0
    nearest = run_replication(_scenario(tmp_path, "policy=nearest"))  # near -> a is local
    assert nearest.model.transfers.sent == 0 and nearest.runs_row["transfers_done"] == 0
    assert all(g == 0 for g in nearest.columns["links"]["moved_gb"])


def test_input_sizes_do_not_depend_on_the_policy(tmp_path):
    sizes = '{dist = "uniform", low = 1, high = 100}'
    cheap = run_replication(_scenario(tmp_path, input_gb=sizes)).model
    near = run_replication(_scenario(tmp_path, "policy=nearest", input_gb=sizes)).model
    assert cheap.input_rngs[0].bit_generator.state == near.input_rngs[0].bit_generator.state


def test_tcp_window_caps_each_flow_at_window_over_rtt(tmp_path):
    # SimGrid's bound: rate <= window / RTT.  near -> b is 5 ms one way, RTT 10 ms.  A 2.5 MB
    # window gives 2.5e6 x 8 bit / 0.010 s = 2 Gbit/s = 0.25 GB/s per flow.  Two flows would get
    # 4 Gbit/s each of the 8 Gbit/s link; capped, each moves 36 GB at 0.25 GB/s: 144 s, + 5 ms.
    assert window_cap_gbps(2.5, 5.0) == pytest.approx(2.0)
    (tmp_path / "tiny.toml").write_text(NETWORK, encoding="utf-8")
    network = load_network(str(tmp_path / "tiny.toml"))
    engine = Engine()
    transfers = Transfers(network, engine, region_site_latency_ms(network), tcp_window_mb=2.5)
    got = []
    for name in ("x", "y"):
        transfers.send(0, 1, 36.0, lambda v: got.append((v, engine.now * 3600)), name)
    engine.run(1.0)
    assert got == [("x", pytest.approx(144.005)), ("y", pytest.approx(144.005))]
    # A window too large to bind leaves the max-min share: 72.005 s as without a window.
    engine = Engine()
    wide = Transfers(network, engine, region_site_latency_ms(network), tcp_window_mb=1000.0)
    got.clear()
    for name in ("x", "y"):
        wide.send(0, 1, 36.0, lambda v: got.append((v, engine.now * 3600)), name)
    engine.run(1.0)
    assert got == [("x", pytest.approx(72.005)), ("y", pytest.approx(72.005))]


def test_window_from_the_scenario_slows_long_transfers(tmp_path):
    free = run_replication(_scenario(tmp_path)).runs_row
    capped = run_replication(_scenario(tmp_path, "wan.tcp_window_mb=0.5")).runs_row
    # 0.5 MB per 10 ms round trip = 0.4 Gbit/s: 36 GB alone takes 720 s instead of 36 s.
    assert capped["transfer_mean_h"] >= (720 + 0.005) / 3600 * (1 - 1e-9)
    assert free["transfer_mean_h"] < capped["transfer_mean_h"]


def test_price_per_gb_is_counted_in_links_and_runs(tmp_path):
    # 0.005 CNY/GB: 36 GB cost 0.18 CNY, less than the 0.312 CNY of electricity a 2 GPU-h job saves at b
    # (cheapest weighs both), so every job still moves to b.
    priced = NETWORK.replace('id = "near-b"', 'id = "near-b"\nprice_cny_per_gb = 0.005')
    _scenario(tmp_path)  # writes s.toml and the unpriced tiny.toml
    (tmp_path / "tiny.toml").write_text(priced, encoding="utf-8")
    scenario = load_scenario(tmp_path / "s.toml")
    result = run_replication(scenario)
    links, row = result.columns["links"], result.runs_row
    cost = {lid: 0.0 for lid in ("near-a", "near-b", "far-b")}
    moved = dict(cost)
    for lid, gb, cny in zip(links["link_id"], links["moved_gb"], links["cost_cny"], strict=True):
        cost[lid] += cny
        moved[lid] += gb
    # Every delivered input crossed near-b (36 GB each) at 0.005 CNY/GB; the other links are free.
    assert row["transfers_done"] > 50 and row["jobs_in_transfer_end"] == 0
    assert cost["near-b"] == pytest.approx(0.005 * 36.0 * row["transfers_done"], rel=1e-9)
    assert cost["near-a"] == 0 and cost["far-b"] == 0
    assert row["transfer_cost_cny"] == pytest.approx(sum(cost.values()), rel=1e-12)
    # The policies' price matrix: near -> b crosses near-b; far -> a = far-b, near-b, near-a crosses it too.
    assert result.model.policy.context.transfer_cny_per_gb.tolist() == [[0.0, 0.005], [0.005, 0.0]]
    # At 0.5 CNY/GB moving (18 CNY) costs more than b saves (0.312 CNY): cheapest keeps every job at a.
    (tmp_path / "tiny.toml").write_text(priced.replace("0.005", "0.5"), encoding="utf-8")
    dear = run_replication(load_scenario(tmp_path / "s.toml")).runs_row
    assert dear["transfers_done"] == 0 and dear["transfer_cost_cny"] == 0.0 and dear["jobs_done"] > 50


def test_results_return_over_the_input_route_outside_the_job_counts(tmp_path):
    base = run_replication(_scenario(tmp_path))
    back = run_replication(_scenario(tmp_path, 'workload.train.result_gb={dist="constant", value=4}'))
    row, transfers = back.runs_row, back.model.transfers
    # Results draw from their own stream: the same arrivals (they share the links' bandwidth, so
    # input transfers may take longer).  They are not jobs: conservation holds without them.
    assert row["jobs_arrived"] == base.runs_row["jobs_arrived"]
    assert row["jobs_arrived"] == (row["jobs_done"] + row["jobs_queued_end"] + row["jobs_running_end"]
                                   + row["jobs_rejected"] + row["jobs_in_transfer_end"])
    # Every job finished at the remote site b returns 4 GB over near-b.
    assert transfers.results_sent == row["jobs_done"] > 50
    moved = sum(g for lid, g in zip(back.columns["links"]["link_id"], back.columns["links"]["moved_gb"], strict=True)
                if lid == "near-b")
    results_gb = moved - 36.0 * row["transfers_done"]
    assert 4.0 * transfers.results_delivered - 1e-6 <= results_gb <= 4.0 * transfers.results_sent + 1e-6
    # Co-located jobs (nearest: near -> a) return nothing.
    near = run_replication(_scenario(tmp_path, "policy=nearest", 'workload.train.result_gb={dist="constant", value=4}'))
    assert near.model.transfers.results_sent == 0


def _networkx_routes(transfers: Transfers, row: int,
                     allowed: frozenset[str] | None) -> dict[int, tuple[tuple[int, ...], float]]:
    """Site -> route of row ``row`` as the transfers computed it before: networkx's paths, latencies summed by hop."""
    from itertools import pairwise

    import networkx as nx

    from topology.graph import to_graph

    network = transfers.network
    graph = to_graph(network)
    source = network.regions[row % len(network.regions)].id
    if allowed is not None:
        if source not in allowed:
            return {}
        graph = graph.subgraph(allowed)
    routes = nx.single_source_dijkstra_path(graph, source, weight="latency_ms")
    index = {link.id: i for i, link in enumerate(network.links)}
    out = {}
    for site, s in enumerate(network.sites):
        nodes = routes.get(s.id)
        if nodes is not None:
            edges = [graph.edges[a, b] for a, b in pairwise(nodes)]
            out[site] = tuple(index[e["id"]] for e in edges), float(sum(e["latency_ms"] for e in edges))
    return out


def _tied_network():
    """Two routes of exactly equal latency from r to s3 (via s1 or via s2): networkx keeps the first found."""
    from topology.model import Network

    sites = [{"id": f"s{i}", "lat": 30.0 + i, "lon": 110.0, "gpus": 8} for i in (1, 2, 3)]
    km = {"distance_km": 100.0, "hop_ms": 0.0, "bandwidth_gbps": 10.0}
    pairs = (("r", "s1"), ("r", "s2"), ("s1", "s3"), ("s2", "s3"))
    links = [{"id": f"l{a}{b}", "a": a, "b": b, **km} for a, b in pairs]
    return Network.model_validate({"site": sites, "region": [{"id": "r", "lat": 30.0, "lon": 110.0}], "link": links})


@pytest.mark.parametrize("scipy_min_nodes", [0, 16, 10**9])  # scipy everywhere, by default, never
@pytest.mark.parametrize("name", ["national", "belt_and_road", "synthetic", "tied"])
def test_routes_on_demand_are_networkx_routes(name, scipy_min_nodes, monkeypatch):
    # The predecessor search of Transfers._tree is networkx's Dijkstra without its generic
    # parts; every route (links and latency) must be the one networkx gives, ties included,
    # also within a row's allowed nodes (data residency).
    if name == "synthetic":
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
        from scaling import synthetic_network

        network = synthetic_network(200)
    elif name == "tied":
        network = _tied_network()
    else:
        network = load_network(name)
    n_regions = len(network.regions)
    nodes = [s.id for s in network.sites] + [r.id for r in network.regions]
    # Row n_regions + k is region k restricted to every other node (and always itself).
    allowed = tuple([None] * n_regions + [
        frozenset(nodes[::2]) | {network.regions[k].id} for k in range(n_regions)])
    import sim.transfers

    monkeypatch.setattr(sim.transfers, "SCIPY_MIN_NODES", scipy_min_nodes)
    latency = region_site_latency_ms(network)
    transfers = Transfers(network, Engine(), latency, allowed_nodes=allowed)
    checked = 0
    for row in range(2 * n_regions):
        routes = _networkx_routes(transfers, row, allowed[row])
        for site in range(len(network.sites)):
            expect = routes.get(site)
            if expect is None:
                with pytest.raises(Exception, match="no route"):
                    transfers.path(row, site)
                continue
            links, latency_ms, _ = transfers.path(row, site)
            assert (links, latency_ms) == expect
            checked += 1
    assert checked >= len(network.sites) * n_regions
