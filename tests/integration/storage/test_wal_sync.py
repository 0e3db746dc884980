"""The charging engine's commits skip SQLite's WAL fsync, and WalFile fsyncs the WAL that is
on disk now, following SQLite when it makes a new one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from ocs.storage.engine import make_engine
from ocs.storage.wal_sync import WalFile, defer_wal_sync


@pytest.fixture
def synced_files(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every file fdatasync'ed from now on, as (path, inode); the real fdatasync still runs."""
    seen: list[tuple[str, int]] = []
    real: Callable[[int], None] = os.fdatasync

    def spy(fd: int) -> None:
        seen.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_ino))
        real(fd)

    monkeypatch.setattr(os, "fdatasync", spy)
    return seen


def _write(engine: sa.Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"))
        conn.execute(sa.text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 100}] * rows)


def test_commits_leave_the_wal_fsync_to_the_caller(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ocs.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL by default
    wal = defer_wal_sync(engine)
    assert wal is not None
    assert wal.path == str(tmp_path / "ocs.db-wal")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()


def test_sync_follows_the_wal_sqlite_makes_after_the_last_connection_closed(
    tmp_path: Path, synced_files: list[tuple[str, int]]
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ocs.db'}")
    wal = defer_wal_sync(engine)
    assert wal is not None
    _write(engine, 10)
    wal.sync()
    first_inode = os.stat(wal.path).st_ino
    engine.dispose()  # the last connection closes: SQLite checkpoints and deletes the WAL
    assert not os.path.exists(wal.path)
    wal.sync()  # nothing to fsync: every commit is in the database file
    _write(engine, 10)
    wal.sync()
    second_inode = os.stat(wal.path).st_ino
    wal.close()
    engine.dispose()
    assert synced_files == [(wal.path, first_inode), (wal.path, second_inode)]


def test_only_sqlite_files_defer_their_fsync(tmp_path: Path) -> None:
    assert defer_wal_sync(make_engine("sqlite://")) is None
    # No connection is made to find out: the server need not be there.
    assert defer_wal_sync(make_engine("postgresql://nobody@127.0.0.1:1/none")) is None
    WalFile(str(tmp_path / "never.db")).sync()  # no WAL yet: nothing to do
