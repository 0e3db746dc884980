"""product type friends discounts

Revision ID: 0014
Revises: 0006
Create Date: 2026-11-22 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ("friends_family_discount_percent", "friends_destination_discount_percent")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("cfg_product_types", sa.Column(name, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cfg_product_types") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
