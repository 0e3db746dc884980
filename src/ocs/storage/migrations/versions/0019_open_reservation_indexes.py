"""reservations: indexes over the open ones only

Revision ID: 0019_open_reservations
Revises: 0018_one_bump
Create Date: 2026-11-23 15:10:00

The (wallet, state), (session, state) and (state, expires) indexes held every reservation
ever made, so ending one moved its entries inside indexes that grow without end, on pages
at random places. Charging and the expiry sweep only look for open reservations: partial
indexes over those stay as small as the reservations in flight. Listing a wallet's
reservations, ended ones too, uses a plain index on the wallet, which a reservation's end
does not change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_open_reservations"
down_revision = "0018_one_bump"
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'OPEN'")
OPEN_INDEXES = {
    "ix_reservations_open_wallet": "wallet_id",
    "ix_reservations_open_session": "session_id",
    "ix_reservations_open_expires": "expires_at",
}
FULL_INDEXES = {
    "ix_reservations_wallet_state": ["wallet_id", "state"],
    "ix_reservations_session_state": ["session_id", "state"],
    "ix_reservations_state_expires": ["state", "expires_at"],
}


def upgrade() -> None:
    for name in FULL_INDEXES:
        op.drop_index(name, table_name="reservations")
    op.create_index("ix_reservations_wallet", "reservations", ["wallet_id"])
    for name, column in OPEN_INDEXES.items():
        op.create_index(name, "reservations", [column], sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    for name in OPEN_INDEXES:
        op.drop_index(name, table_name="reservations")
    op.drop_index("ix_reservations_wallet", table_name="reservations")
    for name, columns in FULL_INDEXES.items():
        op.create_index(name, "reservations", columns)
