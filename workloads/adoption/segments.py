"""Segments of the adoption model resolved against a network: region × industry, as arrays.

Every demand region with ``demand_weight > 0`` (or named by a ``[[adoption.segment]]``)
gets one segment per industry; :func:`build_segments` turns the ``[adoption]`` table and
the network's regions into parallel arrays that the step functions use vectorised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from topology.plumbing import ConfigError
from workloads.adoption.config import (
    DEMAND_FACTORS,
    SUPPLY_FACTORS,
    AdoptionConfig,
    DemandFactors,
    SegmentConfig,
    SegmentGroup,
)
from workloads.adoption.resonance import demand_resonance, supply_resonance

__all__ = ["SegmentReferenceError", "Segments", "build_segments"]


class SegmentReferenceError(ConfigError):
    """The ``[adoption]`` table names a region or workload class the scenario does not have.

    Callers that know the file read :attr:`key` and :attr:`message` to locate the error
    (``file: adoption.<key>: <message>``) instead of parsing the text.

    Parameters
    ----------
    key : str
        Key path inside the ``[adoption]`` table, e.g. ``regions.dr_cn_bht`` or
        ``segment[0].region``.
    message : str
        What is wrong at ``key``.

    Examples
    --------
    >>> str(SegmentReferenceError("regions.x", "no region 'x' in network"))
    "regions.x: no region 'x' in network"
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message

    def __reduce__(self) -> tuple[type[SegmentReferenceError], tuple[str, str]]:
        # Rebuilt from (key, message), not from the joined text, so it survives pickling (Ray workers).
        return type(self), (self.key, self.message)


@dataclass(frozen=True)
class Segments:
    """The resolved segments of a scenario, as parallel arrays (one entry per segment).

    Attributes
    ----------
    region : tuple of str
        Demand region id of each segment.
    industry : tuple of str
        Industry of each segment.
    region_index : numpy.ndarray
        Index of the region in the network's region list (int64).
    enterprises : numpy.ndarray
        Enterprise count (float64, >= 0).
    initial_frac : numpy.ndarray
        Adopted fraction at t = 0.
    ceiling : numpy.ndarray
        Market potential m in (0, 1] (F tends to m).
    supply : numpy.ndarray
        S of the segment's industry.
    demand_exogenous : numpy.ndarray
        D from the configured factors, before capacity.
    expected_costs, facilitating_conditions : numpy.ndarray
        The configured (exogenous) values of these two factors; capacity multiplies them.
    jobs_per_adopter_per_h : numpy.ndarray
        Shape (segments, classes): jobs per adopter per hour of each workload class at t = 0.
    class_names : tuple of str
        Column order of ``jobs_per_adopter_per_h``.
    factors : dict of str to numpy.ndarray
        Each of the eight exogenous factors per segment (demand factors: region × segment).
    p0_per_yr, q0_per_yr : numpy.ndarray
        Bass coefficients of each segment before resonance, per year: its group's, else
        ``[adoption]``'s.
    """

    region: tuple[str, ...]
    industry: tuple[str, ...]
    region_index: np.ndarray
    enterprises: np.ndarray
    initial_frac: np.ndarray
    ceiling: np.ndarray
    supply: np.ndarray
    demand_exogenous: np.ndarray
    expected_costs: np.ndarray
    facilitating_conditions: np.ndarray
    jobs_per_adopter_per_h: np.ndarray
    class_names: tuple[str, ...]
    factors: dict[str, np.ndarray]
    p0_per_yr: np.ndarray
    q0_per_yr: np.ndarray

    def __len__(self) -> int:
        return len(self.region)


def _times(a: DemandFactors, b: DemandFactors) -> DemandFactors:
    # Unvalidated on purpose: each factor is within bounds, their product only feeds R.
    return DemandFactors.model_construct(**{f: getattr(a, f) * getattr(b, f) for f in DEMAND_FACTORS})


