"""The charging engine in its own process, so that it has a core of its own.

Python runs one thread at a time per process: in one process the Diameter event loop (decode,
encode, sockets) and the charging writer (rating, SQL) take turns on one core. Here the
server process keeps the network side and a child process owns the engine, its wallet cache
and the group commit; they talk over a pipe.

Group commit carries over: the child takes every request waiting in the pipe (up to a batch
maximum), runs them in one transaction (`run_batch`), and sends their decisions back only
once that transaction is durable. On SQLite the commit does not wait for the WAL's fsync: a
thread of the child fsyncs the WAL and then sends, while the child charges the next batch
(ADR 0009). The child also runs the reservation expiry sweep (its commits become durable
with the next batch's fsync, or the checkpointer's, within a second). If the child dies,
waiting requests fail (the network retries them and stored answers keep retries from
charging twice) and a new child starts. If the server process dies, the child sees the pipe
close and exits. On PostgreSQL there may be several children (OCS_CHARGING_ENGINES); the
first one sweeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import queue
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from ocs.config import Settings
from ocs.core.charging import ChargingDecision, ChargingRequest
from ocs.core.errors import DomainError, ProblemKind
from ocs.realtime import FreezingCollector, shorten_gil_turns
from ocs.service.charging import ANSWERS_PRUNED_MAX
from ocs.service.group_commit import Job, JobResult, OverloadedError, run_batch
from ocs.storage.checkpointer import checkpoint_in_background
from ocs.storage.engine import set_page_cache
from ocs.storage.repositories import SqlStore
from ocs.storage.sqlite_triggers import run_without_triggers
from ocs.storage.wal_sync import WalFile, defer_wal_sync

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ocs.bootstrap import Services

log = logging.getLogger("ocs.charging")

BATCH_REQUESTS_MAX = 256
RESPAWN_DELAY_S = 1.0
# The engine's exit status when an fsync failed: what it committed may not be on disk.
EXIT_SYNC_FAILED = 75
SENDER_POLL_S = 0.5
# A reply line: (request id, decision) or (request id, (problem kind, detail, field)).
Reply = tuple[int, ChargingDecision | tuple[str, str, str | None]]


class ChargingWorker:
    """The server side: hands requests to the engine processes and awaits their decisions.

    With several engines (OCS_CHARGING_ENGINES, PostgreSQL only) a session's requests always
    go to the same engine, chosen from its Session-Id, so they stay in order; engines that
    meet on a shared wallet are kept apart by the database's row locks, which each batch
    takes in wallet id order before charging, and by the wallet revision that every engine
    checks before trusting its copy (ADR 0007)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._ids = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._links = [_EngineLink(index) for index in range(settings.charging_engines)]

    def start(self) -> None:
        for link in self._links:
            link.child = self._spawn(link)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping = True
        for link in self._links:
            if link.child is not None:
                link.outbox.put(None)
        deadline = time.monotonic() + timeout_s
        for link in self._links:
            child = link.child
            if child is None:
                continue
            child.process.join(max(0.0, deadline - time.monotonic()))
            if child.process.is_alive():
                child.process.kill()
            child.conn.close()

    def engine_pids(self) -> list[int | None]:
        """Each engine's process id, in engine order (None before it started)."""
        return [None if link.child is None else link.child.process.pid for link in self._links]

    async def decide(self, request: ChargingRequest) -> ChargingDecision:
        if sum(len(link.pending) for link in self._links) >= (
            self._settings.charging_queue_requests_max
        ):
            raise OverloadedError(self._settings.charging_queue_requests_max)
        self._loop = asyncio.get_running_loop()
        future: asyncio.Future[ChargingDecision] = self._loop.create_future()
        request_id = next(self._ids)
        link = self._links[engine_of(request.session_id, len(self._links))]
        link.pending[request_id] = future
        link.outbox.put((request_id, request))
        return await future

    # -- the children's lives ----------------------------------------------------------------

    def _spawn(self, link: _EngineLink) -> _Child:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=run_engine_process,
            # One engine sweeps expired reservations: several would only contend for them.
            args=(self._settings, theirs, link.index == 0),
            name=f"ocs-charging-{link.index}",
            daemon=True,
        )
        process.start()
        theirs.close()
        # No waiting for the child here: requests queue in the pipe until it is ready.
        child = _Child(process, ours)
        threading.Thread(
            target=self._send, args=(link, child), name=f"charging-send-{link.index}",
            daemon=True,
        ).start()  # fmt: skip
        threading.Thread(
            target=self._receive, args=(link, child), name=f"charging-receive-{link.index}",
            daemon=True,
        ).start()  # fmt: skip
        return child

    def _send(self, link: _EngineLink, child: _Child) -> None:
        """Forward queued requests, all that are waiting in one message."""
        while not child.closed:
            try:
                first = link.outbox.get(timeout=SENDER_POLL_S)
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
                    nxt = link.outbox.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                child.conn.send(batch)
            except OSError:
                self._fail(link, [request_id for request_id, _ in batch])
                return
            if stop:
                with contextlib.suppress(OSError, EOFError):
                    child.conn.send(None)
                return

    def _receive(self, link: _EngineLink, child: _Child) -> None:
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
                loop.call_soon_threadsafe(self._settle, link, replies)
        child.closed = True
        if self._stopping:
            return
        log.error("the charging engine process %s ended; starting a new one", child.process.pid)
        with contextlib.suppress(queue.Empty):
            while True:  # requests not sent yet fail too; the network retries them
                link.outbox.get_nowait()
        self._fail(link, list(link.pending))
        time.sleep(RESPAWN_DELAY_S)  # a child that cannot start must not spin the machine
        link.child = self._spawn(link)

    def _settle(self, link: _EngineLink, replies: list[Reply]) -> None:
        for request_id, outcome in replies:
            future = link.pending.pop(request_id, None)
            if future is None or future.cancelled():
                continue
            if isinstance(outcome, ChargingDecision):
                future.set_result(outcome)
            else:
                kind, detail, field = outcome
                future.set_exception(DomainError(ProblemKind(kind), detail, field))

    def _fail(self, link: _EngineLink, request_ids: list[int]) -> None:
        replies: list[Reply] = [
            (rid, (ProblemKind.OVERLOADED.value, "the charging engine restarted", None))
            for rid in request_ids
        ]
        loop = self._loop
        if loop is not None and replies:
            loop.call_soon_threadsafe(self._settle, link, replies)


