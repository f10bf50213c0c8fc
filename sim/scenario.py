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
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic

from sim.config import Scenario
from topology.load import load_network
from topology.model import Network
from topology.plumbing import (
    ConfigError,
    CpnsimError,
    describe_validation_error,
    located,
    nearest,
    read_toml,
)
from workloads.adoption import SegmentReferenceError, build_segments

__all__ = [
    "DEFAULT_SCENARIO",
    "LoadedScenario",
    "apply_overrides",
    "default_scenario_data",
    "load_scenario",
    "resolve_network",
    "scenario_from_dict",
    "set_key",
]

DEFAULT_SCENARIO = "<built-in default scenario>"


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

    @property
    def scenario_id(self) -> str:
        """Stable id: hash of the resolved config and the network's content.

        The network enters by content, not by path, so the id is the same on every
        machine and for a built-in network copied to a file.
        """
        return self.digest()[:16]

    def digest(self, exclude: frozenset[str] = frozenset()) -> str:
        """SHA-256 (hex) of the resolved config, less the keys in ``exclude``, and the network content."""
        config = self.scenario.model_dump(mode="json", exclude={"network", *exclude})
        payload = {"scenario": config, "network": self.network.model_dump(mode="json")}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


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


def resolve_network(scenario: Scenario, source: str, base_dir: Path | None) -> Network:
    """Load ``scenario.network``, check the scenario's references into it, apply ``[sites.<id>]``.

    Raises
    ------
    ConfigError, TopologyError
        One line naming ``source`` and the key path.
    """
    try:
        network = load_network(scenario.network, base_dir)
    except CpnsimError as err:
        raise type(err)(located(source, "network", str(err))) from None
    site_ids = [s.id for s in network.sites]
    region_ids = [r.id for r in network.regions]
    for site_id in scenario.sites:
        if site_id not in site_ids:
            hint = nearest(site_id, site_ids)
            tail = f" (did you mean '{hint}'?)" if hint else ""
            raise ConfigError(located(source, f"sites.{site_id}", f"no site {site_id!r} in network{tail}"))
    for name, job_class in scenario.workload.items():
        for region_id, weight in (job_class.origins or {}).items():
            key = f"workload.{name}.origins.{region_id}"
            if region_id not in region_ids:
                hint = nearest(region_id, region_ids)
                tail = f" (did you mean '{hint}'?)" if hint else ""
                raise ConfigError(located(source, key, f"no region {region_id!r} in network{tail}"))
            if weight < 0:
                raise ConfigError(located(source, key, f"weight must be >= 0, got {weight}"))
        weights = job_class.origins or {r.id: r.demand_weight for r in network.regions}
        if sum(weights.values()) <= 0 and job_class.arrival_rate_per_h > 0:
            raise ConfigError(located(source, f"workload.{name}.origins", "origin weights sum to zero"))
    for site_id in scenario.failures.sites:
        if site_id not in site_ids:
            hint = nearest(site_id, site_ids)
            tail = f" (did you mean '{hint}'?)" if hint else ""
            raise ConfigError(located(source, f"failures.sites.{site_id}", f"no site {site_id!r} in network{tail}"))
    if scenario.adoption is not None:
        try:
            build_segments(scenario.adoption, region_ids, [r.demand_weight for r in network.regions],
                           list(scenario.workload))
        except SegmentReferenceError as exc:
            raise ConfigError(located(source, f"adoption.{exc.key}", exc.message)) from None
    if not scenario.sites:
        return network
    sites = []
    for site in network.sites:
        override = scenario.sites.get(site.id)
        changes = override.model_dump(exclude_none=True, exclude={"scheduler"}) if override else {}
        sites.append(site.model_copy(update=changes) if changes else site)
    return network.model_copy(update={"site": tuple(sites)})


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
    if overrides:
        data = apply_overrides(data, overrides)
        overridden = scenario_from_dict(data, "--set")
        source_for_refs = "--set"
    else:
        overridden = scenario_from_dict(data, source)
        source_for_refs = source
    if seed is not None:
        overridden = overridden.model_copy(update={"seed": seed})
        scenario_from_dict(overridden.model_dump(by_alias=True), "--seed")
    network = resolve_network(overridden, source_for_refs, base_dir)
    return LoadedScenario(overridden, network, source)
