"""The Alembic migrations build exactly the schema the code declares, on both backends, and
rebuild SQLite tables without losing rows."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ocs.storage.charging_tables import POSTGRESQL_ONLY_INDEXES
from ocs.storage.engine import alembic_config, make_engine, migrate
from ocs.storage.schema import metadata


def test_migrated_schema_matches_the_declared_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)  # a second run on a migrated database is a no-op
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": partial(_declared_here, conn.dialect.name)}
            )
            differences = compare_metadata(context, metadata)
        assert differences == []
    finally:
        engine.dispose()


def _declared_here(
    dialect: str, obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Everything but a PostgreSQL-only index, when the database is not PostgreSQL."""
    return not (type_ == "index" and name in POSTGRESQL_ONLY_INDEXES and dialect != "postgresql")


def test_sqlite_child_tables_are_rebuilt_without_rowid_keeping_their_rows(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ocs.db'}")
    try:
        command.upgrade(alembic_config(engine), "0021_fewer_charging_pages")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO edrs (id, type, at, wallet_id, partial, detail) "
                "VALUES (1, 'CHARGE', '2026-12-05 06:00:00.000000', 7, 0, '{}')"
            )
            conn.exec_driver_sql(
                "INSERT INTO edr_balances VALUES (1, 'CASH', 'MONEY', 'EUR', 10, -4, 6)"
            )
            conn.exec_driver_sql("INSERT INTO edr_tags VALUES (1, 'rating_group', '10')")
        migrate(engine)
        with engine.connect() as conn:
            tables = dict(conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE name IN "
                "('edr_balances', 'edr_tags', 'reservation_holds')"
            ).all())  # fmt: skip
            lines = conn.exec_driver_sql("SELECT * FROM edr_balances").all()
            tags = conn.exec_driver_sql("SELECT * FROM edr_tags").all()
        assert sorted(tables) == ["edr_balances", "edr_tags", "reservation_holds"]
        assert all(sql.endswith("WITHOUT ROWID") for sql in tables.values()), tables
        assert [tuple(r) for r in lines] == [(1, "CASH", "MONEY", "EUR", 10, -4, 6)]
        assert [tuple(r) for r in tags] == [(1, "rating_group", "10")]
        command.downgrade(alembic_config(engine), "0021_fewer_charging_pages")
        with engine.connect() as conn:
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'edr_balances'"
            ).scalar_one()
            assert not sql.endswith("WITHOUT ROWID")
            assert conn.exec_driver_sql("SELECT count(*) FROM edr_balances").scalar_one() == 1
    finally:
        engine.dispose()
