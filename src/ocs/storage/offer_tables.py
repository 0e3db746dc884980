"""Tables of the offer catalogue, subscriptions and the grants they produce.

`balance_grants` is a contract with real-time charging (reject at 100%, thresholds, first
usage): one row per (subscription, service, period), unique, which is what makes a grant
happen exactly once per period.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ocs.storage.tables import BigId, UtcDateTime, metadata

catalog_services = Table(
    "catalog_services",
    metadata,
    Column("code", String(32), primary_key=True),
    Column(
        "service_provider", String(32), ForeignKey("cfg_service_providers.code"), nullable=False
    ),
    Column("kind", String(40), nullable=False),
    Column("balance_type", String(32), nullable=False, unique=True),
    # Every field of the service as entered (JSON), validated again on every read.
    Column("definition", Text, nullable=False),
)

catalog_products = Table(
    "catalog_products",
    metadata,
    Column("code", String(32), primary_key=True),
    Column(
        "service_provider", String(32), ForeignKey("cfg_service_providers.code"), nullable=False
    ),
    Column("name", String(100), nullable=False),
    Column("description", String(500)),
)

catalog_product_services = Table(
    "catalog_product_services",
    metadata,
    Column("product_code", String(32), ForeignKey("catalog_products.code"), primary_key=True),
    Column("service_code", String(32), ForeignKey("catalog_services.code"), primary_key=True),
    Column("position", Integer, nullable=False),
)

catalog_offers = Table(
    "catalog_offers",
    metadata,
    Column("code", String(32), primary_key=True),
    Column(
        "service_provider", String(32), ForeignKey("cfg_service_providers.code"), nullable=False
    ),
    Column("name", String(100), nullable=False),
    Column("description", String(500)),
    Column("priority", Integer, nullable=False),
)

catalog_offer_products = Table(
    "catalog_offer_products",
    metadata,
    Column("offer_code", String(32), ForeignKey("catalog_offers.code"), primary_key=True),
    Column("product_code", String(32), ForeignKey("catalog_products.code"), primary_key=True),
    Column("position", Integer, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("offer", String(32), ForeignKey("catalog_offers.code"), nullable=False),
    Column("level", String(12), nullable=False),
    Column("entity_id", Integer, nullable=False),
    Column("service_provider", String(32), nullable=False),
    # No foreign key: a wallet may be deleted with its subscriber; the scheduler ends the
    # subscription then.
    Column("wallet_id", Integer, nullable=False),
    Column("start_at", UtcDateTime(), nullable=False),
    Column("end_at", UtcDateTime()),
    Column("state", String(12), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("activated_at", UtcDateTime()),
    Column("ended_at", UtcDateTime()),
    Index("ix_subscriptions_level_entity", "level", "entity_id"),
    Index("ix_subscriptions_state_start", "state", "start_at"),
)

balance_grants = Table(
    "balance_grants",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, ForeignKey("subscriptions.id"), nullable=False),
    Column("service_code", String(32), nullable=False),
    Column("period_index", Integer, nullable=False),
    Column("wallet_id", Integer, nullable=False, index=True),
    Column("balance_type", String(32), nullable=False),
    # NULL when nothing was credited (a zero pro-rated amount) or until the bucket is written
    # in the same transaction; buckets are deleted when consumed or expired.
    Column("bucket_id", BigInteger),
    Column("granted", BigInteger, nullable=False),
    Column("period_start", UtcDateTime(), nullable=False),
    Column("period_end", UtcDateTime()),
    Column("reject_at_full", Boolean, nullable=False),
    Column("thresholds_pct", String(16), nullable=False),
    Column("first_usage_notify", Boolean, nullable=False),
    Column("notified_thresholds_pct", String(16), nullable=False),
    Column("first_used_at", UtcDateTime()),
    Column("exhausted_at", UtcDateTime()),
    Column("granted_at", UtcDateTime(), nullable=False),
    UniqueConstraint("subscription_id", "service_code", "period_index"),
)

grant_rollovers = Table(
    "grant_rollovers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, ForeignKey("subscriptions.id"), nullable=False),
    Column("service_code", String(32), nullable=False),
    # The period whose unconsumed units rolled over.
    Column("period_index", Integer, nullable=False),
    Column("wallet_id", Integer, nullable=False),
    Column("balance_type", String(32), nullable=False),
    Column("bucket_id", BigInteger),
    Column("value", BigInteger, nullable=False),
    # With the id: SQLite may reuse the id of a deleted bucket, the expiry tells them apart.
    Column("bucket_expires_at", UtcDateTime()),
    Column("rolled_at", UtcDateTime(), nullable=False),
    Column("drop_at", UtcDateTime(), nullable=False),
    Column("dropped_at", UtcDateTime()),
    UniqueConstraint("subscription_id", "service_code", "period_index"),
    Index("ix_grant_rollovers_dropped_drop", "dropped_at", "drop_at"),
)
