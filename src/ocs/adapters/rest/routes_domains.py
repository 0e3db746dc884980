"""Charging domains: which are configured, what each holds, where a wallet lives, moving one."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from ocs.core.errors import not_found
from ocs.service.actor import Actor
from ocs.service.domains import DomainService

from .auth import current_actor

router = APIRouter(tags=["charging domains"])


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    source: str
    target: str


def _domains(request: Request) -> DomainService:
    return request.app.state.services.domains  # type: ignore[no-any-return]


@router.get("/domains", summary="Configured domains with wallets per state and subscribers")
def list_domains(request: Request, actor: Actor = Depends(current_actor)) -> list[dict[str, Any]]:
    service = _domains(request)
    return [asdict(service.summary(name)) for name in service.names()]


@router.get("/wallets/{wallet_id}/domain", summary="The domain holding a wallet")
def wallet_domain(
    wallet_id: int, request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    domain = _domains(request).domain_of(wallet_id)
    if domain is None:
        raise not_found("wallet", wallet_id)
    return {"wallet_id": wallet_id, "domain": domain}


@router.post("/wallets/{wallet_id}/move", summary="Move one wallet to another domain")
def move_wallet(
    wallet_id: int, body: MoveBody, request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    move = _domains(request).move_by_operator(actor, wallet_id, body.source, body.target)
    return {**asdict(move), "outcome": move.outcome.value}
