"""Reservations (the operator's Reservations screen) and live charging figures."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ocs.service.actor import Actor
from ocs.service.charging_monitor import ChargingStats
from ocs.service.reservations import ReservationService, ReservationView, ReservedBalance

from .auth import current_actor

router = APIRouter(tags=["charging"])


def _reservations(request: Request) -> ReservationService:
    return request.app.state.services.reservations  # type: ignore[no-any-return]


@router.get(
    "/wallets/{wallet_id}/reservation-balances",
    summary="Balances with their total, uncommitted reservations and available value",
)
def reservation_balances(
    request: Request, wallet_id: int, actor: Actor = Depends(current_actor)
) -> list[ReservedBalance]:
    return _reservations(request).balances(actor, wallet_id)


@router.get("/wallets/{wallet_id}/reservations", summary="Reservations of a wallet, newest first")
def wallet_reservations(
    request: Request, wallet_id: int, actor: Actor = Depends(current_actor)
) -> list[ReservationView]:
    return _reservations(request).reservations(actor, wallet_id)


@router.post(
    "/reservations/{reservation_id}/{action}",
    summary="Commit, revoke or delete an open reservation (action: commit, revoke, delete)",
)
def act_on_reservation(
    request: Request, reservation_id: int, action: str, actor: Actor = Depends(current_actor)
) -> ReservationView:
    return _reservations(request).act(actor, reservation_id, action)


@router.get(
    "/charging/stats", summary="Charging requests per second, open sessions and reservations"
)
def charging_stats(request: Request, actor: Actor = Depends(current_actor)) -> ChargingStats:
    return request.app.state.services.charging_monitor.stats(actor)  # type: ignore[no-any-return]
