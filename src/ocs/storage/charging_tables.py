"""Tables of the real-time charging engine: sessions, reservations and their holds, and the
answers kept to replay retransmitted requests."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, text

from ocs.core.reservations import ReservationState
from ocs.storage.tables import BigId, UtcDateTime, metadata

charging_sessions = Table(
    "charging_sessions",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("wallet_id", Integer, ForeignKey("wallets.id"), nullable=False, index=True),
    Column("subscriber_id", Integer, nullable=False),
    Column("state", String(8), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    # Session supervision (Tcc): an idle session past this time is closed and released.
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("calling_party", String(64)),
    Column("called_party", String(64)),
    Index("ix_charging_sessions_state_expires", "state", "expires_at"),
)

# The condition of the indexes over open reservations, and the words queries for them use.
OPEN_STATE_SQL = f"state = '{ReservationState.OPEN.value}'"


def _open_only(name: str, *columns: str) -> Index:
    where = text(OPEN_STATE_SQL)
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


reservations = Table(
    "reservations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("session_id", String(128), nullable=False),
    Column("wallet_id", Integer, ForeignKey("wallets.id"), nullable=False),
    Column("rating_group", BigInteger),
    Column("service_identifier", BigInteger),
    Column("charging_class", String(32), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("granted_units", BigInteger, nullable=False),
    Column("used_units", BigInteger, nullable=False),
    Column("state", String(12), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Column("ended_by", String(32)),
    # Ended reservations only ever leave the open ones' indexes: those stay as small as the
    # reservations in flight, so charging touches pages that are already in memory.
    Index("ix_reservations_wallet", "wallet_id"),
    # A wallet's open reservations, and a session's (whose wallet is known).
    _open_only("ix_reservations_open_wallet_session", "wallet_id", "session_id"),
    _open_only("ix_reservations_open_expires", "expires_at"),
)

reservation_holds = Table(
    "reservation_holds",
    metadata,
    Column("reservation_id", BigId, ForeignKey("reservations.id"), primary_key=True),
    Column("balance_type", String(32), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # migration 0022
)

charging_answers = Table(
    "charging_answers",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("request_number", BigInteger, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("decision", Text, nullable=False),
    # SQLite appends answers in time order and prunes them by rowid (migration 0021).
    Index("ix_charging_answers_at", "at").ddl_if(dialect="postgresql"),
)

# Indexes that exist on PostgreSQL only (`ddl_if`, which Alembic's comparison does not read).
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_charging_answers_at"})
