"""The event core: one SimPy environment, its time unit, and cheap callbacks.

**Simulated time is in hours.**  Every ``*_h`` quantity in cpnsim is a time on this
clock; the engine knows nothing of GPUs, prices or adoption.

Hot paths do not start a generator process per job, nor even create a
:class:`simpy.events.Timeout`.  :meth:`Engine.call_later` pushes a *call* — the plain
tuple ``(callback, value)`` — onto the environment's own heap, with SimPy's priority
and event-id counter, so calls and SimPy events share one clock and one order (ties
broken by scheduling order, exactly as SimPy does).  :meth:`Engine.run` is SimPy's
``run`` loop written out with a fast path for calls: one pop and one function call
each, no event object, no callback list (``benchmarks/README.md`` measures it).  This
relies on SimPy's ``_queue``/``_eid``/``_now`` internals, which is why
``pyproject.toml`` pins simpy to 4.1.x and ``tests/sim/test_engine.py`` checks the
contract.  Generator processes remain for low-frequency actors (metric sampler,
arrival steps) and are processed exactly as ``Environment.step`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, Event, Timeout

__all__ = ["TIME_UNIT", "Callback", "Engine"]

TIME_UNIT = "h"
"""The unit of simulated time: hours."""

Callback = Callable[[Any], None]
"""A hot-path callback: called with the value given to :meth:`Engine.call_later`."""


class Engine:
    """A SimPy environment plus a count of the logical events simulated.

    Parameters
    ----------
    start_h : float
        Simulated time at the start, in hours.

    Examples
    --------
    >>> seen = []
    >>> engine = Engine()
    >>> engine.call_later(2.5, lambda value: seen.append((engine.now, value)), "job")
    >>> engine.run(until_h=10.0)
    >>> seen
    [(2.5, 'job')]
    """

    def __init__(self, start_h: float = 0.0) -> None:
        self.env = simpy.Environment(initial_time=start_h)
        self.queue: list[tuple[float, int, int, Any]] = self.env._queue  # type: ignore[assignment]
        self.eid = self.env._eid
        self.events = 0
        """Logical events simulated: arrivals, finishes and low-frequency wake-ups.

        Owners of hot paths count their own (an arrival handled inside another
        arrival's callback still counts as one event)."""

    @property
    def now(self) -> float:
        """Current simulated time in hours."""
        return float(self.env._now)

    def call_later(self, delay_h: float, callback: Callback, value: Any) -> None:
        """Call ``callback(value)`` after ``delay_h`` hours.

        Not counted in :attr:`events`: the callback counts what it simulates.
        """
        heappush(self.queue, (self.env._now + delay_h, NORMAL, next(self.eid), (callback, value)))

    def process(self, generator: Generator[Event, Any, Any]) -> None:
        """Start a low-frequency generator process (sampler, step actors)."""
        self.env.process(generator)

    def timeout(self, delay_h: float) -> Timeout:
        """A timeout for generator processes; counted as one event."""
        self.events += 1
        return Timeout(self.env, delay_h)

    def run(self, until_h: float) -> None:
        """Process events up to (not including) ``until_h`` hours, then set the clock to it.

        The same semantics as ``Environment.run(until=until_h)`` (events at exactly
        ``until_h`` stay pending), with the loop written out so that a call costs one
        pop and one function call.  SimPy events are processed exactly as
        ``Environment.step`` does.
        """
        env = self.env
        if until_h <= env._now:
            raise ValueError(f"until_h (={until_h}) must be greater than the current time (={env._now})")
        queue = self.queue
        pop = heappop
        while queue and queue[0][0] < until_h:
            now, _, _, event = pop(queue)
            env._now = now
            if event.__class__ is tuple:
                event[0](event[1])
                continue
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                # A failed event nobody waited for (e.g. a crashed actor process): re-raise
                # as Environment.step does.
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        env._now = until_h
