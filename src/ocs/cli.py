"""The `ocs` command line: run the server, manage operators, configuration and CASM locally."""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.casm import CasmLevel
from ocs.core.configuration import ConfigKind
from ocs.core.edr import EdrQuery, EdrSort, EdrType, UnitClass
from ocs.core.errors import DomainError
from ocs.core.security import Privilege, Role
from ocs.core.wallets import WalletType, parse_enum
from ocs.service.actor import Actor
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
Reason = Annotated[str | None, typer.Option("--reason", help="Change reason (EDR auditing)")]


def _services() -> Services:
    return build_services(Settings.from_env())


def _cli_actor(reason: str | None = None) -> Actor:
    """Local CLI use has the machine owner's full rights; changes are audited as 'cli'."""
    return Actor("cli", frozenset(Privilege), None, reason)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _print(value: Any) -> None:
    value = _plain(value)
    if isinstance(value, list):
        value = [_plain(v) for v in value]
    typer.echo(json.dumps(value, indent=2, default=str))


def _run(action: Any) -> None:
    try:
        _print(action())
    except DomainError as exc:
        where = f" [{exc.field}]" if exc.field else ""
        typer.echo(f"error: {exc.kind.value}{where}: {exc.detail}", err=True)
        raise typer.Exit(2) from None


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
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    services = build_services(settings)
    actor = _cli_actor()
    if not services.operators.list_operators(actor):
        username, password = DEMO_ADMIN if demo else ("admin", secrets.token_urlsafe(12))
        services.operators.create(actor, username, password, Role.ADMIN.value)
        typer.echo(f"created operator {username!r} with password {password!r}")
    if demo and load_demo(actor, services.configuration, services.casm):
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
    _services()
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
    services = _services()

    def add() -> dict[str, object]:
        op = services.operators.create(_cli_actor(), username, password, role, providers)
        return {"username": op.username, "role": op.role}

    _run(add)


