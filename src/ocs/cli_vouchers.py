"""`ocs voucher ...` (voucher types, batches, vouchers, recharges, the blacklist) and
`ocs transfer ...` (credit transfer definitions and transfers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer

from ocs.bootstrap import Services
from ocs.cli_support import Reason, cli_actor, cli_services, run_action
from ocs.core.vouchers import VoucherBalanceInput
from ocs.service.actor import Actor
from ocs.service.credit_transfers import TransferDefinitionInput, TransferRequest
from ocs.service.vouchers import BatchInput, RechargeRequest, VoucherTypeInput

voucher_app = typer.Typer(
    no_args_is_help=True, help="Voucher types, batches, vouchers, recharges and the blacklist"
)
transfer_app = typer.Typer(no_args_is_help=True, help="Credit transfer definitions and transfers")

Balances = Annotated[
    list[str],
    typer.Option(
        "--balance",
        help="BALANCE_TYPE=VALUE[:NONE|VALIDITY|EXTEND[:DAYS]] (repeatable), "
        "e.g. VOICE=600:VALIDITY:30",
    ),
]
Allowed = Annotated[
    list[str] | None, typer.Option("--allow", help="Allowed product type (repeatable; none: all)")
]
Provider = Annotated[str, typer.Option("--provider", help="Service provider code")]


def _balance(text: str) -> VoucherBalanceInput:
    code, sep, rest = text.partition("=")
    parts = rest.split(":")
    if not sep or not code or len(parts) > 3:
        raise typer.BadParameter(f"balance {text!r} must be BALANCE_TYPE=VALUE[:EXPIRY[:DAYS]]")
    try:
        value = int(parts[0])
        days = int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise typer.BadParameter(f"balance {text!r}: value and days are whole numbers") from None
    expiry = parts[1] if len(parts) > 1 else "NONE"
    return VoucherBalanceInput(code, value, expiry, days)


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _add_list_show_delete(
    app: typer.Typer,
    noun: str,
    *,
    list_all: Callable[[Services, Actor], object],
    show: Callable[[Services, Actor, str], object],
    delete: Callable[[Services, Actor, str], None],
) -> None:
    """The `<noun>-list`, `<noun>-show CODE` and `<noun>-delete CODE` commands, alike for
    voucher types and transfer definitions."""

    def list_command() -> None:
        services = cli_services()
        run_action(lambda: list_all(services, cli_actor()))

    def show_command(code: str) -> None:
        services = cli_services()
        run_action(lambda: show(services, cli_actor(), code))

    def delete_command(code: str, reason: Reason = None) -> None:
        services = cli_services()

        def deleted() -> dict[str, str]:
            delete(services, cli_actor(reason), code)
            return {"deleted": code}

        run_action(deleted)

    app.command(f"{noun}-list")(list_command)
    app.command(f"{noun}-show")(show_command)
    app.command(f"{noun}-delete")(delete_command)


# -- voucher types ------------------------------------------------------------------------------


def _type_input(
    code: str,
    name: str,
    provider: str,
    balance: list[str],
    extend_wallet_days: int | None,
    swap: str | None,
    allow: list[str] | None,
    description: str | None,
) -> VoucherTypeInput:
    return VoucherTypeInput(
        code=code,
        name=name,
        service_provider=provider,
        balances=[_balance(b) for b in balance],
        description=description,
        wallet_expiry_extension_days=extend_wallet_days,
        product_type_swap=swap,
        allowed_product_types=allow or [],
    )


@voucher_app.command("type-create")
def type_create(
    code: str,
    name: str,
    provider: Provider,
    balance: Balances,
    extend_wallet_days: Annotated[
        int | None, typer.Option(help="Days added to wallet expiry")
    ] = None,
    swap: Annotated[str | None, typer.Option(help="Product type the wallet takes")] = None,
    allow: Allowed = None,
    description: str | None = None,
    reason: Reason = None,
) -> None:
    """Create a voucher type: what a voucher of it credits."""
    inp = _type_input(code, name, provider, balance, extend_wallet_days, swap, allow, description)
    services = cli_services()
    run_action(lambda: services.vouchers.create_type(cli_actor(reason), inp))


@voucher_app.command("type-update")
def type_update(
    code: str,
    name: str,
    provider: Provider,
    balance: Balances,
    extend_wallet_days: int | None = None,
    swap: str | None = None,
    allow: Allowed = None,
    description: str | None = None,
    reason: Reason = None,
) -> None:
    """Replace a voucher type's settings (the code and service provider stay)."""
    inp = _type_input(code, name, provider, balance, extend_wallet_days, swap, allow, description)
    services = cli_services()
    run_action(lambda: services.vouchers.update_type(cli_actor(reason), code, inp))


