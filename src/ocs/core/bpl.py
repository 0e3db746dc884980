"""Business process logic (BPL) tasks: named, per service provider, with typed parameters and
a list of actions an operator runs for one subscriber (seed 002 "Execute Business Process
Logic", seed 003 "Task Management").

The manuals run a control plan; we run a fixed set of action kinds whose inputs are either a
fixed value or bound to one of the task's parameters, so a task is data an operator can define
and the values an operator enters are checked before anything is changed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.wallets import AMOUNT_ABS_MAX, WalletState, WalletType

TASK_NAME_LENGTH_MAX = 64
DESCRIPTION_LENGTH_MAX = 500
PARAMETERS_MAX = 20
ACTIONS_MAX = 10
CHOICES_MAX = 50
STRING_VALUE_LENGTH_MAX = 200
PARAMETER_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# The number of tasks one provider may define; the list screens show them all.
TASKS_PER_PROVIDER_MAX = 500


class ParameterType(StrEnum):
    STRING = "STRING"
    INTEGER = "INTEGER"
    # Integer minor units of the wallet's currency.
    MONEY = "MONEY"
    # An ISO date (YYYY-MM-DD).
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"
    # One of the parameter's listed choices.
    CHOICE = "CHOICE"


class ActionKind(StrEnum):
    # Debit a balance type of one of the subscriber's wallets (a CHARGE EDR).
    CHARGE = "CHARGE"
    # Credit a new bucket, optionally expiring (an ADJUSTMENT EDR).
    GRANT_BUCKET = "GRANT_BUCKET"
    # Move a wallet to another state (a STATE_CHANGE or ACTIVATION EDR).
    CHANGE_WALLET_STATE = "CHANGE_WALLET_STATE"
    # Raise a notification event for the subscriber (outbox, delivered later).
    NOTIFY = "NOTIFY"


class RunMode(StrEnum):
    # Run once with the given values.
    EXECUTE_ONLY = "EXECUTE_ONLY"
    # Also keep the values as the subscriber's saved values for the task.
    SAVE_AND_EXECUTE = "SAVE_AND_EXECUTE"


Value = str | int | bool | date


@dataclass(frozen=True)
class Parameter:
    name: str
    type: ParameterType
    mandatory: bool = False
    default: Value | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Binding:
    """An action input: the value of a task parameter, or a fixed value."""

    parameter: str | None = None
    value: Value | None = None


@dataclass(frozen=True)
class ActionInputSpec:
    name: str
    # Parameter types that may feed this input; a fixed value must coerce to the first one.
    types: tuple[ParameterType, ...]
    required: bool


_STRINGS = (ParameterType.STRING, ParameterType.CHOICE)
_AMOUNTS = (ParameterType.MONEY, ParameterType.INTEGER)
_WALLET_TYPE = ActionInputSpec("wallet_type", _STRINGS, False)

ACTION_INPUTS: Mapping[ActionKind, tuple[ActionInputSpec, ...]] = {
    ActionKind.CHARGE: (
        ActionInputSpec("balance_type", _STRINGS, True),
        ActionInputSpec("amount", _AMOUNTS, True),
        _WALLET_TYPE,
    ),
    ActionKind.GRANT_BUCKET: (
        ActionInputSpec("balance_type", _STRINGS, True),
        ActionInputSpec("amount", _AMOUNTS, True),
        ActionInputSpec("validity_s", (ParameterType.INTEGER,), False),
        ActionInputSpec("expires_on", (ParameterType.DATE,), False),
        _WALLET_TYPE,
    ),
    ActionKind.CHANGE_WALLET_STATE: (ActionInputSpec("state", _STRINGS, True), _WALLET_TYPE),
    ActionKind.NOTIFY: (ActionInputSpec("message", tuple(ParameterType), True),),
}


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    inputs: Mapping[str, Binding] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    id: int
    service_provider: str
    name: str
    description: str | None
    parameters: tuple[Parameter, ...]
    actions: tuple[Action, ...]
    created_at: datetime
    updated_at: datetime

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class SavedValues:
    task_id: int
    subscriber_id: int
    values: Mapping[str, Value]
    saved_at: datetime
    saved_by: str


@dataclass(frozen=True)
class ActionEffect:
    """What one action did: the wallet it touched and the EDR (or notification) it wrote."""

    index: int
    kind: ActionKind
    wallet_id: int | None
    edr_id: int | None
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    id: int
    task_id: int
    task_name: str
    subscriber_id: int
    mode: RunMode
    at: datetime
    operator: str
    values: Mapping[str, Value]
    effects: tuple[ActionEffect, ...]


# -- values ------------------------------------------------------------------------------------


def coerce(parameter: Parameter, raw: object, where: str) -> Value:
    """The typed value of raw input (JSON or CLI text) for a parameter; a wrong type is refused
    with an error naming the parameter."""
    kind = parameter.type
    if kind is ParameterType.BOOLEAN:
        return _boolean(raw, parameter.name, where)
    if kind in (ParameterType.INTEGER, ParameterType.MONEY):
        return _integer(raw, parameter, where)
    if kind is ParameterType.DATE:
        return _date(raw, parameter.name, where)
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise invalid(where, f"parameter {parameter.name!r} must be text")
    text = str(raw).strip()
    if len(text) > STRING_VALUE_LENGTH_MAX:
        raise invalid(
            where, f"parameter {parameter.name!r} must be at most {STRING_VALUE_LENGTH_MAX} chars"
        )
    if kind is ParameterType.CHOICE and text not in parameter.choices:
        choices = ", ".join(parameter.choices)
        raise invalid(where, f"parameter {parameter.name!r} must be one of {choices}, not {text!r}")
    return text


def _boolean(raw: object, name: str, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise invalid(where, f"parameter {name!r} must be true or false, not {raw!r}")


def _integer(raw: object, parameter: Parameter, where: str) -> int:
    what = "an integer"
    if parameter.type is ParameterType.MONEY:
        what = "an integer number of minor units"
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and re.fullmatch(r"\s*-?[0-9]{1,19}\s*", raw):
        value = int(raw)
    if value is None:
        raise invalid(where, f"parameter {parameter.name!r} must be {what}, not {raw!r}")
    if abs(value) > AMOUNT_ABS_MAX:
        raise invalid(where, f"parameter {parameter.name!r} is too large")
    return value


def _date(raw: object, name: str, where: str) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise invalid(where, f"parameter {name!r} must be a date YYYY-MM-DD, not {raw!r}")


def _blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def resolve_values(task: Task, given: Mapping[str, object]) -> dict[str, Value]:
    """The typed value of every parameter for a run: the given value, else the default. A
    mandatory parameter without either, an unknown name and a wrong type are refused."""
    for name in given:
        if task.parameter(name) is None:
            raise invalid(f"parameters.{name}", f"task {task.name!r} has no parameter {name!r}")
    values: dict[str, Value] = {}
    for parameter in task.parameters:
        where = f"parameters.{parameter.name}"
        raw = given.get(parameter.name)
        if _blank(raw):
            if parameter.default is not None:
                values[parameter.name] = parameter.default
            elif parameter.mandatory:
                raise DomainError(
                    ProblemKind.MISSING_FIELD,
                    f"parameter {parameter.name!r} is mandatory: enter a value",
                    where,
                )
            continue
        values[parameter.name] = coerce(parameter, raw, where)
    return values


def bound(action: Action, name: str, values: Mapping[str, Value]) -> Value | None:
    """The value an action input takes for a run (None when it is unbound or left empty)."""
    binding = action.inputs.get(name)
    if binding is None:
        return None
    if binding.parameter is not None:
        return values.get(binding.parameter)
    return binding.value


def plain_values(values: Mapping[str, Value]) -> dict[str, str | int | bool]:
    """Values as JSON holds them: dates as ISO text."""
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def expiry_of_date(day: date) -> datetime:
    """A bucket granted "until" a date expires at the start of that day, UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# -- task definitions --------------------------------------------------------------------------


