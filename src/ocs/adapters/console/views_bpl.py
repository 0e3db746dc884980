"""Business process logic (seed 002 "Execute Business Process Logic", seed 003 "Task
Management"): the subscriber's Business processes option shows a button per task of its
service provider; a button opens the task's form, generated from its typed parameters, and
runs it (Execute only, or Save & execute to keep the values). The BPL tasks screen lists,
creates, edits and deletes the provider's task definitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.bpl import (
    ACTION_INPUTS,
    ACTIONS_MAX,
    PARAMETERS_MAX,
    ActionKind,
    Binding,
    Parameter,
    ParameterType,
    Run,
    RunMode,
    Task,
    Value,
)
from ocs.core.errors import DomainError, not_found
from ocs.service.bpl import ActionInput, ParameterInput, TaskForm, TaskInput

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_subscriber_features import render_option
from .views_wallets import visible_subscriber

router = APIRouter()

RUNS_SHOWN = 20
BOOLEANS: tuple[Option, ...] = (("true", "True"), ("false", "False"))
MODES: tuple[Option, ...] = (
    (RunMode.EXECUTE_ONLY.value, "Execute only"),
    (RunMode.SAVE_AND_EXECUTE.value, "Save & execute"),
)
PARAMETER_TYPES: tuple[Option, ...] = tuple((t.value, t.value) for t in ParameterType)
ACTION_KINDS: tuple[Option, ...] = tuple((k.value, k.value) for k in ActionKind)
# Every input any action kind takes, in the order the definition form shows them.
INPUT_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(spec.name for specs in ACTION_INPUTS.values() for spec in specs)
)
PARAMETER_ATTRS = ("name", "type", "mandatory", "default", "choices")
SPARE_PARAMETER_ROWS = 2
SPARE_ACTION_ROWS = 1
BIND = "="  # an action input written "=amount" takes the value of parameter amount
EMPTY = FormState()


# -- values as form text ---------------------------------------------------------------------


def value_text(value: Value | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ParameterField:
    """A task parameter as its form field: the input name, widget and options."""

    parameter: Parameter
    name: str
    widget: str
    options: tuple[Option, ...]
    value: str


def _widget(parameter: Parameter) -> tuple[str, tuple[Option, ...]]:
    kind = parameter.type
    if kind is ParameterType.CHOICE:
        return "select", tuple((c, c) for c in parameter.choices)
    if kind is ParameterType.BOOLEAN:
        return "select", BOOLEANS
    if kind in (ParameterType.INTEGER, ParameterType.MONEY):
        return "number", ()
    return ("date" if kind is ParameterType.DATE else "text"), ()


def parameter_fields(task_form: TaskForm) -> list[ParameterField]:
    fields = []
    for parameter in task_form.task.parameters:
        widget, options = _widget(parameter)
        value = value_text(task_form.values.get(parameter.name))
        fields.append(ParameterField(parameter, f"p_{parameter.name}", widget, options, value))
    return fields


# -- the subscriber's Business processes option ---------------------------------------------


def _base(subscriber_id: int) -> str:
    return f"/subscribers/{subscriber_id}/business-processes"


def _run(page: Page, subscriber_id: int) -> Run | None:
    """The run named in ?run=, to show its result."""
    wanted = page.request.query_params.get("run", "")
    runs = page.services.bpl.runs(page.operator, subscriber_id, RUNS_SHOWN)
    return next((r for r in runs if str(r.id) == wanted), None)


def _option_page(
    page: Page,
    subscriber_id: int,
    task_id: int | None = None,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    service = page.services.bpl
    tasks = service.subscriber_tasks(page.operator, subscriber_id)
    chosen = None
    if task_id is not None:
        chosen = next((t for t in tasks if t.task.id == task_id), None)
        if chosen is None:
            raise not_found("task", task_id)
    return render_option(
        page,
        subscriber_id,
        "bpl/subscriber.html",
        "business-processes",
        "Business processes",
        {"run": form or EMPTY},
        status,
        tasks=tasks,
        chosen=chosen,
        fields=parameter_fields(chosen) if chosen else [],
        modes=MODES,
        result=_run(page, subscriber_id),
        runs=service.runs(page.operator, subscriber_id, RUNS_SHOWN),
        base=_base(subscriber_id),
    )


@router.get("/subscribers/{subscriber_id}/business-processes")
def subscriber_tasks(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _option_page(page, subscriber_id)


@router.get("/subscribers/{subscriber_id}/business-processes/{task_id}")
def subscriber_task(
    subscriber_id: int, task_id: int, page: Page = Depends(operator_page)
) -> Response:
    return _option_page(page, subscriber_id, task_id)


@router.post("/subscribers/{subscriber_id}/business-processes/{task_id}")
def task_execute(
    subscriber_id: int,
    task_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    visible_subscriber(page, subscriber_id)
    task = page.services.bpl.subscriber_task(page.operator, subscriber_id, task_id).task
    values = {p.name: form.get(f"p_{p.name}", "") for p in task.parameters}
    mode = form.get("mode", RunMode.EXECUTE_ONLY.value)
    aliases = {f"parameters.{p.name}": f"p_{p.name}" for p in task.parameters}
    try:
        run = page.services.bpl.execute(page.acting(form), subscriber_id, task_id, values, mode)
    except DomainError as exc:
        state = page.refused(exc, form, tuple(aliases.values()), aliases)
        return _option_page(page, subscriber_id, task_id, state, state.status)
    return page.redirect(f"{_base(subscriber_id)}/{task_id}", run=run.id)


# -- task definitions ------------------------------------------------------------------------


@router.get("/bpl-tasks")
def task_list(page: Page = Depends(operator_page)) -> Response:
    provider = page.require_provider()
    return page.render(
        "bpl/tasks.html",
        title="BPL tasks",
        section="bpl-tasks",
        provider=provider,
        tasks=page.services.bpl.list_tasks(page.operator, provider),
    )


def _binding_text(binding: Binding) -> str:
    if binding.parameter is not None:
        return f"{BIND}{binding.parameter}"
    return value_text(binding.value)


def task_values(task: Task) -> dict[str, str]:
    """A stored task as the text of its definition form."""
    values = {"name": task.name, "description": task.description or ""}
    for i, p in enumerate(task.parameters):
        values |= {
            f"p{i}_name": p.name,
            f"p{i}_type": p.type.value,
            f"p{i}_default": value_text(p.default),
            f"p{i}_choices": ", ".join(p.choices),
        }
        if p.mandatory:
            values[f"p{i}_mandatory"] = "on"
    for i, a in enumerate(task.actions):
        values[f"a{i}_kind"] = a.kind.value
        for name, binding in a.inputs.items():
            values[f"a{i}_{name}"] = _binding_text(binding)
    values["parameter_rows"] = str(len(task.parameters) + SPARE_PARAMETER_ROWS)
    values["action_rows"] = str(len(task.actions) + SPARE_ACTION_ROWS)
    return values


def _rows(form: Mapping[str, str], name: str, spare: int, most: int) -> int:
    try:
        count = int(form.get(name, ""))
    except ValueError:
        count = spare
    return max(1, min(count, most))


def _task_page(page: Page, task: Task | None, form: FormState, status_code: int = 200) -> Response:
    return page.render(
        "bpl/task.html",
        status_code=status_code,
        title=f"BPL task {task.name}" if task else "New BPL task",
        section="bpl-tasks",
        task=task,
        form=form,
        parameter_rows=_rows(form.values, "parameter_rows", SPARE_PARAMETER_ROWS, PARAMETERS_MAX),
        action_rows=_rows(form.values, "action_rows", SPARE_ACTION_ROWS, ACTIONS_MAX),
        parameter_types=PARAMETER_TYPES,
        action_kinds=ACTION_KINDS,
        input_names=INPUT_NAMES,
        inputs_by_kind={k.value: [s.name for s in specs] for k, specs in ACTION_INPUTS.items()},
    )


@dataclass(frozen=True)
class _Parsed:
    inp: TaskInput
    aliases: dict[str, str]
    fields: tuple[str, ...]


def _parameter_rows(form: Form, aliases: dict[str, str]) -> tuple[ParameterInput, ...]:
    parameters: list[ParameterInput] = []
    for row in range(_rows(form, "parameter_rows", SPARE_PARAMETER_ROWS, PARAMETERS_MAX)):
        name = form.get(f"p{row}_name", "").strip()
        if not name and not f.text(form, f"p{row}_default") and not f.text(form, f"p{row}_choices"):
            continue  # an unused row
        k = len(parameters)
        for attr in PARAMETER_ATTRS:
            aliases[f"parameters[{k}].{attr}"] = f"p{row}_{attr}"
        aliases[f"parameters[{k}]"] = f"p{row}_name"
        aliases[f"parameters.{name}.choices"] = f"p{row}_choices"
        choices = form.get(f"p{row}_choices", "")
        parameters.append(
            ParameterInput(
                name=name,
                type=form.get(f"p{row}_type", ""),
                mandatory=f"p{row}_mandatory" in form,
                default=f.text(form, f"p{row}_default"),
                choices=tuple(c.strip() for c in choices.split(",") if c.strip()),
            )
        )
    return tuple(parameters)


def _action_rows(form: Form, aliases: dict[str, str]) -> tuple[ActionInput, ...]:
    actions: list[ActionInput] = []
    for row in range(_rows(form, "action_rows", SPARE_ACTION_ROWS, ACTIONS_MAX)):
        kind = form.get(f"a{row}_kind", "")
        if not kind:
            continue
        k = len(actions)
        aliases[f"actions[{k}]"] = aliases[f"actions[{k}].kind"] = f"a{row}_kind"
        inputs: dict[str, object] = {}
        for name in INPUT_NAMES:
            aliases[f"actions[{k}].{name}"] = f"a{row}_{name}"
            text = f.text(form, f"a{row}_{name}")
            if text is None:
                continue
            bound = text.startswith(BIND)
            inputs[name] = {"parameter": text[len(BIND) :].strip()} if bound else text
        actions.append(ActionInput(kind, inputs))
    return tuple(actions)


def _parse(form: Form, provider: str) -> _Parsed:
    aliases: dict[str, str] = {}
    parameters = _parameter_rows(form, aliases)
    actions = _action_rows(form, aliases)
    inp = TaskInput(
        name=form.get("name", ""),
        service_provider=provider,
        description=form.get("description"),
        parameters=parameters,
        actions=actions,
    )
    return _Parsed(inp, aliases, ("name", "description", *aliases.values()))


@router.get("/bpl-tasks/new")
def task_new(page: Page = Depends(operator_page)) -> Response:
    return _task_page(page, None, FormState())


@router.post("/bpl-tasks/new")
def task_create(page: Page = Depends(operator_page), form: Form = Depends(posted_form)) -> Response:
    parsed = _parse(form, page.require_provider())
    try:
        task = page.services.bpl.create_task(page.acting(form), parsed.inp)
    except DomainError as exc:
        state = page.refused(exc, form, parsed.fields, parsed.aliases)
        return _task_page(page, None, state, state.status)
    return page.redirect(f"/bpl-tasks/{task.id}", notice="created")


def _task(page: Page, task_id: int) -> Task:
    task = page.services.bpl.get_task(page.operator, task_id)
    if task.service_provider != page.provider:
        raise not_found("task", task_id)
    return task


@router.get("/bpl-tasks/{task_id}")
def task_detail(task_id: int, page: Page = Depends(operator_page)) -> Response:
    task = _task(page, task_id)
    return _task_page(page, task, FormState(task_values(task)))


@router.post("/bpl-tasks/{task_id}")
def task_save(
    task_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    task = _task(page, task_id)
    parsed = _parse(form, task.service_provider)
    try:
        page.services.bpl.update_task(page.acting(form), task_id, parsed.inp)
    except DomainError as exc:
        state = page.refused(exc, form, parsed.fields, parsed.aliases)
        return _task_page(page, task, state, state.status)
    return page.redirect(f"/bpl-tasks/{task_id}", notice="saved")


@router.post("/bpl-tasks/{task_id}/delete")
def task_delete(
    task_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    task = _task(page, task_id)
    try:
        page.services.bpl.delete_task(page.acting(form), task_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return _task_page(page, task, state, state.status)
    return page.redirect("/bpl-tasks", notice="deleted")
