"""wallet migrations between charging domains: the migration record and its wallets

Revision ID: 0017_migrations
Revises: 0016
Create Date: 2026-11-23 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ocs.storage.tables import UtcDateTime

revision = "0017_migrations"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_migrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_provider", sa.String(length=32), nullable=False),
        sa.Column("source_domain", sa.String(length=32), nullable=False),
        sa.Column("target_domain", sa.String(length=32), nullable=False),
        sa.Column("selection", sa.String(length=16), nullable=False),
        sa.Column("first_selection", sa.String(length=16), nullable=False),
        sa.Column("wallet_states", sa.String(length=8), nullable=False),
        sa.Column("range_start", sa.String(length=32), nullable=True),
        sa.Column("range_end", sa.String(length=32), nullable=True),
        sa.Column("account_batch_id", sa.Integer(), nullable=True),
        sa.Column("input_filename", sa.String(length=255), nullable=True),
        sa.Column("input_numbers", sa.Text(), nullable=True),
        sa.Column("product_type", sa.String(length=32), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("max_wallets", sa.Integer(), nullable=True),
        sa.Column("throttle_per_s", sa.Integer(), nullable=True),
        sa.Column("remaining_filename", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=1), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("wallets_total", sa.Integer(), nullable=False),
        sa.Column("wallets_moved", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_provider"],
            ["cfg_service_providers.code"],
            name=op.f("fk_domain_migrations_service_provider_cfg_service_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_migrations")),
    )
    op.create_index(
        "ix_domain_migrations_state", "domain_migrations", ["state", "id"], unique=False
    )
    op.create_table(
        "domain_migration_items",
        sa.Column("migration_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("subscriber", sa.String(length=64), nullable=False),
        sa.Column("wallet_type", sa.String(length=16), nullable=False),
        sa.Column("shared_subscribers", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"],
            ["domain_migrations.id"],
            name=op.f("fk_domain_migration_items_migration_id_domain_migrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("migration_id", "seq", name=op.f("pk_domain_migration_items")),
    )
    op.create_index(
        "ix_domain_migration_items_outcome",
        "domain_migration_items",
        ["migration_id", "outcome", "seq"],
        unique=False,
    )
    op.create_index(
        "uq_domain_migration_items_wallet",
        "domain_migration_items",
        ["migration_id", "wallet_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("domain_migration_items")
    op.drop_table("domain_migrations")
