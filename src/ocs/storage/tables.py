"""SQLAlchemy Core tables: the schema Alembic migrates. Nothing above storage writes SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from ocs.core.configuration import SPECS, ConfigKind, FieldType


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the injected UTC clock")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def config_table_name(kind: ConfigKind) -> str:
    return "cfg_" + kind.value.replace("-", "_")


def _config_table(kind: ConfigKind) -> Table:
    """One table per configuration kind; references are foreign keys to the immutable code."""
    columns: list[Column[Any]] = [Column("id", Integer, primary_key=True, autoincrement=True)]
    for f in SPECS[kind].fields:
        if f.name == "code":
            columns.append(Column("code", String(32), nullable=False, unique=True))
        elif f.type is FieldType.REF:
            assert f.ref is not None
            target = config_table_name(f.ref)
            columns.append(
                Column(f.name, String(32), ForeignKey(f"{target}.code"), nullable=not f.required)
            )
        elif f.type is FieldType.BOOL:
            columns.append(Column(f.name, Boolean, nullable=False, default=False))
        elif f.type is FieldType.INT:
            columns.append(Column(f.name, BigInteger, nullable=not f.required))
        else:
            columns.append(Column(f.name, String(f.length_max), nullable=not f.required))
    return Table(config_table_name(kind), metadata, *columns)


config_tables: dict[ConfigKind, Table] = {kind: _config_table(kind) for kind in ConfigKind}


def _cfg_ref(kind: ConfigKind) -> ForeignKey:
    return ForeignKey(f"{config_table_name(kind)}.code")


customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("name", String(100), nullable=False),
    Column("name_key", String(100), nullable=False),
    Column("description", String(500)),
    Column("reference", String(100)),
    Column("segment", String(32), _cfg_ref(ConfigKind.CUSTOMER_SEGMENT)),
    Column("state", String(16), nullable=False),
    Column("state_reason", String(32), _cfg_ref(ConfigKind.STATE_REASON)),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("service_provider", "name_key", name="uq_customers_provider_name_key"),
    Index("ix_customers_provider_name", "service_provider", "name_key"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("account_type", String(32), _cfg_ref(ConfigKind.ACCOUNT_TYPE), nullable=False),
    Column("payment_responsible", Boolean, nullable=False),
    Column("parent_account_id", Integer, ForeignKey("accounts.id"), index=True),
    Column("billing_cycle", String(32), _cfg_ref(ConfigKind.BILLING_CYCLE)),
    Column("currency", String(32), _cfg_ref(ConfigKind.CURRENCY)),
    Column("segment", String(32), _cfg_ref(ConfigKind.ACCOUNT_SEGMENT)),
    Column("state", String(16), nullable=False),
    Column("state_reason", String(32), _cfg_ref(ConfigKind.STATE_REASON)),
    Column("created_at", UtcDateTime(), nullable=False),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("subscriber_id", String(64), nullable=False),
    Column("card_number", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("segment", String(32), _cfg_ref(ConfigKind.SUBSCRIBER_SEGMENT)),
    Column("state", String(16), nullable=False),
    Column("state_reason", String(32), _cfg_ref(ConfigKind.STATE_REASON)),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("service_provider", "subscriber_id", name="uq_subscribers_provider_cli"),
    UniqueConstraint("service_provider", "card_number", name="uq_subscribers_provider_card"),
)

resources = Table(
    "resources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id"), nullable=False, index=True),
    Column("resource_type", String(32), _cfg_ref(ConfigKind.RESOURCE_TYPE), nullable=False),
    Column("value", String(128), nullable=False),
    UniqueConstraint("resource_type", "value", name="uq_resources_type_value"),
    Index("ix_resources_value", "value"),
)

state_changes = Table(
    "state_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("level", String(16), nullable=False),
    Column("entity_id", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_reason", String(32), _cfg_ref(ConfigKind.STATE_REASON), nullable=False),
    Column("valid_from", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_by", String(32), nullable=False),
    Index("ix_state_changes_entity", "level", "entity_id", "status"),
)

operators = Table(
    "operators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    # Comma-separated service provider codes the operator may work on; NULL means all.
    Column("service_providers", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("operator_id", Integer, ForeignKey("operators.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("operator", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("entity_key", String(128), nullable=False),
    Column("change_reason", String(200)),
    Column("detail", Text, nullable=False),
)
