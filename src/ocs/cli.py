"""The `ocs` command line: run the server, manage operators, configuration and CASM locally."""

from __future__ import annotations

import json
import logging
import secrets
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from ocs.bootstrap import build_services
from ocs.cli_batches import app as batch_app
from ocs.cli_bpl import app as bpl_app
from ocs.cli_cards import card_app
from ocs.cli_domains import app as domain_app
from ocs.cli_migrations import app as migration_app
from ocs.cli_notifications import app as notification_app
from ocs.cli_offers import grants_app, offer_app, subscription_app
from ocs.cli_support import Reason, cli_actor, cli_services, plain, print_json, run_action
from ocs.cli_vouchers import transfer_app, voucher_app
from ocs.config import Settings
from ocs.core.casm import CasmLevel
from ocs.core.configuration import ConfigKind
from ocs.core.edr import EdrQuery, EdrSort, EdrType, UnitClass
from ocs.core.security import Role
from ocs.core.wallets import WalletType, parse_enum
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput
from ocs.service.demo import load_demo
from ocs.service.wallet_ledger import WalletInput
from ocs.service.wallets import (
    BalanceInput,
    BalanceUpdate,
    BucketEdit,
    ChargeRequest,
    MergeRequest,
    WalletUpdate,
)

app = typer.Typer(no_args_is_help=True, help="OCS: Online Charging System")
operator_app = typer.Typer(no_args_is_help=True, help="Operator accounts")
config_app = typer.Typer(no_args_is_help=True, help="Integration configuration")
customer_app = typer.Typer(no_args_is_help=True, help="Customers")
account_app = typer.Typer(no_args_is_help=True, help="Accounts")
subscriber_app = typer.Typer(no_args_is_help=True, help="Subscribers")
settings_app = typer.Typer(no_args_is_help=True, help="Global settings")
for sub, name in (
    (operator_app, "operator"),
    (config_app, "config"),
    (customer_app, "customer"),
    (account_app, "account"),
    (subscriber_app, "subscriber"),
    (settings_app, "settings"),
):
    app.add_typer(sub, name=name)

DEMO_ADMIN = ("admin", "ocs-demo-admin")
DEMO_DIAMETER_PEER = "pgw1.demo.local"


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load the demo configuration and admin")] = False,
    host: Annotated[str | None, typer.Option(help="HTTP listen address")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port")] = None,
) -> None:
    """Run the OCS: creates and migrates the database on first start."""
    import asyncio
    import dataclasses as dc

    from ocs.runtime import serve as run_server

    settings = Settings.from_env()
    settings = dc.replace(
        settings, http_host=host or settings.http_host, http_port=port or settings.http_port
    )
    if demo and not settings.diameter_peers:
        settings = dc.replace(settings, diameter_peers=(DEMO_DIAMETER_PEER,))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    services = build_services(settings)
    actor = cli_actor()
    if not services.operators.list_operators(actor):
        username, password = DEMO_ADMIN if demo else ("admin", secrets.token_urlsafe(12))
        services.operators.create(actor, username, password, Role.ADMIN.value)
        typer.echo(f"created operator {username!r} with password {password!r}")
    if demo and load_demo(actor, services.configuration, services.casm, services.wallets):
        typer.echo("loaded the demo configuration (service provider DEMO)")
    base = f"http://{settings.http_host}:{settings.http_port}"
    typer.echo(f"database: {settings.database_url}")
    typer.echo(f"REST API: {base}/api/v1  docs: /docs")
    typer.echo(f"console:  {base}/console/")
    peers = ", ".join(settings.diameter_peers) or "none (set OCS_DIAMETER_PEERS)"
    typer.echo(
        f"Diameter: {settings.diameter_host}:{settings.diameter_port} as "
        f"{settings.diameter_origin_host}; peers: {peers}"
    )
    sys.stdout.flush()
    asyncio.run(run_server(settings, services))


