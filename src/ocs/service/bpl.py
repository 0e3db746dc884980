"""Use cases for business process logic tasks: define them per service provider, show a
subscriber's task form (saved values, else defaults) and run a task for a subscriber.

A run is one unit of work: the audit entry, the run record, every action's wallet change with
its EDR, queued notifications and saved values commit together, or nothing does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ocs.core.bpl import (
    TASKS_PER_PROVIDER_MAX,
    Action,
    ActionEffect,
    ActionKind,
    Binding,
    Parameter,
    ParameterType,
    Run,
    RunMode,
    SavedValues,
    Task,
    Value,
    bound,
    check_actions,
    check_fixed_input,
    check_parameters,
    check_task_name,
    coerce,
    expiry_of_date,
    plain_values,
    resolve_values,
)
from ocs.core.casm import Subscriber
from ocs.core.configuration import ConfigKind
from ocs.core.edr import EdrType, encode_movements
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.notifications import NotificationEvent, NotificationKind
from ocs.core.security import Privilege
from ocs.core.wallets import (
    WalletAction,
    WalletState,
    WalletType,
    available_value,
    check_bucket_dates,
    check_wallet_transition,
    insufficient,
    of_type,
    parse_enum,
    permitted,
    plan_debit,
)
from ocs.service.actor import Actor, record_change
from ocs.service.notifications import enqueue_notification
from ocs.service.ports import Clock, Store, UnitOfWork
from ocs.service.wallet_ledger import Ledger, actor_origin, totals

ENTITY = "bpl-task"
RUNS_LIST_MAX = 200
# Balance types an input may name: a fixed value, or every choice of a CHOICE parameter.
_BALANCE_TYPE_INPUT = "balance_type"


@dataclass(frozen=True)
class ParameterInput:
    name: str
    type: str
    mandatory: bool = False
    default: object = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionInput:
    """An action: its kind and inputs, each a fixed value or {"parameter": name}."""

    kind: str
    inputs: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskInput:
    name: str
    service_provider: str
    description: str | None = None
    parameters: tuple[ParameterInput, ...] = ()
    actions: tuple[ActionInput, ...] = ()


@dataclass(frozen=True)
class TaskForm:
    """A task as the subscriber screen shows it: each parameter's value is the subscriber's
    saved value ("Save & Execute"), else the default, else empty."""

    task: Task
    values: dict[str, Value | None]
    saved_at: datetime | None
    saved_by: str | None


@dataclass
class _RunContext:
    uow: UnitOfWork
    ledger: Ledger
    subscriber: Subscriber
    task: Task
    run_id: int
    values: Mapping[str, Value]


class BplService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- task definitions ----------------------------------------------------------------------

    def create_task(self, actor: Actor, inp: TaskInput) -> Task:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            now = self.clock.now()
            task = self._checked(uow, actor, inp, 0, now, now)
            if uow.bpl.count_tasks(task.service_provider) >= TASKS_PER_PROVIDER_MAX:
                raise invalid(
                    "service_provider", f"a provider has at most {TASKS_PER_PROVIDER_MAX} tasks"
                )
            task = replace(task, id=uow.bpl.insert_task(task))
            record_change(uow, actor, now, "create", ENTITY, task.id, _task_detail(task))
            return task

    def update_task(self, actor: Actor, task_id: int, inp: TaskInput) -> Task:
        """Replace a task's name, description, parameters and actions (not its provider)."""
        actor.require(Privilege.MODIFY)
        with self.store.transaction() as uow:
            current = _task(uow, actor, task_id)
            if inp.service_provider != current.service_provider:
                raise DomainError(
                    ProblemKind.IMMUTABLE_FIELD,
                    "a task stays with its service provider",
                    "service_provider",
                )
            now = self.clock.now()
            task = self._checked(uow, actor, inp, task_id, current.created_at, now)
            uow.bpl.update_task(task)
            record_change(uow, actor, now, "update", ENTITY, task_id, _task_detail(task))
            return task

    def delete_task(self, actor: Actor, task_id: int) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            task = _task(uow, actor, task_id)
            uow.bpl.delete_task(task_id)
            detail = {"name": task.name, "service_provider": task.service_provider}
            record_change(uow, actor, self.clock.now(), "delete", ENTITY, task_id, detail)

    def get_task(self, actor: Actor, task_id: int) -> Task:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return _task(uow, actor, task_id)

    def list_tasks(self, actor: Actor, service_provider: str | None = None) -> list[Task]:
        actor.require(Privilege.READ)
        providers = actor.service_providers
        if service_provider is not None:
            actor.require_provider(service_provider)
            providers = frozenset({service_provider})
        with self.store.transaction() as uow:
            return uow.bpl.list_tasks(providers, TASKS_PER_PROVIDER_MAX)

    def _checked(
        self,
        uow: UnitOfWork,
        actor: Actor,
        inp: TaskInput,
        task_id: int,
        created_at: datetime,
        now: datetime,
    ) -> Task:
        actor.require_provider(inp.service_provider)
        if uow.config.get(ConfigKind.SERVICE_PROVIDER, inp.service_provider) is None:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"service_provider {inp.service_provider!r} does not exist",
                "service_provider",
            )
        name = check_task_name(inp.name)
        other = uow.bpl.task_id_by_name(inp.service_provider, name)
        if other is not None and other != task_id:
            raise DomainError(
                ProblemKind.DUPLICATE,
                f"service provider {inp.service_provider!r} already has a task {name!r}",
                "name",
            )
        description = None
        if inp.description is not None and inp.description.strip():
            description = inp.description.strip()
            if len(description) > 500:
                raise invalid("description", "description must be at most 500 characters")
        parameters = check_parameters(
            [_parameter(p, f"parameters[{i}]") for i, p in enumerate(inp.parameters)]
        )
        actions = check_actions(
            [_action(a, f"actions[{i}]") for i, a in enumerate(inp.actions)], parameters
        )
        _check_balance_types(uow, actions, parameters)
        return Task(
            task_id,
            inp.service_provider,
            name,
            description,
            parameters,
            actions,
            created_at,
            now,
        )

    # -- a subscriber's tasks ------------------------------------------------------------------

    def subscriber_tasks(self, actor: Actor, subscriber_id: int) -> list[TaskForm]:
        """The tasks of the subscriber's provider, each with the subscriber's saved values."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            subscriber = _subscriber(uow, actor, subscriber_id)
            tasks = uow.bpl.list_tasks(
                frozenset({subscriber.service_provider}), TASKS_PER_PROVIDER_MAX
            )
            return [_form(uow, task, subscriber_id) for task in tasks]

    def subscriber_task(self, actor: Actor, subscriber_id: int, task_id: int) -> TaskForm:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            subscriber = _subscriber(uow, actor, subscriber_id)
            task = _subscriber_task(uow, actor, subscriber, task_id)
            return _form(uow, task, subscriber_id)

    def runs(self, actor: Actor, subscriber_id: int, limit: int = 50) -> list[Run]:
        actor.require(Privilege.READ)
        if not 1 <= limit <= RUNS_LIST_MAX:
            raise invalid("limit", f"limit must be 1-{RUNS_LIST_MAX}")
        with self.store.transaction() as uow:
            _subscriber(uow, actor, subscriber_id)
            return uow.bpl.list_runs(subscriber_id, limit)

    # -- running -------------------------------------------------------------------------------

    def execute(
        self,
        actor: Actor,
        subscriber_id: int,
        task_id: int,
        values: Mapping[str, object],
        mode: str = RunMode.EXECUTE_ONLY.value,
    ) -> Run:
        """Run a task's actions for a subscriber with the entered values (omitted ones take the
        default). SAVE_AND_EXECUTE also keeps the values as the subscriber's saved values.
        Any refused action rolls the whole run back."""
        actor.require(Privilege.EXECUTE)
        run_mode = parse_enum(RunMode, mode, "mode")
        with self.store.transaction() as uow:
            now = self.clock.now()
            subscriber = _subscriber(uow, actor, subscriber_id)
            task = _subscriber_task(uow, actor, subscriber, task_id)
            resolved = resolve_values(task, values)
            action = "save-and-execute" if run_mode is RunMode.SAVE_AND_EXECUTE else "execute"
            detail = {"subscriber": subscriber_id, "values": plain_values(resolved)}
            record_change(uow, actor, now, action, ENTITY, task.id, detail)
            run = Run(0, task.id, task.name, subscriber_id, run_mode, now, actor.username,
                      resolved, ())  # fmt: skip
            run = replace(run, id=uow.bpl.insert_run(run))
            ledger = Ledger(uow, now, actor_origin(actor, subscriber_id))
            context = _RunContext(uow, ledger, subscriber, task, run.id, resolved)
            effects = tuple(_run_action(context, i, a) for i, a in enumerate(task.actions))
            uow.bpl.set_run_effects(run.id, effects)
            if run_mode is RunMode.SAVE_AND_EXECUTE:
                saved = SavedValues(task.id, subscriber_id, resolved, now, actor.username)
                uow.bpl.put_saved(saved)
            return replace(run, effects=effects)


# -- actions -----------------------------------------------------------------------------------


def _run_action(ctx: _RunContext, index: int, action: Action) -> ActionEffect:
    if action.kind is ActionKind.CHARGE:
        return _charge(ctx, index, action)
    if action.kind is ActionKind.GRANT_BUCKET:
        return _grant(ctx, index, action)
    if action.kind is ActionKind.CHANGE_WALLET_STATE:
        return _change_state(ctx, index, action)
    return _notify(ctx, index, action)


def _input(ctx: _RunContext, index: int, action: Action, name: str) -> tuple[Value | None, str]:
    """An input's value for this run and the field to name when it is refused: the parameter
    it came from, else the action's input."""
    binding = action.inputs.get(name, Binding())
    where = (
        f"parameters.{binding.parameter}"
        if binding.parameter is not None
        else f"actions[{index}].{name}"
    )
    value = bound(action, name, ctx.values)
    if value is not None:
        check_fixed_input(name, value, where)
    return value, where


