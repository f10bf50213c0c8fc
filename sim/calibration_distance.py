"""The ``calibration`` table: a run's totals beside the published figures its network was built from.

The built-in national-scale networks (``edwc``, ``national``) are assembled from sourced
figures; the simulated utilisation, PUE and energy are outcomes.  Every replication of a
run on such a network writes one row per figure of ``sim/data/reference_figures.toml``:
the model's value, the published value, the band the model should fall in (``low`` to
``high``, itself sourced), whether it does (``within``) and a ``note`` saying why they may
differ or why the figure cannot be reproduced.  The figures mix years, scopes (all data
centres vs AI pools) and targets vs measurements; each row says which.
"""

from __future__ import annotations

import functools
import itertools
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import networkx as nx
from pydantic import Field, ValidationError, ValidationInfo, field_validator

from sim.placement.west import is_western
from sim.tables import append_row, empty_columns
from topology.graph import to_graph
from topology.model import ZONES, Network, Site, SiteKind, Zone
from topology.plumbing import ConfigError, StrictModel, describe_validation_error, located

__all__ = ["CalibrationProducer", "Measure", "ReferenceFigure", "ReferenceSet", "calibration_columns",
           "calibration_producer", "hub_latencies_ms", "parse_reference_figures", "reference_figures"]

HOURS_PER_YEAR = 8760.0
REFERENCE_FILE = "sim/data/reference_figures.toml"

Measure = Literal["ai_eflops", "pue", "utilisation", "energy_twh_per_year", "hub_latency_mean_ms",
                  "hub_latency_max_ms", "none"]
"""What the model computes for a figure (``none``: the figure cannot be reproduced; ``note`` says why)."""


class ReferenceFigure(StrictModel):
    """One published figure, its band and what the model computes for it.

    Attributes
    ----------
    value, low, high : float
        The published value and the band the model should fall in, in ``unit``.
    sites, kind, zone :
        Which sites the measure covers (all given filters must hold; none: every site).
        ``zone`` is one zone or a list of them (a site in any of them is covered);
        ``"west"`` means :func:`sim.placement.west.is_western`.
    by_construction : bool
        Whether the model's value follows from how the network was built from this very
        figure (a capacity the site was sized from, the latency mean the route factor was
        fitted to, an upper bound that is the site's high end, PUEs set to the target), so
        that lying in the band says nothing about the model's behaviour; ``False``: an
        outcome (of the run, or of the network's other inputs).
    by_construction_why : str
        The reason, required when ``by_construction`` is true.
    """

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    measure: Measure
    value: float
    low: float
    high: float
    unit: str = Field(min_length=1)
    as_of: str = Field(min_length=1)
    shared_data_id: str = ""
    source: str = Field(min_length=1)
    band_source: str = Field(min_length=1)
    note: str = ""
    sites: tuple[str, ...] = ()
    kind: SiteKind | None = None
    zone: tuple[Zone, ...] | None = None
    by_construction: bool = False
    by_construction_why: str = Field(default="", validate_default=True)  # checked even when left out

    @field_validator("zone", mode="before")
    @classmethod
    def _one_zone(cls, zone: object) -> object:
        # `zone = "west"` and `zone = ["east", "west"]` both read as a tuple of zones; a bad single
        # zone is refused here so that the message names `zone`, not `zone[0]`.
        if isinstance(zone, str):
            if zone not in ZONES:
                allowed = ", ".join(repr(z) for z in ZONES[:-1]) + f" or {ZONES[-1]!r}"
                raise ValueError(f"Input should be {allowed}, got {zone!r}")
            return (zone,)
        return zone

    @field_validator("by_construction_why")
    @classmethod
    def _why(cls, why: str, info: ValidationInfo) -> str:
        if info.data.get("by_construction") and not why.strip():
            raise ValueError("required when by_construction is true: say how the network was built from the figure")
        return why

    @field_validator("high")
    @classmethod
    def _band(cls, high: float, info: ValidationInfo) -> float:
        low = info.data.get("low")
        if low is not None and low > high:
            raise ValueError(f"must be >= low (= {low:g}), got {high:g}")
        return high

    def covers(self, site: Site) -> bool:
        """Whether ``site`` is among the sites this figure's measure covers.

        A partition of a mixed site (``parent`` set, :mod:`topology.chip_partitions`) is
        covered when its parent is named: a figure names the site as it was published.
        """
        if self.sites and site.id not in self.sites and site.parent not in self.sites:
            return False
        if self.kind is not None and site.kind != self.kind:
            return False
        return self.zone is None or any(is_western(site) if zone == "west" else site.zone == zone
                                        for zone in self.zone)


class ReferenceSet(StrictModel):
    """The reference file: the networks it applies to and their published figures."""

    networks: tuple[str, ...]
    reference_gpu_tflops_fp16: float = Field(gt=0)
    reference_gpu_source: str = Field(min_length=1)
    hub_nodes: tuple[str, ...] = ()
    figure: tuple[ReferenceFigure, ...] = Field(min_length=1)


