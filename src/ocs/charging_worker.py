"""The charging engine in its own process, so that it has a core of its own.

Python runs one thread at a time per process: in one process the Diameter event loop (decode,
encode, sockets) and the charging writer (rating, SQL) take turns on one core. Here the
server process keeps the network side and a child process owns the engine, its wallet cache
and the group commit; they talk over a pipe.

Group commit carries over: the child takes every request waiting in the pipe (up to a batch
maximum), runs them in one transaction (`run_batch`), and only then sends their decisions
back, so an answer still leaves only after its change is durable. The child also runs the
reservation expiry sweep. If the child dies, waiting requests fail (the network retries them
and stored answers keep retries from charging twice) and a new child starts. If the server
process dies, the child sees the pipe close and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import queue
import threading
import time
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from ocs.config import Settings
from ocs.core.charging import ChargingDecision, ChargingRequest
from ocs.core.errors import DomainError, ProblemKind
from ocs.service.group_commit import Job, JobResult, OverloadedError, run_batch

log = logging.getLogger("ocs.charging")

BATCH_REQUESTS_MAX = 256
RESPAWN_DELAY_S = 1.0
SENDER_POLL_S = 0.5
# A reply line: (request id, decision) or (request id, (problem kind, detail, field)).
Reply = tuple[int, ChargingDecision | tuple[str, str, str | None]]


class ChargingWorker:
    """The server side: hands requests to the engine process and awaits their decisions."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._ids = itertools.count()
        self._pending: dict[int, asyncio.Future[ChargingDecision]] = {}
        self._outbox: queue.SimpleQueue[tuple[int, ChargingRequest] | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._child: _Child | None = None

    def start(self) -> None:
        self._child = self._spawn()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping = True
        child = self._child
        if child is None:
            return
        self._outbox.put(None)
        child.process.join(timeout_s)
        if child.process.is_alive():
            child.process.kill()
        child.conn.close()

    async def decide(self, request: ChargingRequest) -> ChargingDecision:
        if len(self._pending) >= self._settings.charging_queue_requests_max:
            raise OverloadedError(self._settings.charging_queue_requests_max)
        self._loop = asyncio.get_running_loop()
        future: asyncio.Future[ChargingDecision] = self._loop.create_future()
        request_id = next(self._ids)
        self._pending[request_id] = future
        self._outbox.put((request_id, request))
        return await future

    # -- the child's life ------------------------------------------------------------------

    def _spawn(self) -> _Child:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=run_engine_process,
            args=(self._settings, theirs),
            name="ocs-charging",
            daemon=True,
        )
        process.start()
        theirs.close()
        # No waiting for the child here: requests queue in the pipe until it is ready.
        child = _Child(process, ours)
        threading.Thread(
            target=self._send, args=(child,), name="charging-send", daemon=True
        ).start()
        threading.Thread(target=self._receive, args=(child,), name="charging-receive",
                         daemon=True).start()  # fmt: skip
        return child

    def _send(self, child: _Child) -> None:
        """Forward queued requests, all that are waiting in one message."""
        while not child.closed:
            try:
                first = self._outbox.get(timeout=SENDER_POLL_S)
            except queue.Empty:
                continue
            if first is None:
                with contextlib.suppress(OSError, EOFError):
                    child.conn.send(None)
                return
            batch = [first]
            stop = False
            while len(batch) < BATCH_REQUESTS_MAX:
                try:
                    nxt = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                child.conn.send(batch)
            except OSError:
                self._fail([request_id for request_id, _ in batch])
                return
            if stop:
                with contextlib.suppress(OSError, EOFError):
                    child.conn.send(None)
                return

    def _receive(self, child: _Child) -> None:
        while True:
            try:
                replies: list[Reply] | str = child.conn.recv()
            except (EOFError, OSError):
                break
            if replies == "ready":
                log.info("charging engine process %s is ready", child.process.pid)
                continue
            assert isinstance(replies, list)
            loop = self._loop
            if loop is not None:
                loop.call_soon_threadsafe(self._settle, replies)
        child.closed = True
        if self._stopping:
            return
        log.error("the charging engine process %s ended; starting a new one", child.process.pid)
        with contextlib.suppress(queue.Empty):
            while True:  # requests not sent yet fail too; the network retries them
                self._outbox.get_nowait()
        self._fail(list(self._pending))
        time.sleep(RESPAWN_DELAY_S)  # a child that cannot start must not spin the machine
        self._child = self._spawn()

    def _settle(self, replies: list[Reply]) -> None:
        for request_id, outcome in replies:
            future = self._pending.pop(request_id, None)
            if future is None or future.cancelled():
                continue
            if isinstance(outcome, ChargingDecision):
                future.set_result(outcome)
            else:
                kind, detail, field = outcome
                future.set_exception(DomainError(ProblemKind(kind), detail, field))

    def _fail(self, request_ids: list[int]) -> None:
        replies: list[Reply] = [
            (rid, (ProblemKind.OVERLOADED.value, "the charging engine restarted", None))
            for rid in request_ids
        ]
        loop = self._loop
        if loop is not None and replies:
            loop.call_soon_threadsafe(self._settle, replies)


@dataclass
class _Child:
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection
    closed: bool = False


# -- the engine process ------------------------------------------------------------------------


def run_engine_process(settings: Settings, conn: Connection) -> None:
    """The child's main loop: batches of requests in, decisions out, the sweep in between."""
    from ocs.bootstrap import build_services

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s[engine]: %(message)s"
    )
    services = build_services(settings)
    engine = services.charging
    conn.send("ready")
    sweep_interval_s = settings.charging_sweep_interval_s
    next_sweep = time.monotonic() + sweep_interval_s
    while True:
        wait_s = max(0.0, next_sweep - time.monotonic())
        try:
            if not conn.poll(wait_s):
                _sweep(services.store, engine.expire)
                next_sweep = time.monotonic() + sweep_interval_s
                continue
            batch, stop = _take_batch(conn)
        except (EOFError, OSError):
            return  # the server is gone
        if batch:
            jobs: list[Job] = [partial(engine.process, request=r) for _, r in batch]
            results = run_batch(services.store, jobs)
            try:
                conn.send(
                    [_reply(rid, result) for (rid, _), result in zip(batch, results, strict=True)]
                )
            except OSError:
                return
        if stop:
            return
        if time.monotonic() >= next_sweep:
            _sweep(services.store, engine.expire)
            next_sweep = time.monotonic() + sweep_interval_s


def _take_batch(conn: Connection) -> tuple[list[tuple[int, ChargingRequest]], bool]:
    """Everything waiting in the pipe, up to the batch maximum; True when told to stop."""
    batch: list[tuple[int, ChargingRequest]] = []
    while True:
        message = conn.recv()
        if message is None:
            return batch, True
        batch.extend(message)
        if len(batch) >= BATCH_REQUESTS_MAX or not conn.poll(0):
            return batch, False


def _reply(request_id: int, result: JobResult) -> Reply:
    decision, error = result
    if error is None:
        assert isinstance(decision, ChargingDecision)
        return request_id, decision
    if isinstance(error, DomainError):
        return request_id, (error.kind.value, error.detail, error.field)
    log.error("charging request failed", exc_info=error)
    return request_id, (ProblemKind.CONFLICT.value, f"charging failed: {error}", None)


def _sweep(store: Any, expire: Job) -> None:
    ((_, error),) = run_batch(store, [expire])
    if error is not None:
        log.error("reservation expiry sweep failed", exc_info=error)
