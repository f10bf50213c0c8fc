"""``cpnsim topology list|show|export``: look at the built-in networks and users' own.

Only parsing and printing live here; loading, validation and the export formats are
:mod:`topology` functions (:func:`topology.load.load_network`,
:func:`topology.export.export_network`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import cast

from rich.console import Console
from rich.table import Table

from cluster.cli.options import add_out, write_out_file
from cluster.cli.registry import EXIT_OK
from topology.chips import sku_catalogue
from topology.export import FORMATS, ExportFormat, export_network
from topology.graph import link_latency_ms, link_route_km
from topology.load import builtin_names, load_network
from topology.model import ZONES, Network, Site

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = ("Look at the built-in networks and check your own: 'show' validates a network file "
               "and prints its sites, regions and links; 'export' writes it as GraphML or JSON.")
_RESIDENCY_CHARS = 24  # residency notes are sentences; the table shows their start
_DESCRIPTION_CHARS = 72


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``list``, ``show`` and ``export`` with their arguments to the ``cpnsim topology`` parser."""
    sub = parser.add_subparsers(dest="topology_command", metavar="SUBCOMMAND", required=True)
    listing = sub.add_parser("list", help="the built-in networks with their sizes",
                             description="One row per built-in network: sites, regions, links and total GPUs.")
    listing.set_defaults(topology_run=_run_list)
    show = sub.add_parser("show", help="sites, regions and links of a network, with their figures",
                          description="Validate a network and print its sites, regions and links with units.")
    show.add_argument("network", metavar="NAME|PATH", help="built-in network name or a .toml/.json/.graphml file")
    show.set_defaults(topology_run=_run_show)
    export = sub.add_parser("export", help="write a network as GraphML or JSON",
                            description="Write a network as GraphML (for networkx, Gephi, yEd) or JSON "
                            "(the network file's tables as arrays); see docs/model.md for both shapes.")
    export.add_argument("network", metavar="NAME|PATH", help="built-in network name or a .toml/.json/.graphml file")
    export.add_argument("--format", choices=FORMATS, required=True, help="output format")
    add_out(export, "output file (default: standard output); written atomically")
    export.set_defaults(topology_run=_run_export)


def run(args: argparse.Namespace, console: Console, err: Console) -> int:
    """Run ``cpnsim topology <subcommand>``; bad input raises a :class:`~topology.plumbing.CpnsimError`."""
    handler: Callable[[argparse.Namespace, Console], int] = args.topology_run
    return handler(args, console)


