"""Wallet migrations between charging domains (seed 003 "UBE Account Balancing"): the operator's
records and buttons (MigrationService) and the runner that moves the wallets (MigrationRunner).

The runner resolves a migration's selection to wallets once, as item rows, and then works
through the rows: every wallet is moved and counted at most once, however often the run is
paused, restarted or cut short by a crash.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ocs.core.configuration import ConfigKind
from ocs.core.domains import DomainSummary, MoveOutcome
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.migrations import (
    ACTION_ALLOWED_IN,
    ACTION_TARGETS,
    ItemOutcome,
    Migration,
    MigrationAction,
    MigrationFields,
    MigrationItem,
    MigrationState,
    RefreshGroup,
    changed_fields,
    check_action,
    check_editable,
    check_patch_keys,
    compile_report,
    final_state,
    remaining_subscribers,
    states_of_groups,
    validate_fields,
)
from ocs.core.security import Privilege
from ocs.core.wallets import WalletState
from ocs.service.actor import Actor, record_change
from ocs.service.migration_ports import Domains, MigrationRepository, SelectedLink, WalletStates
from ocs.service.ports import Clock, Store, UnitOfWork

LIST_ROWS_MAX = 500
ITEMS_PAGE = 500
LINKS_PAGE = 1000
AUDIT_ENTITY = "domain_migration"
# A run that stopped on failures is retried for these wallets on the next run.
RETRIED_OUTCOMES = frozenset(
    {ItemOutcome.NOT_IN_SOURCE, ItemOutcome.WRONG_STATE, ItemOutcome.OPEN_RESERVATIONS}
)
UNFINISHED = frozenset({ItemOutcome.PENDING, ItemOutcome.MOVING})
MOVE_OUTCOMES: dict[MoveOutcome, ItemOutcome] = {
    MoveOutcome.MOVED: ItemOutcome.MOVED,
    MoveOutcome.SOURCE_NOT_DELETED: ItemOutcome.SOURCE_NOT_DELETED,
    MoveOutcome.NOT_IN_SOURCE: ItemOutcome.NOT_IN_SOURCE,
    MoveOutcome.OPEN_RESERVATIONS: ItemOutcome.OPEN_RESERVATIONS,
}
# Saving an edited migration that stopped restarts it (the manual: "the migration is restarted").
RESTARTED_BY_SAVE = frozenset(
    {MigrationState.INCOMPLETE, MigrationState.FAILED, MigrationState.PAUSED}
)

Sleeper = Callable[[float], None]


@dataclass(frozen=True)
class AccountsSummary:
    """The manual's Accounts Summary screen: the source and the target domain."""

    source: DomainSummary
    target: DomainSummary


