"""Tables of vouchers and credit transfers: voucher types with what they credit, batches,
vouchers (with a keyed hash of the secret, never the secret), the failed-recharge counter and
credit transfer definitions."""

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
)

from ocs.core.configuration import ConfigKind
from ocs.storage.tables import BigId, UtcDateTime, config_table_name, metadata


def _cfg(kind: ConfigKind) -> ForeignKey:
    return ForeignKey(f"{config_table_name(kind)}.code")


def _voucher_type(ondelete: str | None = None) -> ForeignKey:
    return ForeignKey("voucher_types.code", ondelete=ondelete)


voucher_types = Table(
    "voucher_types",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("description", String(500)),
    Column("service_provider", String(32), _cfg(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("wallet_expiry_extension_days", Integer),
    Column("product_type_swap", String(32), _cfg(ConfigKind.PRODUCT_TYPE)),
)

voucher_type_balances = Table(
    "voucher_type_balances",
    metadata,
    Column("voucher_type", String(32), _voucher_type("CASCADE"), primary_key=True),
    Column("balance_type", String(32), _cfg(ConfigKind.BALANCE_TYPE), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("expiry", String(16), nullable=False),
    Column("validity_days", Integer),
)

voucher_type_product_types = Table(
    "voucher_type_product_types",
    metadata,
    Column("voucher_type", String(32), _voucher_type("CASCADE"), primary_key=True),
    Column("product_type", String(32), _cfg(ConfigKind.PRODUCT_TYPE), primary_key=True),
)

voucher_batches = Table(
    "voucher_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("voucher_type", String(32), _voucher_type(), nullable=False, index=True),
    Column("service_provider", String(32), _cfg(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("size", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("description", String(500)),
)

# Subscribers and wallets are referenced by id only, as in the EDRs: a redeemed voucher's
# record outlives a deleted subscriber.
vouchers = Table(
    "vouchers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("voucher_batches.id"), nullable=False, index=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("serial_number", String(32), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("redeemed_by", Integer),
    Column("redeemed_at", UtcDateTime()),
    Column("redeemed_wallet_id", Integer),
    Index("ix_vouchers_batch_state", "batch_id", "state"),
)

voucher_recharge_failures = Table(
    "voucher_recharge_failures",
    metadata,
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", UtcDateTime()),
)

credit_transfer_definitions = Table(
    "credit_transfer_definitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("description", String(500)),
    Column("transfer_type", String(16), nullable=False),
    Column("service_provider", String(32), _cfg(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("charge_balance_type", String(32), _cfg(ConfigKind.BALANCE_TYPE), nullable=False),
    Column("charge_amount", BigInteger, nullable=False),
    Column("voucher_type", String(32), _voucher_type(), nullable=False, index=True),
    Column("pin_required", Boolean, nullable=False, default=False),
)

credit_transfer_product_types = Table(
    "credit_transfer_product_types",
    metadata,
    Column(
        "definition",
        String(32),
        ForeignKey("credit_transfer_definitions.code", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("product_type", String(32), _cfg(ConfigKind.PRODUCT_TYPE), primary_key=True),
)
