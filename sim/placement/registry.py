"""The placement policies by name: :func:`register_policy` and the read-only view :data:`POLICIES`.

A scenario names its policy (``policy = "nearest"``); the scenario is validated against
:data:`POLICIES` and :class:`sim.model.Model` builds ``POLICIES[name](context)``.  The
built-in policies are registered by :mod:`sim.placement`; a custom one is a
:class:`~sim.placement.base.Policy` subclass filling ``choose``, registered before the
scenario is loaded::

    from sim.placement import REJECT, Policy, register_policy

    class FirstFit(Policy):
        def choose(self, origin, gpus, cls):
            return next((j for j in self.by_latency[origin] if self.pools[j].total >= gpus), REJECT)

    register_policy("first_fit", FirstFit)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sim.placement.base import Policy

__all__ = ["POLICIES", "register_policy", "unregister_policy"]

_REGISTRY: dict[str, type[Policy]] = {}

POLICIES: Mapping[str, type[Policy]] = MappingProxyType(_REGISTRY)
"""Every registered policy by the name a scenario uses; a read-only view (register with :func:`register_policy`)."""


def register_policy(name: str, cls: type[Policy]) -> None:
    """Make ``cls`` available to scenarios as ``policy = "<name>"``.

    Parameters
    ----------
    name : str
        The name scenarios use: an identifier (letters, digits, underscores).
    cls : type of Policy
        Built once per replication as ``cls(context)`` with a
        :class:`~sim.placement.base.PlacementContext`.

    Raises
    ------
    ValueError
        ``name`` is not an identifier, or is taken by another class.
    TypeError
        ``cls`` is not a :class:`~sim.placement.base.Policy` subclass.

    Examples
    --------
    >>> from sim.placement import LeastLoaded
    >>> register_policy("least_loaded", LeastLoaded)  # the same class again: no change
    >>> register_policy("least loaded", LeastLoaded)
    Traceback (most recent call last):
    ...
    ValueError: policy name 'least loaded' must be an identifier (letters, digits, underscores)
    """
    if not name.isidentifier():
        raise ValueError(f"policy name {name!r} must be an identifier (letters, digits, underscores)")
    if not (isinstance(cls, type) and issubclass(cls, Policy)):
        raise TypeError(f"policy {name!r}: {cls!r} is not a subclass of sim.placement.Policy")
    known = _REGISTRY.get(name)
    if known is not None and known is not cls:
        raise ValueError(f"policy name {name!r} is taken by {known.__module__}.{known.__qualname__}")
    _REGISTRY[name] = cls


def unregister_policy(name: str) -> None:
    """Remove the policy registered as ``name`` (a plug-in unloading, a test cleaning up).

    Raises
    ------
    KeyError
        No policy is registered as ``name``.
    """
    if name not in _REGISTRY:
        raise KeyError(f"no policy registered as {name!r}")
    del _REGISTRY[name]
