"""offers subscriptions grants

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ocs.storage.tables

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_offers",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("service_provider", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_provider"],
            ["cfg_service_providers.code"],
            name=op.f("fk_catalog_offers_service_provider_cfg_service_providers"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_offers")),
    )
    op.create_table(
        "catalog_products",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("service_provider", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_provider"],
            ["cfg_service_providers.code"],
            name=op.f("fk_catalog_products_service_provider_cfg_service_providers"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_products")),
    )
    op.create_table(
        "catalog_services",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("service_provider", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_provider"],
            ["cfg_service_providers.code"],
            name=op.f("fk_catalog_services_service_provider_cfg_service_providers"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_services")),
        sa.UniqueConstraint("balance_type", name=op.f("uq_catalog_services_balance_type")),
    )
    op.create_table(
        "catalog_offer_products",
        sa.Column("offer_code", sa.String(length=32), nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_code"],
            ["catalog_offers.code"],
            name=op.f("fk_catalog_offer_products_offer_code_catalog_offers"),
        ),
        sa.ForeignKeyConstraint(
            ["product_code"],
            ["catalog_products.code"],
            name=op.f("fk_catalog_offer_products_product_code_catalog_products"),
        ),
        sa.PrimaryKeyConstraint(
            "offer_code", "product_code", name=op.f("pk_catalog_offer_products")
        ),
    )
    op.create_table(
        "catalog_product_services",
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_code"],
            ["catalog_products.code"],
            name=op.f("fk_catalog_product_services_product_code_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["catalog_services.code"],
            name=op.f("fk_catalog_product_services_service_code_catalog_services"),
        ),
        sa.PrimaryKeyConstraint(
            "product_code", "service_code", name=op.f("pk_catalog_product_services")
        ),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("offer", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("service_provider", sa.String(length=32), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("start_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("end_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("activated_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("ended_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer"], ["catalog_offers.code"], name=op.f("fk_subscriptions_offer_catalog_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index("ix_subscriptions_level_entity", ["level", "entity_id"], unique=False)
        batch_op.create_index("ix_subscriptions_state_start", ["state", "start_at"], unique=False)

    op.create_table(
        "balance_grants",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("bucket_id", sa.BigInteger(), nullable=True),
        sa.Column("granted", sa.BigInteger(), nullable=False),
        sa.Column("period_start", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("period_end", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("reject_at_full", sa.Boolean(), nullable=False),
        sa.Column("thresholds_pct", sa.String(length=16), nullable=False),
        sa.Column("first_usage_notify", sa.Boolean(), nullable=False),
        sa.Column("notified_thresholds_pct", sa.String(length=16), nullable=False),
        sa.Column("first_used_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("exhausted_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("granted_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_balance_grants_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_grants")),
        sa.UniqueConstraint(
            "subscription_id",
            "service_code",
            "period_index",
            name=op.f("uq_balance_grants_subscription_id"),
        ),
    )
    with op.batch_alter_table("balance_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_balance_grants_wallet_id"), ["wallet_id"], unique=False
        )

    op.create_table(
        "grant_rollovers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("bucket_id", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("bucket_expires_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("rolled_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("drop_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("dropped_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_grant_rollovers_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_rollovers")),
        sa.UniqueConstraint(
            "subscription_id",
            "service_code",
            "period_index",
            name=op.f("uq_grant_rollovers_subscription_id"),
        ),
    )
    with op.batch_alter_table("grant_rollovers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_grant_rollovers_dropped_drop", ["dropped_at", "drop_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("grant_rollovers", schema=None) as batch_op:
        batch_op.drop_index("ix_grant_rollovers_dropped_drop")

    op.drop_table("grant_rollovers")
    with op.batch_alter_table("balance_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_balance_grants_wallet_id"))

    op.drop_table("balance_grants")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_subscriptions_state_start")
        batch_op.drop_index("ix_subscriptions_level_entity")

    op.drop_table("subscriptions")
    op.drop_table("catalog_product_services")
    op.drop_table("catalog_offer_products")
    op.drop_table("catalog_services")
    op.drop_table("catalog_products")
    op.drop_table("catalog_offers")
