"""Loading a scenario: read, override, validate, and resolve its network.

On disk a scenario is TOML (``examples/*.toml``); in Python it is a frozen pydantic
:class:`sim.config.Scenario`.  :func:`load_scenario` reads a file (or the built-in default),
applies ``--set key.path=value`` overrides, validates everything — including the
references into the network — and reports the first problem as one line naming the
file and key path.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic

from sim.capacity_timeline import shifted
from sim.config import Scenario
from sim.signals import check_signals, signal_files
from sim.size import check_size
from topology.capacity import with_capacity
from topology.load import load_network
from topology.model import Network, check_timeline
from topology.plumbing import (
    ConfigError,
    CpnsimError,
    describe_validation_error,
    format_loc,
    located,
    nearest,
    read_toml,
)
from workloads.adoption import SegmentReferenceError, build_segments

__all__ = [
    "DEFAULT_SCENARIO",
    "OVERRIDE_SOURCE",
    "LoadedScenario",
    "apply_overrides",
    "default_scenario_data",
    "load_scenario",
    "override_keys",
    "resolve_network",
    "scenario_from_dict",
    "set_key",
]

DEFAULT_SCENARIO = "<built-in default scenario>"
OVERRIDE_SOURCE = "--set"
"""The source named in errors about a key set (or changed) by an override."""
_SIZE_LIMITS = ("max_events", "max_memory_gb")


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario together with the network it resolves to.

    Attributes
    ----------
    scenario : Scenario
        The configuration, overrides applied.
    network : Network
        The network with ``[sites.<id>]`` overrides applied.
    source : str
        Where the scenario came from (a path or :data:`DEFAULT_SCENARIO`).
    """

    scenario: Scenario
    network: Network
    source: str

    @cached_property
    def scenario_id(self) -> str:
        """Stable id: hash of the resolved config and the network's content.

        The network enters by content, not by path, so the id is the same on every
        machine and for a built-in network copied to a file.  So do the files of
        ``[signals]`` (profile set, series): a changed file gives a new id, the same
        content at another path the same id (``docs/model.md``, Scenario id).

        Computed once per object (scenario and network are frozen): hashing the built-in
        default's config and network takes 0.10 CPU ms, which every read paid, of a tiny
        scenario's 1.4 ms outside its simulation (``benchmarks/README.md``, "Issue 20, fifth slice").
        """
        return self.digest()[:16]

    def known_as(self, scenario_id: str) -> LoadedScenario:
        """This object, its :attr:`scenario_id` taken to be ``scenario_id`` instead of hashed; returned.

        For a caller that already holds the id of this very content: a sweep's batch, whose
        expansion hashed each scenario it made (``cluster.sweeps.batch.run_batch``).  A wrong
        id is not detected here; ``tests/cluster/sweeps/test_points.py`` checks that a batch's
        ids are those of the scenarios it rebuilds.
        """
        self.__dict__["scenario_id"] = scenario_id  # where cached_property keeps the value
        return self

    @cached_property
    def signal_file_digests(self) -> dict[str, str]:
        """Key path -> ``sha256:<hex>`` of each file ``[signals]`` reads (read once, then kept)."""
        signals = self.scenario.signals
        if signals is None:
            return {}
        out = {}
        if signals.profiles is None and signals.enabled:
            # The built-in set by content too: a copy of it at a path gives the same id.
            builtin = resources.files("topology").joinpath("signals.toml").read_bytes()
            out["signals.profiles"] = "sha256:" + hashlib.sha256(builtin).hexdigest()
        for key, path in signal_files(signals, self.source).items():
            try:
                out[key] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                out[key] = f"unreadable:{path}"  # resolve_network refuses a missing file first
        return out

    def digest(self, exclude: frozenset[str] = frozenset()) -> str:
        """SHA-256 (hex) of the resolved config, less the keys in ``exclude``, and the network content."""
        payload = {"scenario": self.digest_config(exclude), "network": self.network.model_dump(mode="json")}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def digest_config(self, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The ``scenario`` part of what :meth:`digest` hashes (also ``cluster.sweeps.digest.Digester``'s)."""
        # The engine's size limits guard the run and change no result: not part of the id.
        config = self.scenario.model_dump(mode="json", exclude={"network", *exclude})
        for limit in _SIZE_LIMITS:
            config.get("engine", {}).pop(limit, None)
        # Signal files enter by content in place of their paths (as the network does).
        signals = config.get("signals")
        for key, value in self.signal_file_digests.items():
            if signals is None:
                break
            if key == "signals.profiles":
                signals["profiles"] = value
            else:  # signals.sites.<id>.series (a site id may hold dots)
                signals["sites"][key.removeprefix("signals.sites.").removesuffix(".series")]["series"] = value
        return config


def default_scenario_data() -> dict[str, Any]:
    """The built-in default scenario as raw TOML data (before validation)."""
    text = resources.files("sim.data").joinpath("default.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with ``key.path=value`` overrides applied.

    Values are read as TOML values (``3``, ``0.5``, ``true``, ``"x"``, ``[1, 2]``);
    anything that is not valid TOML is taken as a bare string (``policy=nearest``).

    Raises
    ------
    ConfigError
        An override without ``=`` or with an empty key.

    Examples
    --------
    >>> apply_overrides({"a": {"b": 1}}, ["a.b=2", "policy=nearest"])
    {'a': {'b': 2}, 'policy': 'nearest'}
    """
    out = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(located("--set", item, "expected key.path=value"))
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        set_key(out, key, value)
    return out


def set_key(data: dict[str, Any], key: str, value: Any) -> None:
    """Set dotted ``key`` in nested ``data`` in place, creating tables on the way.

    Examples
    --------
    >>> d = {"a": {"b": 1}}
    >>> set_key(d, "a.c.d", 2)
    >>> d
    {'a': {'b': 1, 'c': {'d': 2}}}
    """
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def scenario_from_dict(data: dict[str, Any], source: str) -> Scenario:
    """Validate ``data`` as a :class:`Scenario`; errors name ``source`` and the key path."""
    try:
        return Scenario.model_validate(data)
    except pydantic.ValidationError as err:
        raise ConfigError(describe_validation_error(err, source, Scenario, data)) from None


def _blame(source: str, overridden: Collection[str], override_source: str = OVERRIDE_SOURCE) -> Callable[[str], str]:
    """``key -> source``: ``override_source`` for a key an override set, changed or lies under."""

    def source_of(key: str) -> str:
        key = key.replace("[", ".[")  # a list under an overridden key: adoption.segment[0] is under adoption.segment
        for item in overridden:
            if key == item or key.startswith(item + ".") or item.startswith(key + "."):
                return override_source
        return source

    return source_of


def _key_parts(key: str) -> tuple[int | str, ...]:
    """``a.b[0].c`` as ``("a", "b", 0, "c")``, for :func:`format_loc` (which quotes odd names).

    Examples
    --------
    >>> _key_parts("adoption.segment[0].region")
    ('adoption', 'segment', 0, 'region')
    """
    parts: list[int | str] = []
    for name in key.split("."):
        match = re.fullmatch(r"(.*?)((?:\[\d+\])*)", name)
        assert match is not None  # the pattern matches any string
        parts.append(match[1])
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", match[2]))
    return tuple(parts)


def _hint(name: str, choices: list[str]) -> str:
    hint = nearest(name, choices)
    return f" (did you mean '{hint}'?)" if hint else ""


def override_keys(overrides: Sequence[str]) -> list[str]:
    """The key paths that ``key.path=value`` overrides set.

    Examples
    --------
    >>> override_keys(["horizon_h=10", " workload.batch.scale = 2"])
    ['horizon_h', 'workload.batch.scale']
    """
    return [item.partition("=")[0].strip() for item in overrides]


def resolve_network(scenario: Scenario, source: str, base_dir: Path | None,
                    overridden: Collection[str] = (), override_source: str = OVERRIDE_SOURCE, *,
                    loaded: Network | None = None) -> Network:
    """Load ``scenario.network``, check the scenario's references into it, apply ``[sites.<id>]``,
    and check the size of the run (:func:`sim.size.check_size`).

    Parameters
    ----------
    scenario : Scenario
        The validated configuration.
    source : str
        The scenario file (or other source) named in errors.
    base_dir : Path, optional
        Folder that a relative ``network`` path is resolved against.
    overridden : collection of str
        Key paths set by overrides: an error about one of them (or a key under it) names
        ``override_source`` instead of ``source``.
    override_source : str
        How errors name the overrides (:data:`OVERRIDE_SOURCE`; the Python API says ``overrides``).
    loaded : Network, optional
        ``scenario.network`` already loaded (as :func:`topology.load.load_network` returns it,
        ``[sites.<id>]`` not applied): not read again.  A sweep's workers get a file network
        this way, with the sweep's base, and may not see the file.

    Raises
    ------
    ConfigError, TopologyError
        One line naming the source of the key and the key path.
    """
    blame = _blame(source, overridden, override_source)

    def refused(parts: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(located(blame(".".join(parts)), format_loc(parts), message))

    try:
        network = load_network(scenario.network, base_dir) if loaded is None else loaded
    except CpnsimError as err:
        raise type(err)(located(blame("network"), "network", str(err))) from None
    site_ids = [s.id for s in network.sites]
    region_ids = [r.id for r in network.regions]
    for site_id in scenario.sites:
        if site_id not in site_ids:
            parts = [s.id for s in network.sites if s.parent == site_id]  # a mixed site runs as partitions
            raise refused(("sites", site_id), f"no site {site_id!r} in network{_hint(site_id, site_ids)}" if not parts
                          else f"site {site_id!r} holds a chip mix and runs as partitions; override them: "
                               f"{', '.join(parts)}")
    for name, job_class in scenario.workload.items():
        for region_id in job_class.origins or {}:
            if region_id not in region_ids:
                raise refused(("workload", name, "origins", region_id),
                              f"no region {region_id!r} in network{_hint(region_id, region_ids)}")
        weights = job_class.origins or {r.id: r.demand_weight for r in network.regions}
        if sum(weights.values()) <= 0 and job_class.arrival_rate_per_h > 0:
            raise refused(("workload", name, "origins"), "origin weights sum to zero")
        site_skus = sorted({s.sku for s in network.sites}) if job_class.skus else []
        for sku in job_class.skus or ():
            if sku not in site_skus:  # no site could ever take the class's jobs
                raise refused(("workload", name, "skus"),
                              f"no site of the network holds SKU {sku!r}{_hint(sku, site_skus)} "
                              f"(its SKUs: {', '.join(site_skus)})")
    for site_id in scenario.failures.sites:
        if site_id not in site_ids:
            raise refused(("failures", "sites", site_id), f"no site {site_id!r} in network{_hint(site_id, site_ids)}")
    segments = None
    if scenario.adoption is not None:
        try:  # built once: checked here, counted by check_size (the regions do not change below)
            segments = build_segments(scenario.adoption, region_ids, [r.demand_weight for r in network.regions],
                                      list(scenario.workload))
        except SegmentReferenceError as exc:
            key = f"adoption.{exc.key}"
            raise ConfigError(located(blame(key), format_loc(_key_parts(key)), exc.message)) from None
    # The capacity level comes before [sites.<id>]: a site's own gpus override wins.
    network = with_capacity(network, scenario.capacity)
    if scenario.sites:
        sites = []
        for site in network.sites:
            override = scenario.sites.get(site.id)
            changes = override.model_dump(exclude_none=True, exclude={"scheduler", "timeline"}) if override else {}
            if override is not None and override.timeline is not None:
                changes["timeline"] = override.timeline or None  # the steps as models; [] removes the timeline
                problem = check_timeline(override.timeline)
                if problem is not None:
                    key, _, message = problem.partition(": ")
                    raise ConfigError(located(blame(f"sites.{site.id}.timeline"),
                                              format_loc(("sites", site.id, *_key_parts(key))), message))
            elif override is not None and override.gpus is not None and site.timeline:
                moved = shifted(site.timeline, override.gpus - site.gpus)  # the whole timeline moves
                if isinstance(moved, str):
                    raise refused(("sites", site.id, "gpus"), moved)
                changes["timeline"] = moved
            if override is not None and override.gpus is not None:
                # A what-if outside the site's published range: that range no longer brackets the
                # capacity, so its broken end goes (None: the end equals gpus); kept, the resolved network
                # would not validate where it is read back (manifest.json, cpnsim report).
                if site.gpus_low is not None and override.gpus < site.gpus_low:
                    changes["gpus_low"] = None
                if site.gpus_high is not None and override.gpus > site.gpus_high:
                    changes["gpus_high"] = None
            sites.append(site.model_copy(update=changes) if changes else site)
        network = network.model_copy(update={"site": tuple(sites)})
    if scenario.signals is not None:
        # Profile set, series files and [signals.demand] names: read and checked now, as the
        # run will read them, so a bad one stops `cpnsim run` and `sweep` before anything starts.
        check_signals(scenario.signals, network, list(scenario.workload), source, scenario.start_year, blame)
    check_size(scenario, network, blame, segments)
    return network


def load_scenario(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    seed: int | None = None,
) -> LoadedScenario:
    """Read, override and validate a scenario, and resolve its network.

    Parameters
    ----------
    path : str or Path, optional
        A scenario TOML file; ``None`` gives the built-in default scenario.
    overrides : list of str, optional
        ``key.path=value`` settings applied on top of the file.
    seed : int, optional
        Replaces the scenario's ``seed``.

    Raises
    ------
    ConfigError, TopologyError
        One line naming the file (or ``--set``) and the key path.
    """
    if path is None:
        data, source, base_dir = default_scenario_data(), DEFAULT_SCENARIO, None
    else:
        p = Path(path)
        data, source, base_dir = read_toml(p, ConfigError), str(p), p.parent
    scenario_from_dict(data, source)  # Report errors in the file against the file.
    keys = override_keys(overrides or [])
    if overrides:
        data = apply_overrides(data, overrides)
        overridden = scenario_from_dict(data, OVERRIDE_SOURCE)
    else:
        overridden = scenario_from_dict(data, source)
    if seed is not None:
        overridden = overridden.model_copy(update={"seed": seed})
        scenario_from_dict(overridden.model_dump(by_alias=True), "--seed")
    network = resolve_network(overridden, source, base_dir, keys)
    return LoadedScenario(overridden, network, source)