@app.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema and exit."""
    settings = Settings.from_env()
    cli_services()
    typer.echo(f"database at newest schema: {settings.database_url}")


@operator_app.command("add")
def operator_add(
    username: str,
    role: Annotated[str, typer.Option(help=f"One of {', '.join(r.value for r in Role)}")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    service_provider: Annotated[
        list[str] | None, typer.Option(help="Limit to these service providers (repeatable)")
    ] = None,
) -> None:
    """Add an operator account."""
    providers = frozenset(service_provider) if service_provider else None
    services = cli_services()

    def add() -> dict[str, object]:
        op = services.operators.create(cli_actor(), username, password, role, providers)
        return {"username": op.username, "role": op.role}

    run_action(add)


@operator_app.command("list")
def operator_list() -> None:
    services = cli_services()
    run_action(
        lambda: [
            {"username": o.username, "role": o.role, "active": o.active}
            for o in services.operators.list_operators(cli_actor())
        ]
    )


def _kind(kind: str) -> ConfigKind:
    try:
        return ConfigKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in ConfigKind)
        raise typer.BadParameter(f"unknown kind {kind!r}; one of {names}") from None


@config_app.command("list")
def config_list(kind: str) -> None:
    """List the entities of one configuration kind (e.g. account-types)."""
    services = cli_services()
    run_action(lambda: services.configuration.list_records(cli_actor(), _kind(kind)))


@config_app.command("get")
def config_get(kind: str, code: str) -> None:
    services = cli_services()
    run_action(lambda: services.configuration.get(cli_actor(), _kind(kind), code))


@config_app.command("create")
def config_create(
    kind: str, payload: Annotated[str, typer.Argument(help="JSON object")], reason: Reason = None
) -> None:
    """Create a configuration entity from a JSON object, e.g. '{"code":"X","name":"Y"}'."""
    services = cli_services()
    run_action(
        lambda: services.configuration.create(cli_actor(reason), _kind(kind), _json(payload))
    )


@config_app.command("update")
def config_update(kind: str, code: str, payload: str, reason: Reason = None) -> None:
    services = cli_services()
    run_action(
        lambda: services.configuration.update(cli_actor(reason), _kind(kind), code, _json(payload))
    )


@config_app.command("delete")
def config_delete(kind: str, code: str, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.configuration.delete(cli_actor(reason), _kind(kind), code))


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"payload is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("payload must be a JSON object")
    return value


@customer_app.command("create")
def customer_create(
    name: str,
    service_provider: Annotated[str, typer.Option("--service-provider", "-p")],
    profile: str | None = None,
    segment: str | None = None,
    reference: str | None = None,
    reason: Reason = None,
) -> None:
    services = cli_services()
    inp = CustomerInput(
        name=name,
        service_provider=service_provider,
        profile=profile,
        segment=segment,
        reference=reference,
    )
    run_action(lambda: services.casm.create_customer(cli_actor(reason), inp))


@customer_app.command("search")
def customer_search(prefix: str = "", service_provider: str | None = None) -> None:
    """Customers whose name starts with PREFIX (at most 100)."""
    services = cli_services()
    run_action(lambda: services.casm.search_customers(cli_actor(), prefix, service_provider))


@account_app.command("create")
def account_create(
    customer_id: Annotated[int, typer.Option("--customer")],
    account_type: Annotated[str | None, typer.Option("--type")] = None,
    profile: str | None = None,
    name: str | None = None,
    billing_cycle: str | None = None,
    currency: str | None = None,
    parent: int | None = None,
    reason: Reason = None,
) -> None:
    services = cli_services()
    inp = AccountInput(
        customer_id=customer_id,
        account_type=account_type,
        profile=profile,
        name=name,
        billing_cycle=billing_cycle,
        currency=currency,
        parent_account_id=parent,
    )
    run_action(lambda: services.casm.create_account(cli_actor(reason), inp))


@subscriber_app.command("create")
def subscriber_create(
    subscriber_id: str,
    account_id: Annotated[int | None, typer.Option("--account")] = None,
    profile: str | None = None,
    customer_name: Annotated[
        str | None, typer.Option(help="New customer's name when the profile creates one")
    ] = None,
    service_provider: Annotated[str | None, typer.Option("--service-provider", "-p")] = None,
    card_number: str | None = None,
    language: str | None = None,
    resource: Annotated[
        list[str] | None, typer.Option(help="TYPE=VALUE, e.g. MSISDN=316... (repeatable)")
    ] = None,
    reason: Reason = None,
) -> None:
    """Create a subscriber under an account, or with its account and customer from a profile."""
    resources = []
    for item in resource or []:
        rtype, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"resource {item!r} must be TYPE=VALUE")
        resources.append(ResourceInput(rtype, value))
    account = None
    if customer_name is not None:
        customer = CustomerInput(name=customer_name, service_provider=service_provider)
        account = AccountInput(customer=customer)
    inp = SubscriberInput(
        subscriber_id=subscriber_id,
        account_id=account_id,
        profile=profile,
        card_number=card_number,
        language=language,
        resources=tuple(resources),
        account=account,
    )
    services = cli_services()
    run_action(lambda: services.casm.create_subscriber(cli_actor(reason), inp))


@subscriber_app.command("find")
def subscriber_find(value: str, resource_type: str | None = None) -> None:
    """Find a subscriber by any resource (MSISDN, IMSI, ...)."""
    services = cli_services()
    run_action(lambda: services.casm.find_subscriber_by_resource(cli_actor(), value, resource_type))


@subscriber_app.command("search")
def subscriber_search(
    service_provider: Annotated[str, typer.Option("--service-provider", "-p")],
    wallet_reference: str | None = None,
    card_number: str | None = None,
    subscriber_id: str | None = None,
    customer: Annotated[str | None, typer.Option(help="Customer name")] = None,
    customer_id: str | None = None,
    exact: Annotated[bool, typer.Option(help="Exact instead of prefix match")] = False,
) -> None:
    """Find subscribers by ONE of the fields: a row per wallet, at most 100 rows."""
    criteria = {
        "wallet_reference": wallet_reference,
        "card_number": card_number,
        "subscriber_id": subscriber_id,
        "customer": customer,
        "customer_id": customer_id,
    }
    services = cli_services()
    run_action(lambda: services.casm.search(cli_actor(), service_provider, criteria, exact))


@subscriber_app.command("promotions")
def subscriber_promotions(subscriber_id: int) -> None:
    """The promotions the subscriber's wallets are eligible for, with status and tracker."""
    services = cli_services()
    run_action(lambda: services.promotions.subscriber_promotions(cli_actor(), subscriber_id))


@subscriber_app.command("state")
def subscriber_state(
    subscriber_id: int, state: str, state_reason: str, reason: Reason = None
) -> None:
    services = cli_services()
    run_action(
        lambda: services.casm.change_state(
            cli_actor(reason), CasmLevel.SUBSCRIBER, subscriber_id, state, state_reason
        )
    )


