"""Accelerator SKUs as data, and a site's chip mix: how many of each SKU it holds.

The catalogue (``topology/chips.toml``) gives each SKU's dense FP16/BF16 peak and board
power with their sources, and whether US export controls touch it (a data field, never a
branch in code).  Job work is measured in GPU-hours of the reference SKU (the A100, 312
dense FP16 TFLOPS), so a SKU's ``sku_speed`` is its peak over the reference's peak.

A site's ``chips`` (:class:`ChipCount` entries) lists counts per SKU;
:mod:`topology.chip_partitions` turns a mixed site into one partition per SKU when a
network is loaded (``docs/model.md``, "Chip mixes").
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Self

from pydantic import Field, model_validator

from topology.limits import MAX_GPU_W, MAX_SITE_GPUS, MAX_SKU_SPEED
from topology.plumbing import StrictModel, nearest

__all__ = ["ChipCount", "PublishedMix", "Sku", "SkuCatalogue", "resolve_chip", "sku_catalogue"]

MAX_TFLOPS = MAX_SKU_SPEED * 312.0
"""Highest dense FP16 peak a SKU may state, TFLOPS (the speed limit at the reference's 312)."""


class Sku(StrictModel):
    """One accelerator SKU of the catalogue.

    Attributes
    ----------
    id : str
        Catalogue id (``nvidia_h100_sxm5_80gb``), the name a chip mix uses.
    tflops_fp16_dense : float or None
        Vendor peak for dense FP16/BF16 tensor maths, TFLOPS; ``None``: not published.
    board_power_w : float or None
        Maximum board power, W; ``None``: not published (a mix then gives it).
    export_control : str
        Whether US export controls restrict the SKU's supply to China, and since when.
    source, export_control_source : str
        Where the figures and the export-control statement come from (source prefixes).
    """

    id: str = Field(min_length=1)
    vendor: str = ""
    name: str = ""
    tflops_fp16_dense: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)
    board_power_w: float | None = Field(default=None, gt=0, le=MAX_GPU_W)
    memory_gb: float | None = Field(default=None, gt=0)
    nvlink_gb_per_s: float | None = Field(default=None, gt=0)
    source: str = Field(min_length=1)
    export_control: str = Field(min_length=1)
    export_control_source: str = Field(min_length=1)


class PublishedMix(StrictModel):
    """What is published about the chips of a built-in site (informational; not applied to its runs)."""

    site: str = Field(min_length=1)
    mix: str = Field(min_length=1)
    source: str = Field(min_length=1)


class SkuCatalogue(StrictModel):
    """The SKUs a chip mix may name, the reference SKU job work is measured in, and published mixes."""

    reference: str
    sku: tuple[Sku, ...] = Field(min_length=1)
    published_mix: tuple[PublishedMix, ...] = ()

    @model_validator(mode="after")
    def _reference_known(self) -> Self:
        ref = self.get(self.reference)
        if ref is None or ref.tflops_fp16_dense is None:
            raise ValueError(f"reference: {self.reference!r} is not a SKU with a throughput")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        """Catalogue ids, in file order."""
        return tuple(s.id for s in self.sku)

    def get(self, sku_id: str) -> Sku | None:
        """The SKU ``sku_id``, or ``None``."""
        return next((s for s in self.sku if s.id == sku_id), None)

    @property
    def reference_tflops(self) -> float:
        """Dense FP16 peak of the reference SKU (``sku_speed = 1``), TFLOPS."""
        ref = self.get(self.reference)
        assert ref is not None and ref.tflops_fp16_dense is not None  # checked by the validator
        return ref.tflops_fp16_dense


@functools.cache
def sku_catalogue() -> SkuCatalogue:
    """The built-in catalogue, parsed once per process.

    Examples
    --------
    >>> cat = sku_catalogue()
    >>> cat.reference_tflops, round(cat.get("nvidia_h100_sxm5_80gb").tflops_fp16_dense / cat.reference_tflops, 4)
    (312.0, 3.1699)
    """
    text = resources.files("topology").joinpath("chips.toml").read_text(encoding="utf-8")
    return SkuCatalogue.model_validate(tomllib.loads(text))


class ChipCount(StrictModel):
    """One entry of a site's chip mix: ``gpus`` accelerators of SKU ``sku``.

    A SKU of the catalogue takes its figures from there; a SKU the catalogue lacks (or a
    figure it does not publish, such as the Ascend 910B's board power) is given here with
    its ``source``.

    Attributes
    ----------
    sku : str
        Catalogue id, or a name of the network's own.
    gpus : int
        Accelerators of that SKU at the site (> 0); the mix sums to the site's ``gpus``.
    tflops_fp16_dense : float, optional
        Dense FP16/BF16 peak, TFLOPS; only for a SKU not in the catalogue.
    board_power_w : float, optional
        Maximum board power, W; only where the catalogue gives none.
    source : str
        Where figures given here come from.
    """

    sku: str = Field(min_length=1)
    gpus: int = Field(gt=0, le=MAX_SITE_GPUS)
    tflops_fp16_dense: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)
    board_power_w: float | None = Field(default=None, ge=0, le=MAX_GPU_W)
    source: str = ""

    @model_validator(mode="after")
    def _figures_known(self) -> Self:
        resolve_chip(self)  # raises ValueError naming the key
        return self


def resolve_chip(chip: ChipCount) -> tuple[float, float]:
    """``(tflops_fp16_dense, board_power_w)`` of ``chip``: the catalogue's figures, or the entry's.

    Raises
    ------
    ValueError
        ``key: why``: an unknown SKU without figures, a SKU with no throughput or no
        board power, or an entry that restates a catalogue figure.

    Examples
    --------
    >>> resolve_chip(ChipCount(sku="huawei_ascend_910", gpus=8))
    (256.0, 310.0)
    """
    catalogue = sku_catalogue()
    sku = catalogue.get(chip.sku)
    if sku is None and chip.tflops_fp16_dense is None and chip.board_power_w is None:
        hint = nearest(chip.sku, catalogue.ids)
        known = f"did you mean '{hint}'?" if hint else f"catalogue: {', '.join(catalogue.ids)}"
        raise ValueError(f"sku: unknown SKU {chip.sku!r} ({known}); a SKU not in the catalogue needs "
                         "tflops_fp16_dense and board_power_w")
    if sku is not None and chip.tflops_fp16_dense is not None and sku.tflops_fp16_dense is not None:
        raise ValueError(f"tflops_fp16_dense: {chip.sku!r} has its throughput in the catalogue "
                         f"({sku.tflops_fp16_dense:g} TFLOPS); drop the key")
    if sku is not None and chip.board_power_w is not None and sku.board_power_w is not None:
        raise ValueError(f"board_power_w: {chip.sku!r} has its board power in the catalogue "
                         f"({sku.board_power_w:g} W); drop the key")
    tflops = chip.tflops_fp16_dense if chip.tflops_fp16_dense is not None else sku.tflops_fp16_dense if sku else None
    power = chip.board_power_w if chip.board_power_w is not None else sku.board_power_w if sku else None
    if tflops is None:
        raise ValueError(f"tflops_fp16_dense: SKU {chip.sku!r} has no throughput; give tflops_fp16_dense")
    if power is None:
        raise ValueError(f"board_power_w: SKU {chip.sku!r} has no published board power; give board_power_w "
                         "(with its source)")
    return float(tflops), float(power)
