"""The engine process keeps Python's collector off what survived its batches, and still frees
reference cycles."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from ocs.charging_worker import FREEZE_INTERVAL_S, FULL_COLLECTION_INTERVAL_S, _Collector


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
    _Collector(lambda: clock_s[0])
    assert cycle() is None
    assert gc.get_freeze_count() > 0


def test_a_batch_s_garbage_cycles_are_freed_before_the_freeze(clock_s: list[float]) -> None:
    collector = _Collector(lambda: clock_s[0])
    cycle = _cycle()[1]
    clock_s[0] += FREEZE_INTERVAL_S
    collector.after_batch()
    assert cycle() is None


def test_what_was_alive_at_the_freeze_waits_for_the_full_collection(
    clock_s: list[float],
) -> None:
    collector = _Collector(lambda: clock_s[0])
    node, cycle = _cycle()
    clock_s[0] += FREEZE_INTERVAL_S
    collector.after_batch()  # frozen while still in use
    del node
    gc.collect()
    assert cycle() is not None  # frozen: the collector does not look at it

    clock_s[0] += FREEZE_INTERVAL_S
    collector.after_batch()  # a second later: collects and freezes only the new objects
    assert cycle() is not None

    clock_s[0] += FULL_COLLECTION_INTERVAL_S
    collector.after_batch()
    assert cycle() is None  # the full collection found it


def test_between_freezes_a_batch_leaves_the_collector_alone(clock_s: list[float]) -> None:
    collector = _Collector(lambda: clock_s[0])
    frozen = gc.get_freeze_count()
    kept = [_Node() for _ in range(10)]
    collector.after_batch()  # within the second: no collection, no freeze
    assert gc.get_freeze_count() == frozen
    clock_s[0] += FREEZE_INTERVAL_S
    collector.after_batch()
    assert gc.get_freeze_count() >= frozen + len(kept)
