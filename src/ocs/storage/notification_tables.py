"""Tables of notifications: the durable outbox of events, the deliveries each event expands
into, and the operator's configuration (contacts, templates, webhook subscriptions)."""

from __future__ import annotations

from sqlalchemy import (
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

notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # The unique key makes raising an event idempotent on every backend.
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("kind", String(24), nullable=False),
    Column("subscriber_id", Integer, nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("params", Text, nullable=False),
    # Set once the event has been expanded into deliveries; the expander picks null rows.
    Column("expanded_at", UtcDateTime()),
    Index("ix_notification_outbox_expanded_id", "expanded_at", "id"),
)

notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", BigId, ForeignKey("notification_outbox.id"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("subscriber_id", Integer, nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("recipient", String(500), nullable=False),
    Column("webhook_id", Integer),
    Column("subject", String(500)),
    Column("body", Text, nullable=False),
    Column("state", String(8), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    # A claimed (SENDING) row whose lease has run out belongs to a crashed worker: retried.
    Column("lease_expires_at", UtcDateTime()),
    Column("last_error", String(1000)),
    Column("sent_at", UtcDateTime()),
    UniqueConstraint(
        "event_id", "channel", "recipient", name="uq_notification_deliveries_event_target"
    ),
    Index("ix_notification_deliveries_state_next", "state", "next_attempt_at"),
)

notification_contacts = Table(
    "notification_contacts",
    metadata,
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), primary_key=True),
    Column("email", String(254)),
    # Overrides the subscriber's language for notifications when set.
    Column("language", String(16)),
)

notification_templates = Table(
    "notification_templates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("language", String(16), nullable=False),
    Column("subject", String(500)),
    Column("body", Text, nullable=False),
    UniqueConstraint(
        "kind", "channel", "language", name="uq_notification_templates_kind_channel_language"
    ),
)

notification_webhooks = Table(
    "notification_webhooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("url", String(1000), nullable=False),
    Column("secret", String(200), nullable=False),
    # Comma-separated notification kinds; the subscription receives only these.
    Column("kinds", String(200), nullable=False),
    Column("service_provider", String(32)),
    Column("active", Boolean, nullable=False),
)
