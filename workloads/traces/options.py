"""How a trace is mapped onto a scenario: GPU speed, classes, origin regions, filters."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from topology.plumbing import ConfigError

__all__ = ["DEFAULT_CLASS_RULES", "ClassRule", "TraceOptions", "parse_pairs"]


@dataclass(frozen=True)
class ClassRule:
    """Jobs with at least ``min_gpus`` GPUs and ``min_run_h`` hours of run time go to class ``name``.

    Rules are tried in order; the first that matches wins.

    Attributes
    ----------
    name : str
        A job class of the scenario (``[workload.<name>]``).
    min_gpus : int
        Smallest GPU count (whole GPUs, after rounding up) the rule takes.
    min_run_h : float
        Shortest traced run time the rule takes, in hours.
    """

    name: str
    min_gpus: int = 0
    min_run_h: float = 0.0


DEFAULT_CLASS_RULES: tuple[ClassRule, ...] = (
    ClassRule("training", min_gpus=64),
    ClassRule("training", min_gpus=8, min_run_h=24.0),
    ClassRule("finetune", min_gpus=8),
    ClassRule("batch"),
)
"""The default class mapping, after the size bands of docs/model.md's job classes.

64 GPUs or more, or 8 or more for a day or longer: ``training``; other jobs of 8 GPUs
or more: ``finetune``; the rest: ``batch``.  Rules naming a class the scenario does not
have are skipped; a job no remaining rule takes goes to the scenario's first class.
"""


@dataclass(frozen=True)
class TraceOptions:
    """Options of a trace replay.

    Attributes
    ----------
    gpu_speed : float
        Speed of the trace's GPUs relative to the reference GPU (> 0): a job's work is
        ``gpus * run time * gpu_speed`` reference GPU-hours.
    keep_failed : bool
        Keep jobs that failed or were killed (they held their GPUs all the same).
    skip_bad_rows : bool
        Skip and count malformed rows instead of stopping at the first.
    class_rules : tuple of ClassRule
        Size/duration mapping onto the scenario's classes (default
        :data:`DEFAULT_CLASS_RULES`).
    class_column : str, optional
        A trace column (``vc``, ``user``, ...) whose values ``class_map`` maps to classes;
        values it does not list fall back to ``class_rules``.
    class_map : mapping of str to str
        Value of ``class_column`` -> class name.
    origin_column : str, optional
        The trace column that says where a job comes from; default per format
        (``vc`` for Philly and Helios, ``user`` for PAI).
    origin_map : mapping of str to str
        Value of ``origin_column`` -> region id.
    default_region : str, optional
        Region of the values ``origin_map`` does not list.  ``None``: each value is
        assigned a region by a stable hash, weighted by the regions' ``demand_weight``.
    """

    gpu_speed: float = 1.0
    keep_failed: bool = True
    skip_bad_rows: bool = False
    class_rules: tuple[ClassRule, ...] = DEFAULT_CLASS_RULES
    class_column: str | None = None
    class_map: Mapping[str, str] = field(default_factory=dict)
    origin_column: str | None = None
    origin_map: Mapping[str, str] = field(default_factory=dict)
    default_region: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.gpu_speed) and self.gpu_speed > 0):
            raise ConfigError(f"trace: gpu_speed: must be a number > 0, got {self.gpu_speed}")
        if self.class_map and self.class_column is None:
            raise ConfigError("trace: class_map: needs class_column (the trace column its keys are values of)")


def parse_pairs(items: Sequence[str], flag: str) -> dict[str, str]:
    """Parse repeated ``KEY=VALUE`` arguments into a dict (later keys win).

    Raises
    ------
    ConfigError
        An item without ``=`` or with an empty side.

    Examples
    --------
    >>> parse_pairs(["vcA=east", "*=west"], "--trace-origin")
    {'vcA': 'east', '*': 'west'}
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"{flag}: expected KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out
