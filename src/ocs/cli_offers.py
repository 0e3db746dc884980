"""`ocs offer ...` (services, products, offers), `ocs subscription ...` and `ocs grants ...`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ocs.cli_support import Reason, cli_actor, cli_services, run_action
from ocs.core.errors import invalid
from ocs.core.offers import service_payload
from ocs.service.offers import SubscriptionInput, current_payload

offer_app = typer.Typer(no_args_is_help=True, help="Offer catalogue: services, products, offers")
subscription_app = typer.Typer(no_args_is_help=True, help="Subscriptions of offers")
grants_app = typer.Typer(no_args_is_help=True, help="Granted balances and the grant scheduler")

Payload = Annotated[str, typer.Argument(help="JSON object, or @file.json")]


def _payload(text: str) -> dict[str, Any]:
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid("payload", f"payload is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise invalid("payload", "payload must be a JSON object")
    return value


# -- catalogue ------------------------------------------------------------------------------------


@offer_app.command("service-create")
def service_create(payload: Payload, reason: Reason = None) -> None:
    """Create a BALANCE or RECURRENT_COST_CONTROL_BALANCE service (with its balance type)."""
    offers = cli_services().offers
    run_action(lambda: service_payload(offers.create_service(cli_actor(reason), _payload(payload))))


@offer_app.command("service-update")
def service_update(code: str, payload: Payload, reason: Reason = None) -> None:
    offers = cli_services().offers
    run_action(
        lambda: service_payload(offers.update_service(cli_actor(reason), code, _payload(payload)))
    )


@offer_app.command("service-list")
def service_list() -> None:
    offers = cli_services().offers
    run_action(lambda: [service_payload(s) for s in offers.list_services(cli_actor())])


@offer_app.command("service-delete")
def service_delete(code: str, reason: Reason = None) -> None:
    offers = cli_services().offers

    def delete() -> dict[str, str]:
        offers.delete_service(cli_actor(reason), code)
        return {"deleted": code}

    run_action(delete)


@offer_app.command("product-create")
def product_create(payload: Payload, reason: Reason = None) -> None:
    """Create a product: {"code", "name", "service_provider", "services": [codes]}."""
    offers = cli_services().offers
    run_action(lambda: current_payload(offers.create_product(cli_actor(reason), _payload(payload))))


@offer_app.command("product-list")
def product_list() -> None:
    offers = cli_services().offers
    run_action(lambda: [current_payload(p) for p in offers.list_products(cli_actor())])


@offer_app.command("create")
def offer_create(payload: Payload, reason: Reason = None) -> None:
    """Create an offer: {"code", "name", "service_provider", "priority", "products": [codes]}."""
    offers = cli_services().offers
    run_action(lambda: current_payload(offers.create_offer(cli_actor(reason), _payload(payload))))


@offer_app.command("list")
def offer_list() -> None:
    offers = cli_services().offers
    run_action(lambda: [current_payload(o) for o in offers.list_offers(cli_actor())])


@offer_app.command("show")
def offer_show(code: str) -> None:
    offers = cli_services().offers
    run_action(lambda: current_payload(offers.get_offer(cli_actor(), code)))


# -- subscriptions --------------------------------------------------------------------------------


@subscription_app.command("create")
def subscription_create(
    offer: str,
    entity_id: int,
    level: Annotated[str, typer.Option(help="subscriber, account or customer")] = "subscriber",
    wallet_id: Annotated[
        int | None, typer.Option(help="Wallet (required above subscriber)")
    ] = None,
    start_at: Annotated[datetime | None, typer.Option(help="ISO time (UTC if no zone)")] = None,
    end_at: Annotated[datetime | None, typer.Option(help="ISO time (UTC if no zone)")] = None,
    reason: Reason = None,
) -> None:
    """Subscribe a subscriber, account or customer to an offer."""
    offers = cli_services().offers
    inp = SubscriptionInput(offer, level, entity_id, wallet_id, _utc(start_at), _utc(end_at))
    run_action(lambda: offers.subscribe(cli_actor(reason), inp))


@subscription_app.command("list")
def subscription_list(subscriber_id: int) -> None:
    """A subscriber's subscriptions, with those of its account and customer."""
    offers = cli_services().offers
    run_action(lambda: offers.subscriptions_of_subscriber(cli_actor(), subscriber_id))


@subscription_app.command("end")
def subscription_end(
    subscription_id: int,
    end_at: Annotated[datetime | None, typer.Option(help="ISO time; default now")] = None,
    reason: Reason = None,
) -> None:
    offers = cli_services().offers
    run_action(lambda: offers.end_subscription(cli_actor(reason), subscription_id, _utc(end_at)))


@subscription_app.command("cancel")
def subscription_cancel(subscription_id: int, reason: Reason = None) -> None:
    offers = cli_services().offers
    run_action(lambda: offers.cancel_subscription(cli_actor(reason), subscription_id))


# -- grants ---------------------------------------------------------------------------------------


@grants_app.command("run")
def grants_run() -> None:
    """Apply every due grant, recurrence, rollover and expiry now (the server does this every
    OCS_GRANT_INTERVAL_S seconds)."""
    grants = cli_services().grants
    run_action(lambda: grants.run(cli_actor()))


@grants_app.command("list")
def grants_list(wallet_id: int) -> None:
    """The grants written into a wallet, newest period first."""
    grants = cli_services().grants
    run_action(lambda: grants.grants_of_wallet(cli_actor(), wallet_id))


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