_add_list_show_delete(
    voucher_app,
    "type",
    list_all=lambda services, actor: services.vouchers.list_types(actor),
    show=lambda services, actor, code: services.vouchers.get_type(actor, code),
    delete=lambda services, actor, code: services.vouchers.delete_type(actor, code),
)


# -- batches and vouchers -----------------------------------------------------------------------


@voucher_app.command("batch-create")
def batch_create(
    voucher_type: str,
    size: int,
    expires: Annotated[str, typer.Option(help="Batch expiry, ISO date-time (UTC if no zone)")],
    description: str | None = None,
    reason: Reason = None,
) -> None:
    """Generate a batch of vouchers. The output is the only place their secrets ever appear:
    keep it safe (print the scratch cards from it) and do not log it."""
    inp = BatchInput(voucher_type, size, _when(expires), description)
    services = cli_services()
    run_action(lambda: services.vouchers.create_batch(cli_actor(reason), inp))


@voucher_app.command("batch-list")
def batch_list(voucher_type: Annotated[str | None, typer.Option("--type")] = None) -> None:
    services = cli_services()
    run_action(lambda: services.vouchers.list_batches(cli_actor(), voucher_type))


@voucher_app.command("batch-show")
def batch_show(batch_id: int) -> None:
    services = cli_services()
    run_action(lambda: services.vouchers.get_batch(cli_actor(), batch_id))


@voucher_app.command("batch-activate")
def batch_activate(batch_id: int, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.vouchers.change_batch_state(cli_actor(reason), batch_id, "ACTIVE"))


@voucher_app.command("batch-freeze")
def batch_freeze(batch_id: int, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.vouchers.change_batch_state(cli_actor(reason), batch_id, "FROZEN"))


@voucher_app.command("show")
def voucher_show(number: str) -> None:
    """Look a voucher up: state, serial number, who redeemed it (never the secret)."""
    services = cli_services()
    run_action(lambda: services.vouchers.get_voucher(cli_actor(), number))


@voucher_app.command("freeze")
def voucher_freeze(number: str, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.vouchers.change_voucher_state(cli_actor(reason), number, "FROZEN"))


@voucher_app.command("unfreeze")
def voucher_unfreeze(number: str, reason: Reason = None) -> None:
    services = cli_services()
    run_action(
        lambda: services.vouchers.change_voucher_state(cli_actor(reason), number, "AVAILABLE")
    )


@voucher_app.command("recharge")
def voucher_recharge(
    number: str,
    secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="Asked for when left out")
    ],
    subscriber: Annotated[int | None, typer.Option(help="Subscriber id")] = None,
    msisdn: Annotated[str | None, typer.Option(help="Or the subscriber's MSISDN")] = None,
    serial: Annotated[str | None, typer.Option(help="Scratch card serial number")] = None,
    wallet_type: Annotated[str, typer.Option("--wallet-type")] = "PRIMARY",
    reason: Reason = None,
) -> None:
    """Recharge a subscriber's wallet with a voucher."""
    request = RechargeRequest(number, secret, subscriber, msisdn, serial, wallet_type)
    services = cli_services()
    run_action(lambda: services.vouchers.recharge(cli_actor(reason), request))


@voucher_app.command("blacklist")
def voucher_blacklist(subscriber_id: int) -> None:
    """Whether failed voucher recharges blacklisted the subscriber, and the failure count."""
    services = cli_services()
    run_action(lambda: services.vouchers.blacklist(cli_actor(), subscriber_id))