@settings_app.command("edr-auditing")
def settings_edr_auditing(
    enabled: Annotated[bool, typer.Argument(help="true or false")], reason: Reason = None
) -> None:
    """Turn EDR auditing (mandatory change reasons) on or off."""
    services = cli_services()

    def apply() -> dict[str, bool]:
        services.operators.set_edr_auditing(cli_actor(reason), enabled)
        return {"edr_auditing": enabled}

    run_action(apply)


# -- wallets, balances, buckets, EDRs -------------------------------------------------------------

wallet_app = typer.Typer(no_args_is_help=True, help="Wallets, balances, buckets and EDRs")
app.add_typer(wallet_app, name="wallet")
app.add_typer(voucher_app, name="voucher")
app.add_typer(transfer_app, name="transfer")
app.add_typer(card_app, name="card")
app.add_typer(batch_app, name="batch")
app.add_typer(domain_app, name="domain")
app.add_typer(notification_app, name="notification")
app.add_typer(bpl_app, name="bpl")
app.add_typer(migration_app, name="migration")

When = Annotated[
    str | None, typer.Option(help="ISO date-time, e.g. 2026-03-01T00:00:00+00:00 (UTC if no zone)")
]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE (repeatable)")]


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    pairs = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{what} {item!r} must be KEY=VALUE")
        pairs[key] = value
    return pairs


@wallet_app.command("create")
def wallet_create(
    subscriber_id: int,
    product_type: Annotated[str, typer.Option()],
    wallet_type: Annotated[str, typer.Option("--type", help="PRIMARY or SECONDARY")] = "PRIMARY",
    currency: str | None = None,
    display_currency: str | None = None,
    customer: int | None = None,
    limit_type: str = "PREPAID",
    minimum_credit: int | None = None,
    max_concurrent: int | None = None,
    reference: Annotated[str | None, typer.Option(help="Generated when left out")] = None,
    reason: Reason = None,
) -> None:
    """Create a wallet for a subscriber (New Wallet)."""
    inp = WalletInput(
        product_type=product_type,
        currency=currency,
        display_currency=display_currency,
        customer_id=customer,
        limit_type=limit_type,
        minimum_credit=minimum_credit,
        max_concurrent_accesses=max_concurrent,
        reference=reference,
    )
    services = cli_services()
    actor = cli_actor(reason)
    run_action(lambda: services.wallets.create_wallet(actor, subscriber_id, wallet_type, inp))


@wallet_app.command("link")
def wallet_link(
    subscriber_id: int,
    reference: str,
    wallet_type: Annotated[str, typer.Option("--type")] = "SECONDARY",
    reason: Reason = None,
) -> None:
    """Link a subscriber to an existing wallet (shared wallet)."""
    services = cli_services()
    run_action(
        lambda: services.wallets.link_wallet(
            cli_actor(reason), subscriber_id, wallet_type, reference
        )
    )


@wallet_app.command("list")
def wallet_list(subscriber_id: int) -> None:
    """A subscriber's wallets with balances and buckets."""
    services = cli_services()
    run_action(lambda: services.wallets.subscriber_wallets(cli_actor(), subscriber_id))


@wallet_app.command("show")
def wallet_show(wallet_id: int, display_currency: str | None = None) -> None:
    services = cli_services()
    run_action(lambda: services.wallets.get_wallet(cli_actor(), wallet_id, display_currency))


@wallet_app.command("update")
def wallet_update(
    wallet_id: int,
    currency: str | None = None,
    display_currency: str | None = None,
    max_concurrent: int | None = None,
    expires: When = None,
    clear_expiry: bool = False,
    reason: Reason = None,
) -> None:
    """Change wallet currency, display currency, maximum concurrent accesses or expiry date."""
    update = WalletUpdate(currency, display_currency, max_concurrent, _when(expires), clear_expiry)
    services = cli_services()
    run_action(lambda: services.wallets.update_wallet(cli_actor(reason), wallet_id, update))


@wallet_app.command("state")
def wallet_state(wallet_id: int, state: str, reason: Reason = None) -> None:
    """Change the wallet state; PRE_USE -> ACTIVE applies the activation promotion."""
    services = cli_services()
    run_action(lambda: services.wallets.change_state(cli_actor(reason), wallet_id, state))


@wallet_app.command("history")
def wallet_history(wallet_id: int) -> None:
    services = cli_services()
    run_action(lambda: services.wallets.history(cli_actor(), wallet_id))


@wallet_app.command("add-balance")
def wallet_add_balance(
    wallet_id: int,
    balance_type: str,
    limit_type: str | None = None,
    minimum_credit: int | None = None,
    display_currency: str | None = None,
    value: int = 0,
    expires: When = None,
    reason: Reason = None,
) -> None:
    """Add a balance type to a wallet (cannot be deleted later)."""
    inp = BalanceInput(
        balance_type, limit_type, minimum_credit, display_currency, value, _when(expires)
    )
    services = cli_services()
    run_action(lambda: services.wallets.add_balance(cli_actor(reason), wallet_id, inp))


@wallet_app.command("edit-balance")
def wallet_edit_balance(
    wallet_id: int,
    balance_type: str,
    limit_type: str | None = None,
    minimum_credit: int | None = None,
    display_currency: str | None = None,
    reason: Reason = None,
) -> None:
    update = BalanceUpdate(limit_type, minimum_credit, display_currency)
    services = cli_services()
    run_action(
        lambda: services.wallets.update_balance(cli_actor(reason), wallet_id, balance_type, update)
    )