@operator_app.command("list")
def operator_list() -> None:
    services = _services()
    _run(
        lambda: [
            {"username": o.username, "role": o.role, "active": o.active}
            for o in services.operators.list_operators(_cli_actor())
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
    services = _services()
    _run(lambda: services.configuration.list_records(_cli_actor(), _kind(kind)))


@config_app.command("get")
def config_get(kind: str, code: str) -> None:
    services = _services()
    _run(lambda: services.configuration.get(_cli_actor(), _kind(kind), code))


@config_app.command("create")
def config_create(
    kind: str, payload: Annotated[str, typer.Argument(help="JSON object")], reason: Reason = None
) -> None:
    """Create a configuration entity from a JSON object, e.g. '{"code":"X","name":"Y"}'."""
    services = _services()
    _run(lambda: services.configuration.create(_cli_actor(reason), _kind(kind), _json(payload)))


@config_app.command("update")
def config_update(kind: str, code: str, payload: str, reason: Reason = None) -> None:
    services = _services()
    _run(
        lambda: services.configuration.update(_cli_actor(reason), _kind(kind), code, _json(payload))
    )


@config_app.command("delete")
def config_delete(kind: str, code: str, reason: Reason = None) -> None:
    services = _services()
    _run(lambda: services.configuration.delete(_cli_actor(reason), _kind(kind), code))


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
    services = _services()
    inp = CustomerInput(
        name=name,
        service_provider=service_provider,
        profile=profile,
        segment=segment,
        reference=reference,
    )
    _run(lambda: services.casm.create_customer(_cli_actor(reason), inp))


@customer_app.command("search")
def customer_search(prefix: str = "", service_provider: str | None = None) -> None:
    """Customers whose name starts with PREFIX (at most 100)."""
    services = _services()
    _run(lambda: services.casm.search_customers(_cli_actor(), prefix, service_provider))


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
    services = _services()
    inp = AccountInput(
        customer_id=customer_id,
        account_type=account_type,
        profile=profile,
        name=name,
        billing_cycle=billing_cycle,
        currency=currency,
        parent_account_id=parent,
    )
    _run(lambda: services.casm.create_account(_cli_actor(reason), inp))


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
    services = _services()
    _run(lambda: services.casm.create_subscriber(_cli_actor(reason), inp))


@subscriber_app.command("find")
def subscriber_find(value: str, resource_type: str | None = None) -> None:
    """Find a subscriber by any resource (MSISDN, IMSI, ...)."""
    services = _services()
    _run(lambda: services.casm.find_subscriber_by_resource(_cli_actor(), value, resource_type))


@subscriber_app.command("state")
def subscriber_state(
    subscriber_id: int, state: str, state_reason: str, reason: Reason = None
) -> None:
    services = _services()
    _run(
        lambda: services.casm.change_state(
            _cli_actor(reason), CasmLevel.SUBSCRIBER, subscriber_id, state, state_reason
        )
    )


@settings_app.command("edr-auditing")
def settings_edr_auditing(
    enabled: Annotated[bool, typer.Argument(help="true or false")], reason: Reason = None
) -> None:
    """Turn EDR auditing (mandatory change reasons) on or off."""
    services = _services()

    def apply() -> dict[str, bool]:
        services.operators.set_edr_auditing(_cli_actor(reason), enabled)
        return {"edr_auditing": enabled}

    _run(apply)


# -- wallets, balances, buckets, EDRs -------------------------------------------------------------

wallet_app = typer.Typer(no_args_is_help=True, help="Wallets, balances, buckets and EDRs")
app.add_typer(wallet_app, name="wallet")

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
    services = _services()
    actor = _cli_actor(reason)
    _run(lambda: services.wallets.create_wallet(actor, subscriber_id, wallet_type, inp))


@wallet_app.command("link")
def wallet_link(
    subscriber_id: int,
    reference: str,
    wallet_type: Annotated[str, typer.Option("--type")] = "SECONDARY",
    reason: Reason = None,
) -> None:
    """Link a subscriber to an existing wallet (shared wallet)."""
    services = _services()
    _run(
        lambda: services.wallets.link_wallet(
            _cli_actor(reason), subscriber_id, wallet_type, reference
        )
    )


@wallet_app.command("list")
def wallet_list(subscriber_id: int) -> None:
    """A subscriber's wallets with balances and buckets."""
    services = _services()
    _run(lambda: services.wallets.subscriber_wallets(_cli_actor(), subscriber_id))


@wallet_app.command("show")
def wallet_show(wallet_id: int, display_currency: str | None = None) -> None:
    services = _services()
    _run(lambda: services.wallets.get_wallet(_cli_actor(), wallet_id, display_currency))


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
    services = _services()
    _run(lambda: services.wallets.update_wallet(_cli_actor(reason), wallet_id, update))


@wallet_app.command("state")
def wallet_state(wallet_id: int, state: str, reason: Reason = None) -> None:
    """Change the wallet state; PRE_USE -> ACTIVE applies the activation promotion."""
    services = _services()
    _run(lambda: services.wallets.change_state(_cli_actor(reason), wallet_id, state))


@wallet_app.command("history")
def wallet_history(wallet_id: int) -> None:
    services = _services()
    _run(lambda: services.wallets.history(_cli_actor(), wallet_id))


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
    services = _services()
    _run(lambda: services.wallets.add_balance(_cli_actor(reason), wallet_id, inp))


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
    services = _services()
    _run(
        lambda: services.wallets.update_balance(_cli_actor(reason), wallet_id, balance_type, update)
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
    services = _services()
    _run(
        lambda: services.wallets.add_bucket(
            _cli_actor(reason), wallet_id, balance_type, value, _when(start), _when(expires)
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
    services = _services()
    _run(lambda: services.wallets.edit_bucket(_cli_actor(reason), wallet_id, bucket_id, edit))


@wallet_app.command("delete-bucket")
def wallet_delete_bucket(wallet_id: int, bucket_id: int, reason: Reason = None) -> None:
    services = _services()
    _run(lambda: services.wallets.delete_bucket(_cli_actor(reason), wallet_id, bucket_id))


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
    services = _services()
    _run(
        lambda: services.wallets.top_up(
            _cli_actor(reason), wallet_id, balance_type, amount, _when(expires), _pairs(tag, "tag")
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
    services = _services()
    _run(
        lambda: services.wallets.adjust(
            _cli_actor(reason), wallet_id, balance_type, amount, _when(expires)
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
    services = _services()
    _run(lambda: services.wallets.charge(request, _cli_actor(reason)))


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
    services = _services()
    _run(lambda: services.wallets.merge(_cli_actor(reason), request))


@wallet_app.command("expire")
def wallet_expire() -> None:
    """Remove expired buckets now (writes an EXPIRY EDR per wallet)."""
    services = _services()
    _run(lambda: {"expiry_edrs": services.wallets.expire_buckets(_cli_actor())})


@wallet_app.command("reconcile")
def wallet_reconcile(wallet_id: int) -> None:
    """Compare each balance with the sum of its EDR deltas."""
    services = _services()
    _run(lambda: services.edrs.reconcile(_cli_actor(), wallet_id))


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
        return services.edrs.search(_cli_actor(), query, display_currency)

    services = _services()
    _run(search)


@wallet_app.command("edr")
def wallet_edr(edr_id: int, display_currency: str | None = None) -> None:
    services = _services()
    _run(lambda: services.edrs.get(_cli_actor(), edr_id, display_currency))


@wallet_app.command("reverse")
def wallet_reverse(edr_id: int, reason: Reason = None) -> None:
    """Reverse a charge: one REVERSAL EDR restores every balance it took from."""
    services = _services()
    _run(lambda: services.edrs.reverse_charge(_cli_actor(reason), edr_id))


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
    services = _services()
    _run(
        lambda: services.wallet_settings.set_adjustment_limits(
            _cli_actor(reason), product_type, balance_type, minimum, maximum, operator
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
    services = _services()
    _run(
        lambda: services.wallet_settings.set_activation_credit(
            _cli_actor(reason), product_type, balance_type, amount, validity_s
        )
    )


@wallet_app.command("permissions")
def wallet_permissions(product_type: str) -> None:
    """The product type's wallet state permission matrix."""
    services = _services()
    _run(lambda: services.wallet_settings.permissions(_cli_actor(), product_type))


@wallet_app.command("permission")
def wallet_permission(
    product_type: str,
    state: str,
    action: str,
    allowed: Annotated[bool, typer.Argument(help="true or false")],
    reason: Reason = None,
) -> None:
    """Override one cell of the permission matrix for a product type."""
    services = _services()
    _run(
        lambda: services.wallet_settings.set_permission(
            _cli_actor(reason), product_type, state, action, allowed
        )
    )


@wallet_app.command("exchange-rate")
def wallet_exchange_rate(
    from_currency: str, to_currency: str, rate: str, reason: Reason = None
) -> None:
    """Price of one major unit of FROM in TO, e.g. EUR USD 1.0853."""
    services = _services()
    _run(
        lambda: services.wallet_settings.set_exchange_rate(
            _cli_actor(reason), from_currency, to_currency, rate
        )
    )


@wallet_app.command("masking-rule")
def wallet_masking_rule(
    field: str, keep_prefix: int = 0, keep_suffix: int = 0, reason: Reason = None
) -> None:
    """Mask an EDR field (called_number, session_id, discounts or tag:KEY)."""
    services = _services()
    _run(
        lambda: services.wallet_settings.set_masking_rule(
            _cli_actor(reason), field, keep_prefix, keep_suffix
        )
    )
