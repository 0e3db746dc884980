"""The engine process keeps Python's collector off what survived its batches, and still finds
reference cycles now and then."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from ocs.charging_worker import FULL_COLLECTION_INTERVAL_S, _Collector


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.collect()
    yield
    gc.unfreeze()


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_what_survives_a_batch_is_skipped_until_the_full_collection(unfrozen: None) -> None:
    now_s = [1000.0]
    collector = _Collector(lambda: now_s[0])
    cycle = _cycle()  # garbage already, but only the cyclic collector can free it
    collector.after_batch()
    assert gc.get_freeze_count() > 0
    gc.collect()
    assert cycle() is not None  # frozen: the collector does not look at it

    now_s[0] += FULL_COLLECTION_INTERVAL_S - 1
    collector.after_batch()
    assert cycle() is not None

    now_s[0] += 1
    collector.after_batch()
    assert cycle() is None  # the full collection found it


def test_cycles_made_after_the_freeze_are_collected_as_usual(unfrozen: None) -> None:
    collector = _Collector(lambda: 0.0)
    collector.after_batch()
    cycle = _cycle()
    gc.collect()
    assert cycle() is None
