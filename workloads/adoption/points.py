"""Calibration points files: observed (or forecast) adopted fractions to fit the adoption model to.

A **points file** (TOML) lists segments, each with where its curve starts and the
adopted fractions observed (or forecast) later, every figure with its source and its
stated uncertainty::

    schema_version = "1"
    description = "..."

    [[segment]]
    id = "world_enterprise_genai"          # unique
    description = "..."
    start_year = 2022.915                  # decimal year at which F = start_frac
    start_frac = 0.0
    start_source = "public knowledge: ..."
    resonance = 1.0                        # S·D of the segment (default 1)
    ceiling_frac = 1.0                     # market potential m in (0, 1] (default 1)
    fit_ceiling = false                    # true: fit m instead (or `cpnsim calibrate --fit-ceiling`)

    [[segment.point]]
    year = 2024.79                         # decimal year of the observation
    frac = 0.26                            # adopted fraction in [0, 1]
    uncertainty_frac = 0.05                # stated uncertainty (half-width, > 0)
    kind = "observed"                      # observed | bound | forecast
    source = "seed ...: ..."               # where the figure comes from
    uncertainty_source = "estimate: ..."   # why that uncertainty

    [[segment.point]]                      # a bound or interval: no frac, one or both of
    year = 2023.79
    upper_frac = 0.05                      #   F <= upper_frac ("under 5 %")
    # lower_frac = 0.80                    #   F >= lower_frac ("over 80 %")
    uncertainty_frac = 0.025               #   scale of a violation (workloads.adoption.fit)
    kind = "bound"
    source = "..."

``shipped`` (:func:`shipped_points_path`) names the points that come with cpnsim, in
``workloads/data``.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal, Self

import pydantic
from pydantic import Field, model_validator

from topology.plumbing import ConfigError, StrictModel, describe_validation_error, located, nearest, read_toml

__all__ = [
    "SHIPPED_POINTS",
    "CalibrationPoint",
    "CalibrationSegment",
    "PointsFile",
    "load_points",
    "select_segments",
    "shipped_points_path",
]

SHIPPED_POINTS = "adoption_points.toml"
"""File name of the points shipped in ``workloads/data`` (derived from shared/data's adoption_reference)."""


class CalibrationPoint(StrictModel):
    """One observed (or forecast) adopted fraction, or a bound on it, with its source and uncertainty.

    Exactly one of ``frac`` (a value ± ``uncertainty_frac``) or ``lower_frac`` /
    ``upper_frac`` (a one-sided bound, or an interval with both) is given.
    """

    year: float
    frac: float | None = Field(default=None, ge=0, le=1)
    lower_frac: float | None = Field(default=None, ge=0, le=1)
    upper_frac: float | None = Field(default=None, ge=0, le=1)
    uncertainty_frac: float = Field(gt=0)
    kind: Literal["observed", "bound", "forecast"] = "observed"
    source: str = Field(min_length=1)
    uncertainty_source: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _value_or_bounds(self) -> Self:
        bounded = self.lower_frac is not None or self.upper_frac is not None
        if self.frac is None and not bounded:
            raise ValueError("frac: give frac, or lower_frac and/or upper_frac for a bound")
        if self.frac is not None and bounded:
            raise ValueError("frac: give either frac or lower_frac/upper_frac, not both")
        if self.kind == "bound" and not bounded:
            raise ValueError("kind: 'bound' needs lower_frac and/or upper_frac (frac is a two-sided value)")
        if self.lower_frac is not None and self.upper_frac is not None and self.lower_frac > self.upper_frac:
            raise ValueError(f"lower_frac: {self.lower_frac} is above upper_frac {self.upper_frac}")
        return self

    @property
    def is_interval(self) -> bool:
        """Whether the point is a bound or interval (flat residual inside) rather than a value."""
        return self.frac is None


class CalibrationSegment(StrictModel):
    """A curve: where it starts and the points it should pass through."""

    id: str = Field(min_length=1)
    description: str = ""
    start_year: float
    start_frac: float = Field(default=0.0, ge=0, lt=1)
    start_source: str = Field(min_length=1)
    resonance: float = Field(default=1.0, gt=0)
    ceiling_frac: float = Field(default=1.0, gt=0, le=1)
    fit_ceiling: bool = False
    point: list[CalibrationPoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _points_after_start(self) -> Self:
        for k, p in enumerate(self.point):
            if p.year < self.start_year:
                raise ValueError(f"point[{k}].year: {p.year} is before start_year {self.start_year}")
        if not self.fit_ceiling and self.start_frac > self.ceiling_frac:
            raise ValueError(f"ceiling_frac: {self.ceiling_frac} is below start_frac {self.start_frac}")
        return self


class PointsFile(StrictModel):
    """A points file: a schema version and one or more segments."""

    schema_version: Literal["1"]
    description: str = ""
    segment: list[CalibrationSegment] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        ids = [s.id for s in self.segment]
        for k, sid in enumerate(ids):
            if sid in ids[:k]:
                raise ValueError(f"segment[{k}].id: duplicate id {sid!r}")
        return self


def shipped_points_path() -> Path:
    """Path of the points file shipped with cpnsim."""
    return Path(str(resources.files("workloads.data").joinpath(SHIPPED_POINTS)))


def load_points(path: str | Path) -> PointsFile:
    """Read and validate a points file.

    Raises
    ------
    ConfigError
        One line ``file: key.path: message``.
    """
    p = Path(path)
    data = read_toml(p, ConfigError)
    try:
        return PointsFile.model_validate(data)
    except pydantic.ValidationError as err:
        raise ConfigError(describe_validation_error(err, str(p), PointsFile, data)) from None


def select_segments(points: PointsFile, ids: Sequence[str] | None, source: str) -> list[CalibrationSegment]:
    """The segments named in ``ids`` (all when empty or ``None``), in file order.

    Raises
    ------
    ConfigError
        An id not in the file (with the nearest one).
    """
    if not ids:
        return list(points.segment)
    known = [s.id for s in points.segment]
    for sid in ids:
        if sid not in known:
            hint = nearest(sid, known)
            tail = f" (did you mean '{hint}'?)" if hint else f" (segments: {', '.join(known)})"
            raise ConfigError(located(source, "--segment", f"no segment {sid!r}{tail}"))
    return [s for s in points.segment if s.id in ids]
