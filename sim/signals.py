"""Time signals at run time: per-site hourly price, carbon and renewable share, and the hourly energy meter.

* :class:`SiteSignals` holds, for every site, its hourly values over one period (24, 168
  or 8,760 hours, repeated) built from ``[signals]`` (:class:`topology.signals.SignalsConfig`):
  a profile of the set (shaped around the site's annual figures), the site's own series
  file, or the annual figures every hour.  Window means over any ``[t0, t1)`` come from
  prefix sums in O(1) (:meth:`SiteSignals.window_mean`), for placement.
* :class:`HourlyMeter` integrates each site's energy, cost, CO2 and renewable energy hour
  by hour: one engine callback per simulated hour (no generator) closes the hour's segment
  for every site at once with numpy; :class:`sim.metrics.MetricBuffers` closes the last
  segment of each interval, so an interval of any length is integrated over its hours.
* :class:`TimeAware` is what a policy implements to place on the hours a job will run.

Simulation time 0 is midnight of 1 January in ``clock_timezone``; hour *k* of the run
is hour ``k mod period`` of each site's series.  See ``docs/model.md`` (Time signals).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from sim.engine import Engine
from sim.pool import Pool
from topology.model import Network, Site
from topology.plumbing import ConfigError, located
from topology.signals import (
    ProfileSet,
    SignalsConfig,
    builtin_profiles,
    load_profiles,
    load_series,
    profile_year,
    utc_offset_h,
)

__all__ = ["CARBON", "PRICE", "RENEW", "HourlyMeter", "SiteSignals", "TimeAware", "build_site_signals",
           "check_signals", "demand_factors", "signal_files"]

PRICE, CARBON, RENEW = 0, 1, 2
"""Rows of a site's series: price (CNY/kWh), grid carbon (kg CO2/kWh), renewable share of consumed energy."""


class SiteSignals:
    """Every site's hourly series and their prefix sums.

    Parameters
    ----------
    series : sequence of numpy.ndarray
        Per site, an array (3, n_s) of price, carbon and renewable share for hours
        ``0 .. n_s - 1`` of the clock, repeated with period ``n_s``.
    sites : sequence of Site
        The sites (PUE, GPU power and speed turn a price into CNY per reference GPU-h).
    config : SignalsConfig
        The ``[signals]`` table (``time_aware``, ``defer``, ``defer_max_frac``).
    """

    def __init__(self, series: Sequence[np.ndarray], sites: Sequence[Site], config: SignalsConfig) -> None:
        self.config = config
        longer = {s.shape[1] for s in series if s.shape[1] > 1}
        # Sites with constant figures (period 1) take the others' period when they share one,
        # so that one fancy-index reads every site's hour (the hourly meter's fast path).
        common = longer.pop() if len(longer) == 1 else 1
        self.series = [np.ascontiguousarray(np.tile(s, (1, common)) if s.shape[1] == 1 else s, dtype=np.float64)
                       for s in series]
        self.period = [s.shape[1] for s in self.series]
        # Per reference GPU-hour at each site: kWh of facility energy (PUE included).
        self.kwh_per_ref_gpu_h = [s.gpu_busy_w / 1000.0 * s.pue / s.sku_speed for s in sites]
        # Effective emission factor of consumed energy: carbon × (1 − renewable share), kg/kWh.
        unit = [np.vstack([s[PRICE], s[CARBON] * (1.0 - s[RENEW])]) for s in self.series]
        self._cum = [np.concatenate([np.zeros((2, 1)), np.cumsum(u, axis=1)], axis=1) for u in unit]
        self._values = unit
        self._same_period = len(set(self.period)) <= 1
        self._stack = np.stack(self.series, axis=1) if self._same_period and self.series else None
        # (period, 5, n_sites): the hourly meter's one multiply per hour (HourlyMeter.advance).
        self._weights = np.moveaxis(_weights(self._stack), 2, 0).copy() if self._stack is not None else None

    def weights(self, hour: int) -> np.ndarray:
        """Per MWh at every site in clock hour ``hour``: (5, n_sites) MWh, CNY, t CO2, renewable MWh, grid t CO2.

        Rows: 1, ``1000 × price``, ``carbon × (1 − renewable)``, ``renewable``, ``carbon``
        (kg/kWh = t/MWh); precomputed per hour of the period when every site shares one.
        """
        if self._weights is not None:
            weights: np.ndarray = self._weights[hour % self.period[0]]
            return weights
        return _weights(self.at_hour(hour))

    def at_hour(self, hour: int) -> np.ndarray:
        """Values of clock hour ``hour`` at every site: array (3, n_sites)."""
        if self._stack is not None:
            return self._stack[:, :, hour % self.period[0]]
        return np.stack([s[:, hour % n] for s, n in zip(self.series, self.period, strict=True)], axis=1)

    def _integral(self, j: int, row: int, t: float) -> float:
        """Integral of series ``row`` (0: price, 1: effective carbon) of site ``j`` over ``[0, t)``, hours."""
        n = self.period[j]
        cum = self._cum[j][row]
        cycles, rest = divmod(t, n)
        k = int(rest)
        return float(cycles * cum[n] + cum[k] + (rest - k) * self._values[j][row, k])

    def window_mean(self, j: int, row: int, t0: float, t1: float) -> float:
        """Mean price (``row = 0``, CNY/kWh) or effective carbon (``row = 1``, kg/kWh) of site ``j`` over ``[t0, t1)``.

        Examples
        --------
        >>> from topology.signals import SignalsConfig
        >>> s = SiteSignals([np.array([[1.0, 3.0], [0.5, 0.5], [0.0, 0.0]])],
        ...                 [Site(id="s", lat=0, lon=0, gpus=1)], SignalsConfig())
        >>> s.window_mean(0, 0, 0.5, 1.5), s.window_mean(0, 0, 3.0, 3.0)
        (2.0, 3.0)
        """
        if t1 <= t0:
            n = self.period[j]
            return float(self._values[j][row, int(t0 % n)])
        return (self._integral(j, row, t1) - self._integral(j, row, t0)) / (t1 - t0)

    def unit_per_ref_gpu_h(self, j: int, row: int, t0: float, t1: float) -> float:
        """CNY (``row = 0``) or kg CO2 (``row = 1``) of one reference GPU-hour at site ``j`` run over ``[t0, t1)``."""
        return self.window_mean(j, row, t0, t1) * self.kwh_per_ref_gpu_h[j]


