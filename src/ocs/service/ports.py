"""Ports the service layer needs: storage behind repositories, a clock, a password hasher."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ocs.core.casm import Account, CasmLevel, Customer, Resource, StateChange, Subscriber
from ocs.core.configuration import ConfigKind, Record
from ocs.core.states import EntityState


class Clock(Protocol):
    def now(self) -> datetime: ...


class PasswordHasher(Protocol):
    def hash(self, secret: str) -> str: ...

    def verify(self, hashed: str, secret: str) -> bool: ...


@dataclass(frozen=True)
class OperatorRecord:
    id: int
    username: str
    password_hash: str
    role: str
    service_providers: frozenset[str] | None
    active: bool
    created_at: datetime


class ConfigRepository(Protocol):
    def get(self, kind: ConfigKind, code: str) -> Record | None: ...

    def list_records(
        self, kind: ConfigKind, providers: frozenset[str] | None = None
    ) -> list[Record]: ...

    def insert(self, kind: ConfigKind, record: Record) -> None: ...

    def update(self, kind: ConfigKind, record: Record) -> None: ...

    def delete(self, kind: ConfigKind, code: str) -> None: ...

    def codes_where(self, kind: ConfigKind, field: str, value: object) -> list[str]: ...

    def referenced_by(self, kind: ConfigKind, code: str) -> str | None:
        """The name of a table that still refers to this code, if any."""
        ...


class CasmRepository(Protocol):
    def insert_customer(self, customer: Customer, name_key: str) -> int: ...

    def update_customer(self, customer: Customer, name_key: str) -> None: ...

    def get_customer(self, customer_id: int) -> Customer | None: ...

    def customer_id_by_name_key(self, provider: str, name_key: str) -> int | None: ...

    def search_customers(
        self, providers: frozenset[str] | None, name_key_prefix: str, limit: int
    ) -> list[Customer]: ...

    def delete_customer(self, customer_id: int) -> None: ...

    def insert_account(self, account: Account) -> int: ...

    def update_account(self, account: Account) -> None: ...

    def get_account(self, account_id: int) -> Account | None: ...

    def list_accounts(self, customer_id: int) -> list[Account]: ...

    def delete_account(self, account_id: int) -> None: ...

    def count_children(self, level: CasmLevel, entity_id: int) -> int: ...

    def insert_subscriber(self, subscriber: Subscriber) -> int: ...

    def update_subscriber(self, subscriber: Subscriber) -> None: ...

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None: ...

    def subscriber_id_taken(
        self, provider: str, column: str, value: str, except_id: int | None
    ) -> bool: ...

    def list_subscribers(self, account_id: int) -> list[Subscriber]: ...

    def delete_subscriber(self, subscriber_id: int) -> None: ...

    def insert_resource(self, resource: Resource) -> int: ...

    def list_resources(self, subscriber_id: int) -> list[Resource]: ...

    def find_resource(self, resource_type: str | None, value: str) -> list[Resource]: ...

    def delete_resource(self, resource_id: int) -> None: ...

    def set_state(
        self, level: CasmLevel, entity_id: int, state: EntityState, reason: str | None
    ) -> None: ...

    def insert_state_change(self, change: StateChange) -> int: ...

    def get_state_change(self, change_id: int) -> StateChange | None: ...

    def list_state_changes(self, level: CasmLevel, entity_id: int) -> list[StateChange]: ...

    def set_state_change_status(self, change_id: int, status: str) -> None: ...


class OperatorRepository(Protocol):
    def insert(self, operator: OperatorRecord) -> int: ...

    def update(self, operator: OperatorRecord) -> None: ...

    def by_username(self, username: str) -> OperatorRecord | None: ...

    def by_id(self, operator_id: int) -> OperatorRecord | None: ...

    def list_all(self) -> list[OperatorRecord]: ...

    def insert_token(
        self, token_sha256: str, operator_id: int, created_at: datetime, expires_at: datetime
    ) -> None: ...

    def operator_for_token(self, token_sha256: str, now: datetime) -> OperatorRecord | None: ...


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    operator: str
    action: str
    entity: str
    entity_key: str
    change_reason: str | None
    detail: Mapping[str, object]


class AuditRepository(Protocol):
    def append(self, entry: AuditEntry) -> None: ...

    def recent(self, entity: str | None, limit: int) -> list[AuditEntry]: ...


class SettingsRepository(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: everything done through its repositories commits or none of it."""

    config: ConfigRepository
    casm: CasmRepository
    operators: OperatorRepository
    audit: AuditRepository
    settings: SettingsRepository


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...
