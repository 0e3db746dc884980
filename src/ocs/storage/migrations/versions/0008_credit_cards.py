"""credit cards: masking rules, cards (token and display number only), registrations

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-22 22:14:06.229618
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ocs.storage.tables

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_card_masking_rules",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix_length", sa.Integer(), nullable=False),
        sa.Column("suffix_length", sa.Integer(), nullable=False),
        sa.Column("padding", sa.String(length=1), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_credit_card_masking_rules")),
    )
    op.create_table(
        "credit_cards",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_provider", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("display_number", sa.String(length=19), nullable=False),
        sa.Column("masking_rule", sa.String(length=32), nullable=False),
        sa.Column("expiry_month", sa.Integer(), nullable=False),
        sa.Column("expiry_year", sa.Integer(), nullable=False),
        sa.Column("name_on_card", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("updated_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["masking_rule"],
            ["credit_card_masking_rules.code"],
            name=op.f("fk_credit_cards_masking_rule_credit_card_masking_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["service_provider"],
            ["cfg_service_providers.code"],
            name=op.f("fk_credit_cards_service_provider_cfg_service_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_cards")),
        sa.UniqueConstraint("service_provider", "token", name="uq_credit_cards_provider_token"),
    )
    with op.batch_alter_table("credit_cards", schema=None) as batch_op:
        batch_op.create_index("ix_credit_cards_display_number", ["display_number"], unique=False)

    op.create_table(
        "credit_card_registrations",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("registered_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["credit_cards.id"],
            name=op.f("fk_credit_card_registrations_card_id_credit_cards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_credit_card_registrations_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_id", "subscriber_id", name="pk_credit_card_registrations"),
    )
    with op.batch_alter_table("credit_card_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_card_registrations_subscriber_id"),
            ["subscriber_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("credit_card_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_card_registrations_subscriber_id"))
    op.drop_table("credit_card_registrations")
    with op.batch_alter_table("credit_cards", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_cards_display_number")
    op.drop_table("credit_cards")
    op.drop_table("credit_card_masking_rules")
