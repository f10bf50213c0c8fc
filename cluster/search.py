"""Capacity search: the least added GPU capacity for which an outcome reaches a target.

The outcome is the mean over replications of a numeric ``runs`` column (by default
``adoption_frac_end``, adoption at the horizon) at ``added`` extra GPUs, spread over the
varied sites in proportion to their present GPUs.  The search brackets the least
``added`` in [0, ``max_added``] by k-section: each round evaluates ``k`` equally spaced
points strictly inside the bracket at once (one scenario each, run by a sweep executor,
so Ray runs them in parallel; ``k = 1`` is bisection) until the bracket is at most
``tolerance`` GPUs wide.

Every point uses the scenario's seed, i.e. the same random streams (common random
numbers): the difference between two capacities is then not blurred by independent
noise, and the response is in practice monotone even where single replications scatter.
Where it is not — a point reaches the target while a larger one does not (seen only
when a round evaluates several points) — the bracket is taken conservatively: its upper
end is the least evaluated capacity above which every evaluated point reaches the
target, and the violations are reported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sim.placement.west import is_western
from topology.model import Network
from topology.plumbing import ConfigError, nearest
from workloads.adoption import HOURS_PER_YEAR

__all__ = [
    "DEFAULT_MIN_REPLICATIONS",
    "TARGET_ALIASES",
    "Point",
    "SearchResult",
    "Target",
    "Vary",
    "horizon_for_year",
    "k_section",
    "parse_target",
    "parse_vary",
    "replication_ci",
]

DEFAULT_MIN_REPLICATIONS = 5
"""Replications per point unless ``replications`` is set explicitly (a scenario with more keeps its own)."""
TARGET_ALIASES = {"adoption": "adoption_frac_end"}
"""Short names ``--target`` accepts for ``runs`` columns."""
WEST = "west_gpus"
_TARGET = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|=)\s*(\S+)\s*$")
_SITE_KEY = re.compile(r"^sites\.([^.]+)\.gpus$")


@dataclass(frozen=True)
class Target:
    """A target on the replication mean of a ``runs`` column.

    Attributes
    ----------
    column : str
        The ``runs`` column.
    value : float
        The target, in the column's unit.
    sense : {">=", "<="}
        Reached when the mean is at least (``>=``, also written ``=``) or at most ``value``.
    """

    column: str
    value: float
    sense: Literal[">=", "<="] = ">="

    def reached(self, mean: float) -> bool:
        """Whether a replication mean reaches the target (a NaN mean never does)."""
        if math.isnan(mean):
            return False
        return mean >= self.value if self.sense == ">=" else mean <= self.value

    def __str__(self) -> str:
        return f"{self.column} {self.sense} {self.value:g}"


def parse_target(text: str) -> Target:
    """Parse ``--target``: ``COLUMN=VALUE`` (at least), ``COLUMN>=VALUE`` or ``COLUMN<=VALUE``.

    Examples
    --------
    >>> parse_target("adoption=0.8")
    Target(column='adoption_frac_end', value=0.8, sense='>=')
    >>> parse_target("wait_mean_h<=2")
    Target(column='wait_mean_h', value=2.0, sense='<=')
    """
    match = _TARGET.match(text)
    if not match:
        raise ConfigError(f"--target: expected COLUMN=VALUE, COLUMN>=VALUE or COLUMN<=VALUE, got {text!r}")
    column, op, raw = match.groups()
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"--target: {column}: expected a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"--target: {column}: expected a finite number, got {raw!r}")
    return Target(TARGET_ALIASES.get(column, column), value, "<=" if op == "<=" else ">=")


@dataclass(frozen=True)
class Vary:
    """The sites whose GPUs the search adds to.

    Attributes
    ----------
    name : str
        ``west_gpus`` or ``sites.<id>.gpus``.
    sites : tuple of str
        Site ids.
    base_gpus : tuple of int
        Their GPUs in the scenario (GPUs).
    """

    name: str
    sites: tuple[str, ...]
    base_gpus: tuple[int, ...]

    @property
    def base_total(self) -> int:
        """GPUs at the varied sites before any is added."""
        return sum(self.base_gpus)

    def allocate(self, added: int) -> dict[str, int]:
        """GPUs of each varied site with ``added`` GPUs spread in proportion to its present GPUs.

        Largest-remainder rounding: the shares are whole GPUs that add up to ``added``
        exactly (ties go to the earlier site).

        Examples
        --------
        >>> Vary("west_gpus", ("a", "b"), (1024, 512)).allocate(1001)
        {'a': 1691, 'b': 846}
        """
        shares = [added * g / self.base_total for g in self.base_gpus]
        whole = [math.floor(s) for s in shares]
        order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - whole[i]), i))
        for i in order[: added - sum(whole)]:
            whole[i] += 1
        return {site: g + w for site, g, w in zip(self.sites, self.base_gpus, whole, strict=True)}


def parse_vary(text: str, network: Network) -> Vary:
    """Parse ``--vary``: ``west_gpus`` (every western site, see :func:`sim.placement.west.is_western`)
    or ``sites.<id>.gpus`` (one site) of ``network`` (overrides applied).

    Raises
    ------
    ConfigError
        An unknown form or site, or a network without western sites.
    """
    if text == WEST:
        west = [s for s in network.sites if is_western(s)]
        if not west:
            raise ConfigError(f"--vary: {WEST}: network {network.name!r} has no western site")
        return Vary(WEST, tuple(s.id for s in west), tuple(s.gpus for s in west))
    match = _SITE_KEY.match(text)
    if not match:
        raise ConfigError(f"--vary: expected {WEST} or sites.<site id>.gpus, got {text!r}")
    ids = [s.id for s in network.sites]
    site = next((s for s in network.sites if s.id == match.group(1)), None)
    if site is None:
        hint = nearest(match.group(1), ids)
        tail = f"did you mean '{hint}'?" if hint else "sites: " + ", ".join(ids)
        raise ConfigError(f"--vary: {text}: no site {match.group(1)!r} in network {network.name!r} ({tail})")
    return Vary(text, (site.id,), (site.gpus,))


def horizon_for_year(by_year: int, start_year: int) -> float:
    """Simulated hours from 1 January of ``start_year`` (t = 0) to the end of ``by_year``.

    Years of 8766 h (365.25 days), the adoption model's year.

    Examples
    --------
    >>> horizon_for_year(2027, 2025)  # examples/adoption.toml: 2025-2027
    26298.0
    """
    if by_year < start_year:
        raise ConfigError(f"--by: {by_year} is before the start year {start_year}")
    return (by_year - start_year + 1) * HOURS_PER_YEAR


def replication_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval of ``values`` (NaN half-width for one value).

    Examples
    --------
    >>> mean, half = replication_ci([1.0, 2.0, 3.0])
    >>> mean, round(half, 4)
    (2.0, 2.4841)
    """
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, math.nan
    from scipy.stats import t as student_t  # deferred: scipy.stats takes ~0.5 s to import

    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, float(student_t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)