def check_task_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, "name is required", "name")
    text = name.strip()
    if len(text) > TASK_NAME_LENGTH_MAX:
        raise invalid("name", f"name must be at most {TASK_NAME_LENGTH_MAX} characters")
    return text


def check_parameters(parameters: Sequence[Parameter]) -> tuple[Parameter, ...]:
    if len(parameters) > PARAMETERS_MAX:
        raise invalid("parameters", f"a task has at most {PARAMETERS_MAX} parameters")
    seen: set[str] = set()
    checked = []
    for i, parameter in enumerate(parameters):
        where = f"parameters[{i}]"
        if not PARAMETER_NAME_PATTERN.match(parameter.name):
            raise invalid(
                f"{where}.name",
                f"parameter name {parameter.name!r} must be 1-32 lower-case letters, digits or _",
            )
        if parameter.name in seen:
            raise DomainError(
                ProblemKind.DUPLICATE, f"parameter {parameter.name!r} is defined twice", where
            )
        seen.add(parameter.name)
        checked.append(_check_parameter(parameter, where))
    return tuple(checked)


def _check_parameter(parameter: Parameter, where: str) -> Parameter:
    choices = tuple(c.strip() for c in parameter.choices)
    if parameter.type is ParameterType.CHOICE:
        if not choices or len(choices) > CHOICES_MAX:
            raise invalid(f"{where}.choices", f"a CHOICE parameter lists 1-{CHOICES_MAX} choices")
        if any(not c or len(c) > STRING_VALUE_LENGTH_MAX for c in choices):
            raise invalid(f"{where}.choices", "a choice is 1-200 characters")
        if len(set(choices)) != len(choices):
            raise invalid(f"{where}.choices", "choices must differ")
    elif choices:
        raise invalid(f"{where}.choices", "only a CHOICE parameter lists choices")
    checked = Parameter(parameter.name, parameter.type, parameter.mandatory, None, choices)
    if _blank(parameter.default):
        return checked
    default = coerce(checked, parameter.default, f"{where}.default")
    return Parameter(parameter.name, parameter.type, parameter.mandatory, default, choices)


