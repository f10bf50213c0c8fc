"""The event core: one SimPy environment, its time unit, and cheap callbacks.

**Simulated time is in hours.**  Every ``*_h`` quantity in cpnsim is a time on this
clock; the engine knows nothing of GPUs, prices or adoption.

Hot paths do not start a generator process per job, nor even create a
:class:`simpy.events.Timeout`.  A *call* — a callback and the value it is called with —
goes onto the environment's own heap with SimPy's priority and event-id counter, so
calls and SimPy events share one clock and one order (ties broken by scheduling order,
exactly as SimPy does).  :meth:`Engine.run` is SimPy's ``run`` loop written out with a
fast path for calls: one pop and one function call each, no event object, no callback
list (``benchmarks/README.md`` measures it).  Generator processes remain for
low-frequency actors (metric sampler, arrival steps) and are processed exactly as
``Environment.step`` would.

This is the only module that touches SimPy's internals (``_queue``, ``_eid``, ``_now``
and the layout of a heap entry), which is why ``pyproject.toml`` pins simpy to 4.1.x and
``tests/sim/test_engine.py`` checks the contract below.

The fast-path contract
----------------------
Hot code captures these once (in ``__init__``) and uses them without a method call:

* :attr:`Engine.now_h` — the clock (h), a plain attribute: read it, never cache it
  across calls.  A callback that handles several due items in one call (the arrival
  chain of :class:`sim.model.Model`) sets it to each item's time before handling it.
* :attr:`Engine.call_at` — ``call_at(time_h, callback, value)``: a function (not a
  bound method) that schedules ``callback(value)`` at absolute time ``time_h`` with one
  heap push; bind it to a local or a slot.
* :attr:`Engine.heap` — the pending entries, a heap whose entries start with their
  time (h): ``heap[0][0]`` is the next due time.  Schedule with :attr:`call_at`, or,
  on the hottest paths only, push the entry it would push yourself:
  ``heappush(heap, (time_h, CALL, next(engine.eid), (callback, value)))`` — the same
  entry without the extra Python frame (``benchmarks/README.md``, "Issue 20, fifth
  slice: the per-job path"; ``tests/sim/test_engine.py`` checks both give the same order).
* :attr:`Engine.eid` — SimPy's event-id counter (``next(eid)``: the tie-breaker of
  equal times, in scheduling order).
* :attr:`Engine.until_h` and :meth:`Engine.fire` — a callback called by :meth:`run` may
  itself pop and handle the heap's entries that are due before a time of its own, as
  :meth:`run` would (set :attr:`now_h` to the entry's time; a call ``(callback, value)``
  is called, anything else goes to :meth:`fire`), provided that time is before
  :attr:`until_h`.  The arrival chain of :class:`sim.model.Model` does this instead of
  pushing its next arrival and returning: it compares that arrival's would-be key
  ``(time_h, CALL, next(eid))`` with ``heap[0]``, so the order (ties included) and even
  the event ids are those of the push (``benchmarks/README.md``, "Issue 20, sixth
  slice: every job recorded"; ``tests/sim/test_model.py`` checks the tables).

Calls never create SimPy events, so SimPy's own clock is brought up to :attr:`now_h`
only where SimPy reads it (before a SimPy event, a new timeout or process), which keeps
one clock store per event.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from typing import Any, Final

import simpy
from simpy.events import NORMAL, Event, Timeout

__all__ = ["CALL", "TIME_UNIT", "CallAt", "Callback", "Engine", "heappop", "heappush", "next_id"]

TIME_UNIT = "h"
"""The unit of simulated time: hours."""

CALL: Final[int] = NORMAL
"""The priority field of a call's heap entry: SimPy's ``NORMAL``, as for a timeout."""

# The heap functions and ``next`` as Final names, for the modules that push and pop entries inline.
# Compiled (mypyc), a Final module name is a C static: a call reads it directly, where a plain
# imported name (or the builtin ``next``) is a dictionary look-up in the module's globals at every
# call (benchmarks/README.md, "Issue 20: typed for the compiled build").  Interpreted, they are the same functions.
heappush: Final = heapq.heappush
"""``heapq.heappush``."""
heappop: Final = heapq.heappop
"""``heapq.heappop``."""
next_id: Final = next
"""The builtin ``next``: ``next_id(engine.eid)`` takes the next event id."""

Callback = Callable[[Any], None]
"""A hot-path callback: called with the value it was scheduled with."""

CallAt = Callable[[float, Callback, Any], None]
"""``call_at(time_h, callback, value)``: schedule ``callback(value)`` at absolute time ``time_h`` (h)."""


class Engine:
    """A SimPy environment, the fast path onto its heap, and a count of the logical events simulated.

    Parameters
    ----------
    start_h : float
        Simulated time at the start, in hours.

    Attributes
    ----------
    now_h : float
        The current simulated time, hours (see the fast-path contract above).
    call_at : CallAt
        Schedule a call at an absolute time, hours; a plain function for hot loops.
    heap : list
        The pending entries, ordered by time; read ``heap[0][0]`` for the next due time.
    eid : iterator of int
        The event-id counter entries are numbered with (see the fast-path contract).
    until_h : float
        The horizon of the :meth:`run` in progress (of the last one after it), hours:
        callbacks that handle due entries themselves stop before it.
    events : int
        Logical events simulated: arrivals, finishes and low-frequency wake-ups.
        Owners of hot paths count their own (an arrival handled inside another
        arrival's callback still counts as one event).

    Examples
    --------
    >>> seen = []
    >>> engine = Engine()
    >>> engine.call_later(2.5, lambda value: seen.append((engine.now, value)), "job")
    >>> engine.call_at(1.0, lambda value: seen.append((engine.now_h, value)), "first")
    >>> engine.run(until_h=10.0)
    >>> seen
    [(1.0, 'first'), (2.5, 'job')]
    """

    __slots__ = ("_env", "call_at", "eid", "events", "heap", "now_h", "until_h")

    def __init__(self, start_h: float = 0.0) -> None:
        env = simpy.Environment(initial_time=start_h)
        self._env = env
        self.now_h: float = start_h
        self.until_h: float = start_h  # no run yet: nothing is due before it
        heap: list[tuple[float, int, int, Any]] = env._queue  # type: ignore[assignment]
        eid = env._eid
        self.heap = heap
        self.eid = eid

        def call_at(time_h: float, callback: Callback, value: Any, _push: Any = heappush, _heap: Any = heap,
                    _normal: int = NORMAL, _next: Any = next, _eid: Any = eid) -> None:
            # A heap entry as SimPy builds one, with the call in the event's place.  The
            # defaults are never passed: they make every name a local (the fastest lookup),
            # since this runs once per job.
            _push(_heap, (time_h, _normal, _next(_eid), (callback, value)))

        self.call_at: CallAt = call_at
        self.events = 0

    @property
    def now(self) -> float:
        """Current simulated time in hours (for low-frequency code; hot paths read :attr:`now_h`)."""
        return float(self.now_h)

    def call_later(self, delay_h: float, callback: Callback, value: Any) -> None:
        """Call ``callback(value)`` after ``delay_h`` hours.

        Not counted in :attr:`events`: the callback counts what it simulates.
        """
        self.call_at(self.now_h + delay_h, callback, value)

    def process(self, generator: Generator[Event, Any, Any]) -> None:
        """Start a low-frequency generator process (sampler, step actors)."""
        self._env._now = self.now_h
        self._env.process(generator)

    def timeout(self, delay_h: float) -> Timeout:
        """A timeout for generator processes; counted as one event."""
        self.events += 1
        self._env._now = self.now_h
        return Timeout(self._env, delay_h)

    def run(self, until_h: float) -> None:
        """Process events up to (not including) ``until_h`` hours, then set the clock to it.

        The same semantics as ``Environment.run(until=until_h)`` (events at exactly
        ``until_h`` stay pending), with the loop written out so that a call costs one
        pop and one function call.  SimPy events are processed exactly as
        ``Environment.step`` does.
        """
        env = self._env
        if until_h <= self.now_h:
            raise ValueError(f"until_h (={until_h}) must be greater than the current time (={self.now_h})")
        self.until_h = until_h
        queue = self.heap
        pop = heappop
        fire = self.fire
        while queue:
            entry = pop(queue)
            now = entry[0]
            if now >= until_h:
                # Put it back: entries are totally ordered (unique ids), so the pops to come are
                # unchanged; one push at the horizon instead of a peek at every event.
                heappush(queue, entry)
                break
            self.now_h = now
            event = entry[3]
            if type(event) is tuple:
                event[0](event[1])
                continue
            fire(event)
        env._now = self.now_h = until_h

    def fire(self, event: Event) -> None:
        """Process a SimPy event popped from :attr:`heap` at :attr:`now_h`, exactly as ``Environment.step`` does."""
        self._env._now = self.now_h
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            # A failed event nobody waited for (e.g. a crashed actor process): re-raise
            # as Environment.step does.
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
