"""Business process logic tasks: definitions, typed and mandatory parameters, each action kind,
execute only versus save and execute, and runs that refuse change nothing (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services
from ocs.core.bpl import ActionKind, RunMode
from ocs.core.edr import EdrQuery, EdrType
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import ROLE_PRIVILEGES, Role
from ocs.core.wallets import WalletState
from ocs.service.actor import Actor
from ocs.service.bpl import ActionInput, ParameterInput, TaskInput
from ocs.storage import bpl_tables, notification_tables
from ocs.storage import tables as t
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.clock import FakeClock
from tests.support.wallets import (
    assert_balances_explained,
    ledger_fingerprint,
    load_wallet_catalog,
    new_subscriber,
    wallet_of,
)


@pytest.fixture
def catalog(services: Services, admin: Actor) -> Iterator[Services]:
    load_wallet_catalog(services, admin)
    yield services
    assert_balances_explained(services)


def _p(name: str, kind: str, mandatory: bool = False, default: object = None,
       choices: tuple[str, ...] = ()) -> ParameterInput:  # fmt: skip
    return ParameterInput(name, kind, mandatory, default, choices)


def _task(services: Services, admin: Actor, name: str, parameters: tuple[ParameterInput, ...],
          *actions: ActionInput) -> int:  # fmt: skip
    inp = TaskInput(name, PROVIDER, None, parameters, actions)
    return services.bpl.create_task(admin, inp).id


def _fee_task(services: Services, admin: Actor) -> int:
    """Charge "amount" from CASH; "note" is optional text; "urgent" a boolean with a default."""
    return _task(
        services, admin, "Service fee",
        (_p("amount", "MONEY", mandatory=True), _p("note", "STRING"),
         _p("urgent", "BOOLEAN", default=False)),
        ActionInput("CHARGE", {"balance_type": "CASH", "amount": {"parameter": "amount"}}),
    )  # fmt: skip


def _funded(services: Services, admin: Actor, amount: int = 1000) -> tuple[int, int]:
    subscriber = new_subscriber(services, admin)
    wallet = wallet_of(services, admin, subscriber)
    services.wallets.activate(admin, wallet)
    services.wallets.top_up(admin, wallet, "CASH", amount)
    return subscriber, wallet


def _balance(services: Services, admin: Actor, wallet: int, code: str) -> int:
    view = services.wallets.get_wallet(admin, wallet)
    return next((b.total_value for b in view.balances if b.balance_type == code), 0)


def _count(services: Services, table: sa.Table) -> int:
    with services.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def _refused(call: object, kind: ProblemKind, field: str | None) -> str:
    assert callable(call)
    with pytest.raises(DomainError) as caught:
        call()
    assert (caught.value.kind, caught.value.field) == (kind, field), caught.value
    return caught.value.detail


# -- running -----------------------------------------------------------------------------------


def test_execute_only_charges_writes_an_edr_and_an_audit_but_saves_nothing(
    catalog: Services, admin: Actor
) -> None:
    task = _fee_task(catalog, admin)
    subscriber, wallet = _funded(catalog, admin)
    run = catalog.bpl.execute(admin, subscriber, task, {"amount": "250", "note": "late fee"})
    assert run.mode is RunMode.EXECUTE_ONLY
    assert dict(run.values) == {"amount": 250, "note": "late fee", "urgent": False}
    [effect] = run.effects
    assert (effect.kind, effect.wallet_id) == (ActionKind.CHARGE, wallet)
    assert _balance(catalog, admin, wallet, "CASH") == 750
    page = catalog.edrs.search(admin, EdrQuery(wallet_id=wallet, types=frozenset({EdrType.CHARGE})))
    [hit] = page.items
    edr = hit.edr
    assert edr.id == effect.edr_id
    assert dict(edr.tags) == {"bpl_run": str(run.id), "bpl_task": "Service fee"}
    assert edr.operator == admin.username
    with catalog.store.transaction() as uow:
        [audit] = uow.audit.recent("bpl-task", 1)
        assert (audit.action, audit.entity_key) == ("execute", str(task))
        assert audit.detail["values"] == {"amount": 250, "note": "late fee", "urgent": False}
    form = catalog.bpl.subscriber_task(admin, subscriber, task)
    assert form.values == {"amount": None, "note": None, "urgent": False}
    assert form.saved_at is None
    assert [r.id for r in catalog.bpl.runs(admin, subscriber)] == [run.id]


def test_save_and_execute_keeps_the_values_for_next_time(
    catalog: Services, admin: Actor, clock: FakeClock
) -> None:
    task = _fee_task(catalog, admin)
    subscriber, wallet = _funded(catalog, admin)
    catalog.bpl.execute(admin, subscriber, task, {"amount": 100, "urgent": "true"},
                        "SAVE_AND_EXECUTE")  # fmt: skip
    form = catalog.bpl.subscriber_task(admin, subscriber, task)
    assert form.values == {"amount": 100, "note": None, "urgent": True}
    assert (form.saved_at, form.saved_by) == (clock.now(), admin.username)
    clock.advance(60)
    catalog.bpl.execute(admin, subscriber, task, {"amount": 40, "note": "again"},
                        RunMode.SAVE_AND_EXECUTE.value)  # fmt: skip
    assert catalog.bpl.subscriber_task(admin, subscriber, task).values == {
        "amount": 40, "note": "again", "urgent": False
    }  # fmt: skip
    # Execute only leaves the saved values alone; another subscriber has none.
    catalog.bpl.execute(admin, subscriber, task, {"amount": 1})
    assert catalog.bpl.subscriber_task(admin, subscriber, task).values["amount"] == 40
    other, _ = _funded(catalog, admin)
    [other_form] = catalog.bpl.subscriber_tasks(admin, other)
    assert other_form.values["amount"] is None
    assert _balance(catalog, admin, wallet, "CASH") == 1000 - 100 - 40 - 1
    modes = [r.mode for r in catalog.bpl.runs(admin, subscriber)]
    assert modes == [RunMode.EXECUTE_ONLY, RunMode.SAVE_AND_EXECUTE, RunMode.SAVE_AND_EXECUTE]


def test_a_missing_mandatory_parameter_is_refused_by_name_and_changes_nothing(
    catalog: Services, admin: Actor
) -> None:
    task = _fee_task(catalog, admin)
    subscriber, _ = _funded(catalog, admin)
    before = ledger_fingerprint(catalog)
    detail = _refused(lambda: catalog.bpl.execute(admin, subscriber, task, {"note": "x"}),
                      ProblemKind.MISSING_FIELD, "parameters.amount")  # fmt: skip
    assert "'amount' is mandatory" in detail
    _refused(lambda: catalog.bpl.execute(admin, subscriber, task, {"amount": "  "}),
             ProblemKind.MISSING_FIELD, "parameters.amount")  # fmt: skip
    assert ledger_fingerprint(catalog) == before
    assert catalog.bpl.runs(admin, subscriber) == []
    assert _count(catalog, bpl_tables.bpl_saved_values) == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("amount", "ten"),
        ("amount", 2.5),
        ("amount", True),
        ("urgent", "maybe"),
        ("when", "2026-02-30"),
        ("colour", "purple"),
        ("count", "1e3"),
        ("note", ["a"]),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(
    catalog: Services, admin: Actor, name: str, value: object
) -> None:
    task = _task(
        catalog, admin, "Typed",
        (_p("amount", "MONEY", default=5), _p("urgent", "BOOLEAN"), _p("when", "DATE"),
         _p("colour", "CHOICE", choices=("red", "green")), _p("count", "INTEGER"),
         _p("note", "STRING")),
        ActionInput("CHARGE", {"balance_type": "CASH", "amount": {"parameter": "amount"}}),
    )  # fmt: skip
    subscriber, _ = _funded(catalog, admin)
    before = ledger_fingerprint(catalog)
    _refused(lambda: catalog.bpl.execute(admin, subscriber, task, {name: value}),
             ProblemKind.INVALID_VALUE, f"parameters.{name}")  # fmt: skip
    _refused(lambda: catalog.bpl.execute(admin, subscriber, task, {"nope": 1}),
             ProblemKind.INVALID_VALUE, "parameters.nope")  # fmt: skip
    assert ledger_fingerprint(catalog) == before


def test_grant_bucket_credits_with_expiry_from_validity_or_a_date(
    catalog: Services, admin: Actor, clock: FakeClock
) -> None:
    task = _task(
        catalog, admin, "Data bonus",
        (_p("octets", "INTEGER", mandatory=True), _p("until", "DATE", mandatory=True)),
        ActionInput("GRANT_BUCKET", {"balance_type": "VOICE", "amount": 600,
                                     "validity_s": 86400}),
        ActionInput("GRANT_BUCKET", {"balance_type": "DATA", "amount": {"parameter": "octets"},
                                     "expires_on": {"parameter": "until"}}),
    )  # fmt: skip
    subscriber, wallet = _funded(catalog, admin)
    run = catalog.bpl.execute(admin, subscriber, task, {"octets": 1500, "until": "2026-03-01"})
    view = catalog.wallets.get_wallet(admin, wallet)
    buckets = {b.balance_type: b for bal in view.balances for b in bal.buckets}
    assert buckets["VOICE"].value == 600
    assert buckets["VOICE"].expires_at == clock.now() + timedelta(days=1)
    # DATA is capped at 1000 with LIMIT: the excess is dropped and recorded.
    assert buckets["DATA"].value == 1000
    assert buckets["DATA"].expires_at is not None
    assert buckets["DATA"].expires_at.isoformat() == "2026-03-01T00:00:00+00:00"
    assert run.effects[1].detail["dropped"] == 500
    assert [e.kind for e in run.effects] == [ActionKind.GRANT_BUCKET, ActionKind.GRANT_BUCKET]
    # A date in the past is refused naming the parameter.
    _refused(lambda: catalog.bpl.execute(admin, subscriber, task,
                                         {"octets": 1, "until": "2026-01-01"}),
             ProblemKind.INVALID_VALUE, "parameters.until")  # fmt: skip


def test_change_wallet_state_activates_or_moves_the_state(catalog: Services, admin: Actor) -> None:
    task = _task(
        catalog, admin, "Set state",
        (_p("state", "CHOICE", mandatory=True, choices=("ACTIVE", "SUSPENDED", "PRE_USE")),),
        ActionInput("CHANGE_WALLET_STATE", {"state": {"parameter": "state"}}),
    )  # fmt: skip
    subscriber = new_subscriber(catalog, admin)
    wallet = wallet_of(catalog, admin, subscriber)
    run = catalog.bpl.execute(admin, subscriber, task, {"state": "ACTIVE"})
    assert catalog.wallets.get_wallet(admin, wallet).wallet.state is WalletState.ACTIVE
    assert run.effects[0].detail == {"from": "PRE_USE", "to": "ACTIVE"}
    catalog.bpl.execute(admin, subscriber, task, {"state": "SUSPENDED"})
    assert catalog.wallets.get_wallet(admin, wallet).wallet.state is WalletState.SUSPENDED
    _refused(lambda: catalog.bpl.execute(admin, subscriber, task, {"state": "PRE_USE"}),
             ProblemKind.INVALID_STATE_TRANSITION, "parameters.state")  # fmt: skip
    # A SUSPENDED wallet may not be charged: the whole run is refused.
    fee = _fee_task(catalog, admin)
    _refused(lambda: catalog.bpl.execute(admin, subscriber, fee, {"amount": 1}),
             ProblemKind.NOT_ALLOWED_IN_STATE, "actions[0]")  # fmt: skip


def test_notify_raises_a_bpl_notification_event(catalog: Services, admin: Actor) -> None:
    task = _task(
        catalog, admin, "Welcome",
        (_p("text", "STRING", default="Welcome aboard"),),
        ActionInput("NOTIFY", {"message": {"parameter": "text"}}),
        ActionInput("NOTIFY", {"message": "Second note"}),
    )  # fmt: skip
    subscriber = new_subscriber(catalog, admin)
    first = catalog.bpl.execute(admin, subscriber, task, {})
    catalog.bpl.execute(admin, subscriber, task, {"text": "Hello again"})
    with catalog.engine.connect() as conn:
        rows = conn.execute(
            sa.select(notification_tables.notification_outbox).order_by(
                notification_tables.notification_outbox.c.id
            )
        ).all()
    events = [(r.kind, r.subscriber_id, json.loads(r.params)["message"], r.dedup_key) for r in rows]
    assert events == [
        ("BPL", subscriber, "Welcome aboard", f"bpl:{first.id}:0"),
        ("BPL", subscriber, "Second note", f"bpl:{first.id}:1"),
        ("BPL", subscriber, "Hello again", f"bpl:{first.id + 1}:0"),
        ("BPL", subscriber, "Second note", f"bpl:{first.id + 1}:1"),
    ]
    assert first.effects[0].edr_id is None


def test_a_failing_action_rolls_back_the_whole_run(catalog: Services, admin: Actor) -> None:
    """A grant followed by a charge the wallet cannot pay: the grant goes too."""
    task = _task(
        catalog, admin, "Bundle",
        (_p("price", "MONEY", mandatory=True),),
        ActionInput("GRANT_BUCKET", {"balance_type": "VOICE", "amount": 3600}),
        ActionInput("CHARGE", {"balance_type": "BONUS", "amount": {"parameter": "price"}}),
        ActionInput("NOTIFY", {"message": "Bundle bought"}),
    )  # fmt: skip
    subscriber, _ = _funded(catalog, admin)
    before = ledger_fingerprint(catalog)
    audits = _count(catalog, t.audit_log)
    _refused(lambda: catalog.bpl.execute(admin, subscriber, task, {"price": 500},
                                         "SAVE_AND_EXECUTE"),
             ProblemKind.INSUFFICIENT_BALANCE, "parameters.price")  # fmt: skip
    assert ledger_fingerprint(catalog) == before
    assert _count(catalog, t.audit_log) == audits
    assert _count(catalog, bpl_tables.bpl_runs) == 0
    assert _count(catalog, bpl_tables.bpl_saved_values) == 0
    assert _count(catalog, notification_tables.notification_outbox) == 0


def test_runs_need_the_execute_privilege_and_the_subscribers_provider(
    catalog: Services, admin: Actor
) -> None:
    task = _fee_task(catalog, admin)
    subscriber, _ = _funded(catalog, admin)
    reader = Actor("reader", ROLE_PRIVILEGES[Role.READ_ONLY])
    _refused(lambda: catalog.bpl.execute(reader, subscriber, task, {"amount": 1}),
             ProblemKind.FORBIDDEN, None)  # fmt: skip
    elsewhere = Actor("elsewhere", frozenset(ROLE_PRIVILEGES[Role.ADMIN]),
                      frozenset({OTHER_PROVIDER}))  # fmt: skip
    _refused(lambda: catalog.bpl.execute(elsewhere, subscriber, task, {"amount": 1}),
             ProblemKind.NOT_FOUND, None)  # fmt: skip
    other_task = catalog.bpl.create_task(admin, TaskInput(
        "Other", OTHER_PROVIDER, None, (), (ActionInput("NOTIFY", {"message": "x"}),)
    )).id  # fmt: skip
    _refused(lambda: catalog.bpl.execute(admin, subscriber, other_task, {}),
             ProblemKind.NOT_FOUND, "task_id")  # fmt: skip


def test_a_change_reason_is_required_when_edr_auditing_is_on(
    catalog: Services, admin: Actor
) -> None:
    task = _fee_task(catalog, admin)
    subscriber, wallet = _funded(catalog, admin)
    catalog.operators.set_edr_auditing(admin, True)
    _refused(lambda: catalog.bpl.execute(admin, subscriber, task, {"amount": 5}),
             ProblemKind.CHANGE_REASON_REQUIRED, "change_reason")  # fmt: skip
    run = catalog.bpl.execute(admin.with_reason("goodwill"), subscriber, task, {"amount": 5})
    assert run.effects[0].edr_id is not None
    assert _balance(catalog, admin, wallet, "CASH") == 995


# -- definitions -------------------------------------------------------------------------------


def _define(services: Services, admin: Actor, parameters: tuple[ParameterInput, ...],
            *actions: ActionInput, name: str = "T") -> None:  # fmt: skip
    services.bpl.create_task(admin, TaskInput(name, PROVIDER, None, parameters, actions))


def test_task_definitions_are_checked(catalog: Services, admin: Actor) -> None:
    charge = ActionInput("CHARGE", {"balance_type": "CASH", "amount": {"parameter": "amount"}})
    cases: list[tuple[tuple[ParameterInput, ...], tuple[ActionInput, ...], ProblemKind, str]] = [
        ((_p("amount", "MONEY", True),), (), ProblemKind.MISSING_FIELD, "actions"),
        ((_p("amount", "FLOAT", True),), (charge,), ProblemKind.INVALID_VALUE,
         "parameters[0].type"),
        ((_p("Amount", "MONEY", True),), (charge,), ProblemKind.INVALID_VALUE,
         "parameters[0].name"),
        ((_p("amount", "MONEY", True), _p("amount", "STRING")), (charge,), ProblemKind.DUPLICATE,
         "parameters[1]"),
        ((_p("amount", "CHOICE", True),), (charge,), ProblemKind.INVALID_VALUE,
         "parameters[0].choices"),
        ((_p("amount", "MONEY", True, choices=("1",)),), (charge,), ProblemKind.INVALID_VALUE,
         "parameters[0].choices"),
        ((_p("amount", "MONEY", True, default="abc"),), (charge,), ProblemKind.INVALID_VALUE,
         "parameters[0].default"),
        ((_p("total", "MONEY", True),), (charge,), ProblemKind.UNKNOWN_REFERENCE,
         "actions[0].amount"),
        ((_p("amount", "STRING", True),), (charge,), ProblemKind.INVALID_VALUE,
         "actions[0].amount"),
        # An optional parameter without a default may leave a required input empty.
        ((_p("amount", "MONEY"),), (charge,), ProblemKind.INVALID_VALUE, "actions[0].amount"),
        ((), (ActionInput("CHARGE", {"balance_type": "CASH"}),), ProblemKind.MISSING_FIELD,
         "actions[0].amount"),
        ((), (ActionInput("CHARGE", {"balance_type": "GOLD", "amount": 5}),),
         ProblemKind.UNKNOWN_REFERENCE, "actions[0].balance_type"),
        ((), (ActionInput("CHARGE", {"balance_type": "CASH", "amount": -5}),),
         ProblemKind.INVALID_VALUE, "actions[0].amount"),
        ((), (ActionInput("CHARGE", {"balance_type": "CASH", "amount": 5, "colour": "x"}),),
         ProblemKind.INVALID_VALUE, "actions[0].colour"),
        ((), (ActionInput("CHANGE_WALLET_STATE", {"state": "ASLEEP"}),),
         ProblemKind.INVALID_VALUE, "actions[0].state"),
        ((_p("st", "CHOICE", True, choices=("ACTIVE", "NAP")),),
         (ActionInput("CHANGE_WALLET_STATE", {"state": {"parameter": "st"}}),),
         ProblemKind.INVALID_VALUE, "parameters.st.choices"),
        ((_p("bt", "CHOICE", True, choices=("CASH", "GOLD")),),
         (ActionInput("CHARGE", {"balance_type": {"parameter": "bt"}, "amount": 1}),),
         ProblemKind.UNKNOWN_REFERENCE, "parameters.bt.choices"),
        ((), (ActionInput("GRANT_BUCKET", {"balance_type": "DATA", "amount": 1,
                                           "validity_s": 60, "expires_on": "2027-01-01"}),),
         ProblemKind.INVALID_VALUE, "actions[0].expires_on"),
        ((), (ActionInput("DANCE", {}),), ProblemKind.INVALID_VALUE, "actions[0].kind"),
        ((), (ActionInput("NOTIFY", {"message": {"param": "x"}}),), ProblemKind.INVALID_VALUE,
         "actions[0].message"),
    ]  # fmt: skip
    for parameters, actions, kind, field in cases:
        _refused(lambda p=parameters, a=actions: _define(catalog, admin, p, *a), kind, field)
    assert catalog.bpl.list_tasks(admin) == []
    _define(catalog, admin, (_p("amount", "MONEY", True),), charge, name="Fee")
    _refused(lambda: _define(catalog, admin, (_p("amount", "MONEY", True),), charge, name="Fee"),
             ProblemKind.DUPLICATE, "name")  # fmt: skip


def test_tasks_are_listed_updated_and_deleted_per_provider(catalog: Services, admin: Actor) -> None:
    task = _fee_task(catalog, admin)
    subscriber, _ = _funded(catalog, admin)
    catalog.bpl.execute(admin, subscriber, task, {"amount": 10}, "SAVE_AND_EXECUTE")
    [listed] = catalog.bpl.list_tasks(admin, PROVIDER)
    assert listed.name == "Service fee"
    assert catalog.bpl.list_tasks(admin, OTHER_PROVIDER) == []
    stored = catalog.bpl.get_task(admin, task)
    assert [p.name for p in stored.parameters] == ["amount", "note", "urgent"]
    assert stored.parameters[2].default is False
    renamed = TaskInput(
        "Admin fee", PROVIDER, "Charged on request", (_p("amount", "INTEGER", True),),
        (ActionInput("CHARGE", {"balance_type": "CASH", "amount": {"parameter": "amount"}}),),
    )  # fmt: skip
    updated = catalog.bpl.update_task(admin, task, renamed)
    assert (updated.name, updated.description, updated.created_at) == (
        "Admin fee", "Charged on request", stored.created_at
    )  # fmt: skip
    # Saved values follow the new definition: the dropped parameters are gone.
    assert catalog.bpl.subscriber_task(admin, subscriber, task).values == {"amount": 10}
    moved = TaskInput("Admin fee", OTHER_PROVIDER, None, (), renamed.actions)
    _refused(lambda: catalog.bpl.update_task(admin, task, moved),
             ProblemKind.IMMUTABLE_FIELD, "service_provider")  # fmt: skip
    catalog.bpl.delete_task(admin, task)
    _refused(lambda: catalog.bpl.get_task(admin, task), ProblemKind.NOT_FOUND, None)
    assert _count(catalog, bpl_tables.bpl_saved_values) == 0
    # The run history stays, with the task's name at the time.
    assert [r.task_name for r in catalog.bpl.runs(admin, subscriber)] == ["Service fee"]