@dataclass(frozen=True)
class Point:
    """One evaluated capacity.

    Attributes
    ----------
    round : int
        Search round that evaluated it (0: the ends of the range).
    added_gpus : int
        GPUs added to the varied sites (GPUs).
    mean, ci_half : float
        Replication mean of the target column and the half-width of its confidence interval.
    values : tuple of float
        The column in each replication.
    reached : bool
        Whether ``mean`` reaches the target.
    scenario_id : str
        The evaluated scenario.
    """

    round: int
    added_gpus: int
    mean: float
    ci_half: float
    values: tuple[float, ...]
    reached: bool
    scenario_id: str = ""

    def overlaps(self, other: Point) -> bool:
        """Whether the confidence intervals of this point and ``other`` overlap (the two cannot be told apart).

        True also when either interval is unknown (one replication).

        Examples
        --------
        >>> a, b = Point(0, 0, 0.50, 0.01, (), False), Point(1, 9, 0.515, 0.01, (), True)
        >>> a.overlaps(b), a.overlaps(Point(1, 9, 0.53, 0.01, (), True))
        (True, False)
        """
        if math.isnan(self.ci_half) or math.isnan(other.ci_half):
            return True
        return abs(self.mean - other.mean) <= self.ci_half + other.ci_half

    def difference(self, base: Point, confidence: float = 0.95) -> tuple[float, float]:
        """Mean and interval half-width of ``self − base``, paired replication by replication.

        Every point runs the same seeds (common random numbers), so replication *r* of two
        points shares its random streams and the paired difference is far less noisy than
        either mean.  NaN half-width with fewer than two pairs or unequal replications.

        Examples
        --------
        >>> a, b = Point(0, 0, 0.5, 0.1, (0.4, 0.5, 0.6), False), Point(1, 9, 0.51, 0.1, (0.41, 0.51, 0.61), True)
        >>> mean, half = b.difference(a)
        >>> round(mean, 6), round(half, 6)
        (0.01, 0.0)
        """
        if len(self.values) != len(base.values) or len(self.values) < 2:
            return self.mean - base.mean, math.nan
        return replication_ci([x - y for x, y in zip(self.values, base.values, strict=True)], confidence)

    def indistinct_from(self, base: Point, confidence: float = 0.95) -> bool:
        """Whether this point cannot be told apart from ``base``: the paired difference's interval holds 0.

        Without a paired interval (one replication, unequal replications), whether the two
        points' own intervals :meth:`overlap <overlaps>` (true when either is unknown).
        """
        mean, half = self.difference(base, confidence)
        if math.isnan(half):
            return self.overlaps(base)
        return abs(mean) <= half

    def straddles(self, target: Target) -> bool:
        """Whether the target lies inside this point's confidence interval."""
        return not math.isnan(self.ci_half) and abs(self.mean - target.value) <= self.ci_half


