"""Storage of subscriber batches, with the bulk writer that creates their subscribers.

The batch record, its ranges and searches go through SQLAlchemy Core. The subscribers do not:
a million of them is eight million rows, so `insert_subscribers` works like the charging hot
path (docs/adr/0003-charging-hot-path.md): fixed INSERT statements run with the driver's own
executemany on the unit of work's connection, rows copied from a template built once per
chunk, ids taken in one block per table and chunk. The template lists every column of each
table; a column this module does not know takes its scalar or server default, and one without
a default stops the batch with a message naming it (rather than writing something the
services would not).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Row

from ocs.core.batches import Batch, BatchState, CardNumbering, NumberRange
from ocs.core.casm import CasmLevel, StateChangeStatus
from ocs.core.edr import EdrType
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.states import EntityState
from ocs.core.wallets import HistoryEvent, WalletState, WalletType, generated_reference
from ocs.service.batch_ports import (
    BatchMember,
    CreatedSubscriber,
    NewSubscriber,
    SubscriberTemplate,
)
from ocs.storage import tables as t
from ocs.storage.batch_tables import batch_ranges, batch_subscribers, subscriber_batches
from ocs.storage.engine import driver_of
from ocs.storage.json_text import detail_text

SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite
IN_LIST_NUMBERS_MAX = 500
TAKEN_CANDIDATES_MAX = 20
# Tables whose integer id the bulk writer allocates, one block per chunk.
ID_TABLES = (t.subscribers, t.resources, t.wallets, t.wallet_history, t.edrs)
_REFERENCE_MARK = "@reference@"


@dataclass(frozen=True)
class _Shape:
    """One table's INSERT with a row template: constants filled in, variable slots None."""

    sql: str
    base: list[Any]
    slots: dict[str, int]


class SqlBatchRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._sqlite = conn.dialect.name == "sqlite"

    # -- the batch record ----------------------------------------------------------------------

    def insert_batch(self, batch: Batch, ranges: Sequence[NumberRange]) -> int:
        values = _batch_values(batch)
        result = self.conn.execute(
            insert(subscriber_batches).values(**values).returning(subscriber_batches.c.id)
        )
        batch_id = int(result.scalar_one())
        rows = [
            {
                "batch_id": batch_id,
                "line": r.line,
                "first": r.number(0),
                "last": r.number(r.count - 1),
            }
            for r in ranges
        ]
        self.conn.execute(insert(batch_ranges), rows)
        return batch_id

    def get_batch(self, batch_id: int, for_update: bool = False) -> Batch | None:
        query = select(subscriber_batches).where(subscriber_batches.c.id == batch_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else _batch(row)

    def list_ranges(self, batch_id: int) -> list[NumberRange]:
        c = batch_ranges.c
        query = select(batch_ranges).where(c.batch_id == batch_id).order_by(c.line)
        return [
            NumberRange(int(r.first), int(r.last), len(r.first), r.line)
            for r in self.conn.execute(query)
        ]

    def search(
        self,
        providers: frozenset[str] | None,
        subscriber_prefix: str,
        state: BatchState | None,
        limit: int,
    ) -> list[Batch]:
        b, r = subscriber_batches.c, batch_ranges.c
        query = select(subscriber_batches)
        if providers is not None:
            query = query.where(b.service_provider.in_(sorted(providers)))
        if state is not None:
            query = query.where(b.state == state.value)
        if subscriber_prefix:
            # The k-digit prefixes of the numbers first..last (same width) are exactly the
            # prefixes from first's to last's, so a range matches without listing numbers.
            k = len(subscriber_prefix)
            matching = (
                select(literal(1))
                .where(r.batch_id == b.id, func.length(r.first) >= k)
                .where(func.substr(r.first, 1, k) <= subscriber_prefix)
                .where(func.substr(r.last, 1, k) >= subscriber_prefix)
            )
            query = query.where(exists(matching))
        query = query.order_by(b.id.desc()).limit(limit)
        return [_batch(row) for row in self.conn.execute(query)]

    def set_state(
        self,
        batch_id: int,
        state: BatchState,
        reason: str | None,
        at: datetime,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"state": state.value, "state_changed_at": at}
        if state is BatchState.ACTIVE:
            values["state_reason"] = reason
        if error is not None:
            values["error"] = error[:500]
        where = subscriber_batches.c.id == batch_id
        self.conn.execute(update(subscriber_batches).where(where).values(**values))

    def set_created_count(self, batch_id: int, count: int) -> bool:
        c = subscriber_batches.c
        where = and_(c.id == batch_id, c.state == BatchState.CREATING.value)
        result = self.conn.execute(
            update(subscriber_batches).where(where).values(created_count=count)
        )
        return result.rowcount == 1

    def delete_batch(self, batch_id: int) -> None:
        self.conn.execute(delete(batch_subscribers).where(batch_subscribers.c.batch_id == batch_id))
        self.conn.execute(delete(batch_ranges).where(batch_ranges.c.batch_id == batch_id))
        self.conn.execute(delete(subscriber_batches).where(subscriber_batches.c.id == batch_id))

    # -- members -------------------------------------------------------------------------------

    def count_members(self, batch_id: int) -> int:
        m = batch_subscribers.c
        query = select(func.count()).select_from(batch_subscribers).where(m.batch_id == batch_id)
        return int(self.conn.scalar(query) or 0)

    def members(self, batch_id: int, after_id: int, limit: int) -> list[BatchMember]:
        m, s, link, w = batch_subscribers.c, t.subscribers.c, t.wallet_links.c, t.wallets.c
        query = (
            select(m.subscriber_id, s.subscriber_id.label("cli"), s.card_number, s.state,
                   w.reference)
            .join(t.subscribers, s.id == m.subscriber_id)
            .outerjoin(
                t.wallet_links,
                and_(link.subscriber_id == m.subscriber_id,
                     link.wallet_type == WalletType.PRIMARY.value),
            )
            .outerjoin(t.wallets, w.id == link.wallet_id)
            .where(m.batch_id == batch_id, m.subscriber_id > after_id)
            .order_by(m.subscriber_id)
            .limit(limit)
        )  # fmt: skip
        return [
            BatchMember(row[0], row[1], row[2], EntityState(row[3]), row[4])
            for row in self.conn.execute(query)
        ]

    def activate_subscribers(
        self, batch_id: int, reason: str, at: datetime, requested_by: str
    ) -> int:
        s = t.subscribers.c
        members = select(batch_subscribers.c.subscriber_id).where(
            batch_subscribers.c.batch_id == batch_id
        )
        waiting = and_(s.id.in_(members), s.state == EntityState.INACTIVE.value)
        sc = t.state_changes
        changes = select(
            literal(CasmLevel.SUBSCRIBER.value),
            s.id,
            literal(EntityState.ACTIVE.value),
            literal(reason),
            literal(at, sc.c.valid_from.type),
            literal(StateChangeStatus.APPLIED.value),
            literal(requested_by),
        ).where(waiting)
        columns = ["level", "entity_id", "state", "state_reason", "valid_from", "status",
                   "requested_by"]  # fmt: skip
        self.conn.execute(insert(sc).from_select(columns, changes))
        result = self.conn.execute(
            update(t.subscribers)
            .where(waiting)
            .values(state=EntityState.ACTIVE.value, state_reason=reason)
        )
        return int(result.rowcount)

    # -- numbers already in use ----------------------------------------------------------------

    def first_number_taken(
        self,
        provider: str,
        subscriber_ranges: Sequence[NumberRange],
        card_ranges: Sequence[NumberRange],
        resource_type: str,
    ) -> tuple[str, str] | None:
        s, r = t.subscribers.c, t.resources.c
        checks = (
            ("subscriber_id", s.subscriber_id, s.service_provider == provider, subscriber_ranges),
            ("card_number", s.card_number, s.service_provider == provider, card_ranges),
            ("resource_value", r.value, r.resource_type == resource_type, subscriber_ranges),
        )
        for name, column, scope, ranges in checks:
            singles = [x.number(0) for x in ranges if x.count == 1]
            for start in range(0, len(singles), IN_LIST_NUMBERS_MAX):
                part = singles[start : start + IN_LIST_NUMBERS_MAX]
                found = self.conn.scalar(select(column).where(scope, column.in_(part)).limit(1))
                if found is not None:
                    return name, str(found)
            for x in ranges:
                if x.count == 1:
                    continue
                # Same width: text order is number order (non-digit values are skipped).
                query = (
                    select(column)
                    .where(scope, column >= x.number(0), column <= x.number(x.count - 1))
                    .where(func.length(column) == x.width)
                    .limit(TAKEN_CANDIDATES_MAX)
                )
                for value in self.conn.scalars(query):
                    if str(value).isdigit():
                        return name, str(value)
        return None

    # -- the bulk writer -----------------------------------------------------------------------

    def insert_subscribers(
        self,
        batch_id: int,
        template: SubscriberTemplate,
        subscribers: Sequence[NewSubscriber],
        now: datetime,
    ) -> list[CreatedSubscriber]:
        count = len(subscribers)
        if not count:
            return []
        cursor = driver_of(self.conn).cursor()
        try:
            ids = {table.name: self._take_ids(cursor, table, count) for table in ID_TABLES}
            shapes = self._shapes(batch_id, template, self._time(now))
            rows, created = _rows(shapes, template, subscribers, ids)
            dbapi = self.conn.dialect.loaded_dbapi
            try:
                for name, shape in shapes.items():
                    if rows[name]:
                        cursor.executemany(shape.sql, rows[name])
            except dbapi.IntegrityError as exc:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"a number of subscribers {subscribers[0].subscriber_id}.."
                    f"{subscribers[-1].subscriber_id} was taken meanwhile: {exc}",
                ) from exc
        finally:
            cursor.close()
        return created

    def _take_ids(self, cursor: Any, table: Table, count: int) -> list[int]:
        if self._sqlite:
            # The unit of work began with BEGIN IMMEDIATE: no other writer until it ends.
            cursor.execute(f"SELECT max(id) FROM {table.name}")
            first = int(cursor.fetchone()[0] or 0) + 1
            return list(range(first, first + count))
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            "FROM generate_series(1, %s)",
            (count,),
        )
        return sorted(int(row[0]) for row in cursor.fetchall())

    def _time(self, value: datetime) -> Any:
        utc = value.astimezone(UTC).replace(tzinfo=None)
        return utc.strftime(SQLITE_TIME_FORMAT) if self._sqlite else utc

    def _shape(
        self, table: Table, constants: Mapping[str, Any], variables: Sequence[str]
    ) -> _Shape:
        given = set(constants) | set(variables)
        unknown = given - {c.name for c in table.columns}
        if unknown:
            raise ValueError(f"{table.name} has no column {sorted(unknown)}")
        # A column the database fills (server default) is left to the database.
        columns = [c for c in table.columns if c.name in given or c.server_default is None]
        names = [c.name for c in columns]
        base: list[Any] = []
        for column in columns:
            if column.name in variables:
                base.append(None)
            elif column.name in constants:
                base.append(constants[column.name])
            elif column.default is not None and getattr(column.default, "is_scalar", False):
                base.append(column.default.arg)  # type: ignore[attr-defined]
            elif column.nullable:
                base.append(None)
            else:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"{table.name}.{column.name} is new and has no default: the batch writer "
                    "(storage/batch_repository.py) must learn what to store in it",
                )
        mark = "?" if self._sqlite else "%s"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join(mark for _ in names)})"
        )
        return _Shape(sql, base, {name: names.index(name) for name in variables})

    def _shapes(self, batch_id: int, tpl: SubscriberTemplate, at: Any) -> dict[str, _Shape]:
        """What create_subscriber + create_wallet write for one subscriber, per table, in
        foreign-key order; the variable columns are the ids, numbers and references."""
        shape = self._shape
        shapes = {
            t.subscribers.name: shape(
                t.subscribers,
                {"account_id": tpl.account_id, "service_provider": tpl.service_provider,
                 "language": tpl.language, "segment": None, "state": tpl.state.value,
                 "state_reason": None, "created_at": at},
                ("id", "subscriber_id", "card_number", "pin_hash"),
            ),
            t.resources.name: shape(
                t.resources, {"resource_type": tpl.resource_type},
                ("id", "subscriber_id", "value"),
            ),
            t.wallets.name: shape(
                t.wallets,
                {"service_provider": tpl.service_provider, "product_type": tpl.product_type,
                 "currency": tpl.currency, "display_currency": tpl.display_currency,
                 "customer_id": tpl.customer_id, "limit_type": tpl.limit_type.value,
                 "minimum_credit": tpl.minimum_credit,
                 "max_concurrent_accesses": tpl.max_concurrent_accesses,
                 "state": WalletState.PRE_USE.value, "expires_at": None, "created_at": at,
                 "activated_at": None, "last_used_at": None, "state_changed_at": at},
                ("id", "reference"),
            ),
            t.wallet_links.name: shape(
                t.wallet_links, {"wallet_type": WalletType.PRIMARY.value, "linked_at": at},
                ("subscriber_id", "wallet_id"),
            ),
            t.wallet_balances.name: shape(
                t.wallet_balances,
                # ensure_balance: the default balance type takes the wallet's limit type.
                {"balance_type": tpl.default_balance_type, "limit_type": tpl.limit_type.value,
                 "minimum_credit": tpl.minimum_credit, "display_currency": None},
                ("wallet_id",),
            ),
            t.wallet_history.name: shape(
                t.wallet_history,
                {"at": at, "event": HistoryEvent.CREATED.value, "operator": tpl.operator,
                 "state_from": None, "state_to": WalletState.PRE_USE.value},
                ("id", "wallet_id", "detail"),
            ),
            t.edrs.name: shape(
                t.edrs,
                {"type": EdrType.WALLET_CREATED.value, "at": at,
                 "wallet_type": WalletType.PRIMARY.value, "operator": tpl.operator,
                 "change_reason": tpl.change_reason, "called_number": None,
                 "duration_s": None, "session_id": None, "discounts": None, "partial": False,
                 "reverses_edr_id": None},
                ("id", "wallet_id", "subscriber_id", "detail"),
            ),
            batch_subscribers.name: shape(
                batch_subscribers, {"batch_id": batch_id}, ("subscriber_id",)
            ),
        }  # fmt: skip
        if tpl.default_balance_type is None:
            del shapes[t.wallet_balances.name]
        return shapes


