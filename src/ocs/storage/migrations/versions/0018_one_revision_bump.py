"""wallet revision: one bump per updated row unless the row changes wallet

Revision ID: 0018_one_bump
Revises: 0017_domains, 0017_migrations
Create Date: 2026-11-23 04:40:00

Migration 0013's update triggers gave the old and the new wallet each a new revision, so a
row that stays with its wallet (nearly every update: a bucket's value, a reservation's end,
a session's timers) bumped the same wallet twice. A charging request updates three or four
such rows; the second bump is work for nothing. The old wallet is now bumped only when the
row moves to another wallet.
"""

from __future__ import annotations

from alembic import op

revision = "0018_one_bump"
down_revision = ("0017_domains", "0017_migrations")
branch_labels = None
depends_on = None

CHILD_TABLES = ("wallet_balances", "buckets", "wallet_links", "reservations", "charging_sessions")
BUMP = "UPDATE wallets SET revision = random() WHERE id = {row}.wallet_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_function(moved_only=True)
        return
    for table in CHILD_TABLES:
        op.execute(f"DROP TRIGGER {table}_revision_update")
        _sqlite_update_trigger(table, "update", "", ("NEW",))
        _sqlite_update_trigger(table, "move", "WHEN OLD.wallet_id IS NOT NEW.wallet_id", ("OLD",))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_function(moved_only=False)
        return
    for table in CHILD_TABLES:
        op.execute(f"DROP TRIGGER {table}_revision_move")
        op.execute(f"DROP TRIGGER {table}_revision_update")
        _sqlite_update_trigger(table, "update", "", ("OLD", "NEW"))


def _sqlite_update_trigger(table: str, name: str, when: str, rows: tuple[str, ...]) -> None:
    bumps = "".join(f"{BUMP.format(row=row)}; " for row in rows)
    op.execute(
        f"CREATE TRIGGER {table}_revision_{name} AFTER UPDATE ON {table} FOR EACH ROW "
        f"{when} BEGIN {bumps}END"
    )


def _postgresql_function(moved_only: bool) -> None:
    old_wallet = (
        "(TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.wallet_id IS DISTINCT FROM NEW.wallet_id))"
        if moved_only
        else "TG_OP <> 'INSERT'"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION wallet_revision_child() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        f"IF {old_wallet} THEN UPDATE wallets SET revision = nextval('wallet_revisions') "
        "WHERE id = OLD.wallet_id; END IF; "
        "IF TG_OP <> 'DELETE' THEN UPDATE wallets SET revision = nextval('wallet_revisions') "
        "WHERE id = NEW.wallet_id; END IF; "
        "RETURN NULL; END $$"
    )