@wallet_app.command("add-bucket")
def wallet_add_bucket(
    wallet_id: int,
    balance_type: str,
    value: int,
    start: When = None,
    expires: When = None,
    reason: Reason = None,
) -> None:
    """Add a bucket (optional start/offset and expiry dates)."""
    services = cli_services()
    run_action(
        lambda: services.wallets.add_bucket(
            cli_actor(reason), wallet_id, balance_type, value, _when(start), _when(expires)
        )
    )


@wallet_app.command("edit-bucket")
def wallet_edit_bucket(
    wallet_id: int,
    bucket_id: int,
    value: int | None = None,
    start: When = None,
    expires: When = None,
    clear_start: bool = False,
    clear_expiry: bool = False,
    reason: Reason = None,
) -> None:
    """Edit a bucket: the balance takes the new value."""
    edit = BucketEdit(value, _when(start), _when(expires), clear_start, clear_expiry)
    services = cli_services()
    run_action(lambda: services.wallets.edit_bucket(cli_actor(reason), wallet_id, bucket_id, edit))


@wallet_app.command("delete-bucket")
def wallet_delete_bucket(wallet_id: int, bucket_id: int, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.wallets.delete_bucket(cli_actor(reason), wallet_id, bucket_id))


@wallet_app.command("top-up")
def wallet_top_up(
    wallet_id: int,
    balance_type: str,
    amount: int,
    expires: When = None,
    tag: Tags = None,
    reason: Reason = None,
) -> None:
    """Recharge a balance by AMOUNT minor units."""
    services = cli_services()
    run_action(
        lambda: services.wallets.top_up(
            cli_actor(reason), wallet_id, balance_type, amount, _when(expires), _pairs(tag, "tag")
        )
    )


@wallet_app.command("adjust")
def wallet_adjust(
    wallet_id: int,
    balance_type: str,
    amount: Annotated[int, typer.Option(help="Signed minor units, e.g. --amount=-500")],
    expires: When = None,
    reason: Reason = None,
) -> None:
    """Adjust a balance within the adjustment limits."""
    services = cli_services()
    run_action(
        lambda: services.wallets.adjust(
            cli_actor(reason), wallet_id, balance_type, amount, _when(expires)
        )
    )


@wallet_app.command("charge")
def wallet_charge(
    subscriber_id: int,
    amount: Annotated[list[str], typer.Argument(help="BALANCE_TYPE=AMOUNT (one or more)")],
    wallet_type: str = "PRIMARY",
    called_number: str | None = None,
    duration_s: int | None = None,
    session_id: str | None = None,
    tag: Tags = None,
    reason: Reason = None,
) -> None:
    """Debit a subscriber's wallet directly for one event."""
    try:
        amounts = {k: int(v) for k, v in _pairs(amount, "amount").items()}
    except ValueError:
        raise typer.BadParameter("amounts must be whole numbers of minor units") from None
    request = ChargeRequest(
        subscriber_id=subscriber_id,
        amounts=amounts,
        wallet_type=wallet_type,
        called_number=called_number,
        duration_s=duration_s,
        session_id=session_id,
        tags=_pairs(tag, "tag"),
    )
    services = cli_services()
    run_action(lambda: services.wallets.charge(request, cli_actor(reason)))


@wallet_app.command("merge")
def wallet_merge(
    source_subscriber: int,
    target_subscriber: int,
    source_type: str = "PRIMARY",
    target_type: str = "PRIMARY",
    expiry_policy: Annotated[str, typer.Option(help="BEST or IGNORE")] = "BEST",
    bucket_policy: Annotated[str, typer.Option(help="MERGE or MOVE")] = "MERGE",
    reason: Reason = None,
) -> None:
    """Merge the source subscriber's wallet into the target subscriber's wallet."""
    request = MergeRequest(
        source_subscriber_id=source_subscriber,
        target_subscriber_id=target_subscriber,
        source_wallet_type=source_type,
        target_wallet_type=target_type,
        expiry_policy=expiry_policy,
        bucket_policy=bucket_policy,
    )
    services = cli_services()
    run_action(lambda: services.wallets.merge(cli_actor(reason), request))


@wallet_app.command("expire")
def wallet_expire() -> None:
    """Remove expired buckets now (writes an EXPIRY EDR per wallet)."""
    services = cli_services()
    run_action(lambda: {"expiry_edrs": services.wallets.expire_buckets(cli_actor())})


@wallet_app.command("reconcile")
def wallet_reconcile(wallet_id: int) -> None:
    """Compare each balance with the sum of its EDR deltas."""
    services = cli_services()
    run_action(lambda: services.edrs.reconcile(cli_actor(), wallet_id))