def _required(ctx: _RunContext, index: int, action: Action, name: str) -> tuple[Value, str]:
    value, where = _input(ctx, index, action, name)
    if value is None:
        # Definitions bind required inputs only to parameters that always have a value.
        raise DomainError(ProblemKind.MISSING_FIELD, f"{name} has no value", where)
    return value, where


def _wallet_id(ctx: _RunContext, index: int, action: Action) -> int:
    value, where = _input(ctx, index, action, "wallet_type")
    kind = WalletType.PRIMARY if value is None else WalletType(str(value))
    for link in ctx.uow.wallets.links_of_subscriber(ctx.subscriber.id):
        if link.wallet_type is kind:
            return link.wallet_id
    raise DomainError(
        ProblemKind.NOT_FOUND,
        f"subscriber {ctx.subscriber.id} has no {kind.value} wallet",
        where,
    )


def _tags(ctx: _RunContext) -> tuple[tuple[str, str], ...]:
    return (("bpl_run", str(ctx.run_id)), ("bpl_task", ctx.task.name))


def _refused(error: DomainError, where: str) -> DomainError:
    """The same refusal, naming the input or parameter of the task that caused it."""
    return DomainError(error.kind, error.detail, where)


def _charge(ctx: _RunContext, index: int, action: Action) -> ActionEffect:
    code, code_at = _required(ctx, index, action, "balance_type")
    amount, amount_at = _required(ctx, index, action, "amount")
    assert isinstance(amount, int)
    ledger, now = ctx.ledger, ctx.ledger.now
    w = ledger.load(_wallet_id(ctx, index, action))
    ledger.balance_type(str(code), code_at)
    if not permitted(w.wallet.state, WalletAction.CHARGE, ledger.overrides(w.wallet)):
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"a {w.wallet.state.value} wallet cannot be charged",
            f"actions[{index}]",
        )
    if w.wallet.is_expired(now):
        raise DomainError(ProblemKind.WALLET_EXPIRED, "the wallet has expired", f"actions[{index}]")
    if w.wallet.state is WalletState.PRE_USE:
        ledger.activate(w)  # the first chargeable use, as for any other charge
    ledger.wake(w)
    before = totals(w.buckets)
    balance = w.balances.get(str(code))
    floor = 0 if balance is None else balance.floor
    changes = plan_debit(w.buckets, str(code), amount, now, floor)
    if changes is None:
        available = available_value(of_type(w.buckets, str(code)), now)
        raise _refused(insufficient(str(code), amount, available, floor), amount_at)
    ids = ledger.apply(w, changes, drop_empty=True)
    ledger.save_wallet(w, replace(w.wallet, last_used_at=now))
    detail = {"buckets": encode_movements(changes, ids), "bpl_task": ctx.task.id}
    edr = ledger.edr(w, EdrType.CHARGE, before, [str(code)], detail, tags=_tags(ctx))
    effect_detail = {"balance_type": str(code), "amount": amount}
    return ActionEffect(index, action.kind, w.wallet.id, edr.id, effect_detail)


