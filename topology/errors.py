"""The exception family of cpnsim.

Callers catch meaning, not strings: every error that bad *input* can cause is a
:class:`CpnsimError`, and the command line turns any of them into one line on stderr
and exit status 2.  Messages name the file, the key path and the bad value, and
suggest the nearest valid name where there is one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "CpnsimError",
    "SchemaError",
    "TopologyError",
    "located",
    "nearest",
]


class CpnsimError(Exception):
    """Base class of every error cpnsim raises for bad input or bad data."""


class ConfigError(CpnsimError):
    """A scenario, override or sweep file is malformed or names something unknown."""


class TopologyError(CpnsimError):
    """A network file is malformed or inconsistent (dangling link, duplicate id, ...)."""


class SchemaError(CpnsimError):
    """A dataset on disk does not have the columns or metadata cpnsim expects."""


def nearest(name: str, choices: Iterable[str]) -> str | None:
    """Return the valid name closest to ``name``, or ``None`` if nothing is close.

    Examples
    --------
    >>> nearest("horizn_h", ["horizon_h", "seed"])
    'horizon_h'
    >>> nearest("zzz", ["horizon_h", "seed"]) is None
    True
    """
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def located(source: str, key: str, message: str) -> str:
    """Format ``message`` as one line naming where it happened.

    Parameters
    ----------
    source : str
        The file (or ``--set``) the bad value came from.
    key : str
        Dotted key path inside that source, e.g. ``workload.training.gpus``;
        empty when the whole file is at fault.
    message : str
        What is wrong, with the bad value.

    Examples
    --------
    >>> located("a.toml", "site[1].gpus", "must be > 0, got -4")
    'a.toml: site[1].gpus: must be > 0, got -4'
    """
    return f"{source}: {key}: {message}" if key else f"{source}: {message}"