def _num(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return _clip(text if end < 0 else text[: end + 1], _DESCRIPTION_CHARS)


def _run_list(args: argparse.Namespace, console: Console) -> int:
    table = _table("built-in networks", ("name", "sites", "regions", "links", "GPUs", "description"),
                   ("name", "description"), wrap=("description",))
    for name in builtin_names():
        net = load_network(name)
        table.add_row(name, str(len(net.sites)), str(len(net.regions)), str(len(net.links)),
                      f"{sum(s.gpus for s in net.sites):,}", _first_sentence(net.description))
    console.print(table)
    return EXIT_OK


def _table(title: str, columns: tuple[str, ...], left: tuple[str, ...], wrap: tuple[str, ...] = ()) -> Table:
    """A table whose figures never wrap or get clipped: only the ``wrap`` text columns give way."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in left else "right", no_wrap=column not in wrap)
    return table


def _sites_table(net: Network) -> Table:
    table = _table(f"sites ({len(net.sites)}): capacity", ("id", "kind", "zone", "GPUs", "SKU", "speed",
                                                          "W busy/idle", "residency"),
                   ("id", "kind", "zone", "SKU", "residency"), wrap=("kind", "SKU", "residency"))
    for s in net.sites:
        table.add_row(s.id, s.kind, s.zone or "-", f"{s.gpus:,}", s.sku, f"{s.sku_speed:g}",
                      f"{s.gpu_busy_w:g}/{s.gpu_idle_w:g}", _clip(s.residency or "-", _RESIDENCY_CHARS))
    table.add_section()
    table.add_row("total", "", "", f"{sum(s.gpus for s in net.sites):,}", "", "", "", "")
    for zone in ZONES:
        gpus = sum(s.gpus for s in net.sites if s.zone == zone)
        if gpus:
            table.add_row(f"zone {zone}", "", zone, f"{gpus:,}", "", "", "", "")
    table.caption = ("zone: EDWC zone (east / west hub provinces, other Chinese, abroad); speed: throughput of one "
                     "GPU relative to the reference GPU; W: board power of one GPU")
    return table


def _chips_table(net: Network) -> tuple[Table, list[str]]:
    """Each site's chip mix (the partitions of a mixed site gathered under its id), and published mixes."""
    catalogue = sku_catalogue()
    groups: dict[str, list[Site]] = {}
    for s in net.sites:
        groups.setdefault(s.parent or s.id, []).append(s)
    table = _table(f"sites ({len(groups)}): chip mix", ("site", "GPUs", "chips", "dense FP16 PFLOPS",
                                                       "export-controlled %"), ("site", "chips"), wrap=("chips",))
    table.columns[2].min_width = 24
    reference = catalogue.reference_tflops
    for site_id, parts in groups.items():
        gpus = sum(p.gpus for p in parts)
        mix = [f"{p.gpus:,} × {p.sku}" if catalogue.get(p.sku) else
               f"{p.gpus:,} × {p.sku} (speed {p.sku_speed:g}{'' if p.sku_speed != 1 else ', mix not published'})"
               for p in parts]
        known = [(p, catalogue.get(p.sku)) for p in parts]
        controlled = sum(p.gpus for p, sku in known if sku is not None and not sku.export_control.startswith("none"))
        share = "-" if all(sku is None for _, sku in known) else _num(100 * controlled / gpus, 0)
        table.add_row(site_id, f"{gpus:,}", "; ".join(mix),
                      f"{sum(p.gpus * p.sku_speed for p in parts) * reference / 1000:,.0f}", share)
    table.caption = ("chips: GPUs per SKU (topology/chips.toml; a mixed site runs as one partition per SKU, "
                     "<site>/<sku>); a SKU outside the catalogue is counted in A100-equivalents at its speed; "
                     "export-controlled: share of catalogued GPUs under US export licensing (catalogue data)")
    notes = [f"published chips of {p.site}: {p.mix}" for p in catalogue.published_mix if p.site in groups]
    return table, notes


def _has_ranges(net: Network) -> bool:
    """Whether any site gives a capacity range, a power split or a PUE target (later keys of the format)."""
    return any(s.gpus_low is not None or s.gpus_high is not None or s.capacity_method is not None
               or s.board_power_w is not None or s.pue_target is not None for s in net.sites)


def _range_table(net: Network) -> Table:
    table = _table(f"sites ({len(net.sites)}): capacity range and power",
                   ("id", "GPUs low", "central", "high", "method", "W board+server", "PUE target"),
                   ("id", "method"), wrap=("method",))
    table.columns[4].min_width = 24  # the method is a phrase: let the figures, not it, be squeezed
    for s in net.sites:
        split = ("-" if s.board_power_w is None or s.server_overhead_w is None
                 else f"{s.board_power_w:g}+{s.server_overhead_w:g}")
        table.add_row(s.id, f"{s.capacity('low'):,}", f"{s.gpus:,}", f"{s.capacity('high'):,}",
                      s.capacity_method or "-", split, "-" if s.pue_target is None else _num(s.pue_target))
    table.add_section()
    table.add_row("total", *(f"{sum(s.capacity(level) for s in net.sites):,}" for level in ("low", "central", "high")),
                  "", "", "")
    table.caption = ("low/central/high: GPUs at each end of the site's capacity range (--set capacity=low|high picks "
                     "one); method: installed vs planned, site vs province, precision; W: busy power of one GPU, "
                     "board + server overhead; PUE target: the policy ceiling (the PUE below is measured where "
                     "published, else an estimate)")
    return table


def _energy_table(net: Network) -> Table:
    table = _table(f"sites ({len(net.sites)}): energy and grid",
                   ("id", "PUE", "price CNY/kWh", "carbon kg CO2/kWh", "renewable %", "lat °", "lon °"), ("id",))
    for s in net.sites:
        table.add_row(s.id, _num(s.pue), _num(s.price_cny_per_kwh, 3), _num(s.carbon_kg_per_kwh, 3),
                      _num(100 * s.renewable_frac, 0), _num(s.lat), _num(s.lon))
    gpus = sum(s.gpus for s in net.sites)

    def weighted(values: list[float]) -> float:
        return sum(s.gpus * v for s, v in zip(net.sites, values, strict=True)) / gpus

    table.add_section()
    table.add_row("GPU-weighted mean", _num(weighted([s.pue for s in net.sites])),
                  _num(weighted([s.price_cny_per_kwh for s in net.sites]), 3),
                  _num(weighted([s.carbon_kg_per_kwh for s in net.sites]), 3),
                  _num(100 * weighted([s.renewable_frac for s in net.sites]), 0), "", "")
    return table


def _regions_table(net: Network) -> Table:
    total = sum(r.demand_weight for r in net.regions)
    table = _table(f"regions ({len(net.regions)})", ("id", "name", "zone", "lat °", "lon °", "demand weight",
                                                     "share %"), ("id", "name", "zone"), wrap=("name",))
    for r in net.regions:
        share = 100 * r.demand_weight / total if total > 0 else 100 / len(net.regions)
        table.add_row(r.id, r.name, r.zone or "-", _num(r.lat), _num(r.lon), f"{r.demand_weight:g}", _num(share, 1))
    table.add_section()
    table.add_row("total", "", "", "", "", f"{total:g}", "100.0")
    return table


def _links_table(net: Network) -> Table:
    coords = {s.id: (s.lat, s.lon) for s in net.sites} | {r.id: (r.lat, r.lon) for r in net.regions}
    table = _table(f"links ({len(net.links)}; fibre {net.fibre_us_per_km:g} µs/km, one-way latency)",
                   ("id", "a", "b", "route km", "given?", "latency ms", "bandwidth Gbit/s"), ("id", "a", "b", "given?"))
    route_total = 0.0
    for link in net.links:
        route = link_route_km(link, coords)
        route_total += route
        given = "yes" if link.distance_km is not None else f"×{link.route_factor:g}"
        table.add_row(link.id, link.a, link.b, f"{route:,.0f}", given,
                      _num(link_latency_ms(link, coords, net.fibre_us_per_km), 3), f"{link.bandwidth_gbps:,g}")
    table.add_section()
    table.add_row("total", "", "", f"{route_total:,.0f}", "", "",
                  f"{sum(link.bandwidth_gbps for link in net.links):,g}")
    table.caption = "given? yes: distance_km from the file; ×f: great circle × route factor f"
    return table


def _run_show(args: argparse.Namespace, console: Console) -> int:
    net = load_network(args.network)
    console.print(f"[bold]{net.name}[/bold]: {net.description}" if net.description else f"[bold]{net.name}[/bold]")
    console.print(_sites_table(net))
    chips, notes = _chips_table(net)
    console.print(chips)
    for note in notes:  # sentences: printed whole, not squeezed into a column
        console.print(note, highlight=False)
    if _has_ranges(net):
        console.print(_range_table(net))
    console.print(_energy_table(net))
    console.print(_regions_table(net))
    console.print(_links_table(net))
    return EXIT_OK


def _run_export(args: argparse.Namespace, console: Console) -> int:
    net = load_network(args.network)
    text = export_network(net, cast(ExportFormat, args.format))  # argparse restricts the format to FORMATS
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_out_file(args.out, text)
    return EXIT_OK
