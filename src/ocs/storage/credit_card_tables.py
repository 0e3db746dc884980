"""Tables of credit cards: masking rules, cards (keyed token and display number only, never
the full number or the CVC) and their registrations to subscribers."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from ocs.storage.tables import UtcDateTime, metadata

credit_card_masking_rules = Table(
    "credit_card_masking_rules",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("prefix_length", Integer, nullable=False),
    Column("suffix_length", Integer, nullable=False),
    Column("padding", String(1), nullable=False),
)

credit_cards = Table(
    "credit_cards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "service_provider", String(32), ForeignKey("cfg_service_providers.code"), nullable=False
    ),
    # HMAC-SHA256 hex digest of the number under the server key.
    Column("token", String(64), nullable=False),
    Column("display_number", String(19), nullable=False),
    Column(
        "masking_rule", String(32), ForeignKey("credit_card_masking_rules.code"), nullable=False
    ),
    Column("expiry_month", Integer, nullable=False),
    Column("expiry_year", Integer, nullable=False),
    Column("name_on_card", String(100)),
    Column("state", String(8), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("service_provider", "token", name="uq_credit_cards_provider_token"),
    Index("ix_credit_cards_display_number", "display_number"),
)

credit_card_registrations = Table(
    "credit_card_registrations",
    metadata,
    Column("card_id", Integer, ForeignKey("credit_cards.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("state", String(10), nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("card_id", "subscriber_id", name="pk_credit_card_registrations"),
)
