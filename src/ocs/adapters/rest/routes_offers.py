"""Offer catalogue (services, products, offers), subscriptions, grants and the grant run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocs.core.offers import BalanceGrant, BalanceService, Offer, Product, service_payload
from ocs.service.actor import Actor
from ocs.service.grants import GrantRun, GrantService
from ocs.service.offers import OfferService, SubscriptionInput, current_payload

from .auth import current_actor

router = APIRouter(tags=["offers"])


class SubscribeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer: str
    level: str = "subscriber"
    entity_id: int
    wallet_id: int | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None


class EndBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_at: datetime | None = None


def _offers(request: Request) -> OfferService:
    return request.app.state.services.offers  # type: ignore[no-any-return]


def _grants(request: Request) -> GrantService:
    return request.app.state.services.grants  # type: ignore[no-any-return]


def _service(service: BalanceService) -> dict[str, Any]:
    return {**service_payload(service), "balance_type": service.balance_type,
            "granted_base": service.granted_base}  # fmt: skip


def _entity(entity: Product | Offer) -> dict[str, Any]:
    return current_payload(entity)


def _grant(grant: BalanceGrant) -> dict[str, Any]:
    return {
        "id": grant.id,
        "subscription_id": grant.subscription_id,
        "service_code": grant.service_code,
        "period_index": grant.period_index,
        "wallet_id": grant.wallet_id,
        "balance_type": grant.balance_type,
        "bucket_id": grant.bucket_id,
        "granted": grant.granted,
        "period_start": grant.period_start,
        "period_end": grant.period_end,
        "reject_at_full": grant.reject_at_full,
        "thresholds_pct": list(grant.thresholds_pct),
        "first_usage_notify": grant.first_usage_notify,
        "notified_thresholds_pct": list(grant.notified_thresholds_pct),
        "first_used_at": grant.first_used_at,
        "exhausted_at": grant.exhausted_at,
        "granted_at": grant.granted_at,
    }


# -- services, products, offers -----------------------------------------------------------------


@router.post("/offer-services", status_code=201)
def create_service(
    payload: dict[str, Any], request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    return _service(_offers(request).create_service(actor, payload))


@router.get("/offer-services")
def list_services(request: Request, actor: Actor = Depends(current_actor)) -> list[dict[str, Any]]:
    return [_service(s) for s in _offers(request).list_services(actor)]


@router.get("/offer-services/{code}")
def get_service(
    code: str, request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    return _service(_offers(request).get_service(actor, code))


@router.patch("/offer-services/{code}")
def update_service(
    code: str, payload: dict[str, Any], request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    return _service(_offers(request).update_service(actor, code, payload))


@router.delete("/offer-services/{code}", status_code=204)
def delete_service(code: str, request: Request, actor: Actor = Depends(current_actor)) -> Response:
    _offers(request).delete_service(actor, code)
    return Response(status_code=204)


@router.post("/products", status_code=201)
def create_product(
    payload: dict[str, Any], request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    return _entity(_offers(request).create_product(actor, payload))


@router.get("/products")
def list_products(request: Request, actor: Actor = Depends(current_actor)) -> list[dict[str, Any]]:
    return [_entity(p) for p in _offers(request).list_products(actor)]


@router.get("/products/{code}")
def get_product(
    code: str, request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    return _entity(_offers(request).get_product(actor, code))


@router.patch("/products/{code}")
def update_product(
    code: str, payload: dict[str, Any], request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    return _entity(_offers(request).update_product(actor, code, payload))


@router.delete("/products/{code}", status_code=204)
def delete_product(code: str, request: Request, actor: Actor = Depends(current_actor)) -> Response:
    _offers(request).delete_product(actor, code)
    return Response(status_code=204)


@router.post("/offers", status_code=201)
def create_offer(
    payload: dict[str, Any], request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    return _entity(_offers(request).create_offer(actor, payload))


@router.get("/offers")
def list_offers(request: Request, actor: Actor = Depends(current_actor)) -> list[dict[str, Any]]:
    return [_entity(o) for o in _offers(request).list_offers(actor)]


@router.get("/offers/{code}")
def get_offer(code: str, request: Request, actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    return _entity(_offers(request).get_offer(actor, code))


@router.patch("/offers/{code}")
def update_offer(
    code: str, payload: dict[str, Any], request: Request, actor: Actor = Depends(current_actor)
) -> dict[str, Any]:
    return _entity(_offers(request).update_offer(actor, code, payload))


@router.delete("/offers/{code}", status_code=204)
def delete_offer(code: str, request: Request, actor: Actor = Depends(current_actor)) -> Response:
    _offers(request).delete_offer(actor, code)
    return Response(status_code=204)


# -- subscriptions and grants ---------------------------------------------------------------------


@router.post("/subscriptions", status_code=201)
def subscribe(body: SubscribeBody, request: Request, actor: Actor = Depends(current_actor)) -> Any:
    inp = SubscriptionInput(
        offer=body.offer,
        level=body.level,
        entity_id=body.entity_id,
        wallet_id=body.wallet_id,
        start_at=body.start_at,
        end_at=body.end_at,
    )
    return _offers(request).subscribe(actor, inp)


@router.get("/subscriptions/{subscription_id}")
def get_subscription(
    subscription_id: int, request: Request, actor: Actor = Depends(current_actor)
) -> Any:
    return _offers(request).get_subscription(actor, subscription_id)


@router.get("/subscribers/{subscriber_id}/subscriptions")
def subscriber_subscriptions(
    subscriber_id: int, request: Request, actor: Actor = Depends(current_actor)
) -> Any:
    return _offers(request).subscriptions_of_subscriber(actor, subscriber_id)


@router.post("/subscriptions/{subscription_id}/end")
def end_subscription(
    subscription_id: int, body: EndBody, request: Request, actor: Actor = Depends(current_actor)
) -> Any:
    return _offers(request).end_subscription(actor, subscription_id, body.end_at)


@router.post("/subscriptions/{subscription_id}/cancel")
def cancel_subscription(
    subscription_id: int, request: Request, actor: Actor = Depends(current_actor)
) -> Any:
    return _offers(request).cancel_subscription(actor, subscription_id)


@router.get("/wallets/{wallet_id}/grants")
def wallet_grants(
    wallet_id: int, request: Request, actor: Actor = Depends(current_actor)
) -> list[dict[str, Any]]:
    return [_grant(g) for g in _grants(request).grants_of_wallet(actor, wallet_id)]


@router.post("/grants/run")
def run_grants(request: Request, actor: Actor = Depends(current_actor)) -> GrantRun:
    return _grants(request).run(actor)