@voucher_app.command("blacklist-clear")
def voucher_blacklist_clear(subscriber_id: int, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.vouchers.clear_blacklist(cli_actor(reason), subscriber_id))


# -- credit transfers -------------------------------------------------------------------------


def _definition_input(
    code: str,
    name: str,
    transfer_type: str,
    provider: str,
    charge_balance_type: str,
    charge_amount: int,
    voucher_type: str,
    pin_required: bool,
    allow: list[str] | None,
    description: str | None,
) -> TransferDefinitionInput:
    return TransferDefinitionInput(
        code=code,
        name=name,
        transfer_type=transfer_type,
        service_provider=provider,
        charge_balance_type=charge_balance_type,
        charge_amount=charge_amount,
        voucher_type=voucher_type,
        pin_required=pin_required,
        allowed_product_types=allow or [],
        description=description,
    )


TransferTypeOption = Annotated[str, typer.Option("--type", help="PEER_TO_PEER or SERVICE_BUNDLE")]


@transfer_app.command("definition-create")
def definition_create(
    code: str,
    name: str,
    provider: Provider,
    charge_balance_type: Annotated[str, typer.Option(help="Balance type the purchaser pays")],
    charge_amount: Annotated[int, typer.Option(help="Minor units the purchaser pays")],
    voucher_type: Annotated[str, typer.Option(help="Voucher type applied to the recipient")],
    transfer_type: TransferTypeOption = "PEER_TO_PEER",
    pin_required: Annotated[bool, typer.Option("--pin-required")] = False,
    allow: Allowed = None,
    description: str | None = None,
    reason: Reason = None,
) -> None:
    """Create a credit transfer definition."""
    inp = _definition_input(
        code, name, transfer_type, provider, charge_balance_type, charge_amount, voucher_type,
        pin_required, allow, description,
    )  # fmt: skip
    services = cli_services()
    run_action(lambda: services.credit_transfers.create_definition(cli_actor(reason), inp))


@transfer_app.command("definition-update")
def definition_update(
    code: str,
    name: str,
    provider: Provider,
    charge_balance_type: Annotated[str, typer.Option()],
    charge_amount: Annotated[int, typer.Option()],
    voucher_type: Annotated[str, typer.Option()],
    transfer_type: TransferTypeOption = "PEER_TO_PEER",
    pin_required: Annotated[bool, typer.Option("--pin-required")] = False,
    allow: Allowed = None,
    description: str | None = None,
    reason: Reason = None,
) -> None:
    """Replace a definition's settings (the code and service provider stay)."""
    inp = _definition_input(
        code, name, transfer_type, provider, charge_balance_type, charge_amount, voucher_type,
        pin_required, allow, description,
    )  # fmt: skip
    services = cli_services()
    run_action(lambda: services.credit_transfers.update_definition(cli_actor(reason), code, inp))


_add_list_show_delete(
    transfer_app,
    "definition",
    list_all=lambda services, actor: services.credit_transfers.list_definitions(actor),
    show=lambda services, actor, code: services.credit_transfers.get_definition(actor, code),
    delete=lambda services, actor, code: services.credit_transfers.delete_definition(actor, code),
)


@transfer_app.command("perform")
def transfer_perform(
    purchaser_id: int,
    definition: str,
    recipient: Annotated[
        str | None, typer.Option(help="Recipient MSISDN; the purchaser when left out")
    ] = None,
    purchaser_wallet: Annotated[str, typer.Option(help="PRIMARY or SECONDARY")] = "PRIMARY",
    recipient_wallet: Annotated[str, typer.Option(help="PRIMARY or SECONDARY")] = "PRIMARY",
    pin: Annotated[str | None, typer.Option(help="The purchaser's PIN, when required")] = None,
    reason: Reason = None,
) -> None:
    """Perform a credit transfer: debit the purchaser, apply the voucher type to the
    recipient."""
    request = TransferRequest(
        purchaser_id, definition, recipient, purchaser_wallet, recipient_wallet, pin
    )
    services = cli_services()
    run_action(lambda: services.credit_transfers.perform(cli_actor(reason), request))