def _rows(
    shapes: Mapping[str, _Shape],
    tpl: SubscriberTemplate,
    subscribers: Sequence[NewSubscriber],
    ids: Mapping[str, Sequence[int]],
) -> tuple[dict[str, list[tuple[Any, ...]]], list[CreatedSubscriber]]:
    """The rows of every table for these subscribers. Built column by column and zipped into
    tuples, so the per-row work happens in C: a constant column is repeated, a variable one
    is a list computed once for the chunk."""
    count = len(subscribers)
    sub_ids, wal_ids = ids[t.subscribers.name], ids[t.wallets.name]
    numbers = [s.subscriber_id for s in subscribers]
    references = [generated_reference(w) for w in wal_ids]
    # The EDR detail exactly as the EDR repository serialises it, with the reference spliced.
    detail = detail_text({"reference": _REFERENCE_MARK, "state": WalletState.PRE_USE.value})
    head, tail = detail.split(detail_text(_REFERENCE_MARK))
    variables: dict[str, dict[str, Sequence[Any]]] = {
        t.subscribers.name: {
            "id": sub_ids,
            "subscriber_id": numbers,
            "card_number": [s.card_number for s in subscribers],
            "pin_hash": [s.pin_hash for s in subscribers],
        },
        t.resources.name: {
            "id": ids[t.resources.name],
            "subscriber_id": sub_ids,
            "value": numbers,
        },
        t.wallets.name: {"id": wal_ids, "reference": references},
        t.wallet_links.name: {"subscriber_id": sub_ids, "wallet_id": wal_ids},
        t.wallet_balances.name: {"wallet_id": wal_ids},
        t.wallet_history.name: {
            "id": ids[t.wallet_history.name],
            "wallet_id": wal_ids,
            "detail": references,
        },
        t.edrs.name: {
            "id": ids[t.edrs.name],
            "wallet_id": wal_ids,
            "subscriber_id": sub_ids,
            "detail": [f'{head}"{r}"{tail}' for r in references],
        },
        batch_subscribers.name: {"subscriber_id": sub_ids},
    }
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for name, shape in shapes.items():
        given = variables[name]
        columns: list[Iterable[Any]] = [itertools.repeat(value, count) for value in shape.base]
        for column, index in shape.slots.items():
            columns[index] = given[column]
        rows[name] = list(zip(*columns, strict=False))
    created = [
        CreatedSubscriber(sid, new.subscriber_id, new.card_number, wid, ref)
        for sid, new, wid, ref in zip(sub_ids, subscribers, wal_ids, references, strict=False)
    ]
    return rows, created


