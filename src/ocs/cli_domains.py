"""`ocs domain ...`: the configured charging domains, where a wallet lives, moving one."""

from __future__ import annotations

from typing import Any

import typer

from ocs.cli_support import Reason, cli_actor, cli_services, run_action

app = typer.Typer(no_args_is_help=True, help="Charging domains (stores of wallets)")


@app.command("list")
def list_domains() -> None:
    """Every domain with its wallets per state and subscribers per product type."""
    services = cli_services()
    run_action(lambda: [services.domains.summary(name) for name in services.domains.names()])


@app.command("where")
def where(wallet_id: int) -> None:
    """The domain holding a wallet."""
    services = cli_services()
    run_action(lambda: {"wallet_id": wallet_id, "domain": services.domains.domain_of(wallet_id)})


@app.command("move")
def move(
    wallet_id: int,
    source: str = typer.Option(..., "--from", help="Domain the wallet is in"),
    target: str = typer.Option(..., "--to", help="Domain to move it to"),
    reason: Reason = None,
) -> None:
    """Move one wallet with its balances, buckets, reservations and EDRs (no open ones)."""
    services = cli_services()

    def action() -> Any:
        moved = services.domains.move_by_operator(cli_actor(reason), wallet_id, source, target)
        return {"wallet_id": moved.wallet_id, "domain": moved.target, "outcome": "MOVED"}

    run_action(action)
