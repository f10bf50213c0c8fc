"""Time-varying site signals as data: hourly electricity price, grid carbon and renewable availability.

Pure data, no simulation: the frozen models of a *profile set* (:class:`ProfileSet`, one
:class:`Profile` per province or grid archetype), the ``[signals]`` table of a scenario
(:class:`SignalsConfig`), the loaders with one-line errors, and :func:`profile_year`, which
turns a profile and a site's annual figures into 8,760 hourly values.

A profile is a *shape* around a site's annual figures (``docs/model.md``, Time signals):

* price at local hour *h* = ``price_cny_per_kwh × r(h) / mean(r)``, ``r`` the time-of-use
  ratio of the period *h* falls in (so the daily mean is the site's figure);
* renewable availability ``A(m, h) = Σ_k mix_k × cf_k(m, h)`` (wind, solar, hydro capacity
  factors by month *m* and local hour *h*); the renewable share of consumed energy is
  ``min(1, renewable_frac × A / mean(A))``;
* grid carbon ``carbon_kg_per_kwh × max(0, 1 − carbon_flex × (A / mean(A) − 1))``.

A user's own series (:func:`load_series`, CSV or Parquet) gives absolute hourly values
instead: ``price_cny_per_kwh``, ``carbon_kg_per_kwh``, ``renewable_frac``, 24, 168 or
8,760 rows, repeated over the horizon, row *i* being simulation hour *i* (mod length).
"""

from __future__ import annotations

import csv
import math
import tomllib
import zoneinfo
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Self

import numpy as np
import pydantic
from pydantic import Field, field_validator, model_validator

from topology.limits import MAX_CARBON_KG_PER_KWH, MAX_PRICE_CNY_PER_KWH
from topology.plumbing import ConfigError, StrictModel, describe_validation_error, located, read_toml

__all__ = [
    "HOURS_PER_YEAR",
    "MONTH_DAYS",
    "SERIES_COLUMNS",
    "SERIES_LENGTHS",
    "SOURCE_PREFIXES",
    "DemandProfile",
    "Profile",
    "ProfileSet",
    "SignalsConfig",
    "SiteSignal",
    "builtin_profiles",
    "load_profiles",
    "load_series",
    "month_of_hour",
    "profile_year",
    "utc_offset_h",
]

HOURS_PER_YEAR = 8760
"""Hours of the signal year (365 days; a leap day is not modelled)."""
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
SOURCE_PREFIXES = ("url:", "seed:", "public knowledge:", "estimate:", "derived:")
SERIES_COLUMNS = ("price_cny_per_kwh", "carbon_kg_per_kwh", "renewable_frac")
"""Columns of a user's hourly series (an ``hour`` column, if present, must count 0, 1, ...)."""
SERIES_LENGTHS = (24, 168, HOURS_PER_YEAR)
"""Allowed row counts of a series: a day, a week or a year of hours."""
_FIGURES = ("tou_hours", "tou_ratio", "mix", "solar_cf_month", "wind_cf_month", "hydro_cf_month",
            "wind_diurnal_amplitude", "carbon_flex")


def utc_offset_h(timezone: str) -> float:
    """UTC offset of IANA ``timezone`` on 1 January 2025, hours (daylight saving is not modelled).

    Raises
    ------
    ValueError
        ``timezone`` is not a known IANA name.

    Examples
    --------
    >>> utc_offset_h("Asia/Shanghai")
    8.0
    """
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r} (an IANA name such as 'Asia/Shanghai')") from None
    offset = datetime(2025, 1, 1, tzinfo=zone).utcoffset()
    assert offset is not None
    return offset.total_seconds() / 3600.0


def _check_timezone(value: str) -> str:
    utc_offset_h(value)
    return value


