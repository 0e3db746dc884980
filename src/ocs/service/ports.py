"""Ports the service layer needs: storage behind repositories, a clock, a password hasher."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ocs.core.casm import (
    Account,
    CasmLevel,
    Customer,
    Resource,
    StateChange,
    Subscriber,
    SubscriberSearchField,
)
from ocs.core.configuration import ConfigKind, Record
from ocs.core.edr import Edr, EdrQuery, MaskingRule
from ocs.core.grant_usage import GrantUsage
from ocs.core.money import ExchangeRate
from ocs.core.reservations import ChargingSession, Reservation, ReservationState, SessionState
from ocs.core.states import EntityState
from ocs.core.subscriber_search import SubscriberQuery, SubscriberWalletRow
from ocs.core.wallets import (
    ActivationCredit,
    AdjustmentLimitRule,
    Bucket,
    PermissionOverrides,
    Wallet,
    WalletAction,
    WalletBalance,
    WalletHistoryEntry,
    WalletLink,
    WalletState,
    WalletType,
)
from ocs.service.batch_ports import BatchRepository
from ocs.service.bpl_ports import BplRepository
from ocs.service.credit_card_ports import CreditCardRepository
from ocs.service.feature_ports import FeatureRepository
from ocs.service.migration_ports import MigrationRepository
from ocs.service.notification_ports import NotificationRepository
from ocs.service.offer_ports import OfferRepository
from ocs.service.voucher_ports import VoucherRepository


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

    def search_subscribers(
        self,
        provider: str,
        column: SubscriberSearchField,
        text: str,
        exact: bool,
        limit: int,
    ) -> list[Subscriber]: ...

    def search_subscriber_wallets(
        self, provider: str, query: SubscriberQuery, limit: int
    ) -> list[SubscriberWalletRow]:
        """Subscribers of a provider matching the query, one row per linked wallet (one row
        without a wallet for a subscriber that has none), at most limit rows."""
        ...

    def count_entities(self, level: CasmLevel, providers: frozenset[str] | None) -> int: ...

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

    def delete_token(self, token_sha256: str) -> None: ...


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


class WalletRepository(Protocol):
    """Wallets with their links, balances, buckets and history (one charging domain)."""

    def insert_wallet(self, wallet: Wallet) -> int:
        """Store a wallet; an empty reference is stored as none until set_reference."""
        ...

    def set_reference(self, wallet_id: int, reference: str) -> None: ...

    def update_wallet(self, wallet: Wallet) -> None: ...

    def get_wallet(self, wallet_id: int, for_update: bool = False) -> Wallet | None:
        """The wallet; for_update locks its row until the transaction ends."""
        ...

    def wallet_by_reference(self, reference: str) -> Wallet | None: ...

    def delete_wallet(self, wallet_id: int) -> None:
        """Remove the wallet with its links, balances, buckets and history."""
        ...

    def insert_link(self, link: WalletLink, at: datetime) -> None: ...

    def delete_link(self, subscriber_id: int, wallet_type: WalletType) -> None: ...

    def links_of_subscriber(self, subscriber_id: int) -> list[WalletLink]: ...

    def links_of_wallet(self, wallet_id: int) -> list[WalletLink]: ...

    def insert_balance(self, balance: WalletBalance) -> None: ...

    def update_balance(self, balance: WalletBalance) -> None: ...

    def list_balances(self, wallet_id: int) -> list[WalletBalance]: ...

    def list_buckets(self, wallet_id: int) -> list[Bucket]:
        """The wallet's buckets in id order."""
        ...

    def bucket_wallet_id(self, bucket_id: int) -> int | None: ...

    def insert_bucket(self, wallet_id: int, bucket: Bucket) -> int: ...

    def update_bucket(self, bucket: Bucket) -> None: ...

    def set_bucket_value(self, bucket_id: int, value: int) -> None:
        """Only the value: leaves the dates' index entries untouched (no page to rewrite)."""
        ...

    def delete_bucket(self, bucket_id: int) -> None: ...

    def wallets_with_expired_buckets(self, now: datetime, limit: int) -> list[int]: ...

    def append_history(self, entry: WalletHistoryEntry) -> None: ...

    def list_history(self, wallet_id: int) -> list[WalletHistoryEntry]: ...


