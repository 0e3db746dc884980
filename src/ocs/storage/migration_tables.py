"""Tables of wallet migrations between charging domains (in the main database): the migration
record and one row per wallet it covers, so a restarted run never moves or counts a wallet
twice."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from ocs.core.configuration import ConfigKind
from ocs.storage.tables import UtcDateTime, config_table_name, metadata

migrations = Table(
    "domain_migrations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "service_provider",
        String(32),
        ForeignKey(f"{config_table_name(ConfigKind.SERVICE_PROVIDER)}.code"),
        nullable=False,
    ),
    Column("source_domain", String(32), nullable=False),
    Column("target_domain", String(32), nullable=False),
    Column("selection", String(16), nullable=False),
    Column("first_selection", String(16), nullable=False),
    # Wallet state letters (core.migrations.WALLET_STATE_LETTERS), e.g. "PADS".
    Column("wallet_states", String(8), nullable=False),
    Column("range_start", String(32)),
    Column("range_end", String(32)),
    Column("account_batch_id", Integer),
    Column("input_filename", String(255)),
    # The input file's subscriber numbers, one per line.
    Column("input_numbers", Text),
    Column("product_type", String(32)),
    Column("batch_id", Integer),
    Column("max_wallets", Integer),
    Column("throttle_per_s", Integer),
    Column("remaining_filename", String(255)),
    Column("state", String(1), nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime()),
    Column("ended_at", UtcDateTime()),
    Column("wallets_total", Integer, nullable=False),
    Column("wallets_moved", Integer, nullable=False),
    Column("report", Text),
    Index("ix_domain_migrations_state", "state", "id"),
)

migration_items = Table(
    "domain_migration_items",
    metadata,
    Column(
        "migration_id",
        Integer,
        ForeignKey("domain_migrations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The order the runner moves the wallets in.
    Column("seq", Integer, primary_key=True),
    Column("wallet_id", Integer, nullable=False),
    Column("subscriber", String(64), nullable=False),
    Column("wallet_type", String(16), nullable=False),
    # Other subscribers linked to the wallet, space separated.
    Column("shared_subscribers", Text, nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("detail", String(500), nullable=False),
    Index("uq_domain_migration_items_wallet", "migration_id", "wallet_id", unique=True),
    Index("ix_domain_migration_items_outcome", "migration_id", "outcome", "seq"),
)