def engine_of(session_id: str, engines: int) -> int:
    """The engine that charges a session: the same one for every request of the session."""
    return zlib.crc32(session_id.encode()) % engines if engines > 1 else 0


@dataclass
class _Child:
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection
    closed: bool = False


@dataclass
class _EngineLink:
    """One engine process as the server sees it: its queue, its requests in flight, its child."""

    index: int
    outbox: queue.SimpleQueue[tuple[int, ChargingRequest] | None] = field(
        default_factory=queue.SimpleQueue
    )
    pending: dict[int, asyncio.Future[ChargingDecision]] = field(default_factory=dict)
    child: _Child | None = None


# -- the engine process ------------------------------------------------------------------------


def run_engine_process(settings: Settings, conn: Connection, sweeps: bool = True) -> None:
    """The child's main loop: batches of requests in, decisions out, the sweep in between
    (when `sweeps`)."""
    from ocs.bootstrap import build_services

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s[engine]: %(message)s"
    )
    shorten_gil_turns()
    services = build_services(settings)
    wal_files = set_up_engine(services, settings.charging_sqlite_cache_mib)
    conn.send("ready")
    acks = _Acknowledger(conn, [w.sync for w in wal_files])
    try:
        _serve(conn, services, acks, settings, sweeps)
    finally:
        acks.close()


def set_up_engine(services: Services, cache_mib: int | None) -> list[WalFile]:
    """Set the engine process's services up for charging (see set_up_engine_databases); its
    one thread runs a transaction per batch on a connection it keeps."""
    wal_files = set_up_engine_databases(services.databases, cache_mib)
    if isinstance(services.store, SqlStore):  # several domains: a connection per transaction
        services.store.pin_connection()
    return wal_files


def set_up_engine_databases(databases: list[Engine], cache_mib: int | None) -> list[WalFile]:
    """Set the engine's databases up for charging; returns the WAL files it must fsync before
    answering. On SQLite the engine is the one writer: it should charge, not wait for fsyncs
    (ADR 0009), re-read pages (a page cache of `cache_mib` MiB; None keeps SQLite's 2 MB),
    copy WAL pages (ADR 0008) or run triggers whose work it does itself (ADR 0011)."""
    wal_files = [w for w in map(defer_wal_sync, databases) if w is not None]
    for database in databases:
        if cache_mib is not None:
            set_page_cache(database, cache_mib)
        run_without_triggers(database)
        checkpoint_in_background(database)
    return wal_files