class Profile(StrictModel):
    """The hourly shape of one province's (or grid archetype's) price, carbon and renewables.

    Attributes
    ----------
    timezone : str
        IANA time zone of the profile's local hours.
    tou_hours : dict of str to list of int
        Time-of-use period name -> local hours of day (0-23) in it; every hour exactly once.
    tou_ratio : dict of str to float
        Period name -> price multiplier (dimensionless, relative to the flat period).
    mix : dict of {"wind", "solar", "hydro"} to float
        Weights of the renewable sources behind the site's renewable supply (sum 1);
        empty (default): renewables and grid carbon flat at the annual figures.
    solar_cf_month, wind_cf_month, hydro_cf_month : list of 12 float
        Monthly mean capacity factors, in [0, 1]; required for every source in ``mix``.
    wind_diurnal_amplitude : float
        Relative amplitude of the wind's daily cycle (peak at 03:00 local), in [0, 1).
    carbon_flex : float
        How far grid carbon follows renewable availability, in [0, 1]; 0: flat.
    sources : dict of str to str
        The source of every figure above, each starting with one of :data:`SOURCE_PREFIXES`.
    """

    timezone: str = "Asia/Shanghai"
    tou_hours: dict[str, list[int]]
    tou_ratio: dict[str, float]
    mix: dict[str, float] = Field(default_factory=dict)
    solar_cf_month: list[float] = Field(default_factory=lambda: [0.2] * 12)
    wind_cf_month: list[float] = Field(default_factory=lambda: [0.3] * 12)
    hydro_cf_month: list[float] = Field(default_factory=lambda: [0.5] * 12)
    wind_diurnal_amplitude: float = Field(default=0.0, ge=0, lt=1)
    carbon_flex: float = Field(default=0.0, ge=0, le=1)
    sources: dict[str, str] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("tou_ratio")
    @classmethod
    def _ratios(cls, value: dict[str, float]) -> dict[str, float]:
        for name, ratio in value.items():
            if not (math.isfinite(ratio) and 0 <= ratio <= 100):
                raise ValueError(f"ratio of period {name!r} must be in [0, 100], got {ratio!r}")
        return value

    @field_validator("solar_cf_month", "wind_cf_month", "hydro_cf_month")
    @classmethod
    def _monthly(cls, value: list[float]) -> list[float]:
        if len(value) != 12:
            raise ValueError(f"needs 12 monthly values, got {len(value)}")
        for i, cf in enumerate(value):
            if not (math.isfinite(cf) and 0 <= cf <= 1):
                raise ValueError(f"capacity factor of month {i + 1} must be in [0, 1], got {cf!r}")
        return value

    @field_validator("mix")
    @classmethod
    def _mix(cls, value: dict[str, float]) -> dict[str, float]:
        for name, weight in value.items():
            if name not in ("wind", "solar", "hydro"):
                raise ValueError(f"unknown source {name!r} (wind, solar or hydro)")
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"weight of {name!r} must be >= 0, got {weight!r}")
        if value and not math.isclose(sum(value.values()), 1.0, abs_tol=1e-9):
            raise ValueError(f"weights must sum to 1, got {sum(value.values())!r}")
        return value

    @field_validator("sources")
    @classmethod
    def _prefixed(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not text.startswith(SOURCE_PREFIXES):
                raise ValueError(f"source of {key!r} must start with one of {', '.join(SOURCE_PREFIXES)}")
        return value

    @model_validator(mode="after")
    def _periods(self) -> Self:
        seen: dict[int, str] = {}
        for name, hours in self.tou_hours.items():
            if name not in self.tou_ratio:
                raise ValueError(f"tou_hours: period {name!r} has no tou_ratio")
            for h in hours:
                if not 0 <= h <= 23:
                    raise ValueError(f"tou_hours.{name}: hour must be in 0..23, got {h}")
                if h in seen:
                    raise ValueError(f"tou_hours: hour {h} is in both {seen[h]!r} and {name!r}")
                seen[h] = name
        missing = sorted(set(range(24)) - set(seen))
        if missing:
            raise ValueError(f"tou_hours: hours {missing} are in no period")
        for source, weight in self.mix.items():
            if weight > 0 and f"{source}_cf_month" not in self.model_fields_set:
                raise ValueError(f"mix.{source}: needs {source}_cf_month (no default capacity factors)")
        for name in _FIGURES:
            if name in self.model_fields_set and name not in self.sources:
                raise ValueError(f"{name} has no source (add sources.{name}, starting with url:, seed:, "
                                 "public knowledge:, estimate: or derived:)")
        return self

    def price_ratio(self) -> np.ndarray:
        """Time-of-use multiplier by local hour of day (24 values, mean 1)."""
        ratio = np.empty(24)
        for name, hours in self.tou_hours.items():
            ratio[hours] = self.tou_ratio[name]
        mean = float(ratio.mean())
        return ratio / mean if mean > 0 else np.ones(24)

    def availability(self) -> np.ndarray:
        """Renewable availability ``A(m, h)``: 12 months × 24 local hours, capacity-factor weighted by ``mix``."""
        hours = np.arange(24)
        # Solar: half-sine from 06:00 to 18:00 local with mean 1 over the day (estimate: the
        # clear-sky shape without day length by month; monthly factors scale it).
        solar = np.clip(np.sin(np.pi * (hours + 0.5 - 6.0) / 12.0), 0.0, None)
        solar = solar / solar.mean()
        wind = 1.0 + self.wind_diurnal_amplitude * np.cos(2.0 * np.pi * (hours - 3.0) / 24.0)
        mix = self.mix
        return (mix.get("solar", 0.0) * np.outer(self.solar_cf_month, solar)
                + mix.get("wind", 0.0) * np.outer(self.wind_cf_month, wind)
                + mix.get("hydro", 0.0) * np.outer(self.hydro_cf_month, np.ones(24)))


class ProfileSet(StrictModel):
    """Profiles by name and which site uses which (``topology/signals.toml`` or a user's file).

    Attributes
    ----------
    profile : dict of str to Profile
        The profiles by name.
    site_profile : dict of str to str
        Site id -> profile name (sites not listed keep their annual figures every hour).
    """

    description: str = ""
    profile: dict[str, Profile] = Field(default_factory=dict)
    site_profile: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> Self:
        for site_id, name in self.site_profile.items():
            if name not in self.profile:
                raise ValueError(f"site_profile.{site_id}: no profile {name!r}")
        return self


class SiteSignal(StrictModel):
    """One site's signals in a scenario (``[signals.sites.<id>]``): a named profile or its own series file."""

    profile: str | None = None
    series: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one(self) -> Self:
        if self.profile is not None and self.series is not None:
            raise ValueError("give profile or series, not both")
        return self


class DemandProfile(StrictModel):
    """Diurnal and weekly demand in local time (``[signals.demand]``): a non-homogeneous Poisson process.

    A class's arrival rate from region *r* at simulation time *t* is its rate × origin
    share × ``m(local hour, local weekday)``, with ``m ∝ diurnal[h] × weekly[d]`` scaled to
    mean 1 over the week, so the weekly mean rate is unchanged.

    Attributes
    ----------
    classes : list of str, optional
        Job classes that follow the profile; ``None``: every class.
    diurnal : list of 24 float
        Relative rate by local hour of day (>= 0, not all 0).
    weekly : list of 7 float
        Relative rate by local weekday, Monday first (>= 0, not all 0).
    timezones : dict of str to str
        Region id -> IANA time zone of its local time; others use ``clock_timezone``.
    """

    classes: list[str] | None = None
    diurnal: list[float]
    weekly: list[float] = Field(default_factory=lambda: [1.0] * 7)
    timezones: dict[str, str] = Field(default_factory=dict)

    @field_validator("diurnal", "weekly")
    @classmethod
    def _shape(cls, value: list[float], info: pydantic.ValidationInfo) -> list[float]:
        n = 24 if info.field_name == "diurnal" else 7
        if len(value) != n:
            raise ValueError(f"needs {n} values, got {len(value)}")
        for i, x in enumerate(value):
            if not (math.isfinite(x) and 0 <= x <= 1e6):
                raise ValueError(f"value {i} must be in [0, 1e6], got {x!r}")
        if not any(value):
            raise ValueError("values must not all be 0")
        return value

    @field_validator("timezones")
    @classmethod
    def _zones(cls, value: dict[str, str]) -> dict[str, str]:
        for zone in value.values():
            _check_timezone(zone)
        return value

    def week(self) -> np.ndarray:
        """Relative rate by local hour of the week (168 values, Monday 00:00 first, mean 1)."""
        m = np.outer(self.weekly, self.diurnal).ravel()
        week: np.ndarray = m / m.mean()
        return week


class SignalsConfig(StrictModel):
    """The ``[signals]`` table of a scenario; without it every hour has the annual figures.

    Attributes
    ----------
    enabled : bool
        Energy, cost and CO2 are computed hour by hour with the hour's price, carbon and renewables.
    profiles : str, optional
        A profile-set TOML file (relative to the scenario); ``None``: the built-in set.
    clock_timezone : str
        Simulation time 0 is midnight of 1 January in this IANA time zone.
    time_aware : bool
        ``edwc``, ``cheapest`` and ``greenest`` score a site on the hours a job is expected to run.
    defer : bool
        Time-aware policies hold deferrable work (a ``deadline_h``, no latency budget) for cheaper hours.
    defer_max_frac : float
        Share of a job's deadline left after its expected wait that deferral may use.
    sites : dict of str to SiteSignal
        Per-site profile or series, replacing the profile set's ``site_profile``.
    demand : DemandProfile, optional
        Diurnal and weekly demand in each region's local time; ``None``: constant rates.
    """

    enabled: bool = True
    profiles: str | None = Field(default=None, min_length=1)
    clock_timezone: str = "Asia/Shanghai"
    time_aware: bool = False
    defer: bool = False
    defer_max_frac: float = Field(default=0.5, ge=0, le=1)
    sites: dict[str, SiteSignal] = Field(default_factory=dict)
    demand: DemandProfile | None = None

    @field_validator("clock_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _defer_needs_time(self) -> Self:
        if self.defer and not self.time_aware:
            raise ValueError("defer: needs time_aware = true")
        return self


def _validated_set(data: dict[str, Any], source: str) -> ProfileSet:
    try:
        return ProfileSet.model_validate(data)
    except pydantic.ValidationError as err:
        raise ConfigError(describe_validation_error(err, source, ProfileSet, data)) from None


def builtin_profiles() -> ProfileSet:
    """The built-in profile set, ``topology/signals.toml``."""
    text = resources.files("topology").joinpath("signals.toml").read_text(encoding="utf-8")
    return _validated_set(tomllib.loads(text), "<built-in signals.toml>")


def load_profiles(path: Path) -> ProfileSet:
    """Read and validate a profile-set TOML file; errors are one line naming the file and key."""
    return _validated_set(read_toml(path, ConfigError), str(path))


def _series_rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a CSV or Parquet file (Parquet values as Python objects)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as exc:
            raise ConfigError(located(str(path), "", f"cannot read Parquet: {exc}")) from None
        names = table.column_names
        cols = [table.column(n).to_pylist() for n in names]
        return names, [list(r) for r in zip(*cols, strict=True)]
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(located(str(path), "", f"cannot read CSV: {exc}")) from None
    if not reader:
        raise ConfigError(located(str(path), "", "empty file (needs a header row)"))
    return [h.strip() for h in reader[0]], reader[1:]


def load_series(path: Path) -> np.ndarray:
    """A user's hourly series: array (3, n) of price (CNY/kWh), carbon (kg/kWh) and renewable share.

    Parameters
    ----------
    path : Path
        CSV (header row) or Parquet file with the columns of :data:`SERIES_COLUMNS`
        and an optional ``hour`` column; 24, 168 or 8,760 rows.

    Raises
    ------
    ConfigError
        One line naming the file, and the row (1-based, header excluded) and column of a
        bad value: missing column, wrong length, not a number, negative price or
        carbon, renewable share outside [0, 1].
    """
    source = str(path)
    header, rows = _series_rows(path)
    for name in SERIES_COLUMNS:
        if name not in header:
            raise ConfigError(located(source, name, f"missing column (needs {', '.join(SERIES_COLUMNS)})"))
    if len(rows) not in SERIES_LENGTHS:
        raise ConfigError(located(source, "", f"wrong length: {len(rows)} rows, needs 24, 168 or 8760 hours"))
    index = {name: header.index(name) for name in (*SERIES_COLUMNS, "hour") if name in header}
    bounds = {"price_cny_per_kwh": (0.0, MAX_PRICE_CNY_PER_KWH), "carbon_kg_per_kwh": (0.0, MAX_CARBON_KG_PER_KWH),
              "renewable_frac": (0.0, 1.0)}
    out = np.empty((3, len(rows)))
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise ConfigError(located(source, f"row {r + 1}", f"has {len(row)} fields, header has {len(header)}"))
        if "hour" in index:
            try:
                hour = float(row[index["hour"]])
            except (TypeError, ValueError):
                hour = math.nan
            if hour != r:
                got = row[index["hour"]]
                raise ConfigError(located(source, f"row {r + 1}, column hour", f"must be {r}, got {got!r}"))
        for c, name in enumerate(SERIES_COLUMNS):
            raw = row[index[name]]
            try:
                value = float(raw)
            except (TypeError, ValueError):
                value = math.nan
            low, high = bounds[name]
            if not (math.isfinite(value) and low <= value <= high):
                raise ConfigError(located(source, f"row {r + 1}, column {name}",
                                          f"must be a number in [{low:g}, {high:g}], got {raw!r}"))
            out[c, r] = value
    return out


def month_of_hour(hours: np.ndarray) -> np.ndarray:
    """Month index (0-11) of each hour of the 365-day signal year (hours taken mod 8,760).

    Examples
    --------
    >>> month_of_hour(np.array([0, 743, 744, 8759])).tolist()
    [0, 0, 1, 11]
    """
    ends = np.cumsum(MONTH_DAYS) * 24
    months: np.ndarray = np.searchsorted(ends, np.mod(hours, HOURS_PER_YEAR), side="right")
    return months


def profile_year(profile: Profile, price_cny_per_kwh: float, carbon_kg_per_kwh: float, renewable_frac: float,
                 shift_h: float) -> np.ndarray:
    """A site's 8,760 hourly values (3 × 8760: price, carbon, renewable share) from a profile.

    Parameters
    ----------
    profile : Profile
        The shape.
    price_cny_per_kwh, carbon_kg_per_kwh, renewable_frac : float
        The site's annual figures (the means the shape is scaled to).
    shift_h : float
        Local time minus simulation clock, hours (rounded to the hour).

    Examples
    --------
    >>> flat = Profile(tou_hours={"flat": list(range(24))}, tou_ratio={"flat": 1.0},
    ...                sources={"tou_hours": "estimate: flat", "tou_ratio": "estimate: flat"})
    >>> year = profile_year(flat, 0.5, 0.6, 0.2, 0.0)
    >>> [float(year[i].min()) == float(year[i].max()) for i in range(3)], year[:, 0].round(6).tolist()
    ([True, True, True], [0.5, 0.6, 0.2])
    """
    local = np.arange(HOURS_PER_YEAR) + round(shift_h)
    hour = np.mod(local, 24)
    month = month_of_hour(local)
    price = price_cny_per_kwh * profile.price_ratio()[hour]
    avail = profile.availability()[month, hour]
    mean = float(avail.mean())  # over the year's hours, so months weigh by their days
    rel = avail / mean if mean > 0 else np.ones(HOURS_PER_YEAR)
    renew = np.minimum(1.0, renewable_frac * rel)
    carbon = carbon_kg_per_kwh * np.maximum(0.0, 1.0 - profile.carbon_flex * (rel - 1.0))
    return np.vstack([price, carbon, renew])