@wallet_app.command("edrs")
def wallet_edrs(
    subscriber: int | None = None,
    wallet: int | None = None,
    wallet_type: Annotated[list[str] | None, typer.Option(help="PRIMARY/SECONDARY")] = None,
    start: When = None,
    end: When = None,
    category: Annotated[list[str] | None, typer.Option(help="EDR type (repeatable)")] = None,
    called_number: str | None = None,
    tag: str | None = None,
    tag_value: str | None = None,
    include_partial: bool = False,
    unit_type: str = "CASH",
    sort: Annotated[str, typer.Option(help="DATE, BALANCE_TYPE, COST or TYPE")] = "DATE",
    reverse: bool = False,
    max_results: int | None = None,
    offset: int = 0,
    page_size: int = 50,
    display_currency: str | None = None,
) -> None:
    """Search EDRs of a subscriber (or one wallet)."""

    def search() -> Any:
        query = EdrQuery(
            subscriber_id=subscriber,
            wallet_id=wallet,
            wallet_types=frozenset(
                parse_enum(WalletType, w, "wallet_type") for w in wallet_type or list(WalletType)
            ),
            start=_when(start),
            end=_when(end),
            types=frozenset(parse_enum(EdrType, c, "category") for c in category or []),
            called_number=called_number,
            tag=tag,
            tag_value=tag_value,
            include_partial=include_partial,
            unit_class=parse_enum(UnitClass, unit_type, "unit_type"),
            sort=parse_enum(EdrSort, sort, "sort"),
            reverse=reverse,
            max_results=max_results,
            offset=offset,
            page_size=page_size,
        )
        return services.edrs.search(cli_actor(), query, display_currency)

    services = cli_services()
    run_action(search)


@wallet_app.command("edr")
def wallet_edr(edr_id: int, display_currency: str | None = None) -> None:
    services = cli_services()
    run_action(lambda: services.edrs.get(cli_actor(), edr_id, display_currency))


@wallet_app.command("reverse")
def wallet_reverse(edr_id: int, reason: Reason = None) -> None:
    """Reverse a charge: one REVERSAL EDR restores every balance it took from."""
    services = cli_services()
    run_action(lambda: services.edrs.reverse_charge(cli_actor(reason), edr_id))


@wallet_app.command("adjustment-limits")
def wallet_adjustment_limits(
    product_type: str,
    balance_type: str,
    minimum: Annotated[int, typer.Option(help="e.g. --minimum=-500")],
    maximum: Annotated[int, typer.Option()],
    operator: Annotated[str | None, typer.Option(help="This operator's own limits")] = None,
    reason: Reason = None,
) -> None:
    """Set the adjustment limits of a balance type for a product type (or one operator)."""
    services = cli_services()
    run_action(
        lambda: services.wallet_settings.set_adjustment_limits(
            cli_actor(reason), product_type, balance_type, minimum, maximum, operator
        )
    )


@wallet_app.command("activation-credit")
def wallet_activation_credit(
    product_type: str,
    balance_type: str,
    amount: int,
    validity_s: int | None = None,
    reason: Reason = None,
) -> None:
    """Credit applied when a wallet of the product type is activated."""
    services = cli_services()
    run_action(
        lambda: services.wallet_settings.set_activation_credit(
            cli_actor(reason), product_type, balance_type, amount, validity_s
        )
    )


@wallet_app.command("permissions")
def wallet_permissions(product_type: str) -> None:
    """The product type's wallet state permission matrix."""
    services = cli_services()
    run_action(lambda: services.wallet_settings.permissions(cli_actor(), product_type))


@wallet_app.command("permission")
def wallet_permission(
    product_type: str,
    state: str,
    action: str,
    allowed: Annotated[bool, typer.Argument(help="true or false")],
    reason: Reason = None,
) -> None:
    """Override one cell of the permission matrix for a product type."""
    services = cli_services()
    run_action(
        lambda: services.wallet_settings.set_permission(
            cli_actor(reason), product_type, state, action, allowed
        )
    )


@wallet_app.command("exchange-rate")
def wallet_exchange_rate(
    from_currency: str, to_currency: str, rate: str, reason: Reason = None
) -> None:
    """Price of one major unit of FROM in TO, e.g. EUR USD 1.0853."""
    services = cli_services()
    run_action(
        lambda: services.wallet_settings.set_exchange_rate(
            cli_actor(reason), from_currency, to_currency, rate
        )
    )


@wallet_app.command("masking-rule")
def wallet_masking_rule(
    field: str, keep_prefix: int = 0, keep_suffix: int = 0, reason: Reason = None
) -> None:
    """Mask an EDR field (called_number, session_id, discounts or tag:KEY)."""
    services = cli_services()
    run_action(
        lambda: services.wallet_settings.set_masking_rule(
            cli_actor(reason), field, keep_prefix, keep_suffix
        )
    )


# -- reservations and Gy probing ----------------------------------------------------------------

reservation_app = typer.Typer(no_args_is_help=True, help="Reservations held by charging sessions")
app.add_typer(reservation_app, name="reservation")
gy_app = typer.Typer(no_args_is_help=True, help="Probe a running OCS over Diameter Gy")
app.add_typer(gy_app, name="gy")


@reservation_app.command("balances")
def reservation_balances(wallet_id: int) -> None:
    """Each balance's total, what open reservations hold, and what is available."""
    services = cli_services()
    run_action(lambda: services.reservations.balances(cli_actor(), wallet_id))


@reservation_app.command("list")
def reservation_list(wallet_id: int) -> None:
    """A wallet's reservations, newest first, with their holds and how they ended."""
    services = cli_services()
    run_action(lambda: services.reservations.reservations(cli_actor(), wallet_id))


@reservation_app.command("act")
def reservation_act(
    reservation_id: int,
    action: Annotated[str, typer.Argument(help="commit, revoke or delete")],
    reason: Reason = None,
) -> None:
    """Commit (charge what it holds units for), revoke or delete an open reservation."""
    services = cli_services()
    run_action(lambda: services.reservations.act(cli_actor(reason), reservation_id, action))