def _weights(values: np.ndarray) -> np.ndarray:
    """Rows 1, 1000 × price, carbon × (1 − renewable), renewable, carbon of ``values`` (3, ...)."""
    price, carbon, renew = values
    return np.stack([np.ones_like(price), 1000.0 * price, carbon * (1.0 - renew), renew, carbon])


def _base_dir(source: str) -> Path | None:
    path = Path(source)
    return path.parent if path.suffix == ".toml" else None


def _resolve(name: str, base_dir: Path | None) -> Path:
    path = Path(name)
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _same(source: str) -> Callable[[str], str]:
    return lambda key: source


def signal_files(config: SignalsConfig, source: str) -> dict[str, Path]:
    """The files ``config`` reads, by key path (``signals.profiles``, ``signals.sites.<id>.series``).

    Relative paths are resolved against the folder of the scenario ``source`` (as the run
    resolves them); the built-in profile set is not a file and is not listed.
    """
    base_dir = _base_dir(source)
    files = {} if config.profiles is None else {"signals.profiles": _resolve(config.profiles, base_dir)}
    for site_id, entry in config.sites.items():
        if entry.series is not None:
            files[f"signals.sites.{site_id}.series"] = _resolve(entry.series, base_dir)
    return files


def build_site_signals(config: SignalsConfig, network: Network, source: str,
                       blame: Callable[[str], str] | None = None) -> SiteSignals:
    """The :class:`SiteSignals` of ``network`` under ``config``; files are relative to the scenario ``source``.

    ``blame`` maps a key path to the source that set it (the scenario or ``--set``); by
    default every key is blamed on ``source``.  :func:`sim.scenario.resolve_network` calls
    this at load time, so bad signals stop ``cpnsim run`` and ``cpnsim sweep`` before
    anything runs.

    Raises
    ------
    ConfigError
        One line naming the file (the scenario, the profile set or a series) and the key,
        row or column at fault: an unknown site or profile, a bad series.
    """
    name_of = blame or _same(source)
    base_dir = _base_dir(source)
    profiles: ProfileSet
    if config.profiles is None:
        profiles = builtin_profiles()
    else:
        path = _resolve(config.profiles, base_dir)
        if not path.is_file():
            raise ConfigError(located(name_of("signals.profiles"), "signals.profiles", f"no such file: {path}"))
        profiles = load_profiles(path)
    site_ids = [s.id for s in network.sites]
    for site_id, entry in config.sites.items():
        key = f"signals.sites.{site_id}"
        if site_id not in site_ids:
            raise ConfigError(located(name_of(key), key, "no such site in the network"))
        if entry.profile is not None and entry.profile not in profiles.profile:
            raise ConfigError(located(name_of(f"{key}.profile"), f"{key}.profile",
                                      f"no profile {entry.profile!r} (have {', '.join(sorted(profiles.profile))})"))
    clock = utc_offset_h(config.clock_timezone)
    series = []
    for site in network.sites:
        own = config.sites.get(site.id)
        if own is not None and own.series is not None:
            path = _resolve(own.series, base_dir)
            if not path.is_file():
                key = f"signals.sites.{site.id}.series"
                raise ConfigError(located(name_of(key), key, f"no such file: {path}"))
            series.append(load_series(path))
            continue
        # A partition of a mixed site (topology.chip_partitions) takes its site's profile.
        name = (own.profile if own is not None and own.profile is not None
                else profiles.site_profile.get(site.id, profiles.site_profile.get(site.parent or site.id)))
        if name is None:
            series.append(np.array([[site.price_cny_per_kwh], [site.carbon_kg_per_kwh], [site.renewable_frac]]))
            continue
        profile = profiles.profile[name]
        series.append(profile_year(profile, site.price_cny_per_kwh, site.carbon_kg_per_kwh, site.renewable_frac,
                                   utc_offset_h(profile.timezone) - clock))
    return SiteSignals(series, network.sites, config)


