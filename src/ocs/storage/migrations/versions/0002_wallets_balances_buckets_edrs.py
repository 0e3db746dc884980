"""wallets balances buckets EDRs and wallet settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:58:16.878005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ocs.storage.tables

revision = "0002"
down_revision = "0001"
branch_labels = ("wallets",)
depends_on = None


def upgrade() -> None:
    # Product type columns first: SQLite rebuilds the table, which is safest before anything
    # else refers to it.
    with op.batch_alter_table("cfg_product_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_balance_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("max_concurrent_accesses", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cfg_product_types_default_balance_type_cfg_balance_types"),
            "cfg_balance_types",
            ["default_balance_type"],
            ["code"],
        )

    op.create_table(
        "edr_masking_rules",
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("keep_prefix", sa.Integer(), nullable=False),
        sa.Column("keep_suffix", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("field", name=op.f("pk_edr_masking_rules")),
    )
    op.create_table(
        "edrs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("wallet_type", sa.String(length=16), nullable=True),
        sa.Column("operator", sa.String(length=32), nullable=True),
        sa.Column("change_reason", sa.String(length=200), nullable=True),
        sa.Column("called_number", sa.String(length=64), nullable=True),
        sa.Column("duration_s", sa.BigInteger(), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("discounts", sa.String(length=64), nullable=True),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column(
            "reverses_edr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_edr_id"], ["edrs.id"], name=op.f("fk_edrs_reverses_edr_id_edrs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edrs")),
        sa.UniqueConstraint("reverses_edr_id", name=op.f("uq_edrs_reverses_edr_id")),
    )
    with op.batch_alter_table("edrs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_edrs_at"), ["at"], unique=False)
        batch_op.create_index("ix_edrs_subscriber_at", ["subscriber_id", "at"], unique=False)
        batch_op.create_index("ix_edrs_wallet_at", ["wallet_id", "at"], unique=False)

    op.create_table(
        "edr_balances",
        sa.Column("edr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("unit_class", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=32), nullable=True),
        sa.Column("old_value", sa.BigInteger(), nullable=False),
        sa.Column("delta_value", sa.BigInteger(), nullable=False),
        sa.Column("new_value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["edr_id"], ["edrs.id"], name=op.f("fk_edr_balances_edr_id_edrs")),
        sa.PrimaryKeyConstraint("edr_id", "balance_type", name=op.f("pk_edr_balances")),
    )
    op.create_table(
        "edr_tags",
        sa.Column("edr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["edr_id"], ["edrs.id"], name=op.f("fk_edr_tags_edr_id_edrs")),
        sa.PrimaryKeyConstraint("edr_id", "key", name=op.f("pk_edr_tags")),
    )
    with op.batch_alter_table("edr_tags", schema=None) as batch_op:
        batch_op.create_index("ix_edr_tags_key_value", ["key", "value"], unique=False)

    op.create_table(
        "exchange_rates",
        sa.Column("from_currency", sa.String(length=32), nullable=False),
        sa.Column("to_currency", sa.String(length=32), nullable=False),
        sa.Column("rate_nano", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_currency"],
            ["cfg_currencies.code"],
            name=op.f("fk_exchange_rates_from_currency_cfg_currencies"),
        ),
        sa.ForeignKeyConstraint(
            ["to_currency"],
            ["cfg_currencies.code"],
            name=op.f("fk_exchange_rates_to_currency_cfg_currencies"),
        ),
        sa.PrimaryKeyConstraint("from_currency", "to_currency", name=op.f("pk_exchange_rates")),
    )
    op.create_table(
        "activation_credits",
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("validity_s", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["balance_type"],
            ["cfg_balance_types.code"],
            name=op.f("fk_activation_credits_balance_type_cfg_balance_types"),
        ),
        sa.ForeignKeyConstraint(
            ["product_type"],
            ["cfg_product_types.code"],
            name=op.f("fk_activation_credits_product_type_cfg_product_types"),
        ),
        sa.PrimaryKeyConstraint("product_type", "balance_type", name=op.f("pk_activation_credits")),
    )
    op.create_table(
        "adjustment_limits",
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("minimum", sa.BigInteger(), nullable=False),
        sa.Column("maximum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["balance_type"],
            ["cfg_balance_types.code"],
            name=op.f("fk_adjustment_limits_balance_type_cfg_balance_types"),
        ),
        sa.ForeignKeyConstraint(
            ["product_type"],
            ["cfg_product_types.code"],
            name=op.f("fk_adjustment_limits_product_type_cfg_product_types"),
        ),
        sa.PrimaryKeyConstraint("product_type", "balance_type", name=op.f("pk_adjustment_limits")),
    )
    op.create_table(
        "operator_adjustment_limits",
        sa.Column("operator", sa.String(length=32), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("minimum", sa.BigInteger(), nullable=False),
        sa.Column("maximum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["balance_type"],
            ["cfg_balance_types.code"],
            name=op.f("fk_operator_adjustment_limits_balance_type_cfg_balance_types"),
        ),
        sa.ForeignKeyConstraint(
            ["operator"],
            ["operators.username"],
            name=op.f("fk_operator_adjustment_limits_operator_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["product_type"],
            ["cfg_product_types.code"],
            name=op.f("fk_operator_adjustment_limits_product_type_cfg_product_types"),
        ),
        sa.PrimaryKeyConstraint(
            "operator", "product_type", "balance_type", name=op.f("pk_operator_adjustment_limits")
        ),
    )
    op.create_table(
        "state_permissions",
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_type"],
            ["cfg_product_types.code"],
            name=op.f("fk_state_permissions_product_type_cfg_product_types"),
        ),
        sa.PrimaryKeyConstraint(
            "product_type", "state", "action", name=op.f("pk_state_permissions")
        ),
    )
    op.create_table(
        "wallets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.Column("service_provider", sa.String(length=32), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=32), nullable=False),
        sa.Column("display_currency", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("limit_type", sa.String(length=16), nullable=False),
        sa.Column("minimum_credit", sa.BigInteger(), nullable=True),
        sa.Column("max_concurrent_accesses", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("expires_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("created_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("activated_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("last_used_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("state_changed_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency"], ["cfg_currencies.code"], name=op.f("fk_wallets_currency_cfg_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["display_currency"],
            ["cfg_currencies.code"],
            name=op.f("fk_wallets_display_currency_cfg_currencies"),
        ),
        sa.ForeignKeyConstraint(
            ["product_type"],
            ["cfg_product_types.code"],
            name=op.f("fk_wallets_product_type_cfg_product_types"),
        ),
        sa.ForeignKeyConstraint(
            ["service_provider"],
            ["cfg_service_providers.code"],
            name=op.f("fk_wallets_service_provider_cfg_service_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("reference", name=op.f("uq_wallets_reference")),
    )
    op.create_table(
        "buckets",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("start_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.Column("expires_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["balance_type"],
            ["cfg_balance_types.code"],
            name=op.f("fk_buckets_balance_type_cfg_balance_types"),
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_buckets_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buckets")),
    )
    with op.batch_alter_table("buckets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buckets_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(
            "ix_buckets_wallet_balance_type", ["wallet_id", "balance_type"], unique=False
        )

    op.create_table(
        "wallet_balances",
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("limit_type", sa.String(length=16), nullable=False),
        sa.Column("minimum_credit", sa.BigInteger(), nullable=True),
        sa.Column("display_currency", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["balance_type"],
            ["cfg_balance_types.code"],
            name=op.f("fk_wallet_balances_balance_type_cfg_balance_types"),
        ),
        sa.ForeignKeyConstraint(
            ["display_currency"],
            ["cfg_currencies.code"],
            name=op.f("fk_wallet_balances_display_currency_cfg_currencies"),
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_wallet_balances_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("wallet_id", "balance_type", name=op.f("pk_wallet_balances")),
    )
    op.create_table(
        "wallet_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("operator", sa.String(length=32), nullable=True),
        sa.Column("state_from", sa.String(length=16), nullable=True),
        sa.Column("state_to", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_wallet_history_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_history")),
    )
    with op.batch_alter_table("wallet_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_history_wallet_id"), ["wallet_id"], unique=False
        )

    op.create_table(
        "wallet_links",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("wallet_type", sa.String(length=16), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_wallet_links_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("subscriber_id", "wallet_type", name=op.f("pk_wallet_links")),
    )
    with op.batch_alter_table("wallet_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallet_links_wallet_id"), ["wallet_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cfg_product_types", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_cfg_product_types_default_balance_type_cfg_balance_types"),
            type_="foreignkey",
        )
        batch_op.drop_column("max_concurrent_accesses")
        batch_op.drop_column("default_balance_type")

    with op.batch_alter_table("wallet_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_links_wallet_id"))

    op.drop_table("wallet_links")
    with op.batch_alter_table("wallet_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_history_wallet_id"))

    op.drop_table("wallet_history")
    op.drop_table("wallet_balances")
    with op.batch_alter_table("buckets", schema=None) as batch_op:
        batch_op.drop_index("ix_buckets_wallet_balance_type")
        batch_op.drop_index(batch_op.f("ix_buckets_expires_at"))

    op.drop_table("buckets")
    op.drop_table("wallets")
    op.drop_table("state_permissions")
    op.drop_table("operator_adjustment_limits")
    op.drop_table("adjustment_limits")
    op.drop_table("activation_credits")
    op.drop_table("exchange_rates")
    with op.batch_alter_table("edr_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_edr_tags_key_value")

    op.drop_table("edr_tags")
    op.drop_table("edr_balances")
    with op.batch_alter_table("edrs", schema=None) as batch_op:
        batch_op.drop_index("ix_edrs_wallet_at")
        batch_op.drop_index("ix_edrs_subscriber_at")
        batch_op.drop_index(batch_op.f("ix_edrs_at"))

    op.drop_table("edrs")
    op.drop_table("edr_masking_rules")
