"""SQL implementations of the service ports, one SQLAlchemy connection per unit of work."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ocs.core.casm import (
    Account,
    CasmLevel,
    Customer,
    Resource,
    StateChange,
    Subscriber,
    SubscriberSearchField,
)
from ocs.core.configuration import SPECS, ConfigKind, Record
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.states import EntityState
from ocs.core.subscriber_search import SubscriberQuery, SubscriberWalletRow
from ocs.service.batch_ports import BatchRepository
from ocs.service.bpl_ports import BplRepository
from ocs.service.credit_card_ports import CreditCardRepository
from ocs.service.feature_ports import FeatureRepository
from ocs.service.migration_ports import MigrationRepository
from ocs.service.notification_ports import NotificationRepository
from ocs.service.offer_ports import OfferRepository
from ocs.service.ports import (
    AuditEntry,
    AuditRepository,
    CasmRepository,
    ChargingRepository,
    ConfigRepository,
    EdrRepository,
    OperatorRecord,
    OperatorRepository,
    SettingsRepository,
    WalletRepository,
    WalletSettingsRepository,
)
from ocs.service.voucher_ports import VoucherRepository
from ocs.storage import tables as t
from ocs.storage.batch_repository import SqlBatchRepository
from ocs.storage.bpl_repository import SqlBplRepository
from ocs.storage.charging_repository import SqlChargingRepository
from ocs.storage.credit_card_repository import SqlCreditCardRepository
from ocs.storage.engine import begin_reading, driver_of, pipelined
from ocs.storage.feature_repository import SqlFeatureRepository
from ocs.storage.json_text import detail_text
from ocs.storage.migration_repository import SqlMigrationRepository
from ocs.storage.notification_repository import SqlNotificationRepository
from ocs.storage.offer_repository import SqlOfferRepository
from ocs.storage.subscriber_search import search_subscriber_wallets
from ocs.storage.voucher_repository import SqlVoucherRepository
from ocs.storage.wallet_repository import (
    SqlEdrRepository,
    SqlWalletRepository,
    SqlWalletSettingsRepository,
)


class SqlConfigRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _row(self, kind: ConfigKind, row: Any) -> Record:
        return {f.name: row._mapping[f.name] for f in SPECS[kind].fields}

    def get(self, kind: ConfigKind, code: str) -> Record | None:
        table = t.config_tables[kind]
        row = self.conn.execute(select(table).where(table.c.code == code)).first()
        return None if row is None else self._row(kind, row)

    def list_records(
        self, kind: ConfigKind, providers: frozenset[str] | None = None
    ) -> list[Record]:
        table = t.config_tables[kind]
        query = select(table).order_by(table.c.code)
        if providers is not None and "service_provider" in table.c:
            query = query.where(table.c.service_provider.in_(sorted(providers)))
        if providers is not None and kind is ConfigKind.SERVICE_PROVIDER:
            query = query.where(table.c.code.in_(sorted(providers)))
        return [self._row(kind, row) for row in self.conn.execute(query)]

    def insert(self, kind: ConfigKind, record: Record) -> None:
        self.conn.execute(insert(t.config_tables[kind]).values(**record))

    def update(self, kind: ConfigKind, record: Record) -> None:
        table = t.config_tables[kind]
        values = {k: v for k, v in record.items() if k != "code"}
        self.conn.execute(update(table).where(table.c.code == record["code"]).values(**values))

    def delete(self, kind: ConfigKind, code: str) -> None:
        table = t.config_tables[kind]
        self.conn.execute(delete(table).where(table.c.code == code))

    def codes_where(self, kind: ConfigKind, field: str, value: object) -> list[str]:
        table = t.config_tables[kind]
        query = select(table.c.code).where(table.c[field] == value).order_by(table.c.code)
        return list(self.conn.scalars(query))

    def referenced_by(self, kind: ConfigKind, code: str) -> str | None:
        target = t.config_tables[kind]
        for table in t.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table is target and fk.column.name == "code":
                    hit = self.conn.execute(
                        select(fk.parent).where(fk.parent == code).limit(1)
                    ).first()
                    if hit is not None:
                        return _entity_name(table)
        return None


def _entity_name(table: Table) -> str:
    return table.name.removeprefix("cfg_").replace("_", "-")


def _values(entity: object, *skip: str) -> dict[str, Any]:
    values = asdict(entity)  # type: ignore[call-overload]
    for name in ("id", *skip):
        values.pop(name, None)
    return {k: (v.value if isinstance(v, EntityState) else v) for k, v in values.items()}


def _build(cls: type[Any], row: Any) -> Any:
    data = {f.name: row._mapping[f.name] for f in fields(cls)}
    if "state" in data and cls is not StateChange:
        data["state"] = EntityState(data["state"])
    return cls(**data)


LEVEL_TABLES: dict[CasmLevel, Table] = {
    CasmLevel.CUSTOMER: t.customers,
    CasmLevel.ACCOUNT: t.accounts,
    CasmLevel.SUBSCRIBER: t.subscribers,
}


class SqlCasmRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, table: Table, values: Mapping[str, Any]) -> int:
        result = self.conn.execute(insert(table).values(**values).returning(table.c.id))
        return int(result.scalar_one())

    def _get(self, table: Table, cls: type[Any], entity_id: int) -> Any:
        row = self.conn.execute(select(table).where(table.c.id == entity_id)).first()
        return None if row is None else _build(cls, row)

    def _update(self, table: Table, entity_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(table).where(table.c.id == entity_id).values(**values))

    def insert_customer(self, customer: Customer, name_key: str) -> int:
        return self._insert(t.customers, {**_values(customer), "name_key": name_key})

    def update_customer(self, customer: Customer, name_key: str) -> None:
        values = {**_values(customer, "created_at"), "name_key": name_key}
        self._update(t.customers, customer.id, values)

    def get_customer(self, customer_id: int) -> Customer | None:
        return self._get(t.customers, Customer, customer_id)  # type: ignore[no-any-return]

    def customer_id_by_name_key(self, provider: str, name_key: str) -> int | None:
        c = t.customers.c
        query = select(c.id).where(c.service_provider == provider, c.name_key == name_key)
        return self.conn.scalar(query)

    def search_customers(
        self, providers: frozenset[str] | None, name_key_prefix: str, limit: int
    ) -> list[Customer]:
        c = t.customers.c
        query = select(t.customers).order_by(c.name_key, c.id).limit(limit)
        if name_key_prefix:
            query = query.where(c.name_key.startswith(name_key_prefix, autoescape=True))
        if providers is not None:
            query = query.where(c.service_provider.in_(sorted(providers)))
        return [_build(Customer, row) for row in self.conn.execute(query)]

    def delete_customer(self, customer_id: int) -> None:
        self.conn.execute(delete(t.customers).where(t.customers.c.id == customer_id))

    def insert_account(self, account: Account) -> int:
        return self._insert(t.accounts, _values(account))

    def update_account(self, account: Account) -> None:
        self._update(t.accounts, account.id, _values(account, "created_at"))

    def get_account(self, account_id: int) -> Account | None:
        return self._get(t.accounts, Account, account_id)  # type: ignore[no-any-return]

    def list_accounts(self, customer_id: int) -> list[Account]:
        c = t.accounts.c
        query = select(t.accounts).where(c.customer_id == customer_id).order_by(c.id)
        return [_build(Account, row) for row in self.conn.execute(query)]

    def delete_account(self, account_id: int) -> None:
        self.conn.execute(delete(t.accounts).where(t.accounts.c.id == account_id))

    def count_children(self, level: CasmLevel, entity_id: int) -> int:
        if level is CasmLevel.CUSTOMER:
            where = t.accounts.c.customer_id == entity_id
            query = select(func.count()).select_from(t.accounts).where(where)
        elif level is CasmLevel.ACCOUNT:
            subs = select(func.count()).select_from(t.subscribers)
            subs = subs.where(t.subscribers.c.account_id == entity_id)
            kids = select(func.count()).select_from(t.accounts)
            kids = kids.where(t.accounts.c.parent_account_id == entity_id)
            return int(self.conn.scalar(subs) or 0) + int(self.conn.scalar(kids) or 0)
        else:
            where = t.resources.c.subscriber_id == entity_id
            query = select(func.count()).select_from(t.resources).where(where)
        return int(self.conn.scalar(query) or 0)

    def insert_subscriber(self, subscriber: Subscriber) -> int:
        return self._insert(t.subscribers, _values(subscriber))

    def update_subscriber(self, subscriber: Subscriber) -> None:
        self._update(t.subscribers, subscriber.id, _values(subscriber, "created_at"))

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        return self._get(t.subscribers, Subscriber, subscriber_id)  # type: ignore[no-any-return]

    def subscriber_id_taken(
        self, provider: str, column: str, value: str, except_id: int | None
    ) -> bool:
        c = t.subscribers.c
        query = select(c.id).where(c.service_provider == provider, c[column] == value)
        if except_id is not None:
            query = query.where(c.id != except_id)
        return self.conn.execute(query.limit(1)).first() is not None

    def list_subscribers(self, account_id: int) -> list[Subscriber]:
        c = t.subscribers.c
        query = select(t.subscribers).where(c.account_id == account_id).order_by(c.id)
        return [_build(Subscriber, row) for row in self.conn.execute(query)]

    def search_subscribers(
        self, provider: str, column: SubscriberSearchField, text: str, exact: bool, limit: int
    ) -> list[Subscriber]:
        c = t.subscribers.c
        col = c[column.value]
        match = col == text if exact else col.startswith(text, autoescape=True)
        query = select(t.subscribers).where(c.service_provider == provider, match)
        query = query.order_by(col, c.id).limit(limit)
        return [_build(Subscriber, row) for row in self.conn.execute(query)]

    def search_subscriber_wallets(
        self, provider: str, query: SubscriberQuery, limit: int
    ) -> list[SubscriberWalletRow]:
        return search_subscriber_wallets(self.conn, provider, query, limit)

    def count_entities(self, level: CasmLevel, providers: frozenset[str] | None) -> int:
        if level is CasmLevel.ACCOUNT:
            accounts = t.accounts.join(t.customers, t.accounts.c.customer_id == t.customers.c.id)
            query = select(func.count()).select_from(accounts)
            provider_column = t.customers.c.service_provider
        else:
            table = t.customers if level is CasmLevel.CUSTOMER else t.subscribers
            query = select(func.count()).select_from(table)
            provider_column = table.c.service_provider
        if providers is not None:
            query = query.where(provider_column.in_(sorted(providers)))
        return int(self.conn.scalar(query) or 0)

    def delete_subscriber(self, subscriber_id: int) -> None:
        self.conn.execute(delete(t.resources).where(t.resources.c.subscriber_id == subscriber_id))
        self.conn.execute(delete(t.subscribers).where(t.subscribers.c.id == subscriber_id))

    def insert_resource(self, resource: Resource) -> int:
        return self._insert(t.resources, _values(resource))

    def list_resources(self, subscriber_id: int) -> list[Resource]:
        c = t.resources.c
        query = select(t.resources).where(c.subscriber_id == subscriber_id).order_by(c.id)
        return [_build(Resource, row) for row in self.conn.execute(query)]

    def find_resource(self, resource_type: str | None, value: str) -> list[Resource]:
        c = t.resources.c
        query = select(t.resources).where(c.value == value).order_by(c.id)
        if resource_type is not None:
            query = query.where(c.resource_type == resource_type)
        return [_build(Resource, row) for row in self.conn.execute(query)]

    def delete_resource(self, resource_id: int) -> None:
        self.conn.execute(delete(t.resources).where(t.resources.c.id == resource_id))

    def set_state(
        self, level: CasmLevel, entity_id: int, state: EntityState, reason: str | None
    ) -> None:
        values = {"state": state.value, "state_reason": reason}
        self._update(LEVEL_TABLES[level], entity_id, values)

    def insert_state_change(self, change: StateChange) -> int:
        values = _values(change)
        values["level"] = change.level.value
        return self._insert(t.state_changes, values)

    def get_state_change(self, change_id: int) -> StateChange | None:
        row = self.conn.execute(
            select(t.state_changes).where(t.state_changes.c.id == change_id)
        ).first()
        return None if row is None else _state_change(row)

    def list_state_changes(self, level: CasmLevel, entity_id: int) -> list[StateChange]:
        c = t.state_changes.c
        query = (
            select(t.state_changes)
            .where(c.level == level.value, c.entity_id == entity_id)
            .order_by(c.id)
        )
        return [_state_change(row) for row in self.conn.execute(query)]

    def set_state_change_status(self, change_id: int, status: str) -> None:
        self._update(t.state_changes, change_id, {"status": status})


def _state_change(row: Any) -> StateChange:
    m = row._mapping
    return StateChange(
        id=m["id"],
        level=CasmLevel(m["level"]),
        entity_id=m["entity_id"],
        state=EntityState(m["state"]),
        state_reason=m["state_reason"],
        valid_from=m["valid_from"],
        status=m["status"],
        requested_by=m["requested_by"],
    )


def _operator(row: Any) -> OperatorRecord:
    m = row._mapping
    providers = m["service_providers"]
    return OperatorRecord(
        id=m["id"],
        username=m["username"],
        password_hash=m["password_hash"],
        role=m["role"],
        service_providers=None if providers is None else frozenset(providers.split(",")) - {""},
        active=m["active"],
        created_at=m["created_at"],
    )


def _operator_values(operator: OperatorRecord) -> dict[str, Any]:
    values = _values(operator, "created_at")
    providers = operator.service_providers
    values["service_providers"] = None if providers is None else ",".join(sorted(providers))
    return values


class SqlOperatorRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, operator: OperatorRecord) -> int:
        values = {**_operator_values(operator), "created_at": operator.created_at}
        result = self.conn.execute(insert(t.operators).values(**values).returning(t.operators.c.id))
        return int(result.scalar_one())

    def update(self, operator: OperatorRecord) -> None:
        where = t.operators.c.id == operator.id
        self.conn.execute(update(t.operators).where(where).values(**_operator_values(operator)))

    def by_username(self, username: str) -> OperatorRecord | None:
        where = t.operators.c.username == username
        row = self.conn.execute(select(t.operators).where(where)).first()
        return None if row is None else _operator(row)

    def by_id(self, operator_id: int) -> OperatorRecord | None:
        where = t.operators.c.id == operator_id
        row = self.conn.execute(select(t.operators).where(where)).first()
        return None if row is None else _operator(row)

    def list_all(self) -> list[OperatorRecord]:
        query = select(t.operators).order_by(t.operators.c.username)
        return [_operator(row) for row in self.conn.execute(query)]

    def insert_token(
        self, token_sha256: str, operator_id: int, created_at: datetime, expires_at: datetime
    ) -> None:
        self.conn.execute(
            insert(t.api_tokens).values(
                token_sha256=token_sha256,
                operator_id=operator_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    def operator_for_token(self, token_sha256: str, now: datetime) -> OperatorRecord | None:
        tok = t.api_tokens.c
        query = (
            select(t.operators)
            .join(t.api_tokens, tok.operator_id == t.operators.c.id)
            .where(tok.token_sha256 == token_sha256, tok.expires_at > now)
        )
        row = self.conn.execute(query).first()
        return None if row is None else _operator(row)

    def delete_token(self, token_sha256: str) -> None:
        where = t.api_tokens.c.token_sha256 == token_sha256
        self.conn.execute(delete(t.api_tokens).where(where))


class SqlAuditRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, entry: AuditEntry) -> None:
        values = asdict(entry)
        values["detail"] = detail_text(entry.detail)
        self.conn.execute(insert(t.audit_log).values(**values))

    def recent(self, entity: str | None, limit: int) -> list[AuditEntry]:
        c = t.audit_log.c
        query = select(t.audit_log).order_by(c.id.desc()).limit(limit)
        if entity is not None:
            query = query.where(c.entity == entity)
        entries = []
        for row in self.conn.execute(query):
            m = dict(row._mapping)
            m.pop("id")
            m["detail"] = json.loads(m["detail"])
            entries.append(AuditEntry(**m))
        return entries


class SqlSettingsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> str | None:
        return self.conn.scalar(select(t.settings.c.value).where(t.settings.c.key == key))

    def put(self, key: str, value: str) -> None:
        where = t.settings.c.key == key
        if self.conn.execute(update(t.settings).where(where).values(value=value)).rowcount == 0:
            self.conn.execute(insert(t.settings).values(key=key, value=value))


class SqlUnitOfWork:
    def __init__(self, conn: Connection) -> None:
        self.config: ConfigRepository = SqlConfigRepository(conn)
        self.casm: CasmRepository = SqlCasmRepository(conn)
        self.operators: OperatorRepository = SqlOperatorRepository(conn)
        self.audit: AuditRepository = SqlAuditRepository(conn)
        self.settings: SettingsRepository = SqlSettingsRepository(conn)
        self.wallets: WalletRepository = SqlWalletRepository(conn)
        self.edrs: EdrRepository = SqlEdrRepository(conn)
        self.wallet_settings: WalletSettingsRepository = SqlWalletSettingsRepository(conn)
        self.features: FeatureRepository = SqlFeatureRepository(conn)
        self.batches: BatchRepository = SqlBatchRepository(conn)
        self.offers: OfferRepository = SqlOfferRepository(conn)
        self.vouchers: VoucherRepository = SqlVoucherRepository(conn)
        self.credit_cards: CreditCardRepository = SqlCreditCardRepository(conn)
        self.notifications: NotificationRepository = SqlNotificationRepository(conn)
        self.bpl: BplRepository = SqlBplRepository(conn)
        self.charging: ChargingRepository = SqlChargingRepository(conn)
        self.migrations: MigrationRepository = SqlMigrationRepository(conn)
        self._conn = conn

    def pipeline(self) -> AbstractContextManager[None]:
        return pipelined(self._conn)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        # On the driver connection: SQLAlchemy's nested transactions cost ~200 us a pair, and
        # the group committer takes one per charging request (ADR 0003).
        raw = driver_of(self._conn)
        raw.execute("SAVEPOINT request")
        try:
            yield
        except BaseException:
            raw.execute("ROLLBACK TO SAVEPOINT request")
            raw.execute("RELEASE SAVEPOINT request")
            raise
        raw.execute("RELEASE SAVEPOINT request")


class SqlStore:
    """The Store port on a SQLAlchemy engine; integrity errors become domain errors."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pinned: Connection | None = None

    def pin_connection(self) -> None:
        """Run every later transaction on one connection, kept open, instead of one from the
        pool each time: for the charging engine, one thread with a transaction per batch,
        where the pool's checkout, reset and checkin cost ~15 us a batch. Not thread-safe."""
        self._pinned = self.engine.connect()

    def unpin_connection(self) -> None:
        """Close the pinned connection; later transactions take one from the pool again."""
        if self._pinned is not None:
            self._pinned.close()
            self._pinned = None

    @contextmanager
    def transaction(self) -> Iterator[SqlUnitOfWork]:
        try:
            if self._pinned is not None:
                with self._pinned.begin():
                    yield SqlUnitOfWork(self._pinned)
                return
            with self.engine.begin() as conn:
                yield SqlUnitOfWork(conn)
        except IntegrityError as exc:
            # The service checks first; this is the backstop for concurrent writers.
            raise DomainError(
                ProblemKind.CONFLICT, f"the change conflicts with existing data: {exc.orig}"
            ) from exc

    @contextmanager
    def reading(self) -> Iterator[SqlUnitOfWork]:
        with begin_reading(self.engine) as conn:
            yield SqlUnitOfWork(conn)