def demand_factors(config: SignalsConfig, network: Network, class_names: Sequence[str], source: str,
                   start_year: int | None, blame: Callable[[str], str] | None = None) -> list[np.ndarray | None]:
    """Per class, the relative arrival rate by origin region and clock hour of the week (R × 168), or ``None``.

    Clock hour k of the week is local hour-of-week ``(k + 24 × weekday0 + shift_r) mod 168`` of
    region r, weekday0 the weekday (Monday 0) of 1 January of ``start_year`` (2025 when the
    scenario has no calendar) and shift_r the region's offset from ``clock_timezone``, rounded
    to the hour.  ``None`` for classes without a profile, whose arrivals stay homogeneous.

    Raises
    ------
    ConfigError
        ``[signals.demand]`` names a class or region that does not exist.
    """
    demand = config.demand
    if demand is None:
        return [None] * len(class_names)
    name_of = blame or _same(source)
    for i, name in enumerate(demand.classes or []):
        if name not in class_names:
            raise ConfigError(located(name_of("signals.demand.classes"), f"signals.demand.classes[{i}]",
                                      f"no class {name!r} in the workload"))
    region_ids = [r.id for r in network.regions]
    for region_id in demand.timezones:
        if region_id not in region_ids:
            key = f"signals.demand.timezones.{region_id}"
            raise ConfigError(located(name_of(key), key, "no such region in the network"))
    clock = utc_offset_h(config.clock_timezone)
    weekday0 = date(start_year if start_year is not None else 2025, 1, 1).weekday()
    week = demand.week()
    k = np.arange(168)
    rows = []
    for region_id in region_ids:
        zone = demand.timezones.get(region_id, config.clock_timezone)
        shift = round(utc_offset_h(zone) - clock)
        rows.append(week[(k + 24 * weekday0 + shift) % 168])
    factor = np.array(rows)
    chosen = set(demand.classes) if demand.classes is not None else set(class_names)
    return [factor if name in chosen else None for name in class_names]


def check_signals(config: SignalsConfig, network: Network, class_names: Sequence[str], source: str,
                  start_year: int | None, blame: Callable[[str], str] | None = None) -> None:
    """Build what the run will build from ``[signals]`` and drop it: the load-time check.

    Reads and validates the profile set, every series file and the ``[signals.demand]``
    names exactly as :class:`sim.model.Model` will, so a bad file or name is one line
    before anything runs (and never first inside a Ray worker).

    Raises
    ------
    ConfigError
        As :func:`build_site_signals` and :func:`demand_factors`.
    """
    if config.enabled:
        build_site_signals(config, network, source, blame)
    demand_factors(config, network, class_names, source, start_year, blame)


