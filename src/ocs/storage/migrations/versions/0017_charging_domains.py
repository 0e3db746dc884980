"""charging domains: domain numbers, the wallet directory and moves in progress

Revision ID: 0017_domains
Revises: 0016
Create Date: 2026-11-23 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ocs.storage.tables import UtcDateTime

revision = "0017_domains"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "charging_domains",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("number", sa.Integer(), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "wallet_domains",
        sa.Column("wallet_id", sa.Integer(), sa.ForeignKey("wallets.id"), primary_key=True),
        sa.Column("domain", sa.String(32), sa.ForeignKey("charging_domains.name"), nullable=False),
    )
    op.create_index("ix_wallet_domains_domain", "wallet_domains", ["domain"])
    op.create_table(
        "wallet_moves",
        sa.Column("wallet_id", sa.Integer(), sa.ForeignKey("wallets.id"), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wallet_moves")
    op.drop_index("ix_wallet_domains_domain", "wallet_domains")
    op.drop_table("wallet_domains")
    op.drop_table("charging_domains")