@gy_app.command("ccr")
def gy_ccr(
    msisdn: str,
    request_type: Annotated[
        str, typer.Option("--type", help="INITIAL, UPDATE, TERMINATION, EVENT")
    ] = "INITIAL",
    session_id: Annotated[str, typer.Option("--session")] = "probe;1",
    request_number: Annotated[int, typer.Option("--number")] = 0,
    rating_group: int = 10,
    requested_octets: int | None = None,
    used_octets: int | None = None,
    host: str = "127.0.0.1",
    port: int = 3868,
    origin_host: str = "probe.localdomain",
) -> None:
    """Send one CCR as a network element would (the peer must be allowed) and print the CCA."""
    import asyncio

    from ocs.adapters.gy_client import GyConnection, GyPeer, Mscc

    async def exchange() -> dict[str, object]:
        peer = GyPeer(origin_host, "localdomain")
        connection = await GyConnection.open(host, port, peer)
        try:
            wants_quota = request_type.upper() != "TERMINATION"
            service = Mscc(
                rating_group,
                requested_octets=requested_octets,
                request_default=requested_octets is None and wants_quota,
                used_octets=used_octets,
            )
            request = peer.ccr(session_id, request_type.upper(), request_number, msisdn, (service,))
            answer = await connection.ask(request)
        finally:
            await connection.close()
        return {"result_code": answer.result_code, "avps": [repr(a) for a in answer.avps]}

    print_json(asyncio.run(exchange()))


# -- subscriber features and closed user groups ---------------------------------------------------

features_app = typer.Typer(
    no_args_is_help=True,
    help="Subscriber features: details, PIN, barring, translation, friends, zones, comments",
)
cug_app = typer.Typer(no_args_is_help=True, help="Closed user groups")
app.add_typer(features_app, name="features")
app.add_typer(offer_app, name="offer")
app.add_typer(subscription_app, name="subscription")
app.add_typer(grants_app, name="grants")
app.add_typer(cug_app, name="cug")

Numbers = Annotated[list[str] | None, typer.Option("--number", help="Number (repeatable)")]
Members = Annotated[list[str] | None, typer.Option("--member", help="Member MSISDN (repeatable)")]
Virtuals = Annotated[
    list[str] | None,
    typer.Option(
        "--virtual", help="SINGLE:number, RANGE:first-last or PATTERN:prefix/length (repeatable)"
    ),
]


def _zone_plain(zone: Any) -> dict[str, Any]:
    from ocs.core.zones import shape_view

    shapes = [{"id": s.id, **shape_view(s.shape)} for s in zone.shapes]
    return {"name": zone.name, "shapes": shapes}


@features_app.command("show")
def features_show(subscriber_id: int) -> None:
    """Every feature of one subscriber as JSON (never the PIN)."""
    services = cli_services()
    actor = cli_actor()
    features = services.features

    def show() -> dict[str, Any]:
        return {
            "details": plain(features.subscribers.get_details(actor, subscriber_id)),
            "call_barring": plain(features.subscribers.get_call_barring(actor, subscriber_id)),
            "short_codes": [
                plain(c)
                for c in features.subscribers.get_subscriber_short_codes(actor, subscriber_id)
            ],
            "friends": plain(features.subscribers.get_friends(actor, subscriber_id)),
            "closed_user_groups": [
                g.name for g in features.cugs.groups_of_subscriber(actor, subscriber_id)
            ],
            "zones": [_zone_plain(z) for z in features.zones.list_zones(actor, subscriber_id)],
            "comments": [plain(c) for c in features.comments.list_comments(actor, subscriber_id)],
            "profile": {
                e.field.tag_name: e.value
                for e in features.profiles.subscriber_profile(actor, subscriber_id)
            },
        }

    run_action(show)


@features_app.command("set-details")
def features_set_details(
    subscriber_id: int,
    payload: Annotated[str, typer.Argument(help="JSON: description and the flags")],
    reason: Reason = None,
) -> None:
    """Replace the details; the PIN stays as it is (see `features pin`)."""
    from ocs.service.subscriber_features import DetailsInput

    data = _json(payload)
    if {"pin", "pin_confirmation", "pin_defined"} & data.keys():
        raise typer.BadParameter("set the PIN with `ocs features pin`, never on the command line")
    services = cli_services()

    def apply() -> object:
        features = services.features.subscribers
        defined = features.get_details(cli_actor(), subscriber_id).pin_defined
        inp = DetailsInput(**data, pin_defined=defined)
        return features.update_details(cli_actor(reason), subscriber_id, inp)

    run_action(apply)


@features_app.command("pin")
def features_pin(
    subscriber_id: int,
    clear: Annotated[bool, typer.Option(help="Remove the PIN instead")] = False,
    reason: Reason = None,
) -> None:
    """Set the subscriber's PIN (asked twice, never echoed) or remove it."""
    from dataclasses import asdict

    from ocs.service.subscriber_features import DetailsInput

    pin = None if clear else typer.prompt("PIN", hide_input=True)
    again = None if clear else typer.prompt("Repeat the PIN", hide_input=True)
    services = cli_services()

    def apply() -> object:
        features = services.features.subscribers
        current = asdict(features.get_details(cli_actor(), subscriber_id))
        current.update(pin_defined=not clear, pin=pin, pin_confirmation=again)
        return features.update_details(cli_actor(reason), subscriber_id, DetailsInput(**current))

    run_action(apply)


