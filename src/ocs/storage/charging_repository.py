"""SQL for the charging engine's sessions, reservations, holds and replayable answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ocs.core.reservations import ChargingSession, Reservation, ReservationState, SessionState
from ocs.storage.charging_tables import (
    charging_answers,
    charging_sessions,
    reservation_holds,
    reservations,
)


def _reservation(row: Any) -> Reservation:
    m = dict(row._mapping)
    m["state"] = ReservationState(m["state"])
    return Reservation(**m)


def _session(row: Any) -> ChargingSession:
    m = dict(row._mapping)
    m["state"] = SessionState(m["state"])
    return ChargingSession(**m)


class SqlChargingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- answers -----------------------------------------------------------------------------

    def get_answer(self, session_id: str, request_number: int) -> str | None:
        c = charging_answers.c
        query = select(c.decision).where(
            c.session_id == session_id, c.request_number == request_number
        )
        return self.conn.scalar(query)

    def put_answer(self, session_id: str, request_number: int, at: datetime, decision: str) -> None:
        self.conn.execute(
            insert(charging_answers).values(
                session_id=session_id, request_number=request_number, at=at, decision=decision
            )
        )

    def delete_answers_before(self, at: datetime) -> int:
        result = self.conn.execute(delete(charging_answers).where(charging_answers.c.at < at))
        return int(result.rowcount)

    # -- sessions ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> ChargingSession | None:
        query = select(charging_sessions).where(charging_sessions.c.session_id == session_id)
        row = self.conn.execute(query).first()
        return None if row is None else _session(row)

    def insert_session(self, session: ChargingSession) -> None:
        values = asdict(session)
        values["state"] = session.state.value
        self.conn.execute(insert(charging_sessions).values(**values))

    def touch_session(
        self, session_id: str, state: SessionState, last_seen_at: datetime, expires_at: datetime
    ) -> None:
        self.conn.execute(
            update(charging_sessions)
            .where(charging_sessions.c.session_id == session_id)
            .values(state=state.value, last_seen_at=last_seen_at, expires_at=expires_at)
        )

    def count_open_sessions(self, wallet_id: int) -> int:
        c = charging_sessions.c
        query = select(func.count()).where(
            c.wallet_id == wallet_id, c.state == SessionState.OPEN.value
        )
        return int(self.conn.scalar(query) or 0)

    def expired_sessions(self, now: datetime, limit: int) -> list[ChargingSession]:
        c = charging_sessions.c
        query = (
            select(charging_sessions)
            .where(c.state == SessionState.OPEN.value, c.expires_at <= now)
            .order_by(c.expires_at)
            .limit(limit)
        )
        return [_session(row) for row in self.conn.execute(query)]

    # -- reservations ------------------------------------------------------------------------

    def insert_reservation(self, reservation: Reservation, holds: Mapping[str, int]) -> int:
        values = asdict(reservation)
        values.pop("id")
        values["state"] = reservation.state.value
        result = self.conn.execute(
            insert(reservations).values(**values).returning(reservations.c.id)
        )
        reservation_id = int(result.scalar_one())
        rows = [
            {"reservation_id": reservation_id, "balance_type": bt, "amount": amount}
            for bt, amount in holds.items()
            if amount
        ]
        if rows:
            self.conn.execute(insert(reservation_holds), rows)
        return reservation_id

    def get_reservation(self, reservation_id: int) -> Reservation | None:
        query = select(reservations).where(reservations.c.id == reservation_id)
        row = self.conn.execute(query).first()
        return None if row is None else _reservation(row)

    def open_reservations_of_session(self, session_id: str) -> list[Reservation]:
        c = reservations.c
        query = (
            select(reservations)
            .where(c.session_id == session_id, c.state == ReservationState.OPEN.value)
            .order_by(c.id)
        )
        return [_reservation(row) for row in self.conn.execute(query)]

    def list_reservations(self, wallet_id: int, limit: int) -> list[Reservation]:
        c = reservations.c
        query = select(reservations).where(c.wallet_id == wallet_id).order_by(c.id.desc())
        return [_reservation(row) for row in self.conn.execute(query.limit(limit))]

    def holds_of(self, reservation_id: int) -> dict[str, int]:
        c = reservation_holds.c
        query = select(c.balance_type, c.amount).where(c.reservation_id == reservation_id)
        return {bt: int(amount) for bt, amount in self.conn.execute(query)}

    def holds_of_wallet(self, wallet_id: int) -> dict[str, int]:
        """What open reservations hold on each balance type of a wallet."""
        h, r = reservation_holds.c, reservations.c
        query = (
            select(h.balance_type, func.sum(h.amount))
            .join(reservations, r.id == h.reservation_id)
            .where(r.wallet_id == wallet_id, r.state == ReservationState.OPEN.value)
            .group_by(h.balance_type)
        )
        return {bt: int(total) for bt, total in self.conn.execute(query)}

    def end_reservation(
        self,
        reservation_id: int,
        state: ReservationState,
        used_units: int,
        at: datetime,
        ended_by: str,
    ) -> bool:
        """Resolve an open reservation; False when it had already ended (resolves once)."""
        c = reservations.c
        result = self.conn.execute(
            update(reservations)
            .where(c.id == reservation_id, c.state == ReservationState.OPEN.value)
            .values(state=state.value, used_units=used_units, ended_at=at, ended_by=ended_by)
        )
        return bool(result.rowcount == 1)

    def expired_reservations(self, now: datetime, limit: int) -> list[Reservation]:
        c = reservations.c
        query = (
            select(reservations)
            .where(c.state == ReservationState.OPEN.value, c.expires_at <= now)
            .order_by(c.expires_at, c.id)
            .limit(limit)
        )
        return [_reservation(row) for row in self.conn.execute(query)]
