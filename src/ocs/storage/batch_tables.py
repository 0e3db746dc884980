"""Tables of subscriber batches: the batch record, the ranges of its list file (searched by
subscriber ID prefix) and its members (which subscribers the batch created)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table

from ocs.core.configuration import ConfigKind
from ocs.storage.tables import UtcDateTime, config_table_name, metadata


def _cfg(kind: ConfigKind) -> ForeignKey:
    return ForeignKey(f"{config_table_name(kind)}.code")


subscriber_batches = Table(
    "subscriber_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_provider", String(32), _cfg(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("size", Integer, nullable=False),
    Column("list_filename", String(255)),
    Column("result_filename", String(255), nullable=False),
    Column("charging_domain", String(32), nullable=False),
    Column("product_type", String(32), _cfg(ConfigKind.PRODUCT_TYPE), nullable=False),
    Column("currency", String(32), _cfg(ConfigKind.CURRENCY), nullable=False),
    Column("max_concurrent_accesses", Integer, nullable=False),
    Column("card_numbering", String(16), nullable=False),
    Column("card_first", String(32)),
    Column("card_last", String(32)),
    Column("pins", Boolean, nullable=False),
    Column("pin_length", Integer),
    Column("pin_method", String(32)),
    Column("state", String(16), nullable=False),
    Column("state_reason", String(32), _cfg(ConfigKind.STATE_REASON)),
    Column("created_count", Integer, nullable=False),
    Column("error", String(500)),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("state_changed_at", UtcDateTime(), nullable=False),
    Index("ix_subscriber_batches_provider_state", "service_provider", "state"),
)

# The list file's lines after merging adjacent numbers: few rows even for a million numbers.
batch_ranges = Table(
    "batch_ranges",
    metadata,
    Column(
        "batch_id",
        Integer,
        ForeignKey("subscriber_batches.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("line", Integer, primary_key=True),
    Column("first", String(32), nullable=False),
    Column("last", String(32), nullable=False),
)

# A member leaves with its subscriber (deleted one by one through the CASM services).
batch_subscribers = Table(
    "batch_subscribers",
    metadata,
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "batch_id",
        Integer,
        ForeignKey("subscriber_batches.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Index("ix_batch_subscribers_batch_member", "batch_id", "subscriber_id"),
)