class MigrationService:
    def __init__(self, store: Store, clock: Clock, domains: Domains) -> None:
        self._store = store
        self._clock = clock
        self._domains = domains

    # -- records ---------------------------------------------------------------------------

    def create(self, actor: Actor, fields: MigrationFields) -> Migration:
        actor.require(Privilege.CREATE_DELETE)
        actor.require_provider(fields.service_provider)
        checked = validate_fields(fields)
        now = self._clock.now()
        with self._store.transaction() as uow:
            self._check_references(uow, checked)
            migration = Migration(
                id=0,
                fields=checked,
                first_selection=checked.selection,
                state=MigrationState.PENDING,
                created_by=actor.username,
                created_at=now,
                started_at=None,
                ended_at=None,
                wallets_total=0,
                wallets_moved=0,
                report=None,
            )
            migration_id = uow.migrations.insert(migration)
            record_change(
                uow, actor, now, "create", AUDIT_ENTITY, migration_id, _audit_detail(checked)
            )
            return replace(migration, id=migration_id)

    def update(self, actor: Actor, migration_id: int, changes: Mapping[str, object]) -> Migration:
        """Save an edit: only the fields the manual lets change in the migration's state."""
        actor.require(Privilege.MODIFY)
        check_patch_keys(changes)
        now = self._clock.now()
        with self._store.transaction() as uow:
            migration = self._load(uow, actor, migration_id, for_update=True)
            edited = replace(migration.fields, **changes)  # type: ignore[arg-type]
            check_editable(
                changed_fields(migration.fields, edited), migration.state, migration.first_selection
            )
            checked = validate_fields(edited)
            self._check_references(uow, checked)
            uow.migrations.update_fields(migration_id, checked)
            state = migration.state
            if state in RESTARTED_BY_SAVE:
                state = MigrationState.PENDING
                uow.migrations.set_state(migration_id, state)
            record_change(
                uow,
                actor,
                now,
                "update",
                AUDIT_ENTITY,
                migration_id,
                {name: str(value) for name, value in changes.items()},
            )
            return replace(migration, fields=checked, state=state)

    def act(self, actor: Actor, migration_id: int, action: MigrationAction) -> Migration:
        """Priority, Restart, Pause, Hold or Cancel."""
        actor.require(Privilege.EXECUTE if action is MigrationAction.PAUSE else Privilege.MODIFY)
        if action in (MigrationAction.REPORT, MigrationAction.SAVE, MigrationAction.DELETE):
            raise invalid("action", f"{action.value} is not a state change")
        target = ACTION_TARGETS[action]
        now = self._clock.now()
        with self._store.transaction() as uow:
            migration = self._load(uow, actor, migration_id, for_update=True)
            check_action(action, migration.state, migration.report is not None)
            # Conditional: the runner may have ended the migration since it was read.
            if not uow.migrations.set_state(migration_id, target, ACTION_ALLOWED_IN[action]):
                raise DomainError(
                    ProblemKind.CONFLICT, "the migration changed state; refresh and retry", "state"
                )
            updated = replace(migration, state=target)
            if action is MigrationAction.CANCEL:
                items = _all_items(uow, migration_id)
                updated = replace(updated, ended_at=now)
                updated = replace(updated, report=compile_report(updated, items))
                assert updated.report is not None
                uow.migrations.finish(migration_id, None, now, updated.report)
            record_change(
                uow, actor, now, action.value, AUDIT_ENTITY, migration_id, {"state": target.value}
            )
            return updated

    def delete(self, actor: Actor, migration_id: int) -> None:
        actor.require(Privilege.CREATE_DELETE)
        now = self._clock.now()
        with self._store.transaction() as uow:
            migration = self._load(uow, actor, migration_id, for_update=True)
            check_action(MigrationAction.DELETE, migration.state, migration.report is not None)
            uow.migrations.delete(migration_id)
            record_change(uow, actor, now, "delete", AUDIT_ENTITY, migration_id, {})

    def get(self, actor: Actor, migration_id: int) -> Migration:
        actor.require(Privilege.READ)
        with self._store.transaction() as uow:
            return self._load(uow, actor, migration_id)

    def search(self, actor: Actor, groups: Iterable[RefreshGroup]) -> list[Migration]:
        """The Refresh button: migrations in the states of the ticked groups, newest first."""
        actor.require(Privilege.READ)
        states = states_of_groups(groups)
        with self._store.transaction() as uow:
            return uow.migrations.list_migrations(states, actor.service_providers, LIST_ROWS_MAX)

    def report(self, actor: Actor, migration_id: int) -> str:
        migration = self.get(actor, migration_id)
        check_action(MigrationAction.REPORT, migration.state, migration.report is not None)
        assert migration.report is not None
        return migration.report

    def remaining_subscribers(self, actor: Actor, migration_id: int) -> list[str]:
        """Subscriber numbers not migrated, for the "save remaining subscribers" file."""
        actor.require(Privilege.READ)
        with self._store.transaction() as uow:
            self._load(uow, actor, migration_id)
            return remaining_subscribers(_all_items(uow, migration_id))

    def items(self, actor: Actor, migration_id: int) -> list[MigrationItem]:
        actor.require(Privilege.READ)
        with self._store.transaction() as uow:
            self._load(uow, actor, migration_id)
            return _all_items(uow, migration_id)

    def check_accounts(self, actor: Actor, source: str, target: str) -> AccountsSummary:
        """The Check Accounts button: wallets per state and subscribers per product type."""
        actor.require(Privilege.READ)
        for name, field in ((source, "source_domain"), (target, "target_domain")):
            self._check_domain(name, field)
        return AccountsSummary(self._domains.summary(source), self._domains.summary(target))

    # -- helpers ---------------------------------------------------------------------------

    def _load(
        self, uow: UnitOfWork, actor: Actor, migration_id: int, for_update: bool = False
    ) -> Migration:
        migration = uow.migrations.get(migration_id, for_update)
        if migration is None or not actor.may_use_provider(migration.fields.service_provider):
            raise not_found("migration", migration_id)
        return migration

    def _check_domain(self, name: str, field: str) -> None:
        names = self._domains.names()
        if name not in names:
            raise invalid(
                field, f"domain {name!r} is not configured (configured: {', '.join(names)})"
            )

    def _check_references(self, uow: UnitOfWork, fields: MigrationFields) -> None:
        self._check_domain(fields.source_domain, "source_domain")
        self._check_domain(fields.target_domain, "target_domain")
        repo = uow.migrations
        for name in ("account_batch_id", "batch_id"):
            batch = getattr(fields, name)
            if batch is not None and not repo.batch_exists(batch):
                raise DomainError(
                    ProblemKind.UNKNOWN_REFERENCE, f"subscriber batch {batch} does not exist", name
                )
        if fields.product_type is not None and (
            uow.config.get(ConfigKind.PRODUCT_TYPE, fields.product_type) is None
        ):
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"product type {fields.product_type!r} does not exist",
                "product_type",
            )