def check_actions(actions: Sequence[Action], parameters: Sequence[Parameter]) -> tuple[Action, ...]:
    """Every action names its required inputs, binds only to parameters of a fitting type that
    always have a value, and fixed values have the right type. Fixed references (balance types)
    are checked by the service, which can see the configuration."""
    if not actions:
        raise DomainError(ProblemKind.MISSING_FIELD, "a task has at least one action", "actions")
    if len(actions) > ACTIONS_MAX:
        raise invalid("actions", f"a task has at most {ACTIONS_MAX} actions")
    by_name = {p.name: p for p in parameters}
    return tuple(_check_action(a, f"actions[{i}]", by_name) for i, a in enumerate(actions))


def _check_action(action: Action, where: str, parameters: Mapping[str, Parameter]) -> Action:
    specs = {spec.name: spec for spec in ACTION_INPUTS[action.kind]}
    for name in action.inputs:
        if name not in specs:
            known = ", ".join(specs)
            raise invalid(f"{where}.{name}", f"a {action.kind.value} action takes {known}")
    inputs: dict[str, Binding] = {}
    for spec in specs.values():
        binding = action.inputs.get(spec.name)
        at = f"{where}.{spec.name}"
        if binding is None or (binding.parameter is None and _blank(binding.value)):
            if spec.required:
                raise DomainError(
                    ProblemKind.MISSING_FIELD,
                    f"a {action.kind.value} action needs {spec.name}",
                    at,
                )
            continue
        inputs[spec.name] = _check_binding(binding, spec, at, parameters)
    if "validity_s" in inputs and "expires_on" in inputs:
        raise invalid(f"{where}.expires_on", "give validity_s or expires_on, not both")
    return Action(action.kind, inputs)


def _check_binding(
    binding: Binding, spec: ActionInputSpec, at: str, parameters: Mapping[str, Parameter]
) -> Binding:
    if binding.parameter is not None:
        parameter = parameters.get(binding.parameter)
        if parameter is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"{spec.name} is bound to parameter {binding.parameter!r}, which the task lacks",
                at,
            )
        if parameter.type not in spec.types:
            kinds = "/".join(t.value for t in spec.types)
            raise invalid(
                at, f"{spec.name} takes a {kinds} parameter; {parameter.name!r} is {parameter.type}"
            )
        if spec.required and not parameter.mandatory and parameter.default is None:
            raise invalid(
                at,
                f"parameter {parameter.name!r} feeds the required {spec.name}: make it mandatory "
                "or give it a default",
            )
        for choice in parameter.choices:
            check_fixed_input(spec.name, choice, f"parameters.{parameter.name}.choices")
        return Binding(parameter=parameter.name)
    fixed = Parameter(spec.name, spec.types[0])
    value = coerce(fixed, binding.value, at)
    check_fixed_input(spec.name, value, at)
    return Binding(value=value)


def check_fixed_input(name: str, value: Value, at: str) -> None:
    """Rules on an input's value that hold however it was given (fixed or entered)."""
    if name in ("amount", "validity_s") and (not isinstance(value, int) or value <= 0):
        raise invalid(at, f"{name} must be a positive integer, not {value!r}")
    if name == "state":
        _enum(WalletState, value, at)
    if name == "wallet_type":
        _enum(WalletType, value, at)


def _enum(kind: type[WalletState] | type[WalletType], value: Value, at: str) -> None:
    if str(value) not in {m.value for m in kind}:
        choices = ", ".join(m.value for m in kind)
        raise invalid(at, f"{value!r} is not one of {choices}")