@dataclass(frozen=True)
class SearchResult:
    """The outcome of :func:`k_section`.

    Attributes
    ----------
    status : {"found", "at_zero", "not_reached"}
        Found a bracket; reached with nothing added; not reached at ``max_added``.
    lo, hi : int or None
        The bracket (GPUs added): the target is not reached at ``lo`` and is at ``hi``
        and every evaluated point above it.  ``hi`` is the answer.
    points : tuple of Point
        Every evaluated point, in evaluation order.
    nonmonotone : tuple of (int, int)
        Pairs (reached at a, not reached at b > a) among the evaluated points.
    """

    status: Literal["found", "at_zero", "not_reached"]
    lo: int | None
    hi: int | None
    points: tuple[Point, ...]
    nonmonotone: tuple[tuple[int, int], ...] = field(default=())

    def point(self, added: int | None) -> Point | None:
        """The evaluated point at ``added`` GPUs, if any."""
        return next((p for p in self.points if p.added_gpus == added), None)


Evaluate = Callable[[Sequence[int], int], list[Point]]
"""``evaluate(added_values, round)``: the points at these capacities (evaluated together)."""


def _bracket(points: Sequence[Point]) -> tuple[int, int, list[tuple[int, int]]]:
    by_added = sorted(points, key=lambda p: p.added_gpus)
    # hi: the least reached capacity above which every evaluated capacity reaches the target.
    hi_index = len(by_added) - 1
    while hi_index > 0 and by_added[hi_index - 1].reached:
        hi_index -= 1
    hi = by_added[hi_index].added_gpus
    lo = max(p.added_gpus for p in by_added if not p.reached and p.added_gpus < hi)
    bad = [(p.added_gpus, lo) for p in by_added if p.reached and p.added_gpus < lo]
    return lo, hi, bad


def k_section(evaluate: Evaluate, max_added: int, tolerance: int = 1, per_round: int = 1) -> SearchResult:
    """Search [0, ``max_added``] GPUs for the least capacity that reaches the target.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(added_values, round)`` returns the :class:`Point` of each value.
    max_added : int
        Upper end of the range (GPUs, >= 1).
    tolerance : int
        Stop when the bracket is at most this many GPUs wide (>= 1).
    per_round : int
        Points evaluated together per round (>= 1; 1 is bisection).

    Examples
    --------
    >>> def f(values, rnd):
    ...     return [Point(rnd, v, float(v), 0.0, (float(v),), v >= 37) for v in values]
    >>> r = k_section(f, 100)
    >>> r.status, r.lo, r.hi, len(r.points)
    ('found', 36, 37, 8)
    """
    if max_added < 1 or tolerance < 1 or per_round < 1:
        raise ValueError(f"need max_added, tolerance, per_round >= 1, got {max_added}, {tolerance}, {per_round}")
    # The two ends together when points run in parallel; one at a time, zero first (it may settle it).
    points = list(evaluate([0, max_added] if per_round > 1 else [0], 0))
    if points[0].reached:
        return SearchResult("at_zero", None, 0, tuple(points))
    if len(points) == 1:
        points.extend(evaluate([max_added], 0))
    ends = {p.added_gpus: p for p in points}
    if not ends[max_added].reached:
        return SearchResult("not_reached", max_added, None, tuple(points))
    lo, hi, bad = 0, max_added, list[tuple[int, int]]()
    rnd = 0
    while hi - lo > tolerance:
        rnd += 1
        inside = sorted({lo + round((hi - lo) * j / (per_round + 1)) for j in range(1, per_round + 1)} - {lo, hi})
        points.extend(evaluate(inside, rnd))
        lo, hi, bad = _bracket(points)
    return SearchResult("found", lo, hi, tuple(points), tuple(bad))