def parse_reference_figures(text: str, source: str = REFERENCE_FILE) -> ReferenceSet:
    """Parse a reference-figure file; bad content raises a one-line :class:`ConfigError` naming ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(located(source, "", f"not valid TOML: {exc}")) from None
    try:
        return ReferenceSet.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source, ReferenceSet, data)) from None


@functools.cache
def reference_figures() -> ReferenceSet:
    """The published figures of ``sim/data/reference_figures.toml`` (parsed once per process)."""
    text = resources.files("sim.data").joinpath("reference_figures.toml").read_text(encoding="utf-8")
    return parse_reference_figures(text)


def hub_latencies_ms(network: Network, hub_nodes: Sequence[str]) -> list[float]:
    """One-way shortest-path latency (ms) between every pair of ``hub_nodes`` present in ``network``.

    A hub node that is a mixed site is found through its first partition, which holds the
    site's place in the graph.
    """
    graph = to_graph(network)
    # A mixed site's first partition holds its place in the graph (topology.chip_partitions).
    first: dict[str, str] = {}
    for site in network.sites:
        if site.parent is not None:
            first.setdefault(site.parent, site.id)
    nodes = [first.get(n, n) for n in hub_nodes if first.get(n, n) in graph]
    out = []
    for a, b in itertools.combinations(nodes, 2):
        try:
            out.append(float(nx.shortest_path_length(graph, a, b, weight="latency_ms")))
        except nx.NetworkXNoPath:
            out.append(math.inf)
    return out


def _measure(f: ReferenceFigure, network: Network, sites: Mapping[str, Sequence[Any]], refs: ReferenceSet,
             hub_ms: list[float]) -> float:
    """The model's value of figure ``f`` (NaN where the network has nothing to compare)."""
    if f.measure == "none":
        return math.nan
    if f.measure in ("hub_latency_mean_ms", "hub_latency_max_ms"):
        if not hub_ms:
            return math.nan
        return sum(hub_ms) / len(hub_ms) if f.measure == "hub_latency_mean_ms" else max(hub_ms)
    covered = {s.id for s in network.sites if f.covers(s)}
    if not covered:
        return math.nan
    if f.measure == "ai_eflops":
        reference_gpus = sum(s.gpus * s.sku_speed for s in network.sites if s.id in covered)
        return reference_gpus * refs.reference_gpu_tflops_fp16 / 1e6  # TFLOPS -> EFLOPS
    pue = {s.id: s.pue for s in network.sites}
    rows = [i for i, s in enumerate(sites["site_id"]) if s in covered]
    energy = sum(sites["energy_mwh"][i] for i in rows)
    if f.measure == "pue":
        # Facility energy / IT energy: the PUE the covered sites ran at, weighted by their IT energy.
        it_energy = sum(sites["energy_mwh"][i] / pue[sites["site_id"][i]] for i in rows)
        return energy / it_energy if it_energy else math.nan
    hours = [sites["t_end_h"][i] - sites["t_start_h"][i] for i in rows]
    if f.measure == "utilisation":
        avail = sum(sites["gpus_total"][i] * h for i, h in zip(rows, hours, strict=True))
        return sum(sites["gpu_h_busy"][i] for i in rows) / avail if avail else math.nan
    # energy_twh_per_year: the covered sites' energy over the simulated span, scaled to a year.
    span_h = max(sites["t_end_h"]) - min(sites["t_start_h"]) if sites["t_end_h"] else 0.0
    return energy / 1e6 * HOURS_PER_YEAR / span_h if span_h else math.nan


def calibration_columns(network: Network, sites: Mapping[str, Sequence[Any]],
                        refs: ReferenceSet | None = None) -> dict[str, list[Any]]:
    """The value columns of the ``calibration`` table for one replication.

    Parameters
    ----------
    network : Network
        The simulated network (capacity, PUE, zones, links).
    sites : mapping of str to sequence
        The replication's ``sites`` columns: ``site_id``, ``t_start_h`` and ``t_end_h`` (h),
        ``gpus_total``, ``gpu_h_busy`` (GPU-h) and ``energy_mwh`` (MWh, facility energy).
    refs : ReferenceSet, optional
        The published figures; :func:`reference_figures` when omitted.

    Returns
    -------
    dict of str to list
        One row per figure: ``model`` is NaN (null) and ``within`` null where the model
        cannot compute the figure; the ``note`` says why.
    """
    refs = refs or reference_figures()
    hub_ms = hub_latencies_ms(network, refs.hub_nodes)
    columns = empty_columns("calibration")
    for f in refs.figure:
        model = _measure(f, network, sites, refs, hub_ms)
        append_row(columns, {
            "figure": f.key, "label": f.label, "unit": f.unit, "model": model, "published": f.value,
            "low": f.low, "high": f.high, "within": None if math.isnan(model) else bool(f.low <= model <= f.high),
            "as_of": f.as_of, "note": f.note, "source": f.source, "band_source": f.band_source,
            "by_construction": f.by_construction,
        })
    return columns


@dataclass
class CalibrationProducer:
    """The ``calibration`` table of one finished replication (:meth:`sim.model.Model.producers`)."""

    network: Network
    sites: Mapping[str, Sequence[Any]]
    columns: dict[str, list[Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = calibration_columns(self.network, self.sites)


def calibration_producer(network: Network, sites: Mapping[str, Sequence[Any]]) -> CalibrationProducer | None:
    """The calibration producer of a replication on ``network``, or ``None`` if no published figures name it.

    Call it when the replication has finished: it reads the ``sites`` columns as they are.
    """
    return CalibrationProducer(network, sites) if network.name in reference_figures().networks else None
