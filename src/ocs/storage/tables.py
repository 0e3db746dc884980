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

# -- wallets, balances, buckets and EDRs ---------------------------------------------------------
# No foreign keys into the CASM tables: wallets are to move into their own charging-domain
# databases, so subscribers and customers are referenced by id only.

# 64-bit ids where rows grow with traffic; SQLite auto-increments only an INTEGER primary key.
BigId = BigInteger().with_variant(Integer(), "sqlite")

wallets = Table(
    "wallets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # NULL only between the insert and the update that sets a generated reference.
    Column("reference", String(32), unique=True),
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("product_type", String(32), _cfg_ref(ConfigKind.PRODUCT_TYPE), nullable=False),
    Column("currency", String(32), _cfg_ref(ConfigKind.CURRENCY), nullable=False),
    Column("display_currency", String(32), _cfg_ref(ConfigKind.CURRENCY), nullable=False),
    Column("customer_id", Integer),
    Column("limit_type", String(16), nullable=False),
    Column("minimum_credit", BigInteger),
    Column("max_concurrent_accesses", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("activated_at", UtcDateTime()),
    Column("last_used_at", UtcDateTime()),
    Column("state_changed_at", UtcDateTime(), nullable=False),
    # Changes whenever the wallet or anything charging reads with it changes (database
    # triggers, migration 0013), to a value never used before: the charging engine keeps
    # wallets in memory and trusts its copy only while the revision is the one it saw.
    Column("revision", BigInteger, nullable=False, server_default="0"),
)

wallet_links = Table(
    "wallet_links",
    metadata,
    Column("subscriber_id", Integer, primary_key=True),
    Column("wallet_type", String(16), primary_key=True),
    Column("wallet_id", Integer, ForeignKey("wallets.id"), nullable=False, index=True),
    Column("linked_at", UtcDateTime(), nullable=False),
)

wallet_balances = Table(
    "wallet_balances",
    metadata,
    Column("wallet_id", Integer, ForeignKey("wallets.id"), primary_key=True),
    Column("balance_type", String(32), _cfg_ref(ConfigKind.BALANCE_TYPE), primary_key=True),
    Column("limit_type", String(16), nullable=False),
    Column("minimum_credit", BigInteger),
    Column("display_currency", String(32), _cfg_ref(ConfigKind.CURRENCY)),
)

buckets = Table(
    "buckets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("wallet_id", Integer, ForeignKey("wallets.id"), nullable=False),
    Column("balance_type", String(32), _cfg_ref(ConfigKind.BALANCE_TYPE), nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("start_at", UtcDateTime()),
    Column("expires_at", UtcDateTime(), index=True),
    Index("ix_buckets_wallet_balance_type", "wallet_id", "balance_type"),
)

wallet_history = Table(
    "wallet_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("wallet_id", Integer, ForeignKey("wallets.id"), nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("event", String(16), nullable=False),
    Column("operator", String(32)),
    Column("state_from", String(16)),
    Column("state_to", String(16)),
    Column("detail", String(200)),
)

# EDRs outlive their wallets (merge, deletion), so they reference wallets by id only.
edrs = Table(
    "edrs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("type", String(24), nullable=False),
    # Every EDR query is scoped by wallet (ix_edrs_wallet_at); none by time alone (0021).
    Column("at", UtcDateTime(), nullable=False),
    Column("wallet_id", Integer, nullable=False),
    Column("subscriber_id", Integer),
    Column("wallet_type", String(16)),
    Column("operator", String(32)),
    Column("change_reason", String(200)),
    Column("called_number", String(64)),
    Column("duration_s", BigInteger),
    Column("session_id", String(64)),
    Column("discounts", String(64)),
    Column("partial", Boolean, nullable=False, default=False),
    # At most one reversal per EDR, enforced by the database as well.
    Column("reverses_edr_id", BigId, ForeignKey("edrs.id"), unique=True),
    Column("detail", Text, nullable=False),
    Index("ix_edrs_wallet_at", "wallet_id", "at"),
)

# Each wallet a subscriber's EDRs were written on, kept by a trigger on edrs (migration 0020):
# a search by subscriber reads those wallets' EDRs through ix_edrs_wallet_at. An index on the
# subscriber would cost every EDR a write at a random place; this row is written once.
subscriber_edr_wallets = Table(
    "subscriber_edr_wallets",
    metadata,
    Column("subscriber_id", Integer, primary_key=True),
    Column("wallet_id", Integer, primary_key=True),
    sqlite_with_rowid=False,
)

edr_balances = Table(
    "edr_balances",
    metadata,
    Column("edr_id", BigId, ForeignKey("edrs.id"), primary_key=True),
    Column("balance_type", String(32), primary_key=True),
    Column("unit_class", String(8), nullable=False),
    Column("currency", String(32)),
    Column("old_value", BigInteger, nullable=False),
    Column("delta_value", BigInteger, nullable=False),
    Column("new_value", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # migration 0022
)

edr_tags = Table(
    "edr_tags",
    metadata,
    Column("edr_id", BigId, ForeignKey("edrs.id"), primary_key=True),
    Column("key", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
    sqlite_with_rowid=False,  # migration 0022
)

# -- wallet settings: per product type, per operator, exchange rates, EDR masking ----------------

adjustment_limits = Table(
    "adjustment_limits",
    metadata,
    Column("product_type", String(32), _cfg_ref(ConfigKind.PRODUCT_TYPE), primary_key=True),
    Column("balance_type", String(32), _cfg_ref(ConfigKind.BALANCE_TYPE), primary_key=True),
    Column("minimum", BigInteger, nullable=False),
    Column("maximum", BigInteger, nullable=False),
)

operator_adjustment_limits = Table(
    "operator_adjustment_limits",
    metadata,
    Column("operator", String(32), ForeignKey("operators.username"), primary_key=True),
    Column("product_type", String(32), _cfg_ref(ConfigKind.PRODUCT_TYPE), primary_key=True),
    Column("balance_type", String(32), _cfg_ref(ConfigKind.BALANCE_TYPE), primary_key=True),
    Column("minimum", BigInteger, nullable=False),
    Column("maximum", BigInteger, nullable=False),
)

activation_credits = Table(
    "activation_credits",
    metadata,
    Column("product_type", String(32), _cfg_ref(ConfigKind.PRODUCT_TYPE), primary_key=True),
    Column("balance_type", String(32), _cfg_ref(ConfigKind.BALANCE_TYPE), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("validity_s", BigInteger),
)

state_permissions = Table(
    "state_permissions",
    metadata,
    Column("product_type", String(32), _cfg_ref(ConfigKind.PRODUCT_TYPE), primary_key=True),
    Column("state", String(16), primary_key=True),
    Column("action", String(16), primary_key=True),
    Column("allowed", Boolean, nullable=False),
)

exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("from_currency", String(32), _cfg_ref(ConfigKind.CURRENCY), primary_key=True),
    Column("to_currency", String(32), _cfg_ref(ConfigKind.CURRENCY), primary_key=True),
    Column("rate_nano", BigInteger, nullable=False),
)

edr_masking_rules = Table(
    "edr_masking_rules",
    metadata,
    Column("field", String(40), primary_key=True),
    Column("keep_prefix", Integer, nullable=False),
    Column("keep_suffix", Integer, nullable=False),
)

# -- subscriber features: details, call barring, number translation, friends and family,
# closed user groups, zones, comments, profile group fields --------------------------------------
# Rows that belong to one subscriber go with it (ON DELETE CASCADE).

for _column in (
    Column("description", String(500)),
    Column("pin_hash", String(200)),  # argon2 only; the PIN itself is never stored
    # Consecutive wrong PINs; at PIN_FAILURES_MAX the PIN is blocked until a new one is set.
    Column("pin_failures", Integer, nullable=False, server_default="0"),
    Column("subscriber_id_restricted", Boolean, nullable=False, default=False),
    Column("incoming_calls_disabled_when_roaming", Boolean, nullable=False, default=False),
    Column("blacklisted", Boolean, nullable=False, default=False),
    Column("sms_notifications_disabled", Boolean, nullable=False, default=False),
    Column("remote_access_allowed", Boolean, nullable=False, default=False),
):
    subscribers.append_column(_column)


def _subscriber_fk() -> ForeignKey:
    return ForeignKey("subscribers.id", ondelete="CASCADE")


call_barring = Table(
    "call_barring",
    metadata,
    Column("subscriber_id", Integer, _subscriber_fk(), primary_key=True),
    Column("list_type", String(16), nullable=False),
    Column("ignore_list", Boolean, nullable=False),
)

call_barring_numbers = Table(
    "call_barring_numbers",
    metadata,
    Column("subscriber_id", Integer, _subscriber_fk(), primary_key=True),
    Column("number", String(32), primary_key=True),
)

# One table for the four translation levels; `owner` is the subscriber id, product type code or
# service provider code ('' at system level) and keeps short codes unique per owner.
short_codes = Table(
    "short_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("level", String(16), nullable=False),
    Column("owner", String(32), nullable=False),
    Column("subscriber_id", Integer, _subscriber_fk(), index=True),
    Column("product_type", String(32), _cfg_ref(ConfigKind.PRODUCT_TYPE)),
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER)),
    Column("short_code", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    UniqueConstraint("level", "owner", "short_code", name="uq_short_codes_level_owner_code"),
)

friends = Table(
    "friends",
    metadata,
    Column("subscriber_id", Integer, _subscriber_fk(), primary_key=True),
    Column("active_service", String(32), nullable=False),
    Column("fd_discount_prefix", String(32)),
    Column("fd_change_count", Integer, nullable=False),
    Column("fd_changed_at", UtcDateTime()),
    Column("ff_change_count", Integer, nullable=False),
    Column("ff_changed_at", UtcDateTime()),
)

ff_numbers = Table(
    "ff_numbers",
    metadata,
    Column("subscriber_id", Integer, _subscriber_fk(), primary_key=True),
    Column("number", String(32), primary_key=True),
)

provider_blacklists = Table(
    "provider_blacklists",
    metadata,
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER), primary_key=True),
    Column("list_kind", String(16), primary_key=True),
    Column("number", String(32), primary_key=True),
)

fd_prefix_map = Table(
    "fd_prefix_map",
    metadata,
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER), primary_key=True),
    Column("prefix", String(32), primary_key=True),
    Column("announcement_set", String(50), nullable=False),
    Column("announcement_entry", String(50), nullable=False),
)

