"""The `ocs` command line: run the server, manage operators, configuration and CASM locally."""

from __future__ import annotations

import dataclasses
import json
import secrets
import sys
from typing import Annotated, Any

import typer

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.casm import CasmLevel
from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError
from ocs.core.security import Privilege, Role
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput
from ocs.service.demo import load_demo

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
    import uvicorn

    from ocs.adapters.rest.app import create_app

    settings = Settings.from_env()
    services = build_services(settings)
    actor = _cli_actor()
    if not services.operators.list_operators(actor):
        username, password = DEMO_ADMIN if demo else ("admin", secrets.token_urlsafe(12))
        services.operators.create(actor, username, password, Role.ADMIN.value)
        typer.echo(f"created operator {username!r} with password {password!r}")
    if demo and load_demo(actor, services.configuration, services.casm):
        typer.echo("loaded the demo configuration (service provider DEMO)")
    bind_host = host or settings.http_host
    bind_port = port or settings.http_port
    typer.echo(f"database: {settings.database_url}")
    typer.echo(f"REST API: http://{bind_host}:{bind_port}/api/v1  docs: /docs")
    sys.stdout.flush()
    uvicorn.run(create_app(services), host=bind_host, port=bind_port, log_level=settings.log_level)


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