def _serve(
    conn: Connection, services: Services, acks: _Acknowledger, settings: Settings, sweeps: bool
) -> None:
    engine = services.charging
    several = settings.charging_engines > 1
    collector = FreezingCollector(time.monotonic)
    sweep_interval_s = settings.charging_sweep_interval_s
    next_sweep = time.monotonic() + sweep_interval_s
    # Stored answers past retention are deleted a chunk at a time after each sweep, one chunk
    # between two batches (or at once when idle), so that no request waits for all that came
    # due since the last sweep.
    prune_due = False
    while True:
        wait_s = 0.0 if prune_due else max(0.0, next_sweep - time.monotonic())
        try:
            if not conn.poll(wait_s):
                if prune_due:
                    prune_due = _prune(services.store, engine.prune_answers)
                    continue
                if sweeps:
                    _sweep(services.store, engine.expire)
                    prune_due = True
                next_sweep = time.monotonic() + sweep_interval_s
                continue
            batch, stop = _take_batch(conn)
        except (EOFError, OSError):
            return  # the server is gone
        if batch:
            _charge(acks, services, batch, several)
            if acks.server_gone:
                return
            # After _charge returned: what the batch made and dropped is garbage by now.
            collector.tick()
        if stop:
            return
        if prune_due:
            prune_due = _prune(services.store, engine.prune_answers)
        if sweeps and time.monotonic() >= next_sweep:
            _sweep(services.store, engine.expire)
            prune_due = True
            next_sweep = time.monotonic() + sweep_interval_s


def _charge(
    acks: _Acknowledger,
    services: Services,
    batch: list[tuple[int, ChargingRequest]],
    several: bool,
) -> None:
    """Charge one batch and hand its decisions to be sent once durable."""
    # Alone, an engine has no one to deadlock with: no need to lock ahead.
    requests = [r for _, r in batch]
    results = services.charging.charge_batch(services.store, requests, lock=several)
    acks.send([_reply(rid, result) for (rid, _), result in zip(batch, results, strict=True)])


class _Acknowledger:
    """Sends each batch's decisions once its commit is on disk, from a thread of its own.

    The engine hands a batch's replies over after its commit returned; this thread takes
    every batch handed over so far, fsyncs (`syncs`: one per SQLite database, none on
    PostgreSQL, whose commits are durable when they return), then sends them in order. So one
    fsync covers every batch committed before it, and the engine charges the next batch
    meanwhile. If an fsync fails, what was committed may never reach the disk and the kernel
    may have dropped it from memory too: the process ends (`die`) without answering, and
    the server starts a new engine, which reads what is on disk."""

    def __init__(
        self,
        conn: Connection,
        syncs: list[Callable[[], None]],
        die: Callable[[int], object] = os._exit,
    ) -> None:
        self._conn = conn
        self._syncs = syncs
        self._die = die
        self._queue: queue.SimpleQueue[list[Reply] | None] = queue.SimpleQueue()
        self.server_gone = False
        self._thread = threading.Thread(target=self._run, name="charging-acks", daemon=True)
        self._thread.start()

    def send(self, replies: list[Reply]) -> None:
        """Queue a committed batch's replies."""
        self._queue.put(replies)

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            batches, stop = _drain(self._queue)
            if not batches:
                return
            try:
                for sync in self._syncs:
                    sync()
            except OSError:
                log.critical("fsync failed; the engine stops without answering", exc_info=True)
                self._die(EXIT_SYNC_FAILED)
                return
            try:
                for replies in batches:
                    self._conn.send(replies)
            except OSError:
                self.server_gone = True
                return
            if stop:
                return


def _drain(
    waiting: queue.SimpleQueue[list[Reply] | None],
) -> tuple[list[list[Reply]], bool]:
    """The next queued batches (at least one, waiting for it); True when told to stop."""
    batches: list[list[Reply]] = []
    item = waiting.get()
    while item is not None:
        batches.append(item)
        try:
            item = waiting.get_nowait()
        except queue.Empty:
            return batches, False
    return batches, True


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


def _prune(store: Any, prune: Job) -> bool:
    """One chunk of stored answers past retention; True when more may be due."""
    ((deleted, error),) = run_batch(store, [prune])
    if error is not None:
        log.error("pruning stored answers failed", exc_info=error)
        return False
    return isinstance(deleted, int) and deleted >= ANSWERS_PRUNED_MAX