closed_user_groups = Table(
    "closed_user_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("name", String(50), nullable=False),
    Column("tariff_plan", String(32), _cfg_ref(ConfigKind.TARIFF_PLAN), nullable=False),
    UniqueConstraint("service_provider", "name", name="uq_closed_user_groups_provider_name"),
)


def _cug_fk() -> ForeignKey:
    return ForeignKey("closed_user_groups.id", ondelete="CASCADE")


cug_members = Table(
    "cug_members",
    metadata,
    Column("cug_id", Integer, _cug_fk(), primary_key=True),
    Column("subscriber_id", Integer, _subscriber_fk(), primary_key=True, index=True),
)

cug_virtual_members = Table(
    "cug_virtual_members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cug_id", Integer, _cug_fk(), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("number", String(32), nullable=False),
    Column("last_number", String(32)),
    Column("length", Integer),
)

zones = Table(
    "zones",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", Integer, _subscriber_fk(), nullable=False),
    Column("name", String(50), nullable=False),
    UniqueConstraint("subscriber_id", "name", name="uq_zones_subscriber_name"),
)

# A circle uses x1/y1 as its centre; a rectangle x1/y1 as west/north and x2/y2 as east/south.
zone_shapes = Table(
    "zone_shapes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "zone_id", Integer, ForeignKey("zones.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("kind", String(16), nullable=False),
    Column("x1_udeg", BigInteger, nullable=False),
    Column("y1_udeg", BigInteger, nullable=False),
    Column("x2_udeg", BigInteger),
    Column("y2_udeg", BigInteger),
    Column("radius_um", BigInteger),
)

