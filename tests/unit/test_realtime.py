"""The collector keeps Python's cyclic collector off what survived, and still frees reference
cycles, in the engine (ticked after each batch) and in the server (ticked from its event
loop); threads take turns on the GIL in half a millisecond."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
import weakref
from collections.abc import Iterator

import pytest

from ocs.realtime import (
    FREEZE_INTERVAL_S,
    FULL_COLLECTION_INTERVAL_S,
    GIL_SWITCH_INTERVAL_S,
    FreezingCollector,
    collect_forever,
    shorten_gil_turns,
)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def clock_s() -> Iterator[list[float]]:
    gc.collect()
    yield [1000.0]
    gc.unfreeze()


def _cycle() -> tuple[_Node, weakref.ref[_Node]]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


def test_start_up_is_frozen_at_once(clock_s: list[float]) -> None:
    cycle = _cycle()[1]  # already garbage: only the cyclic collector can free it
    FreezingCollector(lambda: clock_s[0])
    assert cycle() is None
    assert gc.get_freeze_count() > 0


def test_a_batch_s_garbage_cycles_are_freed_before_the_freeze(clock_s: list[float]) -> None:
    collector = FreezingCollector(lambda: clock_s[0])
    cycle = _cycle()[1]
    clock_s[0] += FREEZE_INTERVAL_S
    collector.tick()
    assert cycle() is None


def test_what_was_alive_at_the_freeze_waits_for_the_full_collection(
    clock_s: list[float],
) -> None:
    collector = FreezingCollector(lambda: clock_s[0])
    node, cycle = _cycle()
    clock_s[0] += FREEZE_INTERVAL_S
    collector.tick()  # frozen while still in use
    del node
    gc.collect()
    assert cycle() is not None  # frozen: the collector does not look at it

    clock_s[0] += FREEZE_INTERVAL_S
    collector.tick()  # a second later: collects and freezes only the new objects
    assert cycle() is not None

    clock_s[0] += FULL_COLLECTION_INTERVAL_S
    collector.tick()
    assert cycle() is None  # the full collection found it


def test_between_freezes_a_batch_leaves_the_collector_alone(clock_s: list[float]) -> None:
    collector = FreezingCollector(lambda: clock_s[0])
    frozen = gc.get_freeze_count()
    kept = [_Node() for _ in range(10)]
    collector.tick()  # within the second: no collection, no freeze
    assert gc.get_freeze_count() == frozen
    clock_s[0] += FREEZE_INTERVAL_S
    collector.tick()
    assert gc.get_freeze_count() >= frozen + len(kept)


def test_an_event_loop_ticks_the_collector_between_its_callbacks(clock_s: list[float]) -> None:
    collector = FreezingCollector(lambda: clock_s[0])
    frozen = gc.get_freeze_count()

    async def serve_a_while() -> weakref.ref[_Node]:
        ticking = asyncio.create_task(collect_forever(collector, interval_s=0.01))
        cycle = _cycle()[1]
        clock_s[0] += FREEZE_INTERVAL_S
        await asyncio.sleep(0.05)  # several ticks: one of them is a second "later"
        ticking.cancel()
        return cycle

    cycle = asyncio.run(serve_a_while())
    assert cycle() is None  # the tick collected the loop's garbage cycle
    assert gc.get_freeze_count() > frozen  # and froze what the loop left alive


@pytest.fixture
def switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def _handover_s() -> float:
    """How long a thread that wakes waits for the GIL while this one runs Python."""
    woke: list[float] = []
    waker = threading.Event()

    def wake() -> None:
        waker.wait()
        woke.append(time.perf_counter())

    thread = threading.Thread(target=wake)
    thread.start()
    started = time.perf_counter()
    waker.set()
    while not woke and time.perf_counter() - started < 1.0:
        pass  # pure Python: holds the GIL until asked to let go
    thread.join()
    return woke[0] - started


def test_a_waking_thread_gets_the_gil_within_half_a_millisecond(switch_interval: None) -> None:
    shorten_gil_turns()
    assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_INTERVAL_S)
    assert min(_handover_s() for _ in range(5)) < 0.004  # the default lets it wait 5 ms
