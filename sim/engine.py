"""The event core: one SimPy environment, its time unit, and cheap callbacks.

**Simulated time is in hours.**  Every ``*_h`` quantity in cpnsim is a time on this
clock; the engine knows nothing of GPUs, prices or adoption.

Hot paths do not start a generator process per job, nor even a
:class:`simpy.events.Timeout`: :meth:`Engine.call_later` pushes a :class:`Call` — the
smallest object :meth:`simpy.Environment.step` can process (``callbacks``, ``_ok``,
``_value``) — straight onto the environment's heap with SimPy's own priority and
event-id counter, so ordering is exactly SimPy's.  That halves the cost of an event
(``benchmarks/README.md``).  It relies on SimPy's ``_queue``/``_eid``/``_now``
internals, which is why ``pyproject.toml`` pins simpy to 4.1.x and
``tests/sim/test_engine.py`` checks the contract.  Generator processes remain for
low-frequency actors such as the metric sampler.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, Event, Timeout

__all__ = ["TIME_UNIT", "Call", "Engine"]

TIME_UNIT = "h"
"""The unit of simulated time: hours."""

Callback = Callable[[Any], None]


class Call:
    """A scheduled callback: what ``Environment.step`` needs of an event, nothing more.

    ``callbacks`` is a shared tuple (``step`` only iterates it and sets the attribute to
    ``None``); ``value`` is handed to the callback as ``event.value``.
    """

    __slots__ = ("_value", "callbacks")
    _ok = True  # class attribute: a Call never fails

    def __init__(self, callbacks: tuple[Callback, ...], value: Any) -> None:
        self.callbacks: tuple[Callback, ...] | None = callbacks
        self._value = value

    @property
    def value(self) -> Any:
        """The value given to :meth:`Engine.call_later`."""
        return self._value


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
    >>> engine.call_later(2.5, lambda ev: seen.append((engine.now, ev.value)), "job")
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
        """Call ``callback(event)`` after ``delay_h`` hours; ``event.value`` is ``value``.

        Not counted in :attr:`events`: the callback counts what it simulates.
        """
        heappush(self.queue, (self.env._now + delay_h, NORMAL, next(self.eid), Call((callback,), value)))

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
        ``until_h`` stay pending), with the loop written out so that a :class:`Call`
        costs one pop and one function call: no ``step()`` frame, no callback-list
        swap.  Other SimPy events are processed exactly as ``Environment.step`` does.
        """
        env = self.env
        if until_h <= env._now:
            raise ValueError(f"until_h (={until_h}) must be greater than the current time (={env._now})")
        queue = self.queue
        pop = heappop
        while queue and queue[0][0] < until_h:
            now, _, _, event = pop(queue)
            env._now = now
            if event.__class__ is Call:
                event.callbacks[0](event)  # type: ignore[index]  # a Call has exactly one callback
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