subscriber_comments = Table(
    "subscriber_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", Integer, _subscriber_fk(), nullable=False, index=True),
    Column("author", String(32), nullable=False),
    Column("text", String(50), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

profile_groups = Table(
    "profile_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("name", String(50), nullable=False),
    Column("permission_name", String(200), nullable=False),
    UniqueConstraint("service_provider", "name", name="uq_profile_groups_provider_name"),
)

profile_fields = Table(
    "profile_fields",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "group_id",
        Integer,
        ForeignKey("profile_groups.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("service_provider", String(32), _cfg_ref(ConfigKind.SERVICE_PROVIDER), nullable=False),
    Column("display_name", String(50), nullable=False),
    Column("tag_name", String(50), nullable=False),
    Column("tag_type", String(16), nullable=False),
    Column("group_order", Integer, nullable=False),
    Column("sub_order", Integer, nullable=False),
    Column("permission_name", String(200), nullable=False),
    Column("value_limit", Integer),
    UniqueConstraint("service_provider", "tag_name", name="uq_profile_fields_provider_tag"),
    UniqueConstraint("group_id", "display_name", name="uq_profile_fields_group_display"),
    UniqueConstraint(
        "group_id", "group_order", "sub_order", name="uq_profile_fields_group_position"
    ),
)

# Values as JSON text; ZONE fields keep theirs as the subscriber's zone named after the tag.
profile_values = Table(
    "profile_values",
    metadata,
    Column("subscriber_id", Integer, _subscriber_fk(), primary_key=True),
    Column(
        "field_id",
        Integer,
        ForeignKey("profile_fields.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("value", Text, nullable=False),
)