class HourlyMeter:
    """Energy, cost, CO2 and renewable energy of every site, integrated hour by hour (cumulative, from t = 0).

    Parameters
    ----------
    signals : SiteSignals
        The hourly values.
    pools : sequence of Pool
        The sites' live state, in network order (``busy_area`` in GPU-h).
    engine : Engine
        The clock; :meth:`start` schedules one callback per simulated hour.

    Attributes
    ----------
    energy_mwh, cost_cny, co2_t, renewable_mwh, grid_co2_t : numpy.ndarray
        Cumulative per site: facility energy, its cost, emissions of its non-renewable
        share, its renewable share, and the grid-intensity × energy (for the mean intensity).
    """

    def __init__(self, signals: SiteSignals, pools: Sequence[Pool], engine: Engine) -> None:
        self.signals = signals
        self.pools = pools
        self.engine = engine
        sites = [p.site for p in pools]
        # Facility MWh per busy GPU-hour above idle, and per hour of the whole site idle (every GPU
        # draws idle power, as in sim.energy): energy = busy_h × extra + dt × idle.
        self._extra_mwh = np.array([(s.gpu_busy_w - s.gpu_idle_w) * s.pue / 1e6 for s in sites])
        # The GPUs in force (pool.total), not the site's `gpus`: a capacity timeline may have set
        # another level at t = 0 (sim.capacity_timeline); without a timeline they are equal.
        self._idle_mwh = np.array([p.total * s.gpu_idle_w * s.pue / 1e6 for p, s in zip(pools, sites, strict=True)])
        self._totals = [p.total for p in pools]
        self._timed = [i for i, s in enumerate(sites) if s.timeline]  # only these change capacity
        n = len(pools)
        self._t_mark = 0.0
        self._busy_mark = np.zeros(n)
        self._acc = np.zeros((5, n))  # cumulative, rows as SiteSignals.weights
        self._horizon_h = math.inf

    def start(self, horizon_h: float) -> None:
        """Schedule the first hourly close (at t = 1 h); each close schedules the next until ``horizon_h``."""
        self._horizon_h = horizon_h
        if horizon_h > 1.0:
            self.engine.call_at(1.0, self._tick, 1)

    def _tick(self, hour: int) -> None:
        self.engine.events += 1
        self.advance(float(hour))
        if hour + 1 < self._horizon_h:
            self.engine.call_at(float(hour + 1), self._tick, hour + 1)

    def advance(self, now: float) -> None:
        """Close the segment ``[last close, now]``, which lies within one clock hour, for every site."""
        dt = now - self._t_mark
        if dt <= 0:
            return
        # Read each pool's busy GPU-hours at ``now`` without advancing it: its own integrals then
        # accumulate exactly as without signals (same floating-point sums, same tables).
        busy = np.array([p.busy_area + (p.total - p.free) * (now - p.t_last) for p in self.pools])
        idle = dt * self._idle_mwh
        for i in self._timed:
            pool = self.pools[i]
            if pool.total != self._totals[i]:  # a timeline step within the segment, at pool.cap_t
                site = pool.site
                before = self._idle_mwh[i]
                self._idle_mwh[i] = pool.total * site.gpu_idle_w * site.pue / 1e6
                self._totals[i] = pool.total
                split = min(max(pool.cap_t - self._t_mark, 0.0), dt)
                idle[i] = split * before + (dt - split) * self._idle_mwh[i]
        energy = (busy - self._busy_mark) * self._extra_mwh + idle
        hour = math.floor(0.5 * (self._t_mark + now))  # the midpoint: robust to rounding at the ends
        self._acc += self.signals.weights(hour) * energy
        self._busy_mark = busy
        self._t_mark = now

    @property
    def energy_mwh(self) -> np.ndarray:
        """Cumulative facility energy per site, MWh."""
        row: np.ndarray = self._acc[0]
        return row

    @property
    def cost_cny(self) -> np.ndarray:
        """Cumulative electricity cost per site, CNY."""
        row: np.ndarray = self._acc[1]
        return row

    @property
    def co2_t(self) -> np.ndarray:
        """Cumulative emissions of the non-renewable share per site, t CO2."""
        row: np.ndarray = self._acc[2]
        return row

    @property
    def renewable_mwh(self) -> np.ndarray:
        """Cumulative energy from the renewable supply per site, MWh."""
        row: np.ndarray = self._acc[3]
        return row

    def totals(self) -> np.ndarray:
        """The five cumulative rows (5, n_sites): energy, cost, CO2, renewable MWh, grid CO2 (a copy)."""
        return self._acc.copy()


@runtime_checkable
class TimeAware(Protocol):
    """A placement policy that can score sites on the hours a job will run (``[signals] time_aware``)."""

    def attach_signals(self, signals: SiteSignals, engine: Engine) -> None:
        """Use ``signals`` from now on; ``engine.now_h`` is the arrival time of the job being placed."""

    def deferral_h(self, origin: int, gpus: int, cls: int, site: int) -> float:
        """Hours to hold a job placed at ``site`` before submitting it (0: submit now)."""
