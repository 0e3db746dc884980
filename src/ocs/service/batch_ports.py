"""Ports of subscriber batches: the batch repository (`UnitOfWork.batches`, with its bulk
writer) and the sink that receives the result file's lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ocs.core.batches import Batch, BatchState, NumberRange
from ocs.core.states import EntityState
from ocs.core.wallets import LimitType


@dataclass(frozen=True)
class SubscriberTemplate:
    """Everything a batch subscriber shares with the others: the values the CASM and wallet
    services would store for one subscriber created with the batch's fields."""

    service_provider: str
    account_id: int
    customer_id: int
    language: str
    state: EntityState
    resource_type: str
    product_type: str
    currency: str
    display_currency: str
    limit_type: LimitType
    minimum_credit: int | None
    max_concurrent_accesses: int
    # The product type's default balance type, created empty with the wallet (None: none).
    default_balance_type: str | None
    # Who the wallet history and the WALLET_CREATED EDR name.
    operator: str | None
    change_reason: str | None


@dataclass(frozen=True)
class NewSubscriber:
    subscriber_id: str
    card_number: str
    pin_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CreatedSubscriber:
    id: int
    subscriber_id: str
    card_number: str
    wallet_id: int
    wallet_reference: str


@dataclass(frozen=True)
class BatchMember:
    id: int
    subscriber_id: str
    card_number: str
    state: EntityState
    wallet_reference: str | None


@dataclass(frozen=True)
class ResultLine:
    """One line of the result file. The plain PIN exists only here, never in storage."""

    subscriber_id: str
    card_number: str
    wallet_reference: str
    pin: str | None = field(default=None, repr=False)


class ResultSink(Protocol):
    """Where the result file goes (a local file for the CLI, a one-time download for REST)."""

    def write(self, lines: Sequence[ResultLine]) -> None: ...


class BatchRepository(Protocol):
    def insert_batch(self, batch: Batch, ranges: Sequence[NumberRange]) -> int: ...

    def get_batch(self, batch_id: int, for_update: bool = False) -> Batch | None: ...

    def list_ranges(self, batch_id: int) -> list[NumberRange]: ...

    def search(
        self,
        providers: frozenset[str] | None,
        subscriber_prefix: str,
        state: BatchState | None,
        limit: int,
    ) -> list[Batch]:
        """Batches whose list holds a number starting with the prefix, newest first."""
        ...

    def set_state(
        self,
        batch_id: int,
        state: BatchState,
        reason: str | None,
        at: datetime,
        error: str | None = None,
    ) -> None: ...

    def set_created_count(self, batch_id: int, count: int) -> bool:
        """Record progress; False when the batch is no longer CREATING."""
        ...

    def first_number_taken(
        self,
        provider: str,
        subscriber_ranges: Sequence[NumberRange],
        card_ranges: Sequence[NumberRange],
        resource_type: str,
    ) -> tuple[str, str] | None:
        """(field, number) of one number already used as a subscriber ID, card number or
        resource value, if any."""
        ...

    def insert_subscribers(
        self,
        batch_id: int,
        template: SubscriberTemplate,
        subscribers: Sequence[NewSubscriber],
        now: datetime,
    ) -> list[CreatedSubscriber]:
        """Write the subscribers with their resource and PRIMARY wallet, in bulk."""
        ...

    def activate_subscribers(
        self, batch_id: int, reason: str, at: datetime, requested_by: str
    ) -> int:
        """INACTIVE members become ACTIVE, each with an applied state change; the count."""
        ...

    def members(self, batch_id: int, after_id: int, limit: int) -> list[BatchMember]: ...

    def count_members(self, batch_id: int) -> int: ...

    def delete_batch(self, batch_id: int) -> None: ...