@features_app.command("barring")
def features_barring(
    subscriber_id: int,
    list_type: Annotated[str, typer.Option(help="ALLOWED or BARRED")] = "BARRED",
    ignore: Annotated[bool, typer.Option(help="Ignore the list")] = False,
    number: Numbers = None,
    reason: Reason = None,
) -> None:
    """Replace the subscriber's allowed or barred list."""
    services = cli_services()
    run_action(
        lambda: services.features.subscribers.set_call_barring(
            cli_actor(reason), subscriber_id, list_type, ignore, number or []
        )
    )


@features_app.command("short-codes")
def features_short_codes(
    subscriber: Annotated[int | None, typer.Option(help="Subscriber (database id)")] = None,
    service_provider: Annotated[str | None, typer.Option()] = None,
    product_type: Annotated[str | None, typer.Option()] = None,
    code: Annotated[list[str] | None, typer.Option(help="SHORT=NUMBER (repeatable)")] = None,
    clear: Annotated[bool, typer.Option(help="Remove every short code of the level")] = False,
    reason: Reason = None,
) -> None:
    """Show or replace short codes of a subscriber, service provider, product type or, with
    none of these, the whole system."""
    from ocs.core.number_translation import TranslationLevel

    entries = list(_pairs(code, "short code").items())
    write = bool(entries) or clear
    services = cli_services()
    features = services.features.subscribers
    actor = cli_actor(reason)
    if subscriber is not None:
        if write:
            run_action(lambda: features.set_subscriber_short_codes(actor, subscriber, entries))
        else:
            run_action(lambda: features.get_subscriber_short_codes(actor, subscriber))
        return
    level, owner = TranslationLevel.SYSTEM, None
    if service_provider is not None:
        level, owner = TranslationLevel.SERVICE_PROVIDER, service_provider
    elif product_type is not None:
        level, owner = TranslationLevel.PRODUCT_TYPE, product_type
    if write:
        run_action(lambda: features.set_shared_short_codes(actor, level, owner, entries))
    else:
        run_action(lambda: features.get_shared_short_codes(actor, level, owner))


@features_app.command("friends")
def features_friends(
    subscriber_id: int,
    payload: Annotated[str, typer.Argument(help="JSON: active_service, ff_numbers, ...")],
    reason: Reason = None,
) -> None:
    """Replace the Friends and Family / Friends and Destination settings."""
    from ocs.service.subscriber_features import FriendsInput

    data = _json(payload)
    for name in ("fd_changed_at", "ff_changed_at"):
        data[name] = _when(data.get(name))
    data["ff_numbers"] = tuple(data.get("ff_numbers", ()))
    services = cli_services()
    run_action(
        lambda: services.features.subscribers.set_friends(
            cli_actor(reason), subscriber_id, FriendsInput(**data)
        )
    )


@features_app.command("screen")
def features_screen(subscriber_id: int, dialled: str, product_type: str | None = None) -> None:
    """What translation, barring, closed user groups and friends make of one call."""
    services = cli_services()
    run_action(
        lambda: services.features.subscribers.screen_call(
            cli_actor(), subscriber_id, dialled, product_type
        )
    )


@features_app.command("blacklist")
def features_blacklist(
    service_provider: str,
    kind: Annotated[str, typer.Argument(help="ff (F&F numbers) or fd (F&D prefixes)")],
    add: Annotated[str | None, typer.Option(help="Number to add")] = None,
    remove: Annotated[str | None, typer.Option(help="Number to remove")] = None,
    reason: Reason = None,
) -> None:
    """Show a service provider's F&F or F&D black list, or add or remove one entry."""
    from ocs.core.friends import BlacklistKind

    kinds = {"ff": BlacklistKind.FF_NUMBERS, "fd": BlacklistKind.FD_PREFIXES}
    if kind not in kinds:
        raise typer.BadParameter("kind must be ff or fd")
    services = cli_services()
    lists = services.features.provider_lists
    actor = cli_actor(reason)
    if add is not None:
        run_action(lambda: lists.add_to_blacklist(actor, kinds[kind], service_provider, add))
    elif remove is not None:
        run_action(
            lambda: lists.remove_from_blacklist(actor, kinds[kind], service_provider, remove)
        )
    else:
        run_action(lambda: lists.get_blacklist(actor, kinds[kind], service_provider))


@features_app.command("prefix-map")
def features_prefix_map(
    service_provider: str,
    prefix: Annotated[str | None, typer.Argument()] = None,
    announcement_set: Annotated[str | None, typer.Option("--set")] = None,
    announcement_entry: Annotated[str | None, typer.Option("--entry")] = None,
    delete: bool = False,
    reason: Reason = None,
) -> None:
    """Show the F&D prefix map, map PREFIX to --set/--entry, or --delete it."""
    services = cli_services()
    lists = services.features.provider_lists
    actor = cli_actor(reason)
    if prefix is None:
        run_action(lambda: lists.get_prefix_map(actor, service_provider))
    elif delete:
        run_action(lambda: lists.delete_prefix_mapping(actor, service_provider, prefix))
    else:
        run_action(
            lambda: lists.put_prefix_mapping(
                actor, service_provider, prefix, announcement_set or "", announcement_entry or ""
            )
        )


