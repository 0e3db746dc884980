"""The charging engine's SQLite connections fire no triggers; everyone else's still do
(ADR 0011)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocs.bootstrap import Services
from ocs.storage.sqlite_triggers import (
    TRIGGERS_OFF,
    _disable_through_ctypes,
    disable_triggers,
    run_without_triggers,
)

# Every trigger of the schema, and where the engine does its work instead.
DONE_BY_THE_ENGINE = {
    # SqlChargingRepository.written_revision after each request, note_wallets_changed after
    # the expiry sweep.
    **{
        f"{table}_revision_{event}": "a new wallet revision"
        for table in ("wallet_balances", "buckets", "wallet_links", "reservations")
        for event in ("insert", "delete", "update", "move")
    },
    **{
        f"charging_sessions_revision_{event}": "a new wallet revision"
        for event in ("insert", "delete", "update", "move")
    },
    "wallets_revision": "a new wallet revision",
    "edrs_subscriber_wallet": "SqlChargingRepository.insert_edr",
}


def _demo_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE parents (id INTEGER PRIMARY KEY);
            CREATE TABLE children (parent_id INTEGER NOT NULL REFERENCES parents (id));
            CREATE TABLE seen (parent_id INTEGER);
            CREATE TRIGGER parents_seen AFTER INSERT ON parents
            BEGIN INSERT INTO seen VALUES (NEW.id); END;
            """
        )


def _seen(conn: sqlite3.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT parent_id FROM seen ORDER BY parent_id")]


@pytest.mark.parametrize("switch", [disable_triggers, _disable_through_ctypes])
def test_a_connection_without_triggers_leaves_other_connections_theirs(
    tmp_path: Path, switch: object
) -> None:
    path = tmp_path / "demo.db"
    _demo_database(path)
    engine_side = sqlite3.connect(path, isolation_level=None)
    engine_side.execute("PRAGMA foreign_keys=ON")
    operator_side = sqlite3.connect(path, isolation_level=None)
    assert callable(switch)
    assert switch(engine_side) is True
    engine_side.execute("INSERT INTO parents VALUES (1)")
    operator_side.execute("INSERT INTO parents VALUES (2)")
    assert _seen(engine_side) == [2]
    # Foreign keys are no triggers: still enforced.
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        engine_side.execute("INSERT INTO children VALUES (99)")


def test_a_handle_that_cannot_be_checked_against_a_file_keeps_its_triggers() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(
        "CREATE TABLE a (x); CREATE TABLE b (x);"
        "CREATE TRIGGER a_to_b AFTER INSERT ON a BEGIN INSERT INTO b VALUES (NEW.x); END;"
    )
    assert _disable_through_ctypes(conn) is False
    conn.execute("INSERT INTO a VALUES (1)")
    assert conn.execute("SELECT count(*) FROM b").fetchone() == (1,)


def test_the_engine_s_connections_are_marked_on_sqlite_only(services: Services) -> None:
    run_without_triggers(services.engine)
    with services.engine.connect() as conn:
        marked = conn.info.get(TRIGGERS_OFF, False)
    assert marked is (services.engine.dialect.name == "sqlite")


def test_the_engine_does_the_work_of_every_trigger_in_the_schema(sqlite_template: Path) -> None:
    """A new trigger would silently not run for the charging engine on SQLite: do its work in
    the engine as well (ADR 0011), then name it here."""
    with sqlite3.connect(sqlite_template) as conn:
        names = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    assert names == set(DONE_BY_THE_ENGINE)