def _audit_detail(fields: MigrationFields) -> dict[str, object]:
    return {
        "source_domain": fields.source_domain,
        "target_domain": fields.target_domain,
        "selection": fields.selection.value,
    }


def _all_items(uow: UnitOfWork, migration_id: int) -> list[MigrationItem]:
    repo = uow.migrations
    result: list[MigrationItem] = []
    after = 0
    while True:
        page = repo.items(migration_id, None, after, ITEMS_PAGE)
        result += [item for _, item in page]
        if len(page) < ITEMS_PAGE:
            return result
        after = page[-1][0]


class StoreWalletStates:
    """Wallet states read through the store (routed to the wallet's domain)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def state_of(self, wallet_id: int) -> WalletState | None:
        with self._store.transaction() as uow:
            wallet = uow.wallets.get_wallet(wallet_id)
            return None if wallet is None else wallet.state


Progress = Callable[[Migration], None]


class MigrationRunner:
    """Runs migrations one at a time: N before P, then in creation order."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        domains: Domains,
        wallet_states: WalletStates,
        sleeper: Sleeper = time.sleep,
    ) -> None:
        self._store = store
        self._clock = clock
        self._domains = domains
        self._wallet_states = wallet_states
        self._sleep = sleeper

    def resume_running(self, progress: Progress | None = None) -> list[Migration]:
        """Finish migrations a stopped process left running (at start-up)."""
        with self._store.reading() as uow:
            ids = uow.migrations.ids_in_state(MigrationState.RUNNING)
        return [self._run(migration_id, fresh=False, progress=progress) for migration_id in ids]

    def run_next(self, progress: Progress | None = None) -> Migration | None:
        claimed = self._claim()
        return None if claimed is None else self._run(claimed, fresh=True, progress=progress)

    def run_pending(
        self, progress: Progress | None = None, runs_max: int = 10_000
    ) -> list[Migration]:
        done: list[Migration] = []
        for _ in range(runs_max):
            ran = self.run_next(progress)
            if ran is None:
                break
            done.append(ran)
        return done

    def _claim(self) -> int | None:
        # Looked for first without the write lock: the runner polls every few seconds.
        with self._store.reading() as uow:
            if uow.migrations.next_to_run() is None:
                return None
        with self._store.transaction() as uow:
            migration = uow.migrations.next_to_run()
            if migration is None:
                return None
            if not uow.migrations.set_state(
                migration.id,
                MigrationState.RUNNING,
                frozenset({MigrationState.PRIORITY, MigrationState.PENDING}),
            ):
                return None
            uow.migrations.start(migration.id, self._clock.now())
            return migration.id

    def _run(self, migration_id: int, fresh: bool, progress: Progress | None) -> Migration:
        migration = self._prepare(migration_id, fresh)
        with self._store.transaction() as uow:
            total, moved = self._count(uow, migration_id)
        run = _Run(self, migration, progress, total, moved)
        run.work()
        return self._finish(migration_id, run.max_reached)

    def _prepare(self, migration_id: int, fresh: bool) -> Migration:
        with self._store.transaction() as uow:
            migration = uow.migrations.get(migration_id)
            if migration is None:
                raise not_found("migration", migration_id)
            if uow.migrations.count_items(migration_id) == 0:
                self._resolve(uow, migration)
            elif fresh:
                uow.migrations.reset_items(migration_id, RETRIED_OUTCOMES)
            self._count(uow, migration_id)
            return migration

    def _resolve(self, uow: UnitOfWork, migration: Migration) -> None:
        """The selection as item rows: each wallet once, named by its first subscriber."""
        repo = uow.migrations
        seen: set[int] = set()
        seq = 1
        for links in self._link_pages(repo, migration):
            fresh = [link for link in links if link.wallet_id not in seen]
            first_links: dict[int, SelectedLink] = {}
            for link in fresh:
                first_links.setdefault(link.wallet_id, link)
            linked = repo.wallet_subscribers(list(first_links))
            items = [
                MigrationItem(
                    wallet_id=link.wallet_id,
                    subscriber=link.subscriber,
                    wallet_type=link.wallet_type,
                    shared_subscribers=tuple(
                        n for n in linked.get(link.wallet_id, []) if n != link.subscriber
                    ),
                    outcome=ItemOutcome.PENDING,
                )
                for link in first_links.values()
            ]
            repo.insert_items(migration.id, seq, items)
            seq += len(items)
            seen.update(first_links)

    def _link_pages(
        self, repo: MigrationRepository, migration: Migration
    ) -> Iterable[list[SelectedLink]]:
        fields = migration.fields
        if fields.input_numbers:
            numbers = fields.input_numbers
            for start in range(0, len(numbers), LINKS_PAGE):
                yield repo.links_of_numbers(
                    fields.service_provider, numbers[start : start + LINKS_PAGE]
                )
            return
        after = 0
        while True:
            page: list[SelectedLink] = repo.selected_links(migration, after, LINKS_PAGE)
            if len(page) < LINKS_PAGE:
                yield page
                return
            # A page may end between a subscriber's two links: leave that subscriber for the
            # next page.
            last = page[-1].subscriber_pk
            whole = [link for link in page if link.subscriber_pk != last]
            yield whole
            after = whole[-1].subscriber_pk if whole else last

    def _count(self, uow: UnitOfWork, migration_id: int) -> tuple[int, int]:
        counts = uow.migrations.item_counts(migration_id)
        total = sum(counts.values())
        moved = counts.get(ItemOutcome.MOVED, 0) + counts.get(ItemOutcome.SOURCE_NOT_DELETED, 0)
        uow.migrations.set_progress(migration_id, total, moved)
        return total, moved

    def _finish(self, migration_id: int, max_reached: bool) -> Migration:
        now = self._clock.now()
        with self._store.transaction() as uow:
            migration = uow.migrations.get(migration_id, for_update=True)
            if migration is None:  # deleted while it ran (only possible once it stopped)
                raise not_found("migration", migration_id)
            total, moved = self._count(uow, migration_id)
            counts = uow.migrations.item_counts(migration_id)
            pending = sum(counts.get(o, 0) for o in UNFINISHED)
            state = migration.state
            if state is MigrationState.RUNNING:
                state = final_state(total, moved, pending, max_reached)
            ended = replace(
                migration, state=state, ended_at=now, wallets_total=total, wallets_moved=moved
            )
            report = compile_report(ended, _all_items(uow, migration_id))
            uow.migrations.finish(migration_id, state, now, report)
            return replace(ended, report=report)


