"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from functools import partial
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ocs.storage.charging_tables import POSTGRESQL_ONLY_INDEXES
from ocs.storage.engine import make_engine, migrate
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
