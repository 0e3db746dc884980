"""SQLite: EDR lines, EDR tags and reservation holds as WITHOUT ROWID tables

Revision ID: 0022_without_rowid
Revises: 0021_fewer_charging_pages
Create Date: 2026-12-05 06:10:00

Each of these tables was two B-trees on SQLite: the rows by rowid, and the index of its
primary key, which every query uses. A charging request writes a row into each (two tags),
so four B-tree inserts and, at one request per transaction, two or three pages went for
nothing. A WITHOUT ROWID table is its primary key's B-tree alone. The tables are rebuilt
(their rows copied once); PostgreSQL has no rowids and is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import op

revision = "0022_without_rowid"
down_revision = "0021_fewer_charging_pages"
branch_labels = None
depends_on = None

TABLES = ("edr_balances", "edr_tags", "reservation_holds")
WITHOUT_ROWID = " WITHOUT ROWID"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            _rebuild(table, lambda sql: sql + WITHOUT_ROWID)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            _rebuild(table, lambda sql: sql.removesuffix(WITHOUT_ROWID))


def _rebuild(table: str, new_sql: Callable[[str], str]) -> None:
    """The table again, from its own CREATE TABLE changed by new_sql, with every row. No other
    table references these, and they have no index but their primary key's."""
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO _old_{table}")
    conn.exec_driver_sql(new_sql(sql))
    conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM _old_{table}")
    conn.exec_driver_sql(f"DROP TABLE _old_{table}")
