"""The background WAL checkpointer copies committed pages into the SQLite file while the writer
goes on; the writer's own checkpoint waits for a larger WAL."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import sqlalchemy as sa

from ocs.storage.checkpointer import (
    ENGINE_CHECKPOINT_WAL_PAGES,
    CheckpointResult,
    WalCheckpointer,
    checkpoint_in_background,
)
from ocs.storage.engine import make_engine

ROWS = 2_000


def _wait_until_caught_up(
    checkpointer: WalCheckpointer, timeout_s: float = 10.0
) -> CheckpointResult:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        last = checkpointer.last
        if last is not None and last.wal_frames > 0 and last.checkpointed_frames == last.wal_frames:
            return last
        time.sleep(0.02)
    raise AssertionError(f"the checkpointer did not catch up: last {checkpointer.last}")


def test_committed_pages_reach_the_database_file_without_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "ocs.db"
    engine = make_engine(f"sqlite:///{path}")
    checkpointer = checkpoint_in_background(engine)
    assert checkpointer is not None
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (
                ENGINE_CHECKPOINT_WAL_PAGES
            )
            conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)"))
        for first in range(0, ROWS, 100):
            with engine.begin() as conn:
                conn.execute(
                    sa.text("INSERT INTO t (payload) VALUES (:p)"),
                    [{"p": f"row {n} " + "x" * 200} for n in range(first, first + 100)],
                )
        last = _wait_until_caught_up(checkpointer)
        # The writer never checkpointed (its WAL stayed under its own threshold), yet the
        # database file alone, without the WAL, holds every committed row.
        assert last.wal_frames < ENGINE_CHECKPOINT_WAL_PAGES
        copy = tmp_path / "file-alone.db"
        shutil.copyfile(path, copy)
        with sqlite3.connect(copy) as alone:
            assert alone.execute("SELECT count(*) FROM t").fetchone() == (ROWS,)
    finally:
        checkpointer.stop()
        engine.dispose()


def test_only_sqlite_files_get_a_checkpointer(tmp_path: Path) -> None:
    memory = make_engine("sqlite:///:memory:")
    assert checkpoint_in_background(memory) is None
    postgres = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert checkpoint_in_background(postgres) is None
