"""`ocs card ...`: credit cards, their masking rules and their registrations to subscribers.

The card number and the CVC are never command-line arguments (those stay in shell histories
and process lists): they are prompted for without echo, or read one per line from standard
input when that is not a terminal."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ocs.cli_support import Reason, cli_actor, cli_services, run_action
from ocs.service.credit_cards import CardInput, CardSearch, CardUpdate

card_app = typer.Typer(no_args_is_help=True, help="Credit cards registered to subscribers")


def _secret(label: str) -> str:
    if sys.stdin.isatty():
        return str(typer.prompt(label, hide_input=True))
    return sys.stdin.readline().strip()


# -- masking rules and settings --------------------------------------------------------------


@card_app.command("rule-add")
def rule_add(
    code: str,
    name: str,
    prefix: Annotated[int, typer.Option(help="Leading digits shown (0-6)")] = 6,
    suffix: Annotated[int, typer.Option(help="Trailing digits shown (0-4)")] = 4,
    padding: Annotated[str, typer.Option(help="Character for each hidden digit")] = "*",
    reason: Reason = None,
) -> None:
    """Add a masking rule: display number = prefix + padding + suffix."""
    services = cli_services()
    run_action(
        lambda: services.credit_cards.create_rule(
            cli_actor(reason), code, name, prefix, suffix, padding
        )
    )


@card_app.command("rule-list")
def rule_list() -> None:
    services = cli_services()
    run_action(lambda: services.credit_cards.list_rules(cli_actor()))


@card_app.command("rule-delete")
def rule_delete(code: str, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.credit_cards.delete_rule(cli_actor(reason), code))


@card_app.command("settings")
def settings(
    registrations_max: Annotated[
        int | None, typer.Option(help="Set the credit card registrations allowed per subscriber")
    ] = None,
    reason: Reason = None,
) -> None:
    """Show (or, with --registrations-max, change) the credit card settings."""
    services = cli_services()
    if registrations_max is None:
        run_action(lambda: services.credit_cards.settings(cli_actor()))
    else:
        run_action(lambda: services.credit_cards.set_settings(cli_actor(reason), registrations_max))


# -- cards -----------------------------------------------------------------------------------


@card_app.command("create")
def create(
    service_provider: str,
    masking_rule: str,
    expiry_month: int,
    expiry_year: int,
    name: Annotated[str | None, typer.Option(help="Name on card")] = None,
    subscriber: Annotated[int | None, typer.Option(help="Register to this subscriber")] = None,
    active: Annotated[bool, typer.Option(help="Create active (needs --subscriber)")] = False,
    accept_luhn_failure: Annotated[
        bool, typer.Option(help="Create the card although the Luhn checksum fails")
    ] = False,
    reason: Reason = None,
) -> None:
    """Add a card; the number and then the CVC are prompted for (or read from stdin)."""
    number = _secret("Card number")
    cvc = _secret("CVC")
    services = cli_services()
    inp = CardInput(
        service_provider=service_provider,
        masking_rule=masking_rule,
        expiry_month=expiry_month,
        expiry_year=expiry_year,
        number=number,
        cvc=cvc,
        name_on_card=name,
        subscriber_id=subscriber,
        frozen=not active,
        accept_luhn_failure=accept_luhn_failure,
    )
    run_action(lambda: services.credit_cards.create(cli_actor(reason), inp))


@card_app.command("show")
def show(card_id: int) -> None:
    services = cli_services()
    run_action(lambda: services.credit_cards.get(cli_actor(), card_id))


@card_app.command("list")
def list_cards(subscriber_id: int) -> None:
    """The subscriber's credit cards."""
    services = cli_services()
    run_action(lambda: services.credit_cards.cards_of_subscriber(cli_actor(), subscriber_id))


@card_app.command("search")
def search(
    display_number: Annotated[
        str | None, typer.Option("--display", help="Display number or its beginning")
    ] = None,
    calling_card_id: Annotated[
        str | None, typer.Option(help="Subscriber ID or card number of a registered subscriber")
    ] = None,
    by_number: Annotated[
        bool, typer.Option(help="Search by the full number (prompted for or read from stdin)")
    ] = False,
    service_provider: Annotated[str | None, typer.Option("--provider")] = None,
    masking_rule: Annotated[str | None, typer.Option("--rule")] = None,
    state: Annotated[
        list[str] | None, typer.Option(help="ACTIVE, FROZEN, DELETED (default ACTIVE+FROZEN)")
    ] = None,
) -> None:
    """The first 100 matching cards; `truncated` says when there are more."""
    number = _secret("Card number") if by_number else None
    services = cli_services()
    criteria = CardSearch(
        service_provider=service_provider,
        display_number=display_number,
        masking_rule=masking_rule,
        calling_card_id=calling_card_id,
        number=number,
        states=tuple(state) if state else None,
    )
    run_action(lambda: services.credit_cards.search(cli_actor(), criteria))


@card_app.command("update")
def update(
    card_id: int,
    expiry_month: Annotated[int | None, typer.Option()] = None,
    expiry_year: Annotated[int | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option(help="Name on card")] = None,
    clear_name: Annotated[bool, typer.Option(help="Remove the name on card")] = False,
    reason: Reason = None,
) -> None:
    services = cli_services()
    change = CardUpdate(expiry_month, expiry_year, name, clear_name)
    run_action(lambda: services.credit_cards.update(cli_actor(reason), card_id, change))


@card_app.command("freeze")
def freeze(card_id: int, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.credit_cards.freeze(cli_actor(reason), card_id))


@card_app.command("unfreeze")
def unfreeze(card_id: int, reason: Reason = None) -> None:
    """Make a registered card active again."""
    services = cli_services()
    run_action(lambda: services.credit_cards.unfreeze(cli_actor(reason), card_id))


@card_app.command("delete")
def delete(card_id: int, reason: Reason = None) -> None:
    """An ACTIVE card is removed; a FROZEN one moves to DELETED."""
    services = cli_services()
    run_action(lambda: services.credit_cards.delete(cli_actor(reason), card_id))


# -- registrations ---------------------------------------------------------------------------


@card_app.command("register")
def register(card_id: int, subscriber_id: int, reason: Reason = None) -> None:
    """Register a subscriber to the card (PENDING until confirmed)."""
    services = cli_services()
    run_action(lambda: services.credit_cards.register(cli_actor(reason), card_id, subscriber_id))


@card_app.command("confirm")
def confirm(card_id: int, subscriber_id: int, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.credit_cards.confirm(cli_actor(reason), card_id, subscriber_id))


@card_app.command("primary")
def primary(card_id: int, subscriber_id: int, reason: Reason = None) -> None:
    """Make the subscriber the frozen card's primary subscriber."""
    services = cli_services()
    run_action(lambda: services.credit_cards.set_primary(cli_actor(reason), card_id, subscriber_id))


@card_app.command("deregister")
def deregister(card_id: int, subscriber_id: int, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.credit_cards.deregister(cli_actor(reason), card_id, subscriber_id))


@card_app.command("freeze-wallet")
def freeze_wallet(card_id: int, subscriber_id: int, reason: Reason = None) -> None:
    """Freeze the registered subscriber's primary wallet."""
    services = cli_services()
    run_action(
        lambda: services.credit_cards.freeze_wallet(cli_actor(reason), card_id, subscriber_id)
    )
