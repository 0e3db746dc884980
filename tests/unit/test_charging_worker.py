"""The engine process keeps Python's collector off what survived its batches, and still frees
reference cycles; it answers a batch only once its commit is on disk."""

from __future__ import annotations

import gc
import multiprocessing
import threading
import weakref
from collections.abc import Iterator
from multiprocessing.connection import Connection

import pytest

from ocs.charging_worker import (
    EXIT_SYNC_FAILED,
    FREEZE_INTERVAL_S,
    FULL_COLLECTION_INTERVAL_S,
    Reply,
    _Acknowledger,
    _Collector,
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


# -- answers after the fsync -------------------------------------------------------------------


@pytest.fixture
def pipe() -> Iterator[tuple[Connection, Connection]]:
    engine_end, server_end = multiprocessing.Pipe(duplex=True)
    yield engine_end, server_end
    engine_end.close()
    server_end.close()


class _BlockingSync:
    """An fsync that returns only when the test lets it, counting its calls."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        self.started.release()
        assert self.release.acquire(timeout=10)


def _batch(first_id: int) -> list[Reply]:
    return [(first_id, ("OVERLOADED", f"reply {first_id}", None))]


def test_answers_wait_for_an_fsync_begun_after_their_commit(
    pipe: tuple[Connection, Connection],
) -> None:
    engine_end, server_end = pipe
    sync = _BlockingSync()
    acks = _Acknowledger(engine_end, [sync])
    acks.send(_batch(1))
    assert sync.started.acquire(timeout=10)
    assert not server_end.poll(0.2)  # committed, not yet on disk: no answer
    acks.send(_batch(2))  # the engine went on charging while batch 1 was being fsynced
    acks.send(_batch(3))
    sync.release.release()
    assert server_end.recv() == _batch(1)
    assert sync.started.acquire(timeout=10)
    assert not server_end.poll(0.2)
    sync.release.release()
    assert [server_end.recv(), server_end.recv()] == [_batch(2), _batch(3)]
    assert sync.calls == 2
    acks.close()


def test_a_failed_fsync_ends_the_engine_without_answering(
    pipe: tuple[Connection, Connection],
) -> None:
    engine_end, server_end = pipe
    exits: list[int] = []

    def failing_sync() -> None:
        raise OSError(5, "Input/output error")

    acks = _Acknowledger(engine_end, [failing_sync], die=exits.append)
    acks.send(_batch(1))
    acks.close()
    assert exits == [EXIT_SYNC_FAILED]
    assert not server_end.poll(0.2)


def test_the_engine_learns_that_the_server_is_gone(
    pipe: tuple[Connection, Connection],
) -> None:
    engine_end, server_end = pipe
    server_end.close()
    acks = _Acknowledger(engine_end, [])
    acks.send(_batch(1))
    acks.close()
    assert acks.server_gone