def _grant(ctx: _RunContext, index: int, action: Action) -> ActionEffect:
    code, code_at = _required(ctx, index, action, "balance_type")
    amount, amount_at = _required(ctx, index, action, "amount")
    assert isinstance(amount, int)
    validity_s, _ = _input(ctx, index, action, "validity_s")
    expires_on, expires_at_field = _input(ctx, index, action, "expires_on")
    ledger, now = ctx.ledger, ctx.ledger.now
    expires_at: datetime | None = None
    if isinstance(validity_s, int):
        expires_at = now + timedelta(seconds=validity_s)
    elif expires_on is not None:
        assert not isinstance(expires_on, str | int | bool)
        expires_at = expiry_of_date(expires_on)
        try:
            check_bucket_dates(None, expires_at, now)
        except DomainError as error:
            raise _refused(error, expires_at_field) from None
    w = ledger.load(_wallet_id(ctx, index, action))
    try:
        ledger.require(w, WalletAction.ADJUST)
    except DomainError as error:
        raise _refused(error, f"actions[{index}]") from None
    ledger.ensure_balance(w, str(code), code_at)
    before = totals(w.buckets)
    changes, decision = ledger.credit_changes(w, str(code), amount, None, expires_at, amount_at)
    ledger.apply(w, changes)
    detail = {"dropped": decision.dropped, "bpl_task": ctx.task.id}
    edr = ledger.edr(w, EdrType.ADJUSTMENT, before, [str(code)], detail, tags=_tags(ctx))
    effect_detail: dict[str, object] = {
        "balance_type": str(code),
        "amount": decision.accepted,
        "dropped": decision.dropped,
        "expires_at": None if expires_at is None else expires_at.isoformat(),
    }
    return ActionEffect(index, action.kind, w.wallet.id, edr.id, effect_detail)