def build_segments(
    config: AdoptionConfig,
    region_ids: Sequence[str],
    region_weights: Sequence[float],
    class_names: Sequence[str],
    data_factors: Mapping[str, DemandFactors] | None = None,
) -> Segments:
    """Resolve the segments: every region with weight > 0 (or named by a segment) × every industry.

    Parameters
    ----------
    config : AdoptionConfig
        The ``[adoption]`` table.
    region_ids, region_weights : sequence
        The network's demand regions and their ``demand_weight``.
    class_names : sequence of str
        Workload classes, in the model's order.
    data_factors : mapping of str to DemandFactors, optional
        Factors per region derived from indicators; with ``config.regional_factors`` the
        shipped ones (:func:`~workloads.adoption.regional.load_regional_factors`) when not
        given.  They multiply ``config.regions``; a region without an entry gets 1.

    Raises
    ------
    SegmentReferenceError
        A region or workload class named in ``config`` that does not exist (its ``key``
        is the key path inside ``[adoption]``).
    """
    index = {rid: k for k, rid in enumerate(region_ids)}
    for rid in config.regions:
        if rid not in index:
            raise SegmentReferenceError(f"regions.{rid}", f"no region {rid!r} in network")
    for k, seg in enumerate(config.segment):
        if seg.region not in index:
            raise SegmentReferenceError(f"segment[{k}].region", f"no region {seg.region!r} in network")
    group_of: dict[str, SegmentGroup] = {}
    for gname, group in config.groups.items():
        for k, rid in enumerate(group.regions):
            if rid not in index:
                raise SegmentReferenceError(f"groups.{gname}.regions[{k}]", f"no region {rid!r} in network")
            group_of[rid] = group
    for name, ind in config.industries.items():
        for cls in ind.jobs_per_adopter_per_h:
            if cls not in class_names:
                raise SegmentReferenceError(f"industries.{name}.jobs_per_adopter_per_h.{cls}",
                                            f"no workload class {cls!r}")
    overrides: Mapping[tuple[str, str], SegmentConfig] = {(s.region, s.industry): s for s in config.segment}
    neutral = DemandFactors()
    if config.regional_factors and data_factors is None:
        from workloads.adoption.regional import load_regional_factors

        data_factors = {r.id: r.factors() for r in load_regional_factors().region}
    from_data: Mapping[str, DemandFactors] = data_factors if config.regional_factors and data_factors else {}
    cols = {c: j for j, c in enumerate(class_names)}
    rows: list[tuple[str, str, float, float, float, float, float, float, np.ndarray]] = []
    ceilings: list[float] = []
    coefficients: list[tuple[float, float]] = []
    factor_rows: list[list[float]] = []
    for rid, weight in zip(region_ids, region_weights, strict=True):
        named = any(r == rid for r, _ in overrides)
        if weight <= 0 and not named:
            continue
        region_f = config.regions.get(rid, neutral)
        if rid in from_data:
            region_f = _times(from_data[rid], region_f)
        for name, ind in config.industries.items():
            seg_or_none = overrides.get((rid, name))
            seg_f: DemandFactors = seg_or_none if seg_or_none is not None else neutral
            enterprises = config.enterprises_per_weight * weight * ind.enterprise_share_frac
            if seg_or_none is not None and seg_or_none.enterprises is not None:
                enterprises = seg_or_none.enterprises
            in_group = group_of.get(rid)
            f0 = config.initial_frac
            p0, q0 = config.p0_per_yr, config.q0_per_yr
            if in_group is not None:
                f0 = f0 if in_group.initial_frac is None else in_group.initial_frac
                p0 = p0 if in_group.p0_per_yr is None else in_group.p0_per_yr
                q0 = q0 if in_group.q0_per_yr is None else in_group.q0_per_yr
            coefficients.append((p0, q0))
            if seg_or_none is not None and seg_or_none.initial_frac is not None:
                f0 = seg_or_none.initial_frac
            ceiling = config.ceiling_frac
            if seg_or_none is not None and seg_or_none.ceiling_frac is not None:
                ceiling = seg_or_none.ceiling_frac
            ceilings.append(ceiling)
            rates = np.zeros(len(class_names))
            for cls, rate in ind.jobs_per_adopter_per_h.items():
                rates[cols[cls]] = rate
            ec = region_f.expected_costs * seg_f.expected_costs
            fc = region_f.facilitating_conditions * seg_f.facilitating_conditions
            d = demand_resonance(region_f) * demand_resonance(seg_f)
            rows.append((rid, name, enterprises, f0, supply_resonance(ind), d, ec, fc, rates))
            factor_rows.append([getattr(ind, f) for f in SUPPLY_FACTORS]
                               + [getattr(region_f, f) * getattr(seg_f, f) for f in DEMAND_FACTORS])
    n_cls = len(class_names)
    return Segments(
        region=tuple(r[0] for r in rows),
        industry=tuple(r[1] for r in rows),
        region_index=np.array([index[r[0]] for r in rows], np.int64),
        enterprises=np.array([r[2] for r in rows], float),
        initial_frac=np.array([r[3] for r in rows], float),
        ceiling=np.array(ceilings, float),
        supply=np.array([r[4] for r in rows], float),
        demand_exogenous=np.array([r[5] for r in rows], float),
        expected_costs=np.array([r[6] for r in rows], float),
        facilitating_conditions=np.array([r[7] for r in rows], float),
        jobs_per_adopter_per_h=np.array([r[8] for r in rows], float).reshape(len(rows), n_cls),
        class_names=tuple(class_names),
        factors={
            name: np.array([r[j] for r in factor_rows], float)
            for j, name in enumerate((*SUPPLY_FACTORS, *DEMAND_FACTORS))
        },
        p0_per_yr=np.array([c[0] for c in coefficients], float),
        q0_per_yr=np.array([c[1] for c in coefficients], float),
    )
