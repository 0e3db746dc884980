"""balance type charging classes: which classes a free-unit balance serves

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "cfg_balance_type_classes"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("balance_type", sa.String(length=32), nullable=False),
        sa.Column("charging_class", sa.String(length=32), nullable=False),
        sa.Column("include_sub_classes", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["balance_type"],
            ["cfg_balance_types.code"],
            name=f"fk_{TABLE}_balance_type_cfg_balance_types",
        ),
        sa.ForeignKeyConstraint(
            ["charging_class"],
            ["cfg_charging_classes.code"],
            name=f"fk_{TABLE}_charging_class_cfg_charging_classes",
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
        sa.UniqueConstraint("code", name=f"uq_{TABLE}_code"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
