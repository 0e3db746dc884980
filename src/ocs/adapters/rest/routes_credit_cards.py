"""Credit cards: masking rules, cards, search, states and registrations to subscribers.

The full card number and the CVC only ever travel in request bodies (never in a URL, where
access logs and proxies would keep them) and never come back in a response."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ocs.core.credit_cards import MaskingRule
from ocs.service.actor import Actor
from ocs.service.credit_cards import (
    CardCreated,
    CardDeleted,
    CardInput,
    CardSearch,
    CardSearchResult,
    CardSettings,
    CardUpdate,
    CardView,
    CreditCardService,
)
from ocs.service.wallets import WalletView

from .auth import current_actor


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MaskingRuleBody(Body):
    code: str
    name: str
    prefix_length: int = Field(description="Leading digits shown (0-6)")
    suffix_length: int = Field(description="Trailing digits shown (0-4)")
    padding: str = Field(description="The one character shown for each hidden digit")


class CardBody(Body):
    service_provider: str
    number: str = Field(
        repr=False, description="Full card number, digits only (never stored or returned)"
    )
    cvc: str = Field(repr=False, description="3 or 4 digits, checked and then forgotten")
    masking_rule: str
    expiry_month: int
    expiry_year: int
    name_on_card: str | None = None
    subscriber_id: int | None = Field(None, description="Register the card to this subscriber")
    frozen: bool = Field(True, description="Only cards created with a subscriber may be active")
    accept_luhn_failure: bool = Field(
        False, description="Create the card although its number fails the Luhn checksum"
    )


class CardUpdateBody(Body):
    expiry_month: int | None = None
    expiry_year: int | None = None
    name_on_card: str | None = None
    clear_name_on_card: bool = False
    cvc: str | None = Field(None, repr=False, description="Checked only, never stored")


class CardSearchBody(Body):
    service_provider: str | None = None
    display_number: str | None = Field(None, description="Display number or its beginning")
    masking_rule: str | None = None
    calling_card_id: str | None = Field(
        None, description="Subscriber ID or card number of a registered subscriber"
    )
    number: str | None = Field(
        None, repr=False, description="Full card number, matched through its token"
    )
    states: list[str] | None = Field(None, description="Default: ACTIVE and FROZEN")


class RegistrationBody(Body):
    subscriber_id: int


class CardSettingsBody(Body):
    registrations_per_subscriber_max: int


def _cards(request: Request) -> CreditCardService:
    return request.app.state.services.credit_cards  # type: ignore[no-any-return]


router = APIRouter(tags=["credit cards"])


# -- masking rules and settings --------------------------------------------------------------


@router.post("/credit-card-masking-rules", status_code=201)
def create_masking_rule(
    request: Request, body: MaskingRuleBody, actor: Actor = Depends(current_actor)
) -> MaskingRule:
    return _cards(request).create_rule(
        actor, body.code, body.name, body.prefix_length, body.suffix_length, body.padding
    )


@router.get("/credit-card-masking-rules")
def list_masking_rules(
    request: Request, actor: Actor = Depends(current_actor)
) -> list[MaskingRule]:
    return _cards(request).list_rules(actor)


@router.get("/credit-card-masking-rules/{code}")
def get_masking_rule(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> MaskingRule:
    return _cards(request).get_rule(actor, code)


@router.delete("/credit-card-masking-rules/{code}", status_code=204)
def delete_masking_rule(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> Response:
    _cards(request).delete_rule(actor, code)
    return Response(status_code=204)


@router.get("/settings/credit-cards")
def get_card_settings(request: Request, actor: Actor = Depends(current_actor)) -> CardSettings:
    return _cards(request).settings(actor)


@router.put("/settings/credit-cards")
def set_card_settings(
    request: Request, body: CardSettingsBody, actor: Actor = Depends(current_actor)
) -> CardSettings:
    return _cards(request).set_settings(actor, body.registrations_per_subscriber_max)


# -- cards -----------------------------------------------------------------------------------


@router.post("/credit-cards", status_code=201, summary="Add a card (returns any warnings)")
def create_card(
    request: Request, body: CardBody, actor: Actor = Depends(current_actor)
) -> CardCreated:
    inp = CardInput(
        service_provider=body.service_provider,
        masking_rule=body.masking_rule,
        expiry_month=body.expiry_month,
        expiry_year=body.expiry_year,
        number=body.number,
        cvc=body.cvc,
        name_on_card=body.name_on_card,
        subscriber_id=body.subscriber_id,
        frozen=body.frozen,
        accept_luhn_failure=body.accept_luhn_failure,
    )
    return _cards(request).create(actor, inp)


@router.post(
    "/credit-cards/search",
    summary="Search by display number, calling card ID or full number (first 100 matches)",
)
def search_cards(
    request: Request, body: CardSearchBody, actor: Actor = Depends(current_actor)
) -> CardSearchResult:
    criteria = CardSearch(
        service_provider=body.service_provider,
        display_number=body.display_number,
        masking_rule=body.masking_rule,
        calling_card_id=body.calling_card_id,
        number=body.number,
        states=None if body.states is None else tuple(body.states),
    )
    return _cards(request).search(actor, criteria)


@router.get("/credit-cards/{card_id}")
def get_card(request: Request, card_id: int, actor: Actor = Depends(current_actor)) -> CardView:
    return _cards(request).get(actor, card_id)


@router.patch("/credit-cards/{card_id}", summary="Edit expiry and name on card")
def update_card(
    request: Request, card_id: int, body: CardUpdateBody, actor: Actor = Depends(current_actor)
) -> CardView:
    change = CardUpdate(
        expiry_month=body.expiry_month,
        expiry_year=body.expiry_year,
        name_on_card=body.name_on_card,
        clear_name_on_card=body.clear_name_on_card,
        cvc=body.cvc,
    )
    return _cards(request).update(actor, card_id, change)


@router.post("/credit-cards/{card_id}/freeze")
def freeze_card(request: Request, card_id: int, actor: Actor = Depends(current_actor)) -> CardView:
    return _cards(request).freeze(actor, card_id)


@router.post("/credit-cards/{card_id}/unfreeze", summary="Make a registered card active")
def unfreeze_card(
    request: Request, card_id: int, actor: Actor = Depends(current_actor)
) -> CardView:
    return _cards(request).unfreeze(actor, card_id)


@router.delete(
    "/credit-cards/{card_id}",
    summary="Delete: an ACTIVE card is removed, a FROZEN one moves to DELETED",
)
def delete_card(
    request: Request, card_id: int, actor: Actor = Depends(current_actor)
) -> CardDeleted:
    return _cards(request).delete(actor, card_id)


@router.get("/subscribers/{subscriber_id}/credit-cards")
def subscriber_cards(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> list[CardView]:
    return _cards(request).cards_of_subscriber(actor, subscriber_id)


# -- registrations ---------------------------------------------------------------------------


@router.post("/credit-cards/{card_id}/registrations", status_code=201)
def register_subscriber(
    request: Request, card_id: int, body: RegistrationBody, actor: Actor = Depends(current_actor)
) -> CardView:
    return _cards(request).register(actor, card_id, body.subscriber_id)


@router.delete("/credit-cards/{card_id}/registrations/{subscriber_id}")
def deregister_subscriber(
    request: Request, card_id: int, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> CardView:
    return _cards(request).deregister(actor, card_id, subscriber_id)


@router.post("/credit-cards/{card_id}/registrations/{subscriber_id}/confirm")
def confirm_registration(
    request: Request, card_id: int, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> CardView:
    return _cards(request).confirm(actor, card_id, subscriber_id)


@router.post("/credit-cards/{card_id}/registrations/{subscriber_id}/primary")
def set_primary_subscriber(
    request: Request, card_id: int, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> CardView:
    return _cards(request).set_primary(actor, card_id, subscriber_id)


@router.post(
    "/credit-cards/{card_id}/registrations/{subscriber_id}/freeze-wallet",
    summary="Freeze the registered subscriber's primary wallet",
)
def freeze_subscriber_wallet(
    request: Request, card_id: int, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> WalletView:
    return _cards(request).freeze_wallet(actor, card_id, subscriber_id)
