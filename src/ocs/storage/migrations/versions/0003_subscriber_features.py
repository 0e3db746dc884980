"""subscriber features: details, call barring, number translation, friends and family,
closed user groups, zones, comments, profile group fields

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ocs.storage.tables

revision = "0003"
down_revision = "0001"
branch_labels = ("features",)
# Closed user groups refer to tariff plans, which the rating branch creates.
depends_on = "0004"

SUBSCRIBER_FLAGS = (
    "subscriber_id_restricted",
    "incoming_calls_disabled_when_roaming",
    "blacklisted",
    "sms_notifications_disabled",
    "remote_access_allowed",
)

# Child tables first, so the downgrade can drop them in this order.
TABLES = (
    "profile_values",
    "profile_fields",
    "profile_groups",
    "subscriber_comments",
    "zone_shapes",
    "zones",
    "cug_virtual_members",
    "cug_members",
    "closed_user_groups",
    "fd_prefix_map",
    "provider_blacklists",
    "ff_numbers",
    "friends",
    "short_codes",
    "call_barring_numbers",
    "call_barring",
)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{table}")


def _fk(
    table: str, column: str, target: str, target_column: str, cascade: bool = False
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.{target_column}"],
        name=f"fk_{table}_{column}_{target}",
        ondelete="CASCADE" if cascade else None,
    )


def _subscriber(table: str) -> sa.ForeignKeyConstraint:
    return _fk(table, "subscriber_id", "subscribers", "id", cascade=True)


def _provider(table: str, column: str = "service_provider") -> sa.ForeignKeyConstraint:
    return _fk(table, column, "cfg_service_providers", "code")


def _index(table: str, column: str) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def _string(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def upgrade() -> None:
    op.add_column("subscribers", _string("description", 500, nullable=True))
    op.add_column("subscribers", _string("pin_hash", 200, nullable=True))
    for flag in SUBSCRIBER_FLAGS:
        op.add_column(
            "subscribers", sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _create_number_features()
    _create_closed_user_groups()
    _create_zones_and_comments()
    _create_profiles()


def _create_number_features() -> None:
    op.create_table(
        "call_barring",
        _int("subscriber_id"),
        _string("list_type", 16),
        sa.Column("ignore_list", sa.Boolean(), nullable=False),
        _subscriber("call_barring"),
        _pk("call_barring", "subscriber_id"),
    )
    op.create_table(
        "call_barring_numbers",
        _int("subscriber_id"),
        _string("number", 32),
        _subscriber("call_barring_numbers"),
        _pk("call_barring_numbers", "subscriber_id", "number"),
    )
    op.create_table(
        "short_codes",
        _id(),
        _string("level", 16),
        _string("owner", 32),
        _int("subscriber_id", nullable=True),
        _string("product_type", 32, nullable=True),
        _string("service_provider", 32, nullable=True),
        _string("short_code", 32),
        _string("number", 32),
        _fk("short_codes", "product_type", "cfg_product_types", "code"),
        _provider("short_codes"),
        _subscriber("short_codes"),
        _pk("short_codes", "id"),
        sa.UniqueConstraint("level", "owner", "short_code", name="uq_short_codes_level_owner_code"),
    )
    _index("short_codes", "subscriber_id")
    op.create_table(
        "friends",
        _int("subscriber_id"),
        _string("active_service", 32),
        _string("fd_discount_prefix", 32, nullable=True),
        _int("fd_change_count"),
        sa.Column("fd_changed_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        _int("ff_change_count"),
        sa.Column("ff_changed_at", ocs.storage.tables.UtcDateTime(), nullable=True),
        _subscriber("friends"),
        _pk("friends", "subscriber_id"),
    )
    op.create_table(
        "ff_numbers",
        _int("subscriber_id"),
        _string("number", 32),
        _subscriber("ff_numbers"),
        _pk("ff_numbers", "subscriber_id", "number"),
    )
    op.create_table(
        "provider_blacklists",
        _string("service_provider", 32),
        _string("list_kind", 16),
        _string("number", 32),
        _provider("provider_blacklists"),
        _pk("provider_blacklists", "service_provider", "list_kind", "number"),
    )
    op.create_table(
        "fd_prefix_map",
        _string("service_provider", 32),
        _string("prefix", 32),
        _string("announcement_set", 50),
        _string("announcement_entry", 50),
        _provider("fd_prefix_map"),
        _pk("fd_prefix_map", "service_provider", "prefix"),
    )


def _create_closed_user_groups() -> None:
    op.create_table(
        "closed_user_groups",
        _id(),
        _string("service_provider", 32),
        _string("name", 50),
        _string("tariff_plan", 32),
        _provider("closed_user_groups"),
        _fk("closed_user_groups", "tariff_plan", "cfg_tariff_plans", "code"),
        _pk("closed_user_groups", "id"),
        sa.UniqueConstraint("service_provider", "name", name="uq_closed_user_groups_provider_name"),
    )
    op.create_table(
        "cug_members",
        _int("cug_id"),
        _int("subscriber_id"),
        _fk("cug_members", "cug_id", "closed_user_groups", "id", cascade=True),
        _subscriber("cug_members"),
        _pk("cug_members", "cug_id", "subscriber_id"),
    )
    _index("cug_members", "subscriber_id")
    op.create_table(
        "cug_virtual_members",
        _id(),
        _int("cug_id"),
        _string("kind", 16),
        _string("number", 32),
        _string("last_number", 32, nullable=True),
        _int("length", nullable=True),
        _fk("cug_virtual_members", "cug_id", "closed_user_groups", "id", cascade=True),
        _pk("cug_virtual_members", "id"),
    )
    _index("cug_virtual_members", "cug_id")


def _create_zones_and_comments() -> None:
    op.create_table(
        "zones",
        _id(),
        _int("subscriber_id"),
        _string("name", 50),
        _subscriber("zones"),
        _pk("zones", "id"),
        sa.UniqueConstraint("subscriber_id", "name", name="uq_zones_subscriber_name"),
    )
    op.create_table(
        "zone_shapes",
        _id(),
        _int("zone_id"),
        _string("kind", 16),
        sa.Column("x1_udeg", sa.BigInteger(), nullable=False),
        sa.Column("y1_udeg", sa.BigInteger(), nullable=False),
        sa.Column("x2_udeg", sa.BigInteger(), nullable=True),
        sa.Column("y2_udeg", sa.BigInteger(), nullable=True),
        sa.Column("radius_um", sa.BigInteger(), nullable=True),
        _fk("zone_shapes", "zone_id", "zones", "id", cascade=True),
        _pk("zone_shapes", "id"),
    )
    _index("zone_shapes", "zone_id")
    op.create_table(
        "subscriber_comments",
        _id(),
        _int("subscriber_id"),
        _string("author", 32),
        _string("text", 50),
        sa.Column("created_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("updated_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        _subscriber("subscriber_comments"),
        _pk("subscriber_comments", "id"),
    )
    _index("subscriber_comments", "subscriber_id")


def _create_profiles() -> None:
    op.create_table(
        "profile_groups",
        _id(),
        _string("service_provider", 32),
        _string("name", 50),
        _string("permission_name", 200),
        _provider("profile_groups"),
        _pk("profile_groups", "id"),
        sa.UniqueConstraint("service_provider", "name", name="uq_profile_groups_provider_name"),
    )
    op.create_table(
        "profile_fields",
        _id(),
        _int("group_id"),
        _string("service_provider", 32),
        _string("display_name", 50),
        _string("tag_name", 50),
        _string("tag_type", 16),
        _int("group_order"),
        _int("sub_order"),
        _string("permission_name", 200),
        _int("value_limit", nullable=True),
        _fk("profile_fields", "group_id", "profile_groups", "id", cascade=True),
        _provider("profile_fields"),
        _pk("profile_fields", "id"),
        sa.UniqueConstraint("group_id", "display_name", name="uq_profile_fields_group_display"),
        sa.UniqueConstraint(
            "group_id", "group_order", "sub_order", name="uq_profile_fields_group_position"
        ),
        sa.UniqueConstraint("service_provider", "tag_name", name="uq_profile_fields_provider_tag"),
    )
    _index("profile_fields", "group_id")
    op.create_table(
        "profile_values",
        _int("subscriber_id"),
        _int("field_id"),
        sa.Column("value", sa.Text(), nullable=False),
        _fk("profile_values", "field_id", "profile_fields", "id", cascade=True),
        _subscriber("profile_values"),
        _pk("profile_values", "subscriber_id", "field_id"),
    )
    _index("profile_values", "field_id")


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    with op.batch_alter_table("subscribers") as batch:
        for column in ("description", "pin_hash", *SUBSCRIBER_FLAGS):
            batch.drop_column(column)
