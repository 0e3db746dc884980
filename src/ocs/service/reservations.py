"""Operator views and actions on reservations (the Reservations screen): balances with what
open reservations hold, the reservations of a wallet, and commit / revoke / delete."""

from __future__ import annotations

from dataclasses import dataclass

from ocs.core.errors import invalid, not_found
from ocs.core.reservations import Reservation, ReservationState
from ocs.core.security import Privilege
from ocs.core.wallets import Wallet, available_value, of_type, total_value
from ocs.service.actor import Actor
from ocs.service.charging import ChargingEngine
from ocs.service.ports import Clock, Store
from ocs.service.wallet_ledger import Ledger, operator_origin

RESERVATION_ROWS_MAX = 200
OPERATOR_OUTCOMES = {
    "commit": ReservationState.COMMITTED,
    "revoke": ReservationState.REVOKED,
    "delete": ReservationState.DELETED,
}


@dataclass(frozen=True)
class ReservedBalance:
    balance_type: str
    total: int  # everything held in the balance
    reserved: int  # uncommitted reservations
    available: int  # what charging may still use: started, unexpired value minus reserved


@dataclass(frozen=True)
class ReservationView:
    reservation: Reservation
    holds: dict[str, int]


class ReservationService:
    def __init__(self, store: Store, clock: Clock, engine: ChargingEngine) -> None:
        self.store = store
        self.clock = clock
        self.engine = engine

    def balances(self, actor: Actor, wallet_id: int) -> list[ReservedBalance]:
        actor.require(Privilege.READ)
        now = self.clock.now()
        with self.store.transaction() as uow:
            _visible_wallet(uow.wallets.get_wallet(wallet_id), actor, wallet_id)
            buckets = uow.wallets.list_buckets(wallet_id)
            holds = uow.charging.holds_of_wallet(wallet_id)
            types = [b.balance_type for b in uow.wallets.list_balances(wallet_id)]
        result = []
        for balance_type in types:
            own = of_type(buckets, balance_type)
            reserved = holds.get(balance_type, 0)
            result.append(
                ReservedBalance(
                    balance_type,
                    total_value(own),
                    reserved,
                    available_value(own, now) - reserved,
                )
            )
        return result

    def reservations(self, actor: Actor, wallet_id: int) -> list[ReservationView]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            _visible_wallet(uow.wallets.get_wallet(wallet_id), actor, wallet_id)
            return [
                ReservationView(r, uow.charging.holds_of(r.id))
                for r in uow.charging.list_reservations(wallet_id, RESERVATION_ROWS_MAX)
            ]

    def act(self, actor: Actor, reservation_id: int, action: str) -> ReservationView:
        """commit, revoke or delete an open reservation, audited with the change reason."""
        actor.require(Privilege.MODIFY)
        outcome = OPERATOR_OUTCOMES.get(action)
        if outcome is None:
            raise invalid("action", f"action must be one of {', '.join(OPERATOR_OUTCOMES)}")
        now = self.clock.now()
        with self.store.transaction() as uow:
            found = uow.charging.get_reservation(reservation_id)
            if found is None:
                raise not_found("reservation", reservation_id)
            _visible_wallet(uow.wallets.get_wallet(found.wallet_id), actor, found.wallet_id)
            detail = {"reservation": reservation_id, "action": action}
            origin = operator_origin(uow, actor, now, action, found.wallet_id,
                                     detail)  # fmt: skip
            ended = self.engine.resolve_by_operator(Ledger(uow, now, origin), reservation_id,
                                                    outcome)  # fmt: skip
            return ReservationView(ended, uow.charging.holds_of(reservation_id))


def _visible_wallet(wallet: Wallet | None, actor: Actor, wallet_id: int) -> None:
    if wallet is None or not actor.may_use_provider(wallet.service_provider):
        raise not_found("wallet", wallet_id)
