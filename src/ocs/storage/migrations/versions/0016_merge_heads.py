"""merge the branches (0003 and 0007-0015) into one head

Revision ID: 0016
Revises: 0003, 0007, 0008, 0009, 0010, 0011, 0012, 0013, 0014, 0015
Create Date: 2026-11-22 23:59:00

The next migration revises "0016" alone.
"""

from __future__ import annotations

revision = "0016"
down_revision = ("0003", "0007", "0008", "0009", "0010", "0011", "0012", "0013", "0014", "0015")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
