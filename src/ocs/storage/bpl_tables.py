"""Tables of business process logic tasks: the task definitions, the values a subscriber's
operator saved for a task ("Save & Execute"), and one row per run."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from ocs.core.configuration import ConfigKind
from ocs.storage.tables import BigId, UtcDateTime, config_table_name, metadata

bpl_tasks = Table(
    "bpl_tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "service_provider",
        String(32),
        ForeignKey(f"{config_table_name(ConfigKind.SERVICE_PROVIDER)}.code"),
        nullable=False,
    ),
    Column("name", String(64), nullable=False),
    Column("description", String(500)),
    # Parameters and actions as JSON: they are read and written as one definition.
    Column("definition", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("service_provider", "name", name="uq_bpl_tasks_provider_name"),
)

# No foreign key to subscribers: like wallets, BPL data refers to CASM entities by id only.
bpl_saved_values = Table(
    "bpl_saved_values",
    metadata,
    Column("task_id", Integer, ForeignKey("bpl_tasks.id"), primary_key=True),
    Column("subscriber_id", Integer, primary_key=True),
    Column("entered_values", Text, nullable=False),
    Column("saved_at", UtcDateTime(), nullable=False),
    Column("saved_by", String(32), nullable=False),
)

# Runs outlive their task definitions, so they keep the task's id and name without a key.
bpl_runs = Table(
    "bpl_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", Integer, nullable=False),
    Column("task_name", String(64), nullable=False),
    Column("subscriber_id", Integer, nullable=False),
    Column("mode", String(24), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("operator", String(32), nullable=False),
    Column("entered_values", Text, nullable=False),
    Column("effects", Text, nullable=False),
    Index("ix_bpl_runs_subscriber_at", "subscriber_id", "at"),
)
