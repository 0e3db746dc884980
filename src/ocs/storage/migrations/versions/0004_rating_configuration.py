"""rating configuration: time bands, tariff plans and rates, rating groups

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("rating",)
depends_on = None


def _common() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
    ]


def _keys(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.UniqueConstraint("code", name=f"uq_{table}_code"),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.code"], name=f"fk_{table}_{column}_{target}"
    )


def upgrade() -> None:
    op.create_table(
        "cfg_time_bands",
        *_common(),
        sa.Column("weekdays", sa.String(length=40), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("end_time", sa.String(length=5), nullable=False),
        *_keys("cfg_time_bands"),
    )
    op.create_table(
        "cfg_tariff_plans",
        *_common(),
        sa.Column("currency", sa.String(length=32), nullable=False),
        _fk("cfg_tariff_plans", "currency", "cfg_currencies"),
        *_keys("cfg_tariff_plans"),
    )
    op.create_table(
        "cfg_tariff_rates",
        *_common(),
        sa.Column("tariff_plan", sa.String(length=32), nullable=False),
        sa.Column("charging_class", sa.String(length=32), nullable=False),
        sa.Column("destination_prefix", sa.String(length=32), nullable=True),
        sa.Column("time_band", sa.String(length=32), nullable=True),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("unit_size", sa.BigInteger(), nullable=False),
        sa.Column("rounding_unit", sa.BigInteger(), nullable=False),
        _fk("cfg_tariff_rates", "tariff_plan", "cfg_tariff_plans"),
        _fk("cfg_tariff_rates", "charging_class", "cfg_charging_classes"),
        _fk("cfg_tariff_rates", "time_band", "cfg_time_bands"),
        *_keys("cfg_tariff_rates"),
    )
    op.create_table(
        "cfg_rating_groups",
        *_common(),
        sa.Column("rating_group", sa.BigInteger(), nullable=False),
        sa.Column("service_identifier", sa.BigInteger(), nullable=True),
        sa.Column("charging_class", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        _fk("cfg_rating_groups", "charging_class", "cfg_charging_classes"),
        *_keys("cfg_rating_groups"),
    )
    with op.batch_alter_table("cfg_product_types") as batch:
        batch.add_column(sa.Column("tariff_plan", sa.String(length=32), nullable=True))
        batch.create_foreign_key(
            "fk_cfg_product_types_tariff_plan_cfg_tariff_plans",
            "cfg_tariff_plans",
            ["tariff_plan"],
            ["code"],
        )


def downgrade() -> None:
    with op.batch_alter_table("cfg_product_types") as batch:
        batch.drop_constraint(
            "fk_cfg_product_types_tariff_plan_cfg_tariff_plans", type_="foreignkey"
        )
        batch.drop_column("tariff_plan")
    for table in ("cfg_rating_groups", "cfg_tariff_rates", "cfg_tariff_plans", "cfg_time_bands"):
        op.drop_table(table)
