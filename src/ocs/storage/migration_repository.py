"""Storage of wallet migrations and the selection queries that resolve them to wallets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import ColumnElement

from ocs.core.migrations import (
    WALLET_STATE_LETTERS,
    ItemOutcome,
    Migration,
    MigrationFields,
    MigrationItem,
    MigrationState,
    SelectionKind,
)
from ocs.core.wallets import WalletState, WalletType
from ocs.service.migration_ports import SelectedLink
from ocs.storage import tables as t
from ocs.storage.batch_tables import batch_subscribers, subscriber_batches
from ocs.storage.migration_tables import migration_items, migrations

IN_LIST_MAX = 500
_LETTER_STATES = {letter: state for state, letter in WALLET_STATE_LETTERS.items()}


def _field_values(fields: MigrationFields) -> dict[str, Any]:
    return {
        "service_provider": fields.service_provider,
        "source_domain": fields.source_domain,
        "target_domain": fields.target_domain,
        "selection": fields.selection.value,
        "wallet_states": "".join(
            letter
            for state, letter in WALLET_STATE_LETTERS.items()
            if state in fields.wallet_states
        ),
        "range_start": fields.range_start,
        "range_end": fields.range_end,
        "account_batch_id": fields.account_batch_id,
        "input_filename": fields.input_filename,
        "input_numbers": "\n".join(fields.input_numbers) if fields.input_numbers else None,
        "product_type": fields.product_type,
        "batch_id": fields.batch_id,
        "max_wallets": fields.max_wallets,
        "throttle_per_s": fields.throttle_per_s,
        "remaining_filename": fields.remaining_filename,
    }


def _migration(row: Row[Any]) -> Migration:
    m = row._mapping
    fields = MigrationFields(
        service_provider=m["service_provider"],
        source_domain=m["source_domain"],
        target_domain=m["target_domain"],
        selection=SelectionKind(m["selection"]),
        wallet_states=frozenset(_LETTER_STATES[letter] for letter in m["wallet_states"]),
        range_start=m["range_start"],
        range_end=m["range_end"],
        account_batch_id=m["account_batch_id"],
        input_filename=m["input_filename"],
        input_numbers=tuple(m["input_numbers"].split("\n")) if m["input_numbers"] else (),
        product_type=m["product_type"],
        batch_id=m["batch_id"],
        max_wallets=m["max_wallets"],
        throttle_per_s=m["throttle_per_s"],
        remaining_filename=m["remaining_filename"],
    )
    return Migration(
        id=m["id"],
        fields=fields,
        first_selection=SelectionKind(m["first_selection"]),
        state=MigrationState(m["state"]),
        created_by=m["created_by"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        wallets_total=m["wallets_total"],
        wallets_moved=m["wallets_moved"],
        report=m["report"],
    )


def _item(row: Row[Any]) -> tuple[int, MigrationItem]:
    m = row._mapping
    shared = tuple(m["shared_subscribers"].split()) if m["shared_subscribers"] else ()
    return m["seq"], MigrationItem(
        wallet_id=m["wallet_id"],
        subscriber=m["subscriber"],
        wallet_type=WalletType(m["wallet_type"]),
        shared_subscribers=shared,
        outcome=ItemOutcome(m["outcome"]),
        detail=m["detail"],
    )


class SqlMigrationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, migration: Migration) -> int:
        values = _field_values(migration.fields) | {
            "first_selection": migration.first_selection.value,
            "state": migration.state.value,
            "created_by": migration.created_by,
            "created_at": migration.created_at,
            "started_at": migration.started_at,
            "ended_at": migration.ended_at,
            "wallets_total": migration.wallets_total,
            "wallets_moved": migration.wallets_moved,
            "report": migration.report,
        }
        result = self._conn.execute(insert(migrations).values(**values).returning(migrations.c.id))
        return int(result.scalar_one())

    def get(self, migration_id: int, for_update: bool = False) -> Migration | None:
        query = select(migrations).where(migrations.c.id == migration_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return _migration(row) if row else None

    def list_migrations(
        self, states: frozenset[MigrationState], providers: frozenset[str] | None, limit: int
    ) -> list[Migration]:
        query = select(migrations).where(migrations.c.state.in_([s.value for s in states]))
        if providers is not None:
            query = query.where(migrations.c.service_provider.in_(sorted(providers)))
        rows = self._conn.execute(query.order_by(migrations.c.id.desc()).limit(limit))
        return [_migration(row) for row in rows]

    def update_fields(self, migration_id: int, fields: MigrationFields) -> None:
        self._conn.execute(
            update(migrations)
            .where(migrations.c.id == migration_id)
            .values(**_field_values(fields))
        )

    def set_state(
        self,
        migration_id: int,
        state: MigrationState,
        only_from: frozenset[MigrationState] | None = None,
    ) -> bool:
        query = update(migrations).where(migrations.c.id == migration_id)
        if only_from is not None:
            query = query.where(migrations.c.state.in_([s.value for s in only_from]))
        return self._conn.execute(query.values(state=state.value)).rowcount == 1

    def next_to_run(self) -> Migration | None:
        runnable = (MigrationState.PRIORITY.value, MigrationState.PENDING.value)
        order = case((migrations.c.state == MigrationState.PRIORITY.value, 0), else_=1)
        row = self._conn.execute(
            select(migrations)
            .where(migrations.c.state.in_(runnable))
            .order_by(order, migrations.c.created_at, migrations.c.id)
            .limit(1)
        ).first()
        return _migration(row) if row else None

    def ids_in_state(self, state: MigrationState) -> list[int]:
        rows = self._conn.execute(
            select(migrations.c.id).where(migrations.c.state == state.value).order_by("id")
        )
        return [int(r[0]) for r in rows]

    def start(self, migration_id: int, at: Any) -> None:
        self._conn.execute(
            update(migrations)
            .where(migrations.c.id == migration_id)
            .values(state=MigrationState.RUNNING.value, started_at=at, ended_at=None)
        )

    def finish(self, migration_id: int, state: MigrationState | None, at: Any, report: str) -> None:
        values: dict[str, Any] = {"ended_at": at, "report": report}
        if state is not None:
            values["state"] = state.value
        self._conn.execute(
            update(migrations).where(migrations.c.id == migration_id).values(**values)
        )

    def set_progress(self, migration_id: int, total: int, moved: int) -> None:
        self._conn.execute(
            update(migrations)
            .where(migrations.c.id == migration_id)
            .values(wallets_total=total, wallets_moved=moved)
        )

    def delete(self, migration_id: int) -> None:
        self._conn.execute(
            delete(migration_items).where(migration_items.c.migration_id == migration_id)
        )
        self._conn.execute(delete(migrations).where(migrations.c.id == migration_id))

    def count_items(self, migration_id: int) -> int:
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(migration_items)
                .where(migration_items.c.migration_id == migration_id)
            ).scalar_one()
        )

    def insert_items(
        self, migration_id: int, first_seq: int, items: Sequence[MigrationItem]
    ) -> None:
        if not items:
            return
        self._conn.execute(
            insert(migration_items),
            [
                {
                    "migration_id": migration_id,
                    "seq": first_seq + i,
                    "wallet_id": item.wallet_id,
                    "subscriber": item.subscriber,
                    "wallet_type": item.wallet_type.value,
                    "shared_subscribers": " ".join(item.shared_subscribers),
                    "outcome": item.outcome.value,
                    "detail": item.detail[:500],
                }
                for i, item in enumerate(items)
            ],
        )

    def items(
        self,
        migration_id: int,
        outcomes: frozenset[ItemOutcome] | None,
        after_seq: int,
        limit: int,
    ) -> list[tuple[int, MigrationItem]]:
        query = select(migration_items).where(
            migration_items.c.migration_id == migration_id, migration_items.c.seq > after_seq
        )
        if outcomes is not None:
            query = query.where(migration_items.c.outcome.in_([o.value for o in outcomes]))
        rows = self._conn.execute(query.order_by(migration_items.c.seq).limit(limit))
        return [_item(row) for row in rows]

    def set_item_outcome(
        self, migration_id: int, seq: int, outcome: ItemOutcome, detail: str
    ) -> None:
        self._conn.execute(
            update(migration_items)
            .where(migration_items.c.migration_id == migration_id, migration_items.c.seq == seq)
            .values(outcome=outcome.value, detail=detail[:500])
        )

    def reset_items(self, migration_id: int, outcomes: frozenset[ItemOutcome]) -> int:
        result = self._conn.execute(
            update(migration_items)
            .where(
                migration_items.c.migration_id == migration_id,
                migration_items.c.outcome.in_([o.value for o in outcomes]),
            )
            .values(outcome=ItemOutcome.PENDING.value, detail="")
        )
        return int(result.rowcount)

    def item_counts(self, migration_id: int) -> dict[ItemOutcome, int]:
        rows = self._conn.execute(
            select(migration_items.c.outcome, func.count())
            .where(migration_items.c.migration_id == migration_id)
            .group_by(migration_items.c.outcome)
        )
        return {ItemOutcome(outcome): int(count) for outcome, count in rows}

    def selected_links(
        self, migration: Migration, after_subscriber_pk: int, limit: int
    ) -> list[SelectedLink]:
        s, link = t.subscribers, t.wallet_links
        query = (
            select(s.c.id, s.c.subscriber_id, link.c.wallet_type, link.c.wallet_id)
            .join(link, link.c.subscriber_id == s.c.id)
            .where(
                s.c.service_provider == migration.fields.service_provider,
                s.c.id > after_subscriber_pk,
                self._selection(migration.fields),
            )
            .order_by(s.c.id, link.c.wallet_type)
            .limit(limit)
        )
        return [
            SelectedLink(int(pk), number, WalletType(wallet_type), int(wallet_id))
            for pk, number, wallet_type, wallet_id in self._conn.execute(query)
        ]

    def _selection(self, fields: MigrationFields) -> ColumnElement[bool]:
        s = t.subscribers
        if fields.selection is SelectionKind.RANGE:
            assert fields.range_start is not None
            assert fields.range_end is not None
            # Same digit count: then text order is number order (and "0123" is not "123").
            return and_(
                func.length(s.c.subscriber_id) == len(fields.range_start),
                s.c.subscriber_id >= fields.range_start,
                s.c.subscriber_id <= fields.range_end,
            )
        if fields.selection is SelectionKind.BATCH:
            members = select(batch_subscribers.c.subscriber_id).where(
                batch_subscribers.c.batch_id == fields.account_batch_id
            )
            return s.c.id.in_(members)
        if fields.selection is SelectionKind.INPUT_FILE:
            raise ValueError("an input file is resolved with links_of_numbers, in chunks")
        linked = (
            select(t.wallet_links.c.subscriber_id)
            .join(t.wallets, t.wallets.c.id == t.wallet_links.c.wallet_id)
            .where(t.wallets.c.product_type == fields.product_type)
        )
        return s.c.id.in_(linked)

    def links_of_numbers(self, provider: str, numbers: Sequence[str]) -> list[SelectedLink]:
        s, link = t.subscribers, t.wallet_links
        result: list[SelectedLink] = []
        for start in range(0, len(numbers), IN_LIST_MAX):
            chunk = sorted(set(numbers[start : start + IN_LIST_MAX]))
            query = (
                select(s.c.id, s.c.subscriber_id, link.c.wallet_type, link.c.wallet_id)
                .join(link, link.c.subscriber_id == s.c.id)
                .where(s.c.service_provider == provider, s.c.subscriber_id.in_(chunk))
                .order_by(s.c.id, link.c.wallet_type)
            )
            result += [
                SelectedLink(int(pk), number, WalletType(wallet_type), int(wallet_id))
                for pk, number, wallet_type, wallet_id in self._conn.execute(query)
            ]
        return result

    def wallet_subscribers(self, wallet_ids: Sequence[int]) -> dict[int, list[str]]:
        result: dict[int, list[str]] = {}
        ids = sorted(set(wallet_ids))
        for start in range(0, len(ids), IN_LIST_MAX):
            rows = self._conn.execute(
                select(t.wallet_links.c.wallet_id, t.subscribers.c.subscriber_id)
                .join(t.subscribers, t.subscribers.c.id == t.wallet_links.c.subscriber_id)
                .where(t.wallet_links.c.wallet_id.in_(ids[start : start + IN_LIST_MAX]))
                .order_by(t.wallet_links.c.wallet_id, t.subscribers.c.id)
            )
            for wallet_id, number in rows:
                result.setdefault(int(wallet_id), []).append(number)
        return result

    def batch_exists(self, batch_id: int) -> bool:
        row = self._conn.execute(
            select(subscriber_batches.c.id).where(subscriber_batches.c.id == batch_id)
        ).first()
        return row is not None


def wallet_state_of_letter(letter: str) -> WalletState:
    return _LETTER_STATES[letter]