def _batch_values(batch: Batch) -> dict[str, Any]:
    return {
        "service_provider": batch.service_provider,
        "account_id": batch.account_id,
        "size": batch.size,
        "list_filename": batch.list_filename,
        "result_filename": batch.result_filename,
        "charging_domain": batch.charging_domain,
        "product_type": batch.product_type,
        "currency": batch.currency,
        "max_concurrent_accesses": batch.max_concurrent_accesses,
        "card_numbering": batch.card_numbering.value,
        "card_first": batch.card_first,
        "card_last": batch.card_last,
        "pins": batch.pins,
        "pin_length": batch.pin_length,
        "pin_method": batch.pin_method,
        "state": batch.state.value,
        "state_reason": batch.state_reason,
        "created_count": batch.created_count,
        "error": batch.error,
        "created_by": batch.created_by,
        "created_at": batch.created_at,
        "state_changed_at": batch.state_changed_at,
    }


def _batch(row: Row[Any]) -> Batch:
    m = row._mapping
    return Batch(
        id=m["id"],
        service_provider=m["service_provider"],
        account_id=m["account_id"],
        size=m["size"],
        list_filename=m["list_filename"],
        result_filename=m["result_filename"],
        charging_domain=m["charging_domain"],
        product_type=m["product_type"],
        currency=m["currency"],
        max_concurrent_accesses=m["max_concurrent_accesses"],
        card_numbering=CardNumbering(m["card_numbering"]),
        card_first=m["card_first"],
        card_last=m["card_last"],
        pins=bool(m["pins"]),
        pin_length=m["pin_length"],
        pin_method=m["pin_method"],
        state=BatchState(m["state"]),
        state_reason=m["state_reason"],
        created_count=m["created_count"],
        error=m["error"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        state_changed_at=m["state_changed_at"],
    )
