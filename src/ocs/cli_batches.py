"""`ocs batch ...`: subscriber batches. `create` writes the subscribers in this process with a
progress bar on standard error, and the result file (with the PINs, if any) next to you."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ocs.adapters.batch_results import FileResultSink
from ocs.cli_support import Reason, cli_actor, cli_services, plain, print_json, run_action
from ocs.core.errors import DomainError
from ocs.service.batches import BatchInput

app = typer.Typer(no_args_is_help=True, help="Subscriber batches: many subscribers at once")


@app.command("create")
def create(
    list_file: Annotated[
        Path, typer.Argument(help="One number or first-last range per line, # comments")
    ],
    account: Annotated[int, typer.Option(help="Account every subscriber joins")],
    size: Annotated[int, typer.Option(help="Batch size: how many numbers the list holds")],
    product_type: Annotated[str, typer.Option(help="Product type of the wallets")],
    result_file: Annotated[Path, typer.Option(help="Created (0600); must not exist")],
    domain: Annotated[str, typer.Option(help="Charging domain of the wallets")] = "default",
    currency: Annotated[str | None, typer.Option(help="Wallet currency")] = None,
    max_accesses: Annotated[int | None, typer.Option(help="Maximum concurrent accesses")] = None,
    card_first: Annotated[
        str | None, typer.Option(help="Allocate card numbers from here (else subscriber ID)")
    ] = None,
    card_last: Annotated[str | None, typer.Option(help="End of the card number range")] = None,
    pins: Annotated[bool, typer.Option("--pins", help="Add a random PIN to each card")] = False,
    pin_length: Annotated[int | None, typer.Option(help="PIN digits (4-20)")] = None,
    reason: Reason = None,
) -> None:
    """Create a batch: every number becomes a subscriber with its resource and wallet."""
    services = cli_services()
    actor = cli_actor(reason)
    use_id = card_first is None and card_last is None
    inp = BatchInput(
        account_id=account,
        batch_size=size,
        product_type=product_type,
        result_filename=str(result_file),
        list_filename=list_file.name,
        charging_domain=domain,
        currency=currency,
        max_concurrent_accesses=max_accesses,
        use_subscriber_id=use_id,
        card_first=card_first,
        card_last=card_last,
        add_pins=pins,
        pin_length=pin_length,
    )
    if not list_file.is_file():
        typer.echo(f"error: cannot read the subscriber list {list_file}", err=True)
        raise typer.Exit(2)

    def action() -> Any:
        sink = FileResultSink(result_file, pins)
        try:
            with list_file.open(encoding="utf-8") as source:
                plan = services.batches.prepare(actor, inp, source)
        except BaseException:
            sink.close()
            result_file.unlink(missing_ok=True)
            raise
        console = Console(stderr=True)
        columns = (
            TextColumn("batch {task.fields[batch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        try:
            with Progress(*columns, console=console) as progress:
                task = progress.add_task("create", total=plan.batch.size, batch=plan.batch.id)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done)

                return services.batches.run(actor, plan, sink, advance)
        finally:
            sink.close()

    run_action(action)


@app.command("list")
def list_batches(
    state: Annotated[str | None, typer.Option(help="Only batches in this state")] = None,
    provider: Annotated[str | None, typer.Option(help="Service provider")] = None,
) -> None:
    """The newest 100 batches."""
    services = cli_services()
    run_action(lambda: services.batches.search(cli_actor(), "", state, provider))


@app.command("search")
def search(
    prefix: Annotated[str, typer.Argument(help="First digits of a subscriber ID")],
    state: Annotated[str | None, typer.Option(help="Only batches in this state")] = None,
    provider: Annotated[str | None, typer.Option(help="Service provider")] = None,
) -> None:
    """At most 100 batches whose list holds a subscriber ID starting with PREFIX."""
    services = cli_services()
    run_action(lambda: services.batches.search(cli_actor(), prefix, state, provider))


@app.command("show")
def show(
    batch_id: int,
    subscribers: Annotated[
        int, typer.Option(help="Also list this many subscribers (0-100) with wallet references")
    ] = 0,
    after: Annotated[int, typer.Option(help="List subscribers after this subscriber id")] = 0,
) -> None:
    """A batch with its list ranges, and a page of subscriber ID -> wallet reference."""
    services = cli_services()
    actor = cli_actor()

    def action() -> dict[str, Any]:
        view = services.batches.get(actor, batch_id)
        shown: dict[str, Any] = {
            "batch": plain(view.batch),
            "ranges": [r.text for r in view.ranges],
            "members": view.members,
        }
        if subscribers:
            page = services.batches.members(actor, batch_id, after, subscribers)
            shown["subscribers"] = [plain(m) for m in page]
        return shown

    run_action(action)


@app.command("activate")
def activate(
    batch_id: int,
    state_reason: Annotated[str, typer.Option(help="State reason of ACTIVE for the subscribers")],
    reason: Reason = None,
) -> None:
    """INACTIVE -> ACTIVE: activates every subscriber of the batch still INACTIVE."""
    services = cli_services()
    run_action(lambda: services.batches.edit(cli_actor(reason), batch_id, "ACTIVE", state_reason))


@app.command("edit")
def edit(
    batch_id: int,
    state: Annotated[str, typer.Option(help="ACTIVE (activate) or FAILED (stop a creation)")],
    state_reason: Annotated[str | None, typer.Option(help="State reason (for ACTIVE)")] = None,
    reason: Reason = None,
) -> None:
    """Change the batch state, its only editable field."""
    services = cli_services()
    run_action(lambda: services.batches.edit(cli_actor(reason), batch_id, state, state_reason))


@app.command("delete")
def delete(
    batch_id: int,
    with_subscribers: Annotated[
        bool,
        typer.Option("--with-subscribers", help="Also delete its never-activated subscribers"),
    ] = False,
    reason: Reason = None,
) -> None:
    """Delete the batch record (and, with --with-subscribers, its subscribers and wallets)."""
    services = cli_services()
    actor = cli_actor(reason)
    try:
        deleted = services.batches.delete(actor, batch_id, with_subscribers)
    except DomainError as exc:
        where = f" [{exc.field}]" if exc.field else ""
        typer.echo(f"error: {exc.kind.value}{where}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    print_json({"batch": batch_id, "subscribers_deleted": deleted})
