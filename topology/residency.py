"""Data-residency rules: which countries a job's data may be processed in and cross, by origin country and data kind.

The built-in rules are data (``topology/residency.toml``, each with its source); a scenario
changes them with ``[residency]`` (:class:`ResidencyConfig`).  A rule is one of
:data:`RuleKind` per kind of data (:data:`DataKind`):

* ``local``: the data stays in its origin's country: it is processed only at a site in that
  country, or in one of the rule's ``allow_to`` countries, and its transfers cross only those;
* ``assessment``: the data may leave after an assessment, standard contract or
  certification, which the simulation takes as granted (no restriction in effect);
* ``free``: no restriction.

A country without a rule, an origin whose country is unknown, and data kind ``none`` are
unrestricted.  See ``docs/model.md`` ("Data residency").
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Literal

from pydantic import Field, field_validator

from topology.countries import check_country
from topology.model import Region, Site
from topology.plumbing import StrictModel

__all__ = [
    "DATA_KINDS",
    "CountryRule",
    "CountryRuleChange",
    "DataKind",
    "ResidencyConfig",
    "ResidencyRules",
    "RuleKind",
    "allowed_countries",
    "builtin_rules",
    "country_of",
    "effective_rules",
]

DataKind = Literal["none", "personal", "important"]
"""What data a job class carries: ``personal`` (personal information), ``important``
(important data in the sense of China's Data Security Law), or ``none``."""

DATA_KINDS: tuple[DataKind, ...] = ("none", "personal", "important")
"""Every :data:`DataKind`, in that order."""

RuleKind = Literal["local", "assessment", "free"]
"""What a country's rule says about one kind of data (see the module docstring)."""

_CHINA_ZONES = frozenset({"east", "west", "other"})


def _countries(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        check_country(value)
    return values


class CountryRule(StrictModel):
    """The rules of one country, by data kind.

    Attributes
    ----------
    personal, important : RuleKind
        The rule for personal data and for important data.
    allow_to : tuple of str
        Countries (ISO 3166-1 alpha-2) that ``local`` data may still go to (an agreement,
        a standard contract).
    source : str
        Where the rule comes from (a source prefix: ``public knowledge:``, ``estimate:``, ...).
    """

    personal: RuleKind = "free"
    important: RuleKind = "free"
    allow_to: tuple[str, ...] = ()
    source: str = ""

    _check_allow_to = field_validator("allow_to")(_countries)


class CountryRuleChange(StrictModel):
    """A scenario's change to one country's rules (``[residency.country.<code>]``); unset keys keep the rule."""

    personal: RuleKind | None = None
    important: RuleKind | None = None
    allow_to: tuple[str, ...] | None = None

    @field_validator("allow_to")
    @classmethod
    def _known(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else _countries(value)


def _country_keys(value: dict[str, object]) -> dict[str, object]:
    for code in value:
        check_country(code)
    return value


class ResidencyRules(StrictModel):
    """Rules by country code (the format of ``topology/residency.toml``)."""

    country: dict[str, CountryRule] = Field(default_factory=dict)

    _check_codes = field_validator("country")(_country_keys)


class ResidencyConfig(StrictModel):
    """The ``[residency]`` table of a scenario.

    Attributes
    ----------
    enabled : bool
        Apply the rules (default); ``false`` lets every job run anywhere (the rules-off
        counterfactual).
    country : dict of str to CountryRuleChange
        Changes to the built-in rules by country code, e.g. ``[residency.country.KZ]
        allow_to = ["CN"]`` ("if Kazakhstan allowed transfers to China under a standard
        contract").
    """

    enabled: bool = True
    country: dict[str, CountryRuleChange] = Field(default_factory=dict)

    _check_codes = field_validator("country")(_country_keys)


@functools.cache
def builtin_rules() -> ResidencyRules:
    """The rules shipped with cpnsim (``topology/residency.toml``), parsed once."""
    text = resources.files("topology").joinpath("residency.toml").read_text(encoding="utf-8")
    return ResidencyRules.model_validate(tomllib.loads(text))


def effective_rules(config: ResidencyConfig | None) -> ResidencyRules | None:
    """The built-in rules with ``config``'s changes; ``None`` when ``config`` turns the rules off."""
    rules = builtin_rules()
    if config is None:
        return rules
    if not config.enabled:
        return None
    merged = dict(rules.country)
    for code, change in config.country.items():
        base = merged.get(code, CountryRule(source="scenario [residency]"))
        merged[code] = base.model_copy(update=change.model_dump(exclude_none=True))
    return ResidencyRules(country=merged)


def country_of(node: Site | Region) -> str | None:
    """The ISO code of ``node``'s country: its ``country``, else ``CN`` in an EDWC zone of China, else ``None``.

    Examples
    --------
    >>> from topology.model import Region
    >>> country_of(Region(id="r", lat=0, lon=0, zone="east")), country_of(Region(id="r", lat=0, lon=0))
    ('CN', None)
    """
    if node.country is not None:
        return node.country
    return "CN" if node.zone in _CHINA_ZONES else None


def allowed_countries(rules: ResidencyRules, origin: str | None, kind: DataKind) -> frozenset[str] | None:
    """Countries data of ``kind`` from a node in ``origin`` may be processed in and cross; ``None``: anywhere.

    Examples
    --------
    >>> rules = ResidencyRules(country={"KZ": CountryRule(personal="local", allow_to=("CN",))})
    >>> sorted(allowed_countries(rules, "KZ", "personal")), allowed_countries(rules, "KZ", "important")
    (['CN', 'KZ'], None)
    """
    if kind == "none" or origin is None:
        return None
    rule = rules.country.get(origin)
    if rule is None or getattr(rule, kind) != "local":
        return None
    return frozenset({origin, *rule.allow_to})
