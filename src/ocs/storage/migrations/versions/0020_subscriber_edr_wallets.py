"""EDRs by subscriber through the wallets they were written on

Revision ID: 0020_subscriber_edr_wallets
Revises: 0019_open_reservations
Create Date: 2026-11-23 15:40:00

ix_edrs_subscriber_at cost every EDR an index entry at a random place. A search by subscriber
now reads the EDRs of each wallet the subscriber's EDRs were ever written on (one row per
subscriber and wallet, added by a trigger on edrs, so no writer can miss it) through
ix_edrs_wallet_at, and keeps those whose subscriber is the one asked for. The trigger's
lookup finds the row already there for nearly every EDR, and then writes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_subscriber_edr_wallets"
down_revision = "0019_open_reservations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriber_edr_wallets",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "subscriber_id", "wallet_id", name=op.f("pk_subscriber_edr_wallets")
        ),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO subscriber_edr_wallets (subscriber_id, wallet_id) "
        "SELECT DISTINCT subscriber_id, wallet_id FROM edrs WHERE subscriber_id IS NOT NULL"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION subscriber_edr_wallet() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN INSERT INTO subscriber_edr_wallets (subscriber_id, wallet_id) "
            "VALUES (NEW.subscriber_id, NEW.wallet_id) ON CONFLICT DO NOTHING; "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER edrs_subscriber_wallet AFTER INSERT ON edrs FOR EACH ROW "
            "WHEN (NEW.subscriber_id IS NOT NULL) EXECUTE FUNCTION subscriber_edr_wallet()"
        )
    else:
        op.execute(
            "CREATE TRIGGER edrs_subscriber_wallet AFTER INSERT ON edrs FOR EACH ROW "
            "WHEN NEW.subscriber_id IS NOT NULL BEGIN INSERT OR IGNORE INTO "
            "subscriber_edr_wallets (subscriber_id, wallet_id) "
            "VALUES (NEW.subscriber_id, NEW.wallet_id); END"
        )
    op.drop_index("ix_edrs_subscriber_at", table_name="edrs")


def downgrade() -> None:
    op.create_index("ix_edrs_subscriber_at", "edrs", ["subscriber_id", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER edrs_subscriber_wallet ON edrs")
        op.execute("DROP FUNCTION subscriber_edr_wallet()")
    else:
        op.execute("DROP TRIGGER edrs_subscriber_wallet")
    op.drop_table("subscriber_edr_wallets")
