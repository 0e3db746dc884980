"""SQLite commits that leave the WAL's fsync to the caller (ADR 0009).

With `synchronous=FULL` a commit returns only once the WAL is fsynced, and the charging engine
waits, doing nothing, for every batch's fsync. With `NORMAL` the commit writes the WAL and
returns; the engine fsyncs the WAL file itself, from another thread, and sends a batch's
answers only once an fsync that started after the batch's commit has returned. Meanwhile it
charges the next batch.

That is as durable for every answered request: the WAL only grows between checkpoints, every
commit appends its frames after the ones before, and after a power loss SQLite replays the
WAL up to the last commit whose frames are all intact. An fsync after a commit therefore
keeps that commit and every one before it. SQLite itself fsyncs the WAL before each
checkpoint copies from it, and the database file before the WAL may be reused.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine

from ocs.storage.engine import set_on_each_connection, sqlite_file


class WalFile:
    """The `-wal` file of one SQLite database, fsynced on demand."""

    def __init__(self, database_path: str) -> None:
        self.path = database_path + "-wal"
        self._fd: int | None = None
        self._inode: int | None = None

    def sync(self) -> None:
        """Make every frame written to the WAL so far durable (fdatasync)."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            return  # no WAL: SQLite checkpointed it into the database and fsynced that
        if self._fd is None or inode != self._inode:
            # SQLite deletes the WAL when its last connection closes and makes a new one on
            # the next open: follow the file, not the descriptor.
            self.close()
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            self._inode = os.fstat(self._fd).st_ino
        os.fdatasync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def defer_wal_sync(engine: Engine) -> WalFile | None:
    """Make `engine`'s commits skip the WAL fsync, which the caller then owes through the
    returned WalFile before it reports any commit; None when `engine` is not a SQLite file
    (its commits stay synchronous)."""
    path = sqlite_file(engine)
    if path is None:
        return None
    set_on_each_connection(engine, "synchronous=NORMAL")
    return WalFile(path)
