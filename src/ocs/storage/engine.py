"""Engine creation and schema migration for SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The execution option that makes a SQLite transaction begin deferred (a read snapshot that
# takes no lock) instead of IMMEDIATE; see begin_reading.
READ_ONLY_OPTION = "ocs_read_only"


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    event.listen(engine, "after_cursor_execute", _settle_pipeline)
    return engine


def driver_of(conn: Connection) -> Any:
    """The DBAPI connection under `conn` (sqlite3 or psycopg), for statements that skip
    SQLAlchemy's per-statement cost or use what only the driver has."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, send `conn`'s statements without waiting for each one's result until
    a result is read (psycopg's pipeline mode): a batch of charging requests makes about 20
    round trips a request otherwise. A failing statement's error surfaces at the next read or
    when the scope ends, possibly in code that ran after it. Elsewhere nothing changes."""
    if conn.dialect.name != "postgresql":
        yield
        return
    with driver_of(conn).pipeline() as pipeline:
        conn.connection.info[_PIPELINE_KEY] = pipeline
        try:
            yield
        finally:
            del conn.connection.info[_PIPELINE_KEY]


_PIPELINE_KEY = "ocs_pipeline"


def _settle_pipeline(conn: Connection, *_execution: Any) -> None:
    # SQLAlchemy reads a statement's description and row count right after executing it;
    # in pipeline mode they arrive only once the pipeline is synced.
    pipeline = conn.connection.info.get(_PIPELINE_KEY)
    if pipeline is not None:
        pipeline.sync()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk (fsync) before an answer reports it, even across a power loss;
    # group commit keeps that to one fsync per batch of charging requests.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def sqlite_file(engine: Engine) -> str | None:
    """The path of `engine`'s SQLite file; None for other databases and in-memory SQLite."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    return path


def set_on_each_connection(engine: Engine, pragma: str) -> None:
    """Run `PRAGMA <pragma>` on every connection `engine` opens from now on; pooled
    connections are closed so that they reopen with it."""

    def run(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", run)
    engine.dispose()


def set_page_cache(engine: Engine, cache_mib: int) -> None:
    """Give each of `engine`'s SQLite connections a page cache of `cache_mib` MiB (SQLite's
    default is 2 MB); nothing for other databases."""
    if engine.dialect.name == "sqlite":
        set_on_each_connection(engine, f"cache_size=-{cache_mib * 1024}")  # negative: in KiB


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock at BEGIN so read-then-write units of work never deadlock on upgrade.
    # On the driver connection: through exec_driver_sql this cost ~10 us more per transaction,
    # and the charging engine opens one per batch, often of one or two requests.
    driver = connection.connection.driver_connection
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        driver.execute("BEGIN")
    else:
        driver.execute("BEGIN IMMEDIATE")


@contextmanager
def begin_reading(engine: Engine) -> Iterator[Connection]:
    """A transaction that only reads: on SQLite a deferred one, which takes no lock in WAL mode
    and so never makes the charging engine wait (every other transaction takes the one write
    lock at BEGIN); on PostgreSQL a READ ONLY one. A write in it is an error on both."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            conn.execution_options(postgresql_readonly=True)
            with conn.begin():
                yield conn
            return
        conn.execution_options(**{READ_ONLY_OPTION: True})
        # On the driver connection, outside any transaction (SQLAlchemy's would begin one).
        driver = driver_of(conn)
        driver.execute("PRAGMA query_only=ON")
        try:
            with conn.begin():
                yield conn
        finally:
            driver.execute("PRAGMA query_only=OFF")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration of every branch (idempotent)."""
    command.upgrade(alembic_config(engine), "heads")
