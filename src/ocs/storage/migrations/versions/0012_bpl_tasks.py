"""business process logic tasks, saved values and runs

Revision ID: 0012
Revises: 0006
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ocs.storage.tables

revision = "0012"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bpl_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("task_name", sa.String(length=64), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=24), nullable=False),
        sa.Column("at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("operator", sa.String(length=32), nullable=False),
        sa.Column("entered_values", sa.Text(), nullable=False),
        sa.Column("effects", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bpl_runs")),
    )
    with op.batch_alter_table("bpl_runs", schema=None) as batch_op:
        batch_op.create_index("ix_bpl_runs_subscriber_at", ["subscriber_id", "at"], unique=False)

    op.create_table(
        "bpl_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_provider", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("updated_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_provider"],
            ["cfg_service_providers.code"],
            name=op.f("fk_bpl_tasks_service_provider_cfg_service_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bpl_tasks")),
        sa.UniqueConstraint("service_provider", "name", name="uq_bpl_tasks_provider_name"),
    )
    op.create_table(
        "bpl_saved_values",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("entered_values", sa.Text(), nullable=False),
        sa.Column("saved_at", ocs.storage.tables.UtcDateTime(), nullable=False),
        sa.Column("saved_by", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["bpl_tasks.id"], name=op.f("fk_bpl_saved_values_task_id_bpl_tasks")
        ),
        sa.PrimaryKeyConstraint("task_id", "subscriber_id", name=op.f("pk_bpl_saved_values")),
    )


def downgrade() -> None:
    op.drop_table("bpl_saved_values")
    op.drop_table("bpl_tasks")
    with op.batch_alter_table("bpl_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_bpl_runs_subscriber_at")
    op.drop_table("bpl_runs")
