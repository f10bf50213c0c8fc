import pytest

from sim.engine import TIME_UNIT, Engine


def test_callbacks_fire_in_time_order_with_their_values():
    engine = Engine()
    seen = []
    for delay, tag in [(3.0, "c"), (1.0, "a"), (2.0, "b"), (1.0, "a2")]:
        engine.call_later(delay, lambda value: seen.append((engine.now, value)), tag)
    engine.run(until_h=10.0)
    # Equal times keep scheduling order (SimPy breaks ties by event id).
    assert seen == [(1.0, "a"), (1.0, "a2"), (2.0, "b"), (3.0, "c")]
    assert engine.now == 10.0


def test_calls_and_simpy_processes_share_one_clock_and_order():
    engine = Engine()
    seen = []

    def actor():
        for _ in range(3):
            yield engine.timeout(1.0)
            seen.append(("actor", engine.now))

    engine.process(actor())
    engine.call_later(1.5, lambda _: seen.append(("call", engine.now)), None)
    # Scheduled at t=0, before the actor schedules its t=2 wake-up at t=1: goes first.
    engine.call_later(2.0, lambda _: seen.append(("call", engine.now)), None)
    engine.run(until_h=2.5)
    assert seen == [("actor", 1.0), ("call", 1.5), ("call", 2.0), ("actor", 2.0)]
    engine.run(until_h=5.0)
    assert seen[-1] == ("actor", 3.0)
    assert engine.events == 3  # the actor's three timeouts; calls are counted by their owners


def test_run_stops_before_the_horizon_and_keeps_later_events():
    engine = Engine()
    seen = []
    engine.call_later(5.0, lambda _: seen.append(engine.now), None)
    engine.run(until_h=5.0)
    assert seen == [] and engine.now == 5.0
    engine.run(until_h=6.0)
    assert seen == [5.0]


def test_a_crashed_actor_raises_like_simpy():
    engine = Engine()

    def actor():
        yield engine.timeout(1.0)
        raise RuntimeError("boom")

    engine.process(actor())
    with pytest.raises(RuntimeError, match="boom"):
        engine.run(until_h=2.0)


def test_run_rejects_a_past_horizon():
    engine = Engine()
    engine.run(until_h=1.0)
    with pytest.raises(ValueError, match="must be greater"):
        engine.run(until_h=1.0)


def test_time_unit_is_hours():
    assert TIME_UNIT == "h"


def test_fast_path_call_at_now_h_and_heap_peek():
    engine = Engine()
    seen = []
    call_at = engine.call_at  # bound once, as hot code does
    call_at(2.0, lambda value: seen.append((engine.now_h, value)), "b")
    call_at(1.0, lambda value: seen.append((engine.now_h, value)), "a")
    assert engine.heap[0][0] == 1.0  # the next due time
    engine.run(until_h=3.0)
    assert seen == [(1.0, "a"), (2.0, "b")] and engine.now_h == engine.now == 3.0
    assert not engine.heap


def test_a_timeout_created_after_calls_starts_at_the_calls_clock():
    engine = Engine()
    seen = []

    def actor():
        yield engine.timeout(1.0)
        seen.append(engine.now)

    # A call that advances the clock (as the arrival chain does) and then starts an actor.
    def start(_):
        engine.now_h = 2.5
        engine.process(actor())

    engine.call_at(2.0, start, None)
    engine.run(until_h=10.0)
    assert seen == [3.5]


def test_an_entry_pushed_inline_orders_as_call_at_does():
    # sim.engine's contract: hot code may push call_at's entry itself; ties keep scheduling order.
    from heapq import heappush

    from sim.engine import CALL

    engine = Engine()
    seen: list[tuple[float, str]] = []

    def note(value: str) -> None:
        seen.append((engine.now_h, value))

    for k, time_h in enumerate([2.0, 1.0, 2.0, 1.0, 3.0, 2.0]):
        if k % 2:
            heappush(engine.heap, (time_h, CALL, next(engine.eid), (note, f"inline{k}")))
        else:
            engine.call_at(time_h, note, f"call_at{k}")
    engine.run(until_h=10.0)
    assert seen == [(1.0, "inline1"), (1.0, "inline3"), (2.0, "call_at0"), (2.0, "call_at2"), (2.0, "inline5"),
                    (3.0, "call_at4")]


def test_until_h_is_the_horizon_of_the_run_in_progress():
    # sim.engine's contract: a callback that handles due entries itself stops before until_h.
    engine = Engine()
    seen: list[float] = []
    engine.call_at(1.0, lambda _: seen.append(engine.until_h), None)
    engine.run(until_h=5.0)
    engine.call_at(6.0, lambda _: seen.append(engine.until_h), None)
    engine.run(until_h=8.0)
    assert seen == [5.0, 8.0] and engine.until_h == 8.0
