"""Group commit: requests that arrive while a batch is being written share the next
transaction, so durable writes cost one commit (one fsync) per batch, not per request.

A batch first runs without savepoints; when an item fails, the batch runs again with a
savepoint per item, so one failing item rolls back only its own writes.
Results are handed back only after the batch's commit returned: an answer is never sent for
a change that is not durable.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ocs.core.errors import DomainError, ProblemKind
from ocs.service.ports import Store, UnitOfWork

Result = TypeVar("Result")
Job = Callable[[UnitOfWork], Any]


class OverloadedError(DomainError):
    def __init__(self, queue_max: int) -> None:
        super().__init__(ProblemKind.OVERLOADED, f"more than {queue_max} requests are waiting")


@dataclass
class _Pending:
    job: Job
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


@dataclass
class BatchStats:
    batches: int = 0
    items: int = 0
    failed_batches: int = 0


class GroupCommitter:
    """Runs submitted jobs, each a function of the unit of work, on one writer thread.

    A job may run twice (see run_batch), so it must depend only on the unit of work."""

    def __init__(
        self,
        store: Store,
        batch_items_max: int = 256,
        queue_items_max: int = 10_000,
        name: str = "group-commit",
    ) -> None:
        self._store = store
        self._batch_items_max = batch_items_max
        self._queue_items_max = queue_items_max
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.stats = BatchStats()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish what is queued, then stop the writer thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout_s)

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    async def submit(self, job: Callable[[UnitOfWork], Result]) -> Result:
        if self._queue.qsize() >= self._queue_items_max:
            raise OverloadedError(self._queue_items_max)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.put(_Pending(job, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._batch_items_max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Pending]) -> None:
        results = run_batch(self._store, [pending.job for pending in batch], self.stats)
        outcomes = [(pending, *result) for pending, result in zip(batch, results, strict=True)]
        # One wake-up per event loop for the whole batch, not one per item.
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome[0].loop, []).append(outcome)
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, settled)


JobResult = tuple[object, BaseException | None]


def run_batch(
    store: Store,
    jobs: list[Job],
    stats: BatchStats | None = None,
    prepare: Callable[[UnitOfWork], None] | None = None,
    ended: Callable[[bool], None] | None = None,
) -> list[JobResult]:
    """Every job in one transaction, each job's result or error in order. A batch first runs
    without savepoints (two statements per item) and pipelined (uow.pipeline); when an item
    fails, its writes sank the shared transaction, so the batch runs again with a savepoint
    per item, not pipelined, and only the bad item fails. If the commit itself fails, every
    job gets that error. `prepare` runs first in each transaction (to take the batch's locks
    in a fixed order); `ended` after each, told whether it committed."""
    try:
        try:
            results = _run_jobs(store, jobs, False, prepare, ended)
        except _ItemFailedError:
            results = _run_jobs(store, jobs, True, prepare, ended)
    except Exception as exc:
        if stats is not None:
            stats.failed_batches += 1
        results = [(None, exc) for _ in jobs]
    if stats is not None:
        stats.batches += 1
        stats.items += len(jobs)
    return results


def _run_jobs(
    store: Store,
    jobs: list[Job],
    isolated: bool,
    prepare: Callable[[UnitOfWork], None] | None,
    ended: Callable[[bool], None] | None,
) -> list[JobResult]:
    committed = False
    try:
        results = _run_in_transaction(store, jobs, isolated, prepare)
        committed = True
    finally:
        if ended is not None:
            ended(committed)
    return results


def _run_in_transaction(
    store: Store, jobs: list[Job], isolated: bool, prepare: Callable[[UnitOfWork], None] | None
) -> list[JobResult]:
    results: list[JobResult] = []
    with store.transaction() as uow:
        if prepare is not None:
            prepare(uow)
        if not isolated:
            # Pipelined: a statement's error may surface in a later item or as the pipeline
            # ends, so any error is the batch's, and the isolated run finds the item.
            try:
                with uow.pipeline():
                    for job in jobs:
                        results.append((job(uow), None))
            except Exception as exc:
                raise _ItemFailedError from exc
            return results
        for job in jobs:
            try:
                with uow.savepoint():
                    results.append((job(uow), None))
            except Exception as exc:  # one bad item must not sink the batch
                results.append((None, exc))
    return results


_Outcome = tuple[_Pending, object, BaseException | None]


class _ItemFailedError(Exception):
    pass


def _settle_all(outcomes: list[_Outcome]) -> None:
    for pending, result, error in outcomes:
        _settle(pending.future, result, error)


def _settle(
    future: asyncio.Future[Result], result: Result | None, error: BaseException | None
) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
