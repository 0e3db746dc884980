"""`ocs migration ...`: wallet migrations between charging domains (seed 003 "UBE Account
Balancing"). `run` works through the pending migrations in this process, with a progress bar
on standard error."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn

from ocs.adapters.rest.routes_migrations import migration_view
from ocs.cli_support import Reason, cli_actor, cli_services, run_action
from ocs.core.errors import DomainError, invalid
from ocs.core.migrations import Migration, MigrationAction, RefreshGroup, fields_from, parse_changes

app = typer.Typer(no_args_is_help=True, help="Wallet migrations between charging domains")

SourceOpt = Annotated[str, typer.Option("--source", help="Source domain")]
TargetOpt = Annotated[str, typer.Option("--target", help="Target domain")]


def _read_input(path: Path | None) -> str | None:
    if path is None:
        return None
    if not path.is_file():
        raise invalid("input_file", f"cannot read the input file {path}")
    return path.read_text(encoding="utf-8")


@app.command("create")
def create(
    provider: Annotated[str, typer.Option(help="Service provider")],
    source: SourceOpt,
    target: TargetOpt,
    states: Annotated[
        str, typer.Option(help="Wallet states to migrate: names or letters, e.g. PADS")
    ],
    range_start: Annotated[str | None, typer.Option(help="First subscriber number")] = None,
    range_end: Annotated[str | None, typer.Option(help="Last subscriber number")] = None,
    account_batch: Annotated[int | None, typer.Option(help="Subscriber batch to move")] = None,
    input_file: Annotated[
        Path | None, typer.Option(help="File of subscriber numbers, one per line")
    ] = None,
    product_type: Annotated[str | None, typer.Option(help="Product type to move")] = None,
    batch_id: Annotated[int | None, typer.Option(help="Batch ID field (for the report)")] = None,
    max_wallets: Annotated[int | None, typer.Option(help="Stop (I) after this many")] = None,
    throttle: Annotated[int | None, typer.Option(help="Moves per second, 1-9999")] = None,
    remaining_file: Annotated[
        str | None, typer.Option(help="Name to save the remaining subscribers as")
    ] = None,
    reason: Reason = None,
) -> None:
    """Create a migration (state P). Exactly one selection: a range, an account batch, an
    input file or a product type."""
    services = cli_services()
    chosen = [
        kind
        for kind, given in (
            ("RANGE", range_start is not None or range_end is not None),
            ("BATCH", account_batch is not None),
            ("INPUT_FILE", input_file is not None),
            ("PRODUCT_TYPE", product_type is not None),
        )
        if given
    ]

    def action() -> Any:
        if len(chosen) != 1:
            raise invalid(
                "selection",
                "give exactly one of --range-start/--range-end, --account-batch, --input-file, "
                "--product-type",
            )
        data: dict[str, object] = {
            "service_provider": provider,
            "source_domain": source,
            "target_domain": target,
            "selection": chosen[0],
            "wallet_states": states,
            "range_start": range_start,
            "range_end": range_end,
            "account_batch_id": account_batch,
            "input_filename": input_file.name if input_file else None,
            "input_numbers": _read_input(input_file),
            "product_type": product_type,
            "batch_id": batch_id,
            "max_wallets": max_wallets,
            "throttle_per_s": throttle,
            "remaining_filename": remaining_file,
        }
        return migration_view(services.migrations.create(cli_actor(reason), fields_from(data)))

    run_action(action)


@app.command("edit")
def edit(
    migration_id: int,
    field: Annotated[list[str], typer.Option("--set", help="field=value, repeatable")],
    reason: Reason = None,
) -> None:
    """Save changes (only the fields the manual lets change in the migration's state)."""
    services = cli_services()

    def action() -> Any:
        data: dict[str, object] = {}
        for item in field:
            name, sep, value = item.partition("=")
            if not sep:
                raise invalid("set", f"{item!r} is not field=value")
            data[name.strip()] = value
        changes = parse_changes(data)
        return migration_view(services.migrations.update(cli_actor(reason), migration_id, changes))

    run_action(action)


@app.command("list")
def list_migrations(
    group: Annotated[
        list[RefreshGroup] | None,
        typer.Option(help="complete (M C I F), running (R), pending (N P H S I F); default all"),
    ] = None,
) -> None:
    """The Refresh button: migrations of the ticked groups, newest first."""
    services = cli_services()
    groups = group or list(RefreshGroup)
    run_action(lambda: [migration_view(m) for m in services.migrations.search(cli_actor(), groups)])


@app.command("show")
def show(migration_id: int) -> None:
    services = cli_services()
    run_action(lambda: migration_view(services.migrations.get(cli_actor(), migration_id)))


def _button(action: MigrationAction, help_text: str) -> None:
    def command(migration_id: int, reason: Reason = None) -> None:
        services = cli_services()
        run_action(
            lambda: migration_view(services.migrations.act(cli_actor(reason), migration_id, action))
        )

    command.__doc__ = help_text
    app.command(action.value)(command)


_button(MigrationAction.PRIORITY, "Priority: run next (N).")
_button(MigrationAction.RESTART, "Restart: back to pending (P).")
_button(MigrationAction.PAUSE, "Pause a running migration (S); it stops within seconds.")
_button(MigrationAction.HOLD, "Hold a paused migration (H).")
_button(MigrationAction.CANCEL, "Cancel (C) and compile the report.")


@app.command("report")
def report(
    migration_id: int,
    output: Annotated[Path | None, typer.Option(help="Export the report to this file")] = None,
) -> None:
    """Print (or export) the migration's report."""
    services = cli_services()
    if output is None:
        try:
            text = services.migrations.report(cli_actor(), migration_id)
        except DomainError as exc:
            where = f" [{exc.field}]" if exc.field else ""
            typer.echo(f"error: {exc.kind.value}{where}: {exc.detail}", err=True)
            raise typer.Exit(2) from None
        typer.echo(text, nl=False)
        return

    def action() -> Any:
        output.write_text(services.migrations.report(cli_actor(), migration_id), encoding="utf-8")
        return {"report": str(output)}

    run_action(action)


@app.command("save-remaining")
def save_remaining(
    migration_id: int,
    output: Annotated[
        Path | None, typer.Option(help="File to write (default: the migration's file name)")
    ] = None,
) -> None:
    """Write the subscribers not migrated, one per line: an input file for a rerun."""
    services = cli_services()

    def action() -> Any:
        actor = cli_actor()
        migration = services.migrations.get(actor, migration_id)
        name = output or (
            Path(migration.fields.remaining_filename)
            if migration.fields.remaining_filename
            else None
        )
        if name is None:
            raise invalid("remaining_filename", "give --output or set remaining_filename")
        numbers = services.migrations.remaining_subscribers(actor, migration_id)
        name.write_text("".join(f"{n}\n" for n in numbers), encoding="utf-8")
        return {"file": str(name), "subscribers": len(numbers)}

    run_action(action)


@app.command("delete")
def delete(migration_id: int, reason: Reason = None) -> None:
    services = cli_services()

    def action() -> Any:
        services.migrations.delete(cli_actor(reason), migration_id)
        return {"deleted": migration_id}

    run_action(action)


@app.command("check-accounts")
def check_accounts(source: SourceOpt, target: TargetOpt) -> None:
    """Wallets per state and subscribers per product type on both domains."""
    services = cli_services()
    run_action(lambda: services.migrations.check_accounts(cli_actor(), source, target))


@app.command("run")
def run(
    resume: Annotated[
        bool, typer.Option("--resume", help="Also resume migrations left running (R)")
    ] = False,
) -> None:
    """Run the pending migrations (N first, then P) in this process."""
    services = cli_services()
    console = Console(stderr=True)

    def action() -> Any:
        done: list[Migration] = []
        columns = (
            TextColumn("migration {task.fields[mid]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
        )
        with Progress(*columns, console=console) as progress:
            tasks: dict[int, Any] = {}

            def show(m: Migration) -> None:
                if m.id not in tasks:
                    tasks[m.id] = progress.add_task("run", total=m.wallets_total, mid=m.id)
                progress.update(tasks[m.id], completed=m.wallets_moved, total=m.wallets_total)

            runner = services.migration_runner
            if resume:
                services.domains.finish_interrupted_moves()
                done += runner.resume_running(show)
            done += runner.run_pending(show)
        return [migration_view(m) for m in done]

    run_action(action)