def _change_state(ctx: _RunContext, index: int, action: Action) -> ActionEffect:
    state, state_at = _required(ctx, index, action, "state")
    target = WalletState(str(state))
    ledger = ctx.ledger
    w = ledger.load(_wallet_id(ctx, index, action))
    current = w.wallet.state
    try:
        check_wallet_transition(current, target)
    except DomainError as error:
        raise _refused(error, state_at) from None
    if current is WalletState.PRE_USE and target is WalletState.ACTIVE:
        edr = ledger.activate(w)
    else:
        edr = ledger.set_state(w, target)
    detail = {"from": current.value, "to": target.value}
    return ActionEffect(index, action.kind, w.wallet.id, edr.id, detail)


def _notify(ctx: _RunContext, index: int, action: Action) -> ActionEffect:
    message, _ = _required(ctx, index, action, "message")
    text = str(plain_values({"m": message})["m"])
    event = NotificationEvent(
        kind=NotificationKind.BPL,
        subscriber_id=ctx.subscriber.id,
        at=ctx.ledger.now,
        dedup_key=f"bpl:{ctx.run_id}:{index}",
        params={"task": ctx.task.name, "message": text},
    )
    enqueue_notification(ctx.uow, event)
    return ActionEffect(index, action.kind, None, None, {"message": text})


# -- helpers -----------------------------------------------------------------------------------