@features_app.command("zone-shape")
def features_zone_shape(
    subscriber_id: int,
    zone: str,
    payload: Annotated[str, typer.Argument(help='JSON, e.g. {"kind":"CIRCLE",...}')],
    reason: Reason = None,
) -> None:
    """Add a circle or rectangle to a zone (creating the zone with its first shape)."""
    services = cli_services()
    run_action(
        lambda: _zone_plain(
            services.features.zones.add_shape(
                cli_actor(reason), subscriber_id, zone, _json(payload)
            )
        )
    )


@features_app.command("comment")
def features_comment(subscriber_id: int, text: str, reason: Reason = None) -> None:
    """Add a comment (at most 50 characters)."""
    services = cli_services()
    run_action(lambda: services.features.comments.add(cli_actor(reason), subscriber_id, text))


@features_app.command("profile-group")
def features_profile_group(
    service_provider: str,
    name: str,
    permission_name: Annotated[
        str | None, typer.Option(help="Default: <service provider>-<name>")
    ] = None,
    reason: Reason = None,
) -> None:
    """Create a profile tag group."""
    services = cli_services()
    run_action(
        lambda: services.features.profiles.create_group(
            cli_actor(reason), service_provider, name, permission_name
        )
    )


@features_app.command("profile-field")
def features_profile_field(
    group_id: int,
    payload: Annotated[
        str, typer.Argument(help="JSON: display_name, tag_name, tag_type, group_order, ...")
    ],
    reason: Reason = None,
) -> None:
    """Add a field to a profile tag group."""
    from ocs.service.profiles import FieldInput

    data = _json(payload)
    services = cli_services()
    run_action(
        lambda: services.features.profiles.add_field(
            cli_actor(reason), group_id, FieldInput(**data)
        )
    )


@features_app.command("profile-value")
def features_profile_value(
    subscriber_id: int,
    field_id: int,
    value: Annotated[str, typer.Argument(help='JSON value, e.g. 42, true, "0123", ["44"]')],
    reason: Reason = None,
) -> None:
    """Set a subscriber's value for a profile field."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"value is not valid JSON: {exc}") from None
    services = cli_services()
    run_action(
        lambda: services.features.profiles.set_value(
            cli_actor(reason), subscriber_id, field_id, parsed
        )
    )


def _cug_input(
    tariff_plan: str,
    members: list[str] | None,
    virtuals: list[str] | None,
    name: str | None = None,
    service_provider: str | None = None,
) -> Any:
    from ocs.service.cugs import CugInput, VirtualMemberInput

    parsed = []
    for item in virtuals or []:
        kind, _, spec = item.partition(":")
        kind = kind.upper()
        if kind == "RANGE" and "-" in spec:
            first, _, last = spec.partition("-")
            parsed.append(VirtualMemberInput(kind, first, last_number=last))
        elif kind == "PATTERN" and "/" in spec:
            prefix, _, length = spec.partition("/")
            if not length.isdigit():
                raise typer.BadParameter(f"pattern length in {item!r} must be a number")
            parsed.append(VirtualMemberInput(kind, prefix, length=int(length)))
        elif kind == "SINGLE":
            parsed.append(VirtualMemberInput(kind, spec))
        else:
            raise typer.BadParameter(
                f"virtual member {item!r}: use SINGLE:n, RANGE:first-last or PATTERN:prefix/len"
            )
    return CugInput(
        tariff_plan=tariff_plan,
        members=tuple(members or ()),
        virtual_members=tuple(parsed),
        name=name,
        service_provider=service_provider,
    )


@cug_app.command("create")
def cug_create(
    service_provider: str,
    name: str,
    tariff_plan: Annotated[str, typer.Option()],
    member: Members = None,
    virtual: Virtuals = None,
    reason: Reason = None,
) -> None:
    """Create a closed user group."""
    inp = _cug_input(tariff_plan, member, virtual, name, service_provider)
    services = cli_services()
    run_action(lambda: services.features.cugs.create(cli_actor(reason), inp))


@cug_app.command("list")
def cug_list(
    service_provider: str | None = None, name: str = "", msisdn: str | None = None
) -> None:
    """Groups by name prefix and/or member MSISDN (at most 100)."""
    services = cli_services()
    run_action(lambda: services.features.cugs.search(cli_actor(), service_provider, name, msisdn))


@cug_app.command("show")
def cug_show(cug_id: int) -> None:
    services = cli_services()
    run_action(lambda: services.features.cugs.get(cli_actor(), cug_id))


@cug_app.command("update")
def cug_update(
    cug_id: int,
    tariff_plan: Annotated[str, typer.Option()],
    member: Members = None,
    virtual: Virtuals = None,
    reason: Reason = None,
) -> None:
    """Replace a group's tariff plan, members and virtual members (the name stays)."""
    inp = _cug_input(tariff_plan, member, virtual)
    services = cli_services()
    run_action(lambda: services.features.cugs.update(cli_actor(reason), cug_id, inp))


@cug_app.command("delete")
def cug_delete(cug_id: int, reason: Reason = None) -> None:
    services = cli_services()
    run_action(lambda: services.features.cugs.delete(cli_actor(reason), cug_id))


@cug_app.command("join")
def cug_join(
    subscriber_id: int,
    cug_id: Annotated[
        list[int] | None, typer.Argument(help="Every group to be a member of")
    ] = None,
    reason: Reason = None,
) -> None:
    """Make a subscriber a member of exactly these groups (none: of no group)."""
    services = cli_services()
    run_action(
        lambda: services.features.cugs.set_groups_of_subscriber(
            cli_actor(reason), subscriber_id, cug_id or []
        )
    )
