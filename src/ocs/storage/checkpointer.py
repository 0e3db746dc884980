"""WAL checkpoints of an SQLite database from a thread of their own (ADR 0008).

By default the connection whose commit grows the WAL past 1,000 pages copies those pages into
the database file and fsyncs it, inside that commit. For the charging engine that is a pause
of several milliseconds every couple of hundred requests, during which nothing is charged.
Here a second connection, on its own thread, copies the pages while the engine goes on
charging (SQLite lets one checkpointer run beside the writer). The engine's own automatic
checkpoint stays, at a larger WAL: by then this thread has copied nearly every page, so the
engine only copies the last few and fsyncs, and the next transaction can start the WAL over
(a background pass alone rarely catches a busy writer between two transactions).

Durability does not change: the WAL is still fsynced after every commit before its answers
leave (ADR 0009), and the checkpointer fsyncs the database file before SQLite may reuse the
WAL.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass

from sqlalchemy import Engine

from ocs.storage.engine import set_on_each_connection, sqlite_file

log = logging.getLogger("ocs.storage")

# The engine's own checkpoint: finishes the background's work and restarts the WAL (16 MB).
ENGINE_CHECKPOINT_WAL_PAGES = 4_000
# Poll quickly while the WAL grows, slowly while it does not.
BUSY_INTERVAL_S = 0.02
IDLE_INTERVAL_S = 0.25


@dataclass(frozen=True)
class CheckpointResult:
    """What one PASSIVE checkpoint saw: WAL frames in all, and copied to the database so far."""

    wal_frames: int
    checkpointed_frames: int


class WalCheckpointer:
    """Checkpoints one SQLite database in the background until stopped."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)
        self.last: CheckpointResult | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=1000")
            interval_s = IDLE_INTERVAL_S
            while not self._stop.wait(interval_s):
                self.last = checkpoint(db)
                interval_s = BUSY_INTERVAL_S if self.last.wal_frames else IDLE_INTERVAL_S
        except sqlite3.Error:
            log.exception("the WAL checkpointer of %s stopped", self._path)
        finally:
            db.close()


def checkpoint(db: sqlite3.Connection) -> CheckpointResult:
    """One PASSIVE checkpoint: copies what it can without waiting for the writer or readers."""
    _busy, wal_frames, checkpointed_frames = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return CheckpointResult(wal_frames, checkpointed_frames)


def checkpoint_in_background(engine: Engine) -> WalCheckpointer | None:
    """Move `engine`'s checkpoints to a background thread; None when it is not a SQLite file."""
    path = sqlite_file(engine)
    if path is None:
        return None
    set_on_each_connection(engine, f"wal_autocheckpoint={ENGINE_CHECKPOINT_WAL_PAGES}")
    with engine.connect():
        pass  # the file exists and is in WAL mode (engine.py) before the thread opens it
    checkpointer = WalCheckpointer(path)
    checkpointer.start()
    return checkpointer
