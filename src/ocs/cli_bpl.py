"""`ocs bpl ...`: business process logic tasks, defined from a JSON file and run for a
subscriber with NAME=VALUE parameter values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ocs.cli_support import Reason, cli_actor, cli_services, run_action
from ocs.core.bpl import RunMode
from ocs.service.bpl import ActionInput, ParameterInput, TaskInput

app = typer.Typer(no_args_is_help=True, help="Business process logic (BPL) tasks")

TaskFile = Annotated[
    Path,
    typer.Argument(
        help='JSON: {"name", "service_provider", "description", "parameters": [{"name", "type",'
        ' "mandatory", "default", "choices"}], "actions": [{"kind", "inputs": {...}}]}'
    ),
]


def _task_input(path: Path) -> TaskInput:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path}: the task is a JSON object")

    def parameter(p: dict[str, Any]) -> ParameterInput:
        return ParameterInput(
            str(p.get("name", "")),
            str(p.get("type", "")),
            bool(p.get("mandatory", False)),
            p.get("default"),
            tuple(str(c) for c in p.get("choices", ())),
        )

    return TaskInput(
        name=str(data.get("name", "")),
        service_provider=str(data.get("service_provider", "")),
        description=data.get("description"),
        parameters=tuple(parameter(p) for p in data.get("parameters", ())),
        actions=tuple(
            ActionInput(str(a.get("kind", "")), dict(a.get("inputs", {})))
            for a in data.get("actions", ())
        ),
    )


@app.command("create")
def create(path: TaskFile, reason: Reason = None) -> None:
    """Define a task from a JSON file."""
    inp = _task_input(path)
    services = cli_services()
    run_action(lambda: services.bpl.create_task(cli_actor(reason), inp))


@app.command("update")
def update(task_id: int, path: TaskFile, reason: Reason = None) -> None:
    """Replace a task's definition from a JSON file."""
    inp = _task_input(path)
    services = cli_services()
    run_action(lambda: services.bpl.update_task(cli_actor(reason), task_id, inp))


@app.command("list")
def list_tasks(
    service_provider: Annotated[str | None, typer.Option("--service-provider", "-p")] = None,
) -> None:
    services = cli_services()
    run_action(lambda: services.bpl.list_tasks(cli_actor(), service_provider))


@app.command("show")
def show(task_id: int) -> None:
    services = cli_services()
    run_action(lambda: services.bpl.get_task(cli_actor(), task_id))


@app.command("delete")
def delete(task_id: int, reason: Reason = None) -> None:
    services = cli_services()

    def apply() -> dict[str, int]:
        services.bpl.delete_task(cli_actor(reason), task_id)
        return {"deleted": task_id}

    run_action(apply)


@app.command("tasks")
def subscriber_tasks(subscriber_id: int) -> None:
    """The subscriber's tasks with their saved values (else defaults)."""
    services = cli_services()
    run_action(lambda: services.bpl.subscriber_tasks(cli_actor(), subscriber_id))


@app.command("execute")
def execute(
    subscriber_id: int,
    task_id: int,
    value: Annotated[
        list[str] | None, typer.Option(help="NAME=VALUE for a parameter (repeatable)")
    ] = None,
    save: Annotated[bool, typer.Option(help="Save and execute: keep the values")] = False,
    reason: Reason = None,
) -> None:
    """Run a task for a subscriber (execute only, or --save to save and execute)."""
    values: dict[str, object] = {}
    for item in value or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"value {item!r} must be NAME=VALUE")
        values[name.strip()] = text
    mode = RunMode.SAVE_AND_EXECUTE if save else RunMode.EXECUTE_ONLY
    services = cli_services()
    run_action(
        lambda: services.bpl.execute(cli_actor(reason), subscriber_id, task_id, values, mode)
    )


@app.command("runs")
def runs(subscriber_id: int, limit: int = 50) -> None:
    """The subscriber's task runs, newest first."""
    services = cli_services()
    run_action(lambda: services.bpl.runs(cli_actor(), subscriber_id, limit))