class _Run:
    """One pass over a migration's unfinished wallets."""

    def __init__(
        self,
        runner: MigrationRunner,
        migration: Migration,
        progress: Progress | None,
        total: int,
        moved: int,
    ) -> None:
        self.r = runner
        self.total = total
        self.moved = moved
        self.migration = migration
        self.fields = migration.fields
        self.progress = progress
        self.moves_sent = 0
        self.max_reached = False
        self.last_move_at: datetime | None = None

    def work(self) -> None:
        after = 0
        while True:
            with self.r._store.transaction() as uow:
                page = uow.migrations.items(self.migration.id, UNFINISHED, after, ITEMS_PAGE)
            for seq, item in page:
                if not self._still_running():
                    return
                if not self._one(seq, item):
                    return
            if len(page) < ITEMS_PAGE:
                return
            after = page[-1][0]

    def _still_running(self) -> bool:
        with self.r._store.transaction() as uow:
            current = uow.migrations.get(self.migration.id)
        return current is not None and current.state is MigrationState.RUNNING

    def _one(self, seq: int, item: MigrationItem) -> bool:
        """Handle one wallet; False when the maximum stops the run before it."""
        domains, fields = self.r._domains, self.fields
        where = domains.domain_of(item.wallet_id)
        if item.outcome is ItemOutcome.MOVING and where == fields.target_domain:
            # The process stopped after asking for the move: the move happened.
            self._record(seq, ItemOutcome.MOVED, "")
            return True
        if where != fields.source_domain:
            self._record(seq, ItemOutcome.NOT_IN_SOURCE, f"in {where or 'no domain'}")
            return True
        state = self.r._wallet_states.state_of(item.wallet_id)
        if state not in fields.wallet_states:
            self._record(seq, ItemOutcome.WRONG_STATE, f"wallet state {state}")
            return True
        if fields.max_wallets is not None and self.moves_sent >= fields.max_wallets:
            self.max_reached = True
            return False
        self._throttle()
        self._record(seq, ItemOutcome.MOVING, "")
        move = domains.move_wallet(item.wallet_id, fields.source_domain, fields.target_domain)
        self.moves_sent += 1
        self._record(seq, MOVE_OUTCOMES[move.outcome], move.detail)
        return True

    def _throttle(self) -> None:
        """Space the move requests so no second holds more than the throttle."""
        throttle = self.fields.throttle_per_s
        now = self.r._clock.now()
        if throttle is not None and self.last_move_at is not None:
            # Rounded up to the microsecond: `throttle` intervals never fit in under a second.
            due = self.last_move_at + timedelta(microseconds=-(-1_000_000 // throttle))
            if now < due:
                self.r._sleep((due - now).total_seconds())
                now = self.r._clock.now()
        self.last_move_at = now

    def _record(self, seq: int, outcome: ItemOutcome, detail: str) -> None:
        with self.r._store.transaction() as uow:
            uow.migrations.set_item_outcome(self.migration.id, seq, outcome, detail)
            if outcome.migrated:
                self.moved += 1
                uow.migrations.set_progress(self.migration.id, self.total, self.moved)
        if outcome.done and self.progress is not None:
            self.progress(
                replace(self.migration, wallets_total=self.total, wallets_moved=self.moved)
            )


__all__ = [
    "AccountsSummary",
    "MigrationRunner",
    "MigrationService",
    "StoreWalletStates",
]
