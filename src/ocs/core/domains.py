"""Charging domains: named stores of wallets, and the outcome of moving a wallet between them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

DEFAULT_DOMAIN = "default"
DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# Rows a domain creates (buckets, reservations, EDRs) get ids in the domain's own range, so an
# id names one row across every domain: id = domain number * ID_SPACE + id in the domain.
ID_SPACE = 10**12


class MoveOutcome(Enum):
    """What happened to one wallet of a migration, in precedence order."""

    MOVED = "MOVED"
    # Moved and routed to the target, but the old copy could not be removed from the source
    # (the migration's report lists it; the next run of the mover removes it).
    SOURCE_NOT_DELETED = "SOURCE_NOT_DELETED"
    NOT_IN_SOURCE = "NOT_IN_SOURCE"
    OPEN_RESERVATIONS = "OPEN_RESERVATIONS"
    # A move a crash cut short before the directory changed: undone, the wallet stays put.
    NOT_MOVED = "NOT_MOVED"


@dataclass(frozen=True)
class WalletMove:
    wallet_id: int
    source: str
    target: str
    outcome: MoveOutcome
    detail: str = ""


@dataclass(frozen=True)
class DomainSummary:
    """The manual's check-accounts tables for one domain."""

    domain: str
    wallets_by_state: dict[str, int]
    subscribers_by_product_type: dict[str, int]


def domain_number_of(row_id: int) -> int:
    return row_id // ID_SPACE
