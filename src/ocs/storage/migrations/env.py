"""Alembic environment: runs against the engine handed over by ocs.storage.engine.migrate."""

from __future__ import annotations

from alembic import context

from ocs.storage.schema import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    # SQLite alters a table by copying it; with foreign keys on, dropping the old copy of a
    # referenced table would fail or cascade on a populated database. The pragma only takes
    # effect outside a transaction, so it goes to the driver before Alembic begins one.
    raw = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    if raw is not None:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")
