"""Authentication tokens, operators, global settings and the audit trail."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from ocs.service.actor import Actor
from ocs.service.operators import OperatorService
from ocs.service.ports import AuditEntry

from .auth import current_actor


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TokenRequest(Body):
    username: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class OperatorCreate(Body):
    username: str
    password: str
    role: str
    service_providers: list[str] | None = None


class OperatorOut(BaseModel):
    username: str
    role: str
    service_providers: list[str] | None
    active: bool
    created_at: datetime


class EdrAuditing(Body):
    enabled: bool


def _operators(request: Request) -> OperatorService:
    return request.app.state.services.operators  # type: ignore[no-any-return]


router = APIRouter(tags=["operators and settings"])


@router.post("/auth/token", summary="Exchange operator credentials for a bearer token")
def issue_token(request: Request, body: TokenRequest) -> TokenResponse:
    token, validity_s = _operators(request).issue_token(body.username, body.password)
    return TokenResponse(access_token=token, expires_in=validity_s)


@router.post("/operators", status_code=201)
def create_operator(
    request: Request, body: OperatorCreate, actor: Actor = Depends(current_actor)
) -> OperatorOut:
    providers = None if body.service_providers is None else frozenset(body.service_providers)
    op = _operators(request).create(actor, body.username, body.password, body.role, providers)
    return _operator_out(op.username, op.role, op.service_providers, op.active, op.created_at)


@router.get("/operators")
def list_operators(request: Request, actor: Actor = Depends(current_actor)) -> list[OperatorOut]:
    return [
        _operator_out(op.username, op.role, op.service_providers, op.active, op.created_at)
        for op in _operators(request).list_operators(actor)
    ]


def _operator_out(
    username: str, role: str, providers: frozenset[str] | None, active: bool, created_at: datetime
) -> OperatorOut:
    return OperatorOut(
        username=username,
        role=role,
        service_providers=None if providers is None else sorted(providers),
        active=active,
        created_at=created_at,
    )


@router.get("/settings/edr-auditing")
def get_edr_auditing(request: Request, actor: Actor = Depends(current_actor)) -> EdrAuditing:
    return EdrAuditing(enabled=_operators(request).edr_auditing(actor))


@router.put("/settings/edr-auditing")
def set_edr_auditing(
    request: Request, body: EdrAuditing, actor: Actor = Depends(current_actor)
) -> EdrAuditing:
    _operators(request).set_edr_auditing(actor, body.enabled)
    return body


@router.get("/audit", summary="Recent changes with operator and change reason")
def audit_trail(
    request: Request,
    entity: str | None = None,
    limit: int = 100,
    actor: Actor = Depends(current_actor),
) -> list[AuditEntry]:
    return _operators(request).audit_trail(actor, entity, limit)
