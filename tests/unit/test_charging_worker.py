"""The engine process answers a batch only once its commit is on disk."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection

import pytest

from ocs.charging_worker import EXIT_SYNC_FAILED, Reply, _Acknowledger

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
