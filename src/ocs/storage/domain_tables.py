"""The directory of charging domains, kept in the main (default domain's) database."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from ocs.storage.tables import UtcDateTime, metadata

# A domain's number is given once, when the domain is first opened, and never changes: it
# decides the id range of the rows the domain creates (core.domains.ID_SPACE).
charging_domains = Table(
    "charging_domains",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("number", Integer, nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

# Wallets held outside the default domain; a wallet with no row here is in the default domain.
wallet_domains = Table(
    "wallet_domains",
    metadata,
    Column("wallet_id", Integer, ForeignKey("wallets.id"), primary_key=True),
    Column("domain", String(32), ForeignKey("charging_domains.name"), nullable=False, index=True),
)

# A move in progress: written before the copy, removed when the source copy is gone, so a
# move cut short by a crash is finished (or undone) at the next start.
wallet_moves = Table(
    "wallet_moves",
    metadata,
    Column("wallet_id", Integer, ForeignKey("wallets.id"), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("target", String(32), nullable=False),
    # COPYING: the target may hold a partial copy; COPIED: the directory names the target and
    # the source still holds the old copy.
    Column("state", String(8), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
)
