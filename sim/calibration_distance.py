"""How far a run's totals are from the published national figures it was built from.

The built-in national-scale networks (``edwc``, ``national``) are assembled from sourced
figures; the simulated utilisation, PUE and energy are outcomes.  This module sets the
model beside the published figures in ``sim/data/reference_figures.toml`` — installed AI
compute, mean PUE, utilisation targets, data-centre electricity — as a small table.  It
is a distance, computed and shown, never a pass/fail check: the reference figures mix
years, scopes (all data centres vs AI pools) and targets vs observations, and the table
says which is which.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from topology.model import Network

__all__ = ["DistanceRow", "ReferenceFigure", "calibration_distance", "reference_figures"]

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class ReferenceFigure:
    """One published figure (see ``sim/data/reference_figures.toml``)."""

    key: str
    label: str
    value: float
    unit: str
    as_of: str
    compare: Literal["ratio", "difference"]
    source: str


@dataclass(frozen=True)
class DistanceRow:
    """The model's value of one figure beside the published one.

    Attributes
    ----------
    distance : float
        ``model / reference - 1`` for ``compare = "ratio"``, ``model - reference`` for
        ``"difference"`` (in the figure's unit).
    """

    figure: ReferenceFigure
    model: float
    distance: float


def reference_figures() -> tuple[float, tuple[ReferenceFigure, ...]]:
    """The reference GPU's dense FP16 TFLOPS and the published figures, in file order."""
    text = resources.files("sim.data").joinpath("reference_figures.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    figures = tuple(
        ReferenceFigure(f["key"], f["label"], float(f["value"]), f["unit"], f["as_of"], f["compare"], f["source"])
        for f in data["figure"]
    )
    return float(data["reference_gpu_tflops_fp16"]), figures


def _model_values(network: Network, sites: pa.Table, reference_tflops: float) -> dict[str, float]:
    """The model's value of every reference figure, from the network and the ``sites`` table."""
    gpus = {s.id: s.gpus for s in network.sites}
    pue = {s.id: s.pue for s in network.sites}
    west = {s.id for s in network.sites if s.region == "west"}
    eflops = sum(s.gpus * s.sku_speed for s in network.sites) * reference_tflops / 1e6
    energy = pc.sum(sites.column("energy_mwh")).as_py() or 0.0
    site_ids = sites.column("site_id").to_pylist()
    energies = sites.column("energy_mwh").to_pylist()
    # Facility energy / IT energy, weighted by each site's IT energy: the PUE the fleet ran at.
    it_energy = sum(e / pue[s] for s, e in zip(site_ids, energies, strict=True))
    busy = sites.column("gpu_h_busy").to_pylist()
    hours = pc.subtract(sites.column("t_end_h"), sites.column("t_start_h")).to_pylist()
    avail = [gpus[s] * h for s, h in zip(site_ids, hours, strict=True)]

    def utilisation(keep: set[str] | None) -> float:
        num = sum(b for s, b in zip(site_ids, busy, strict=True) if keep is None or s in keep)
        den = sum(a for s, a in zip(site_ids, avail, strict=True) if keep is None or s in keep)
        return num / den if den else float("nan")

    # Energy per year of simulated time, averaged over replications (rows repeat per replication).
    replications = len(set(sites.column("replication").to_pylist())) or 1
    sim_hours = sum(avail) / sum(gpus.values()) / replications if gpus else 0.0
    return {
        "installed_ai_eflops": eflops,
        "mean_pue": energy / it_energy if it_energy else float("nan"),
        "hub_pue": energy / it_energy if it_energy else float("nan"),
        "utilisation": utilisation(None),
        "west_utilisation": utilisation(west) if west else float("nan"),
        "energy_twh_per_year": energy / replications / 1e6 * HOURS_PER_YEAR / sim_hours if sim_hours else float("nan"),
    }


def calibration_distance(network: Network, sites: pa.Table) -> tuple[DistanceRow, ...]:
    """Set the model beside the published national figures.

    Parameters
    ----------
    network : Network
        The simulated network (capacity, PUE, which sites are ``region = "west"``).
    sites : pyarrow.Table
        The run's ``sites`` table (all replications): energy in MWh, busy GPU-hours.

    Returns
    -------
    tuple of DistanceRow
        One row per reference figure; ``model`` is NaN where the network has nothing
        to compare (e.g. no western sites).
    """
    reference_tflops, figures = reference_figures()
    values = _model_values(network, sites, reference_tflops)
    rows = []
    for f in figures:
        model = values[f.key]
        distance = model / f.value - 1.0 if f.compare == "ratio" else model - f.value
        rows.append(DistanceRow(f, model, distance))
    return tuple(rows)
