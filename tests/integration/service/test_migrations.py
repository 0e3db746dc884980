"""Wallet migrations between charging domains, run on the lead's DomainService with the
default domain (SQLite and PostgreSQL), "east" (SQLite) and "west" (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ocs.bootstrap import Services
from ocs.core.domains import WalletMove
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.migrations import (
    ItemOutcome,
    MigrationAction,
    MigrationFields,
    MigrationState,
    RefreshGroup,
    SelectionKind,
)
from ocs.core.wallets import WalletState
from ocs.service.actor import Actor
from ocs.service.domains import DomainService
from ocs.service.migrations import MigrationRunner, StoreWalletStates
from tests.support.catalog import PROVIDER
from tests.support.clock import FakeClock
from tests.support.locks import run_beside, writer_holding_the_database
from tests.support.wallets import load_wallet_catalog, new_subscriber, wallet_of

ALL_STATES = frozenset(WalletState)


class RecordingDomains:
    """The real DomainService, noting when each move was asked for (to check the throttle)."""

    def __init__(self, inner: DomainService, clock: FakeClock) -> None:
        self.inner = inner
        self.clock = clock
        self.moved_at: list[datetime] = []

    def names(self) -> list[str]:
        return self.inner.names()

    def domain_of(self, wallet_id: int) -> str | None:
        return self.inner.domain_of(wallet_id)

    def move_wallet(self, wallet_id: int, source: str, target: str) -> WalletMove:
        self.moved_at.append(self.clock.now())
        return self.inner.move_wallet(wallet_id, source, target)

    def summary(self, domain: str):  # type: ignore[no-untyped-def]
        return self.inner.summary(domain)


def _subscribers(services: Services, admin: Actor, count: int) -> list[tuple[str, int, int]]:
    """(number, subscriber id, primary wallet id) of new subscribers, each topped up."""
    result = []
    for i in range(count):
        sid = new_subscriber(services, admin)
        wallet = wallet_of(services, admin, sid)
        services.wallets.top_up(admin, wallet, "CASH", 100 + i)
        number = services.casm.get_subscriber(admin, sid).subscriber.subscriber_id
        result.append((number, sid, wallet))
    return result


def _fields(numbers: list[str], **kw: object) -> MigrationFields:
    values: dict[str, object] = {
        "service_provider": PROVIDER,
        "source_domain": "default",
        "target_domain": "east",
        "selection": SelectionKind.INPUT_FILE,
        "wallet_states": ALL_STATES,
        "input_filename": "subs.txt",
        "input_numbers": tuple(numbers),
    }
    values.update(kw)
    return MigrationFields(**values)  # type: ignore[arg-type]


def _cash(services: Services, admin: Actor, wallet_id: int) -> int:
    view = services.wallets.get_wallet(admin, wallet_id)
    return sum(b.total_value for b in view.balances if b.balance_type == "CASH")


@pytest.fixture
def svc(domain_services: Services, admin: Actor) -> Services:
    load_wallet_catalog(domain_services, admin)
    return domain_services


def test_a_range_migration_moves_every_wallet_and_reports_it(svc: Services, admin: Actor) -> None:
    subs = _subscribers(svc, admin, 3)
    before = {w: _cash(svc, admin, w) for _, _, w in subs}
    numbers = sorted(n for n, _, _ in subs)
    fields = _fields([], selection=SelectionKind.RANGE, range_start=numbers[0],
                     range_end=numbers[-1], input_numbers=(), input_filename=None)  # fmt: skip
    migration = svc.migrations.create(admin, fields)
    assert migration.state is MigrationState.PENDING

    done = svc.migration_runner.run_next()

    assert done is not None
    assert done.state is MigrationState.MIGRATED
    for _, _, wallet in subs:
        assert svc.domains.domain_of(wallet) == "east"
        assert _cash(svc, admin, wallet) == before[wallet]
    report = svc.migrations.report(admin, migration.id)
    assert "State: Migrated" in report
    assert "Migrations Completed: 3/3 (100%)" in report
    assert "Subscribers Not Migrated:\nNone" in report
    assert svc.migration_runner.run_next() is None
    listed = svc.migrations.search(admin, [RefreshGroup.COMPLETE])
    assert [m.id for m in listed] == [migration.id]
    assert svc.migrations.search(admin, [RefreshGroup.RUNNING]) == []


def test_wrong_state_and_not_in_source_are_reported_and_a_restart_retries_them(
    svc: Services, admin: Actor
) -> None:
    (n1, _, w1), (n2, _, w2), (n3, _, w3) = _subscribers(svc, admin, 3)
    svc.wallets.change_state(admin, w2, "ACTIVE")
    svc.wallets.change_state(admin, w2, "SUSPENDED")
    svc.domains.move_wallet(w3, "default", "west")
    allowed = frozenset({WalletState.PRE_USE, WalletState.ACTIVE})
    migration = svc.migrations.create(admin, _fields([n1, n2, n3], wallet_states=allowed))

    done = svc.migration_runner.run_next()

    assert done is not None
    assert done.state is MigrationState.FAILED
    report = svc.migrations.report(admin, migration.id)
    assert f"{n2} Primary: Wrong state" in report
    assert f"{n3} Primary: Doesn't exist in source domain" in report
    assert "Migrations Completed: 1/3 (33%)" in report
    assert "Allowed Wallet States: PA" in report
    assert svc.migrations.remaining_subscribers(admin, migration.id) == [n2, n3]

    svc.wallets.change_state(admin, w2, "ACTIVE")
    svc.migrations.act(admin, migration.id, MigrationAction.RESTART)
    again = svc.migration_runner.run_next()

    assert again is not None
    assert again.state is MigrationState.FAILED
    assert (again.wallets_moved, again.wallets_total) == (2, 3)
    assert svc.domains.domain_of(w1) == "east"
    assert svc.domains.domain_of(w2) == "east"
    assert svc.domains.domain_of(w3) == "west"
    assert svc.migrations.remaining_subscribers(admin, migration.id) == [n3]


def test_maximum_wallets_stops_incomplete_and_a_restart_continues(
    svc: Services, admin: Actor
) -> None:
    subs = _subscribers(svc, admin, 5)
    migration = svc.migrations.create(admin, _fields([n for n, _, _ in subs], max_wallets=2))

    first = svc.migration_runner.run_next()

    assert first is not None
    assert first.state is MigrationState.INCOMPLETE
    assert (first.wallets_moved, first.wallets_total) == (2, 5)
    assert [svc.domains.domain_of(w) for _, _, w in subs].count("east") == 2
    # The maximum may change in I; the restart continues where the run stopped.
    svc.migrations.update(admin, migration.id, {"max_wallets": 10})
    assert svc.migrations.get(admin, migration.id).state is MigrationState.PENDING
    second = svc.migration_runner.run_next()
    assert second is not None
    assert second.state is MigrationState.MIGRATED
    assert (second.wallets_moved, second.wallets_total) == (5, 5)
    assert all(svc.domains.domain_of(w) == "east" for _, _, w in subs)


def test_throttle_is_never_exceeded(svc: Services, admin: Actor, clock: FakeClock) -> None:
    subs = _subscribers(svc, admin, 7)
    recording = RecordingDomains(svc.domains, clock)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    runner = MigrationRunner(svc.store, clock, recording, StoreWalletStates(svc.store), sleep)
    svc.migrations.create(admin, _fields([n for n, _, _ in subs], throttle_per_s=3))

    done = runner.run_next()

    assert done is not None
    assert done.state is MigrationState.MIGRATED
    times = recording.moved_at
    assert len(times) == 7
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t < start + timedelta(seconds=1)]
        assert len(in_window) <= 3
    assert times[-1] - times[0] >= timedelta(seconds=2)
    assert slept


def test_shared_and_secondary_wallets_move_once_and_name_the_other_subscribers(
    svc: Services, admin: Actor
) -> None:
    (n1, _, w1), (n2, s2, w2) = _subscribers(svc, admin, 2)
    reference = svc.wallets.get_wallet(admin, w1).wallet.reference
    svc.wallets.link_wallet(admin, s2, "SECONDARY", reference)
    migration = svc.migrations.create(admin, _fields([n1, n2]))

    done = svc.migration_runner.run_next()

    assert done is not None
    assert done.state is MigrationState.MIGRATED
    items = svc.migrations.items(admin, migration.id)
    assert sorted(i.wallet_id for i in items) == sorted([w1, w2])
    shared = next(i for i in items if i.wallet_id == w1)
    assert shared.shared_subscribers == (n2,)
    assert f"{n2} (wallet {w1} with {n1})" in svc.migrations.report(admin, migration.id)
    assert svc.domains.domain_of(w1) == svc.domains.domain_of(w2) == "east"


def test_a_migration_from_a_sqlite_domain_to_a_postgresql_domain(
    svc: Services, admin: Actor
) -> None:
    subs = _subscribers(svc, admin, 2)
    for _, _, wallet in subs:
        svc.domains.move_wallet(wallet, "default", "east")
    before = {w: _cash(svc, admin, w) for _, _, w in subs}
    svc.migrations.create(
        admin, _fields([n for n, _, _ in subs], source_domain="east", target_domain="west")
    )

    done = svc.migration_runner.run_next()

    assert done is not None
    assert done.state is MigrationState.MIGRATED
    for _, _, wallet in subs:
        assert svc.domains.domain_of(wallet) == "west"
        assert _cash(svc, admin, wallet) == before[wallet]


def test_pause_between_wallets_then_hold_restart_and_finish(svc: Services, admin: Actor) -> None:
    subs = _subscribers(svc, admin, 4)
    migration = svc.migrations.create(admin, _fields([n for n, _, _ in subs]))
    seen_running: list[int] = []

    def pause_after_first(progress: object) -> None:
        current = svc.migrations.get(admin, migration.id)
        if current.state is MigrationState.RUNNING and not seen_running:
            seen_running.append(current.progress_percent)
            svc.migrations.act(admin, migration.id, MigrationAction.PAUSE)

    paused = svc.migration_runner.run_next(pause_after_first)

    assert paused is not None
    assert paused.state is MigrationState.PAUSED
    assert paused.wallets_moved == 1
    assert paused.report is not None
    assert "State: Paused" in paused.report
    held = svc.migrations.act(admin, migration.id, MigrationAction.HOLD)
    assert held.state is MigrationState.ON_HOLD
    assert svc.migration_runner.run_next() is None  # H does not run
    svc.migrations.act(admin, migration.id, MigrationAction.PRIORITY)
    done = svc.migration_runner.run_next()
    assert done is not None
    assert done.state is MigrationState.MIGRATED
    assert (done.wallets_moved, done.wallets_total) == (4, 4)


def test_priority_runs_first_and_cancel_compiles_a_report(svc: Services, admin: Actor) -> None:
    (n1, _, _), (n2, _, w2) = _subscribers(svc, admin, 2)
    first = svc.migrations.create(admin, _fields([n1]))
    second = svc.migrations.create(admin, _fields([n2]))
    svc.migrations.act(admin, second.id, MigrationAction.PRIORITY)
    cancelled = svc.migrations.act(admin, first.id, MigrationAction.CANCEL)
    assert cancelled.state is MigrationState.CANCELLED
    assert "Migrations Completed: 0/0" in svc.migrations.report(admin, first.id)

    done = svc.migration_runner.run_next()

    assert done is not None
    assert done.id == second.id
    assert svc.domains.domain_of(w2) == "east"
    assert svc.migration_runner.run_next() is None


def test_field_rules_and_buttons_are_enforced(svc: Services, admin: Actor) -> None:
    (n1, _, _), = _subscribers(svc, admin, 1)  # fmt: skip
    migration = svc.migrations.create(admin, _fields([n1]))
    with pytest.raises(DomainError) as err:
        svc.migrations.update(admin, migration.id, {"input_numbers": ("1",)})
    assert err.value.field == "input_numbers"
    with pytest.raises(DomainError) as err:
        svc.migrations.update(admin, migration.id, {"product_type": "PT"})
    assert err.value.field == "product_type"
    with pytest.raises(DomainError) as err:
        svc.migrations.update(admin, migration.id, {"throttle_per_s": 0})
    assert err.value.field == "throttle_per_s"
    with pytest.raises(DomainError) as err:
        svc.migrations.act(admin, migration.id, MigrationAction.PAUSE)
    assert err.value.kind is ProblemKind.NOT_ALLOWED_IN_STATE
    with pytest.raises(DomainError) as err:
        svc.migrations.create(admin, _fields([n1], target_domain="north"))
    assert err.value.field == "target_domain"
    with pytest.raises(DomainError) as err:
        svc.migrations.report(admin, migration.id)
    assert err.value.field == "report"
    updated = svc.migrations.update(admin, migration.id, {"throttle_per_s": 50})
    assert updated.fields.throttle_per_s == 50
    done = svc.migration_runner.run_next()
    assert done is not None
    assert done.state is MigrationState.MIGRATED
    with pytest.raises(DomainError) as err:
        svc.migrations.update(admin, migration.id, {"throttle_per_s": 5})
    assert err.value.kind is ProblemKind.NOT_ALLOWED_IN_STATE
    svc.migrations.delete(admin, migration.id)
    with pytest.raises(DomainError) as err:
        svc.migrations.get(admin, migration.id)
    assert err.value.kind is ProblemKind.NOT_FOUND


def test_check_accounts_counts_both_domains(svc: Services, admin: Actor) -> None:
    subs = _subscribers(svc, admin, 3)
    svc.domains.move_wallet(subs[0][2], "default", "east")
    summary = svc.migrations.check_accounts(admin, "default", "east")
    assert sum(summary.source.wallets_by_state.values()) == 2
    assert sum(summary.target.wallets_by_state.values()) == 1
    assert summary.target.domain == "east"
    with pytest.raises(DomainError) as err:
        svc.migrations.check_accounts(admin, "default", "nowhere")
    assert err.value.field == "target_domain"


def test_a_crash_after_asking_for_a_move_counts_the_wallet_once(
    svc: Services, admin: Actor
) -> None:
    (n1, _, w1), (n2, _, w2) = _subscribers(svc, admin, 2)
    migration = svc.migrations.create(admin, _fields([n1, n2]))
    # What a process killed in the middle of the first wallet leaves behind: R, the items,
    # the first one MOVING and the wallet already in the target.
    with svc.store.transaction() as uow:
        uow.migrations.set_state(migration.id, MigrationState.RUNNING)
    svc.migration_runner._prepare(migration.id, fresh=True)
    with svc.store.transaction() as uow:
        seq, _ = uow.migrations.items(migration.id, None, 0, 1)[0]
        uow.migrations.set_item_outcome(migration.id, seq, ItemOutcome.MOVING, "")
    svc.domains.move_wallet(w1, "default", "east")

    resumed = svc.migration_runner.resume_running()

    assert [m.state for m in resumed] == [MigrationState.MIGRATED]
    assert (resumed[0].wallets_moved, resumed[0].wallets_total) == (2, 2)
    assert svc.domains.domain_of(w1) == svc.domains.domain_of(w2) == "east"


def test_an_idle_runner_does_not_wait_for_a_writer(svc: Services, admin: Actor) -> None:
    ((number, _, wallet),) = _subscribers(svc, admin, 1)
    with writer_holding_the_database(svc):
        assert run_beside(svc.migration_runner.run_pending) == []
        assert run_beside(svc.migration_runner.resume_running) == []
    svc.migrations.create(admin, _fields([number]))
    assert [m.state for m in svc.migration_runner.run_pending()] == [MigrationState.MIGRATED]
    assert svc.domains.domain_of(wallet) == "east"
