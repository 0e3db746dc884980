"""Reservations as two-phase transfers: a hold on balances that resolves exactly once, by
commit (post), revoke or expiry (void), or operator deletion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind


class ReservationState(StrEnum):
    OPEN = "OPEN"
    COMMITTED = "COMMITTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"


class SessionState(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class Reservation:
    id: int
    session_id: str
    wallet_id: int
    rating_group: int | None
    service_identifier: int | None
    charging_class: str
    unit: str
    granted_units: int
    used_units: int
    state: ReservationState
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    ended_by: str | None = None


@dataclass(frozen=True)
class ChargingSession:
    session_id: str
    wallet_id: int
    subscriber_id: int
    state: SessionState
    opened_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    calling_party: str | None = None
    called_party: str | None = None


def check_open(reservation: Reservation) -> None:
    """A reservation resolves once: a second resolution is refused with its first outcome."""
    if reservation.state is not ReservationState.OPEN:
        raise DomainError(
            ProblemKind.CONFLICT,
            f"reservation {reservation.id} already ended: {reservation.state.value}",
            "reservation_id",
        )
