"""What every `ocs` sub-command module shares: services from the environment, the CLI actor,
JSON output and domain errors turned into exit code 2."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.errors import DomainError
from ocs.core.security import Privilege
from ocs.service.actor import Actor

Reason = Annotated[str | None, typer.Option("--reason", help="Change reason (EDR auditing)")]


def cli_services() -> Services:
    return build_services(Settings.from_env())


def cli_actor(reason: str | None = None) -> Actor:
    """Local CLI use has the machine owner's full rights; changes are audited as 'cli'."""
    return Actor("cli", frozenset(Privilege), None, reason)


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def print_json(value: Any) -> None:
    value = plain(value)
    if isinstance(value, list):
        value = [plain(v) for v in value]
    typer.echo(json.dumps(value, indent=2, default=str))


def run_action(action: Callable[[], Any]) -> None:
    """Print the action's result as JSON; a domain error prints its kind and field, exit 2."""
    try:
        print_json(action())
    except DomainError as exc:
        where = f" [{exc.field}]" if exc.field else ""
        typer.echo(f"error: {exc.kind.value}{where}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
