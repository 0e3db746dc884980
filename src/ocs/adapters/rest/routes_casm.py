"""Customers, accounts, subscribers, resources and state changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocs.core.casm import Account, CasmLevel, Customer, Resource, StateChange, Subscriber
from ocs.core.subscriber_search import SubscriberSearchResult
from ocs.service.actor import Actor
from ocs.service.casm import (
    AccountInput,
    CasmService,
    CustomerInput,
    ResourceInput,
    SubscriberInput,
    SubscriberView,
)

from .auth import current_actor
from .routes_wallets import WalletCreate, wallet_input


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CustomerCreate(Body):
    name: str
    service_provider: str | None = None
    description: str | None = None
    reference: str | None = None
    segment: str | None = None
    state: str | None = None
    state_reason: str | None = None
    profile: str | None = Field(None, description="Customer profile code that pre-fills fields")


class CustomerUpdate(Body):
    name: str | None = None
    description: str | None = None
    reference: str | None = None
    segment: str | None = None


class AccountCreate(Body):
    customer_id: int | None = None
    name: str | None = None
    account_type: str | None = None
    payment_responsible: bool | None = None
    parent_account_id: int | None = None
    billing_cycle: str | None = None
    currency: str | None = None
    segment: str | None = None
    state: str | None = None
    state_reason: str | None = None
    profile: str | None = Field(None, description="Account profile code")
    customer: CustomerCreate | None = Field(
        None, description="New superior customer, when the account profile creates one"
    )


class AccountUpdate(Body):
    name: str | None = None
    billing_cycle: str | None = None
    currency: str | None = None
    segment: str | None = None


class ResourceCreate(Body):
    resource_type: str
    value: str


class SubscriberCreate(Body):
    subscriber_id: str = Field(description="Subscriber ID / CLI")
    account_id: int | None = None
    card_number: str | None = Field(None, description="Defaults to the subscriber ID")
    language: str | None = None
    segment: str | None = None
    state: str | None = None
    state_reason: str | None = None
    profile: str | None = Field(None, description="Subscriber profile code")
    resources: list[ResourceCreate] = Field(default_factory=list)
    account: AccountCreate | None = Field(
        None, description="New superior account, when the subscriber profile creates one"
    )
    wallet: WalletCreate | None = Field(
        None, description="The primary wallet, created in the same transaction"
    )


class SubscriberUpdate(Body):
    subscriber_id: str | None = None
    card_number: str | None = None
    language: str | None = None
    segment: str | None = None


class StateChangeRequest(Body):
    state: str
    state_reason: str | None = None
    valid_from: datetime | None = Field(
        None, description="Future time makes the change pending until confirmed"
    )

    model_config = ConfigDict(extra="forbid", strict=False)


def _customer_input(body: CustomerCreate) -> CustomerInput:
    return CustomerInput(**body.model_dump())


def _account_input(body: AccountCreate) -> AccountInput:
    data: dict[str, Any] = body.model_dump(exclude={"customer"})
    customer = _customer_input(body.customer) if body.customer else None
    return AccountInput(**data, customer=customer)


def _subscriber_input(body: SubscriberCreate) -> SubscriberInput:
    data: dict[str, Any] = body.model_dump(exclude={"account", "resources", "wallet"})
    return SubscriberInput(
        **data,
        resources=tuple(ResourceInput(r.resource_type, r.value) for r in body.resources),
        account=_account_input(body.account) if body.account else None,
        wallet=wallet_input(body.wallet) if body.wallet else None,
    )


def _casm(request: Request) -> CasmService:
    return request.app.state.services.casm  # type: ignore[no-any-return]


router = APIRouter(tags=["customers, accounts, subscribers"])


@router.post("/customers", status_code=201)
def create_customer(
    request: Request, body: CustomerCreate, actor: Actor = Depends(current_actor)
) -> Customer:
    return _casm(request).create_customer(actor, _customer_input(body))


@router.get("/customers", summary="Find customers by name prefix (at most 100 rows)")
def search_customers(
    request: Request,
    name: str = Query("", description="Name prefix; case and special characters ignored"),
    service_provider: str | None = None,
    actor: Actor = Depends(current_actor),
) -> list[Customer]:
    return _casm(request).search_customers(actor, name, service_provider)


@router.get("/customers/{customer_id}")
def get_customer(
    request: Request, customer_id: int, actor: Actor = Depends(current_actor)
) -> Customer:
    return _casm(request).get_customer(actor, customer_id)


@router.patch("/customers/{customer_id}")
def update_customer(
    request: Request, customer_id: int, body: CustomerUpdate, actor: Actor = Depends(current_actor)
) -> Customer:
    return _casm(request).update_customer(actor, customer_id, **body.model_dump())


@router.delete("/customers/{customer_id}", status_code=204)
def delete_customer(
    request: Request, customer_id: int, actor: Actor = Depends(current_actor)
) -> Response:
    _casm(request).delete_customer(actor, customer_id)
    return Response(status_code=204)


@router.get("/customers/{customer_id}/accounts")
def list_accounts(
    request: Request, customer_id: int, actor: Actor = Depends(current_actor)
) -> list[Account]:
    return _casm(request).list_accounts(actor, customer_id)


@router.post("/accounts", status_code=201)
def create_account(
    request: Request, body: AccountCreate, actor: Actor = Depends(current_actor)
) -> Account:
    return _casm(request).create_account(actor, _account_input(body))


@router.get("/accounts/{account_id}")
def get_account(
    request: Request, account_id: int, actor: Actor = Depends(current_actor)
) -> Account:
    return _casm(request).get_account(actor, account_id)


@router.patch("/accounts/{account_id}")
def update_account(
    request: Request, account_id: int, body: AccountUpdate, actor: Actor = Depends(current_actor)
) -> Account:
    return _casm(request).update_account(actor, account_id, **body.model_dump())


@router.delete("/accounts/{account_id}", status_code=204)
def delete_account(
    request: Request, account_id: int, actor: Actor = Depends(current_actor)
) -> Response:
    _casm(request).delete_account(actor, account_id)
    return Response(status_code=204)


@router.get("/accounts/{account_id}/subscribers")
def list_subscribers(
    request: Request, account_id: int, actor: Actor = Depends(current_actor)
) -> list[Subscriber]:
    return _casm(request).list_subscribers(actor, account_id)


@router.get("/subscribers", summary="Find subscribers by subscriber ID or card number (100 rows)")
def search_subscribers(
    request: Request,
    service_provider: str,
    q: str = Query("", description="Subscriber ID or card number, or its first characters"),
    by: str = Query("subscriber_id", description="subscriber_id or card_number"),
    exact: bool = Query(False, description="Exact match instead of prefix match"),
    actor: Actor = Depends(current_actor),
) -> list[Subscriber]:
    return _casm(request).search_subscribers(actor, service_provider, by, q, exact)


@router.get(
    "/subscribers/search",
    summary="Finding subscribers: one row per wallet, at most 100 rows, exact or prefix match",
)
def find_subscribers(
    request: Request,
    service_provider: str,
    wallet_reference: str | None = None,
    card_number: str | None = None,
    subscriber_id: str | None = None,
    customer: str | None = Query(None, description="Customer name (case, specials ignored)"),
    customer_id: str | None = Query(None, description="Customer id (always exact)"),
    match: Literal["prefix", "exact"] = "prefix",
    actor: Actor = Depends(current_actor),
) -> SubscriberSearchResult:
    criteria = {
        "wallet_reference": wallet_reference,
        "card_number": card_number,
        "subscriber_id": subscriber_id,
        "customer": customer,
        "customer_id": customer_id,
    }
    return _casm(request).search(actor, service_provider, criteria, match == "exact")


@router.post("/subscribers", status_code=201)
def create_subscriber(
    request: Request, body: SubscriberCreate, actor: Actor = Depends(current_actor)
) -> SubscriberView:
    return _casm(request).create_subscriber(actor, _subscriber_input(body))


@router.get("/subscribers/{subscriber_id}")
def get_subscriber(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> SubscriberView:
    return _casm(request).get_subscriber(actor, subscriber_id)


@router.patch("/subscribers/{subscriber_id}")
def update_subscriber(
    request: Request,
    subscriber_id: int,
    body: SubscriberUpdate,
    actor: Actor = Depends(current_actor),
) -> Subscriber:
    data = body.model_dump()
    return _casm(request).update_subscriber(
        actor, subscriber_id, subscriber_cli=data.pop("subscriber_id"), **data
    )


@router.delete("/subscribers/{subscriber_id}", status_code=204)
def delete_subscriber(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> Response:
    _casm(request).delete_subscriber(actor, subscriber_id)
    return Response(status_code=204)


@router.post("/subscribers/{subscriber_id}/resources", status_code=201)
def add_resource(
    request: Request,
    subscriber_id: int,
    body: ResourceCreate,
    actor: Actor = Depends(current_actor),
) -> Resource:
    inp = ResourceInput(body.resource_type, body.value)
    return _casm(request).add_resource(actor, subscriber_id, inp)


@router.delete("/subscribers/{subscriber_id}/resources/{resource_id}", status_code=204)
def delete_resource(
    request: Request, subscriber_id: int, resource_id: int, actor: Actor = Depends(current_actor)
) -> Response:
    _casm(request).delete_resource(actor, subscriber_id, resource_id)
    return Response(status_code=204)


@router.get("/resources/{value}", summary="Find the subscriber owning a resource (IMSI, MSISDN...)")
def find_by_resource(
    request: Request,
    value: str,
    resource_type: str | None = None,
    actor: Actor = Depends(current_actor),
) -> SubscriberView:
    return _casm(request).find_subscriber_by_resource(actor, value, resource_type)


def _state_routes(level: CasmLevel) -> None:
    plural = f"/{level.value}s/{{entity_id}}"

    def change(
        request: Request,
        entity_id: int,
        body: StateChangeRequest,
        actor: Actor = Depends(current_actor),
    ) -> StateChange:
        return _casm(request).change_state(
            actor, level, entity_id, body.state, body.state_reason, body.valid_from
        )

    def history(
        request: Request, entity_id: int, actor: Actor = Depends(current_actor)
    ) -> list[StateChange]:
        return _casm(request).list_state_changes(actor, level, entity_id)

    router.add_api_route(
        f"{plural}/state",
        change,
        methods=["POST"],
        summary=f"Change {level.value} state",
        operation_id=f"change_{level.value}_state",
    )
    router.add_api_route(
        f"{plural}/state-changes",
        history,
        methods=["GET"],
        summary=f"{level.value.title()} state changes",
        operation_id=f"{level.value}_state_changes",
    )


for _level in CasmLevel:
    _state_routes(_level)


@router.post("/state-changes/{change_id}/confirm", summary="Apply a pending state change now")
def confirm_state_change(
    request: Request, change_id: int, actor: Actor = Depends(current_actor)
) -> StateChange:
    return _casm(request).confirm_state_change(actor, change_id)


@router.post("/state-changes/{change_id}/cancel", summary="Cancel a pending state change")
def cancel_state_change(
    request: Request, change_id: int, actor: Actor = Depends(current_actor)
) -> StateChange:
    return _casm(request).cancel_state_change(actor, change_id)
