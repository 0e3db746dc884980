"""wallet revision, bumped by triggers

Revision ID: 0013
Revises: 0006
Create Date: 2026-11-22 22:30:00

Every write to a wallet, its balances, buckets, links, reservations or charging sessions gives
the wallet a new revision, whoever writes (the charging engine, an operator, another process).
A new revision is a value never handed out before, not the old one plus one: a change that
is rolled back must not leave a revision that a later, different change could reproduce.
PostgreSQL takes it from a sequence, SQLite from random().
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0006"
branch_labels = None
depends_on = None

# Tables whose rows carry wallet_id and change what the charging engine caches.
CHILD_TABLES = ("wallet_balances", "buckets", "wallet_links", "reservations", "charging_sessions")


def upgrade() -> None:
    op.add_column(
        "wallets", sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False)
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    bump = "UPDATE wallets SET revision = random() WHERE id = {row}.wallet_id"
    op.execute(
        "CREATE TRIGGER wallets_revision AFTER UPDATE ON wallets FOR EACH ROW "
        "WHEN NEW.revision = OLD.revision "
        "BEGIN UPDATE wallets SET revision = random() WHERE id = NEW.id; END"
    )
    for table in CHILD_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_revision_insert AFTER INSERT ON {table} FOR EACH ROW "
            f"BEGIN {bump.format(row='NEW')}; END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_revision_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"BEGIN {bump.format(row='OLD')}; {bump.format(row='NEW')}; END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_revision_delete AFTER DELETE ON {table} FOR EACH ROW "
            f"BEGIN {bump.format(row='OLD')}; END"
        )


def _postgresql_triggers() -> None:
    op.execute("CREATE SEQUENCE wallet_revisions")
    op.execute(
        "CREATE FUNCTION wallet_revision_own() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NEW.revision = OLD.revision THEN "
        "NEW.revision := nextval('wallet_revisions'); END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER wallets_revision BEFORE UPDATE ON wallets FOR EACH ROW "
        "EXECUTE FUNCTION wallet_revision_own()"
    )
    op.execute(
        "CREATE FUNCTION wallet_revision_child() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP <> 'INSERT' THEN UPDATE wallets SET revision = nextval('wallet_revisions') "
        "WHERE id = OLD.wallet_id; END IF; "
        "IF TG_OP <> 'DELETE' THEN UPDATE wallets SET revision = nextval('wallet_revisions') "
        "WHERE id = NEW.wallet_id; END IF; "
        "RETURN NULL; END $$"
    )
    for table in CHILD_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_revision AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION wallet_revision_child()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CHILD_TABLES:
            op.execute(f"DROP TRIGGER {table}_revision ON {table}")
        op.execute("DROP TRIGGER wallets_revision ON wallets")
        op.execute("DROP FUNCTION wallet_revision_child()")
        op.execute("DROP FUNCTION wallet_revision_own()")
        op.execute("DROP SEQUENCE wallet_revisions")
    else:
        op.execute("DROP TRIGGER wallets_revision")
        for table in CHILD_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_revision_{event}")
    op.drop_column("wallets", "revision")
