"""Fewer index pages per charging request

Revision ID: 0021_fewer_charging_pages
Revises: 0020_subscriber_edr_wallets
Create Date: 2026-12-05 06:00:00

At one request per transaction, the charging engine's commit writes every page the request
changed: 27 of them on SQLite, one or two per index. Four indexes cost pages and gave little:
- ix_edr_tags_key_value: no query reads it (a search by tag looks a scoped EDR's tags up by
  their primary key), and every charging EDR put two entries in it;
- ix_edrs_at: every EDR query is scoped by wallet, through ix_edrs_wallet_at;
- ix_reservations_open_session beside ix_reservations_open_wallet: one index over open
  reservations by (wallet, session) serves both lookups, since a session's wallet is known;
- ix_charging_answers_at, on SQLite only: answers are appended in time order, so the prune
  finds its boundary by rowid (PostgreSQL keeps the index: its rows have no such order).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_fewer_charging_pages"
down_revision = "0020_subscriber_edr_wallets"
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'OPEN'")


def upgrade() -> None:
    op.drop_index("ix_edr_tags_key_value", table_name="edr_tags")
    op.drop_index("ix_edrs_at", table_name="edrs")
    op.create_index(
        "ix_reservations_open_wallet_session", "reservations", ["wallet_id", "session_id"],
        sqlite_where=OPEN, postgresql_where=OPEN,
    )  # fmt: skip
    op.drop_index("ix_reservations_open_wallet", table_name="reservations")
    op.drop_index("ix_reservations_open_session", table_name="reservations")
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_charging_answers_at", table_name="charging_answers")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_charging_answers_at", "charging_answers", ["at"])
    for name, column in (("ix_reservations_open_wallet", "wallet_id"),
                         ("ix_reservations_open_session", "session_id")):  # fmt: skip
        op.create_index(name, "reservations", [column], sqlite_where=OPEN, postgresql_where=OPEN)
    op.drop_index("ix_reservations_open_wallet_session", table_name="reservations")
    op.create_index("ix_edrs_at", "edrs", ["at"])
    op.create_index("ix_edr_tags_key_value", "edr_tags", ["key", "value"])