def _parameter(inp: ParameterInput, where: str) -> Parameter:
    kind = parse_enum(ParameterType, inp.type, f"{where}.type")
    if not isinstance(inp.name, str):
        raise invalid(f"{where}.name", "a parameter name is text")
    default = inp.default
    if default is not None and not isinstance(default, str | int | bool):
        raise invalid(f"{where}.default", "a default is text, a number or true/false")
    return Parameter(inp.name.strip(), kind, bool(inp.mandatory), default, tuple(inp.choices))


def _action(inp: ActionInput, where: str) -> Action:
    kind = parse_enum(ActionKind, inp.kind, f"{where}.kind")
    inputs: dict[str, Binding] = {}
    for name, raw in inp.inputs.items():
        if isinstance(raw, Mapping):
            parameter = raw.get("parameter")
            if set(raw) != {"parameter"} or not isinstance(parameter, str):
                raise invalid(f"{where}.{name}", 'bind an input as {"parameter": "<name>"}')
            inputs[name] = Binding(parameter=parameter)
        elif raw is None or isinstance(raw, str | int | bool):
            inputs[name] = Binding(value=raw)
        else:
            raise invalid(f"{where}.{name}", "an input is a fixed value or a parameter binding")
    return Action(kind, inputs)


def _check_balance_types(
    uow: UnitOfWork, actions: Sequence[Action], parameters: Sequence[Parameter]
) -> None:
    """Fixed balance types, and every choice of a CHOICE parameter naming one, must exist."""
    by_name = {p.name: p for p in parameters}
    for i, action in enumerate(actions):
        binding = action.inputs.get(_BALANCE_TYPE_INPUT)
        if binding is None:
            continue
        codes: tuple[str, ...] = ()
        where = f"actions[{i}].{_BALANCE_TYPE_INPUT}"
        if binding.parameter is None:
            codes = (str(binding.value),)
        elif by_name[binding.parameter].type is ParameterType.CHOICE:
            codes = by_name[binding.parameter].choices
            where = f"parameters.{binding.parameter}.choices"
        for code in codes:
            if uow.config.get(ConfigKind.BALANCE_TYPE, code) is None:
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE,
                    f"balance type {code!r} does not exist (balance-types)",
                    where,
                )


def _task_detail(task: Task) -> dict[str, object]:
    return {
        "name": task.name,
        "service_provider": task.service_provider,
        "parameters": [p.name for p in task.parameters],
        "actions": [a.kind.value for a in task.actions],
    }


def _form(uow: UnitOfWork, task: Task, subscriber_id: int) -> TaskForm:
    saved = uow.bpl.get_saved(task.id, subscriber_id)
    values: dict[str, Value | None] = {}
    for parameter in task.parameters:
        values[parameter.name] = parameter.default
        if saved is None or saved.values.get(parameter.name) is None:
            continue
        # A parameter that changed type since the values were saved shows its default.
        with suppress(DomainError):
            values[parameter.name] = coerce(parameter, saved.values[parameter.name], "values")
    if saved is None:
        return TaskForm(task, values, None, None)
    return TaskForm(task, values, saved.saved_at, saved.saved_by)


def _subscriber(uow: UnitOfWork, actor: Actor, subscriber_id: int) -> Subscriber:
    subscriber = uow.casm.get_subscriber(subscriber_id)
    if subscriber is None or not actor.may_use_provider(subscriber.service_provider):
        raise not_found("subscriber", subscriber_id)
    return subscriber


def _task(uow: UnitOfWork, actor: Actor, task_id: int) -> Task:
    task = uow.bpl.get_task(task_id)
    if task is None or not actor.may_use_provider(task.service_provider):
        raise not_found("task", task_id)
    return task


def _subscriber_task(uow: UnitOfWork, actor: Actor, subscriber: Subscriber, task_id: int) -> Task:
    task = _task(uow, actor, task_id)
    if task.service_provider != subscriber.service_provider:
        raise DomainError(
            ProblemKind.NOT_FOUND,
            f"task {task_id} belongs to another service provider than the subscriber",
            "task_id",
        )
    return task