class EdrRepository(Protocol):
    """Append-only: EDRs are inserted and read, never updated or deleted."""

    def insert(self, edr: Edr) -> int: ...

    def get(self, edr_id: int) -> Edr | None: ...

    def reversal_of(self, edr_id: int) -> int | None:
        """The id of the EDR that reversed this one, if any."""
        ...

    def search(self, query: EdrQuery, wallet_ids: list[int]) -> tuple[list[Edr], int]:
        """One page of matches and the number of matches (at most the query's result limit).
        EDRs match on a wallet in wallet_ids, or on the query's subscriber and wallet types."""
        ...

    def delta_sums(self, wallet_id: int) -> dict[str, int]:
        """Per balance type, the sum of every delta the wallet's EDRs record."""
        ...


class WalletSettingsRepository(Protocol):
    """Product type wallet settings, per-operator adjustment limits, rates and masking."""

    def adjustment_limits(
        self, product_type: str, balance_type: str, operator: str | None
    ) -> AdjustmentLimitRule | None: ...

    def put_adjustment_limits(self, rule: AdjustmentLimitRule) -> None: ...

    def delete_adjustment_limits(
        self, product_type: str, balance_type: str, operator: str | None
    ) -> bool: ...

    def list_adjustment_limits(self, product_type: str) -> list[AdjustmentLimitRule]: ...

    def activation_credits(self, product_type: str) -> list[ActivationCredit]: ...

    def put_activation_credit(self, credit: ActivationCredit) -> None: ...

    def delete_activation_credit(self, product_type: str, balance_type: str) -> bool: ...

    def permission_overrides(self, product_type: str) -> PermissionOverrides: ...

    def put_permission(
        self, product_type: str, state: WalletState, action: WalletAction, allowed: bool
    ) -> None: ...

    def delete_permission(
        self, product_type: str, state: WalletState, action: WalletAction
    ) -> bool: ...

    def exchange_rate(self, from_currency: str, to_currency: str) -> ExchangeRate | None: ...

    def put_exchange_rate(self, rate: ExchangeRate) -> None: ...

    def delete_exchange_rate(self, from_currency: str, to_currency: str) -> bool: ...

    def list_exchange_rates(self) -> list[ExchangeRate]: ...

    def masking_rules(self) -> dict[str, MaskingRule]: ...

    def put_masking_rule(self, rule: MaskingRule) -> None: ...

    def delete_masking_rule(self, field: str) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction: everything done through its repositories commits or none of it."""

    config: ConfigRepository
    casm: CasmRepository
    operators: OperatorRepository
    audit: AuditRepository
    settings: SettingsRepository
    wallets: WalletRepository
    edrs: EdrRepository
    wallet_settings: WalletSettingsRepository
    charging: ChargingRepository
    features: FeatureRepository
    batches: BatchRepository
    offers: OfferRepository
    vouchers: VoucherRepository
    credit_cards: CreditCardRepository
    notifications: NotificationRepository
    bpl: BplRepository
    migrations: MigrationRepository

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested scope whose writes roll back alone when it raises."""
        ...

    def pipeline(self) -> AbstractContextManager[None]:
        """A scope whose statements may go to the database without waiting for each one's
        result (where storage can). A statement's error may surface later in the scope or as
        it ends: any error inside is the whole scope's, not the code's that raised it."""
        ...


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...

    def reading(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that only reads: it never waits for, or holds up, a writer (on
        SQLite, every transaction() takes the database's one write lock). For background
        loops that look for work far more often than they find any."""
        ...


class ChargingRepository(Protocol):
    """Sessions, reservations with their holds, and answers kept for retransmissions."""

    def get_answer(self, session_id: str, request_number: int) -> str | None: ...

    def put_answer(
        self, session_id: str, request_number: int, at: datetime, decision: str
    ) -> None: ...

    def delete_answers_before(self, at: datetime, limit: int) -> int:
        """Delete up to `limit` of the oldest answers stored before `at`; how many went."""
        ...

    def get_session(self, session_id: str) -> ChargingSession | None: ...

    def lock_wallets(self, wallet_ids: Collection[int]) -> None:
        """Lock these wallets for the transaction, in id order (a no-op where the whole
        database is locked, as on SQLite)."""
        ...

    def insert_session(self, session: ChargingSession) -> None: ...

    def touch_session(
        self, session_id: str, state: SessionState, last_seen_at: datetime, expires_at: datetime
    ) -> None: ...

    def see_session(self, session_id: str, last_seen_at: datetime) -> None:
        """A request on a session that changes neither its state nor its expiry."""
        ...

    def count_open_sessions(self, wallet_id: int) -> int: ...

    def expired_sessions(self, now: datetime, limit: int) -> list[ChargingSession]: ...

    def insert_reservation(self, reservation: Reservation, holds: Mapping[str, int]) -> int: ...

    def get_reservation(self, reservation_id: int) -> Reservation | None: ...

    def open_reservations_of_session(
        self, wallet_id: int, session_id: str
    ) -> list[Reservation]: ...

    def list_reservations(self, wallet_id: int, limit: int) -> list[Reservation]: ...

    def holds_of(self, reservation_id: int) -> dict[str, int]: ...

    def holds_of_wallet(self, wallet_id: int) -> dict[str, int]: ...

    def end_reservation(
        self,
        reservation_id: int,
        state: ReservationState,
        used_units: int,
        at: datetime,
        ended_by: str,
    ) -> bool: ...

    def expired_reservations(self, now: datetime, limit: int) -> list[Reservation]: ...

    # The wallet side of a charging request, on the hot path.

    def resolve_identity(self, value: str) -> tuple[int, int] | None:
        """(subscriber id, primary wallet id) of the subscriber owning a resource value."""
        ...

    def grants_of_wallet(self, wallet_id: int) -> list[GrantUsage]: ...

    def update_grant_usage(self, grant: GrantUsage) -> None: ...

    def wallet_revision(self, wallet_id: int, lock: bool) -> int | None:
        """The wallet's revision (None: no such wallet); with lock, the wallet is locked for
        the rest of the transaction."""
        ...

    def data_version(self) -> object | None:
        """A value that changes when a connection other than this one commits to the
        database, and stays the same across this connection's own commits; None where there
        is no such value, or where this connection's writes give wallets new revisions
        (triggers fire, PostgreSQL, several domains): there the revisions tell (ADR 0014)."""
        ...

    def written_revision(self, wallet_id: int) -> int | None:
        """The wallet's revision after this transaction wrote to it: the triggers' new one, or
        a new one given here on a connection that fires no triggers (ADR 0011)."""
        ...

    def note_wallets_changed(self, wallet_ids: Collection[int]) -> None:
        """New revisions for wallets written to outside a charging request (the expiry sweep),
        where no trigger gives them (ADR 0011)."""
        ...

    def load_wallet(
        self, wallet_id: int
    ) -> tuple[Wallet, list[WalletBalance], list[Bucket]] | None: ...

    def insert_bucket(self, wallet_id: int, bucket: Bucket) -> int: ...

    def update_bucket(self, bucket: Bucket) -> None: ...

    def set_bucket_value(self, bucket_id: int, value: int) -> None:
        """Only the value: leaves the dates' index entries untouched (no page to rewrite)."""
        ...

    def delete_bucket(self, bucket_id: int) -> None: ...

    def links_of_wallet(self, wallet_id: int) -> list[WalletLink]: ...

    def set_wallet_last_used(self, wallet_id: int, at: datetime) -> None: ...

    def update_wallet(self, wallet: Wallet) -> None: ...

    def append_history(self, entry: WalletHistoryEntry) -> None: ...

    def activation_credits(self, product_type: str) -> list[ActivationCredit]: ...

    def insert_edr(self, edr: Edr, subscriber_noted: bool = False) -> int:
        """The EDR with its lines and tags; `subscriber_noted`: the (subscriber, wallet) row
        of subscriber_edr_wallets is known to exist, so it need not be written."""
        ...

    def open_counts(self) -> tuple[int, int]:
        """(open sessions, open reservations) across all wallets."""
        ...
