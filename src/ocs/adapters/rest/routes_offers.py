"""Offer catalogue (services, products, offers), subscriptions, grants and the grant run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from ocs.core.offers import BalanceGrant, BalanceService, Offer, Product, service_payload
from ocs.service.actor import Actor
from ocs.service.grants import GrantRun, GrantService
from ocs.service.offers import OfferService, SubscriptionInput, current_payload

from .auth import current_actor

router = APIRouter(tags=["offers"])

EntryT = TypeVar("EntryT", BalanceService, Product, Offer)


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


def _add_catalogue_routes(
    path: str,
    name: str,
    view: Callable[[EntryT], dict[str, Any]],
    *,
    create: Callable[[OfferService, Actor, dict[str, Any]], EntryT],
    list_all: Callable[[OfferService, Actor], list[EntryT]],
    get: Callable[[OfferService, Actor, str], EntryT],
    update: Callable[[OfferService, Actor, str, dict[str, Any]], EntryT],
    delete: Callable[[OfferService, Actor, str], None],
) -> None:
    """The five routes of one catalogue kind. The route names (create_<name>, list_<name>s,
    get_, update_, delete_<name>) keep the OpenAPI operation ids and summaries unchanged."""

    def create_one(
        payload: dict[str, Any], request: Request, actor: Actor = Depends(current_actor)
    ) -> dict[str, Any]:
        return view(create(_offers(request), actor, payload))

    def list_many(request: Request, actor: Actor = Depends(current_actor)) -> list[dict[str, Any]]:
        return [view(entry) for entry in list_all(_offers(request), actor)]

    def get_one(
        code: str, request: Request, actor: Actor = Depends(current_actor)
    ) -> dict[str, Any]:
        return view(get(_offers(request), actor, code))

    def update_one(
        code: str, payload: dict[str, Any], request: Request, actor: Actor = Depends(current_actor)
    ) -> dict[str, Any]:
        return view(update(_offers(request), actor, code, payload))

    def delete_one(code: str, request: Request, actor: Actor = Depends(current_actor)) -> Response:
        delete(_offers(request), actor, code)
        return Response(status_code=204)

    one = f"{path}/{{code}}"
    router.add_api_route(path, create_one, methods=["POST"], status_code=201, name=f"create_{name}")
    router.add_api_route(path, list_many, methods=["GET"], name=f"list_{name}s")
    router.add_api_route(one, get_one, methods=["GET"], name=f"get_{name}")
    router.add_api_route(one, update_one, methods=["PATCH"], name=f"update_{name}")
    router.add_api_route(
        one, delete_one, methods=["DELETE"], status_code=204, name=f"delete_{name}"
    )


_add_catalogue_routes(
    "/offer-services",
    "service",
    _service,
    create=OfferService.create_service,
    list_all=OfferService.list_services,
    get=OfferService.get_service,
    update=OfferService.update_service,
    delete=OfferService.delete_service,
)
_add_catalogue_routes(
    "/products",
    "product",
    _entity,
    create=OfferService.create_product,
    list_all=OfferService.list_products,
    get=OfferService.get_product,
    update=OfferService.update_product,
    delete=OfferService.delete_product,
)
_add_catalogue_routes(
    "/offers",
    "offer",
    _entity,
    create=OfferService.create_offer,
    list_all=OfferService.list_offers,
    get=OfferService.get_offer,
    update=OfferService.update_offer,
    delete=OfferService.delete_offer,
)


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
