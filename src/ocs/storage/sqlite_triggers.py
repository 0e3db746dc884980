"""SQLite connections of the charging engine that fire no triggers (ADR 0011).

The revision triggers (migration 0013) and the subscriber EDR wallet trigger (migration 0020)
fire several times per charging request, each an extra statement inside SQLite: about a tenth
of the engine's CPU. The engine is the one writer of a SQLite domain that keeps wallets in
memory, so on its own connections it switches triggers off and does their work itself, once
per request (`SqlChargingRepository.written_revision`, `insert_edr`, `note_wallets_changed`).
Every other connection, and every PostgreSQL database, keeps its triggers.

SQLite switches triggers per connection with `sqlite3_db_config(SQLITE_DBCONFIG_ENABLE_TRIGGER)`.
Python 3.12 exposes it as `Connection.setconfig`; on 3.11 it is called through ctypes, on the
SQLite library that Python's own `_sqlite3` module uses, and only after the handle found in
the connection object names the same database file as the connection does: anything
unexpected leaves the triggers on, which is always correct, only slower.
"""

from __future__ import annotations

import ctypes
import logging
import sqlite3
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger("ocs.storage")

# Set on a pooled connection's record when its triggers are off (SQLAlchemy's Connection.info).
TRIGGERS_OFF = "ocs_triggers_off"
SQLITE_DBCONFIG_ENABLE_TRIGGER = 1003  # sqlite3.h


def run_without_triggers(engine: Engine) -> None:
    """Open every later connection of `engine` (SQLite only) with its triggers off; pooled
    connections are closed so that they reopen so."""
    if engine.dialect.name != "sqlite":
        return

    def switch_off(dbapi_connection: Any, record: Any) -> None:
        if disable_triggers(dbapi_connection):
            record.info[TRIGGERS_OFF] = True
        else:
            log.warning("SQLite triggers stay on for the charging engine (slower, not wrong)")

    event.listen(engine, "connect", switch_off)
    engine.dispose()


def disable_triggers(connection: sqlite3.Connection) -> bool:
    """Switch `connection`'s triggers off; False when that could not be done safely."""
    setconfig = getattr(connection, "setconfig", None)
    if setconfig is not None:  # Python 3.12 and later
        setconfig(SQLITE_DBCONFIG_ENABLE_TRIGGER, False)
        return not connection.getconfig(SQLITE_DBCONFIG_ENABLE_TRIGGER)  # type: ignore[attr-defined]
    return _disable_through_ctypes(connection)


def _disable_through_ctypes(connection: sqlite3.Connection) -> bool:
    try:
        import _sqlite3

        library = ctypes.CDLL(_sqlite3.__file__)  # its symbols: the SQLite it was linked with
        db_filename = library.sqlite3_db_filename
        db_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        db_filename.restype = ctypes.c_char_p
        db_config = library.sqlite3_db_config
        db_config.restype = ctypes.c_int
    except (ImportError, OSError, AttributeError):
        return False
    # CPython's connection object holds its `sqlite3 *` right after the object header.
    handle = ctypes.c_void_p.from_address(id(connection) + object.__basicsize__).value
    main_file = next(
        (row[2] for row in connection.execute("PRAGMA database_list") if row[1] == "main"), None
    )
    if not handle or not main_file or db_filename(handle, b"main") != main_file.encode():
        return False
    state = ctypes.c_int(-1)
    if db_config(ctypes.c_void_p(handle), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, ctypes.byref(state)):
        return False
    return state.value == 0
