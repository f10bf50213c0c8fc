"""Split each site that holds a chip mix into one partition per SKU, at the same node.

The engine runs every site as a pool of identical GPUs with one ``sku_speed``; a site
with a mix of SKUs (``chips``, :mod:`topology.chips`) becomes one site per SKU, so a job
runs at the speed of the SKU it is placed on and a gang never spans two SKUs.  The rules
(``docs/model.md``, "Chip mixes"):

- A mix of one SKU keeps the site's id; a mix of two or more gives partitions the ids
  ``<site>/<sku>`` in mix order, each with ``parent = <site>``.  Every other key (place,
  zone, country, PUE, prices, residency) is the site's.
- A partition's ``sku_speed`` is the SKU's dense FP16 peak over the reference's (A100,
  312 TFLOPS); its ``board_power_w`` is the SKU's, its ``gpu_busy_w`` is that plus the
  site's ``server_overhead_w`` (0 when not given); ``gpu_idle_w`` is the site's.
- A site's ``power_envelope_mw`` is shared in proportion to the partitions' busy power
  (``gpus × gpu_busy_w``).
- Capacity ranges scale **proportionally**: a partition holding share ``n_k / gpus`` of
  the site has ``gpus_low = round(gpus_low × n_k / gpus)`` (at least 1, at most
  ``n_k``) and likewise ``gpus_high`` (at least ``n_k``), since a published range is the
  uncertainty of the site's total, not of its mix.
- The first partition takes the site's place in the graph: links naming the site join
  it.  Each further partition is joined to it by a link ``<partition>~<first>`` of zero
  length and hop cost, at the largest bandwidth a link may have, so every partition is
  exactly as far from every node as the site was (a route's latency gains ``+ 0.0``).

A network without mixes is returned as it is (the same object), so built-in networks
and their tables do not change.
"""

from __future__ import annotations

from topology.chips import resolve_chip, sku_catalogue
from topology.limits import MAX_BANDWIDTH_GBPS
from topology.model import Link, Network, Site

__all__ = ["expand_chip_mixes", "partition_id"]


def partition_id(site_id: str, sku: str) -> str:
    """The id of the partition of SKU ``sku`` of a mixed site.

    Examples
    --------
    >>> partition_id("cl_harbin", "huawei_ascend_910")
    'cl_harbin/huawei_ascend_910'
    """
    return f"{site_id}/{sku}"


def expand_chip_mixes(network: Network) -> Network:
    """``network`` with every site that has ``chips`` replaced by its partitions (see the module docstring).

    Examples
    --------
    >>> from topology.chips import ChipCount
    >>> from topology.model import Region
    >>> chips = (ChipCount(sku="nvidia_a100_sxm4_80gb", gpus=6), ChipCount(sku="nvidia_h100_sxm5_80gb", gpus=4))
    >>> mixed = Site(id="s", lat=0, lon=0, gpus=10, server_overhead_w=100, chips=chips)
    >>> net = expand_chip_mixes(Network(site=(mixed,), region=(Region(id="r", lat=0, lon=0),)))
    >>> [(s.id, s.gpus, round(s.sku_speed, 4), s.gpu_busy_w) for s in net.sites]
    [('s/nvidia_a100_sxm4_80gb', 6, 1.0, 500.0), ('s/nvidia_h100_sxm5_80gb', 4, 3.1699, 800.0)]
    >>> [(link.id, link.a, link.b, link.distance_km) for link in net.links]
    [('s/nvidia_h100_sxm5_80gb~s/nvidia_a100_sxm4_80gb', 's/nvidia_h100_sxm5_80gb', 's/nvidia_a100_sxm4_80gb', 0.0)]
    """
    if not any(s.chips for s in network.sites):
        return network
    sites: list[Site] = []
    first_of: dict[str, str] = {}  # mixed site id -> its first partition's id
    joins: list[Link] = []
    for site in network.sites:
        parts = _partitions(site)
        sites.extend(parts)
        if site.chips and parts[0].id != site.id:
            first_of[site.id] = parts[0].id
            joins.extend(
                Link(id=f"{p.id}~{parts[0].id}", a=p.id, b=parts[0].id, distance_km=0.0, hop_ms=0.0,
                     bandwidth_gbps=MAX_BANDWIDTH_GBPS,
                     source=f"derived: partitions of the mixed site {site.id!r} share its node => distance_km = 0, "
                            "hop_ms = 0, bandwidth_gbps = the largest a link may have")
                for p in parts[1:])
    links = tuple(
        link.model_copy(update={"a": first_of.get(link.a, link.a), "b": first_of.get(link.b, link.b)})
        if link.a in first_of or link.b in first_of else link
        for link in network.links
    )
    return network.model_copy(update={"site": tuple(sites), "link": (*links, *tuple(joins))})


def _partitions(site: Site) -> list[Site]:
    """The partitions of ``site`` (``[site]`` when it has no mix)."""
    if not site.chips:
        return [site]
    reference = sku_catalogue().reference_tflops
    overhead = site.server_overhead_w or 0.0
    split = len(site.chips) > 1
    base = site.model_dump(exclude={"chips", "gpus", "gpus_low", "gpus_high", "id", "name", "sku", "sku_speed",
                                    "board_power_w", "gpu_busy_w"})
    figures = [resolve_chip(chip) for chip in site.chips]
    # A site's power envelope (MW) is shared by its partitions in proportion to their busy
    # power, so that all of them busy at once draw exactly the site's envelope.
    envelope = base.get("power_envelope_mw")
    busy_w = [chip.gpus * (board + overhead) for chip, (_, board) in zip(site.chips, figures, strict=True)]
    out = []
    for k, (chip, (tflops, board)) in enumerate(zip(site.chips, figures, strict=True)):
        share = chip.gpus / site.gpus
        if envelope is not None:
            base["power_envelope_mw"] = envelope * busy_w[k] / sum(busy_w) if sum(busy_w) > 0 else envelope
        low = None if site.gpus_low is None else min(chip.gpus, max(1, round(site.gpus_low * share)))
        high = None if site.gpus_high is None else max(chip.gpus, round(site.gpus_high * share))
        out.append(Site.model_validate({
            **base,
            "id": partition_id(site.id, chip.sku) if split else site.id,
            "name": f"{site.name or site.id} ({chip.sku})" if split else site.name,
            "parent": site.id if split else None,
            "gpus": chip.gpus, "gpus_low": low, "gpus_high": high,
            "sku": chip.sku, "sku_speed": tflops / reference,
            "board_power_w": board, "server_overhead_w": overhead, "gpu_busy_w": board + overhead,
        }))
    return out
