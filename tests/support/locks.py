"""A writer that holds the database while a background loop polls, and a way to run the loop
beside it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from ocs.bootstrap import Services

T = TypeVar("T")
# Far below SQLite's busy timeout (30 s): a poll still waiting then waits for the writer.
POLL_WAIT_S = 10.0


@contextmanager
def writer_holding_the_database(services: Services) -> Iterator[None]:
    """A write transaction kept open: on SQLite it holds the one write lock."""
    with services.store.transaction() as uow:
        uow.settings.put("test.writer", "holding")
        yield


def run_beside(work: Callable[[], T]) -> T:
    """`work`'s result, run on another thread; fails if it is still waiting after POLL_WAIT_S."""
    outcome: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(POLL_WAIT_S)
    assert not thread.is_alive(), f"still waiting after {POLL_WAIT_S} s: it waits for the writer"
    if errors:
        raise errors[0]
    return outcome[0]
