"""Ports of wallet migrations: the repository (`UnitOfWork.migrations`) and the charging
domains the runner moves wallets between (the lead's DomainService satisfies it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ocs.core.domains import DomainSummary, WalletMove
from ocs.core.migrations import (
    ItemOutcome,
    Migration,
    MigrationFields,
    MigrationItem,
    MigrationState,
)
from ocs.core.wallets import WalletState, WalletType


class Domains(Protocol):
    def names(self) -> list[str]: ...

    def domain_of(self, wallet_id: int) -> str | None: ...

    def move_wallet(self, wallet_id: int, source: str, target: str) -> WalletMove: ...

    def summary(self, domain: str) -> DomainSummary: ...


class WalletStates(Protocol):
    """The state of a wallet where it is held (None: no such wallet)."""

    def state_of(self, wallet_id: int) -> WalletState | None: ...


@dataclass(frozen=True)
class SelectedLink:
    """A selected subscriber's link to one of its wallets."""

    subscriber_pk: int
    subscriber: str
    wallet_type: WalletType
    wallet_id: int


class MigrationRepository(Protocol):
    def insert(self, migration: Migration) -> int: ...

    def get(self, migration_id: int, for_update: bool = False) -> Migration | None: ...

    def list_migrations(
        self, states: frozenset[MigrationState], providers: frozenset[str] | None, limit: int
    ) -> list[Migration]:
        """Newest first."""
        ...

    def update_fields(self, migration_id: int, fields: MigrationFields) -> None: ...

    def set_state(
        self,
        migration_id: int,
        state: MigrationState,
        only_from: frozenset[MigrationState] | None = None,
    ) -> bool:
        """Change the state (only from one of `only_from`, when given); False if it did not."""
        ...

    def next_to_run(self) -> Migration | None:
        """The next migration to run: N before P, then in creation order."""
        ...

    def ids_in_state(self, state: MigrationState) -> list[int]: ...

    def start(self, migration_id: int, at: datetime) -> None:
        """State R, start date now, no end date."""
        ...

    def finish(
        self, migration_id: int, state: MigrationState | None, at: datetime, report: str
    ) -> None:
        """End date and report; the state too when one is given."""
        ...

    def set_progress(self, migration_id: int, total: int, moved: int) -> None: ...

    def delete(self, migration_id: int) -> None: ...

    # -- the wallets of a migration --

    def count_items(self, migration_id: int) -> int: ...

    def insert_items(
        self, migration_id: int, first_seq: int, items: Sequence[MigrationItem]
    ) -> None: ...

    def items(
        self, migration_id: int, outcomes: frozenset[ItemOutcome] | None, after_seq: int, limit: int
    ) -> list[tuple[int, MigrationItem]]:
        """(seq, item) in seq order."""
        ...

    def set_item_outcome(
        self, migration_id: int, seq: int, outcome: ItemOutcome, detail: str
    ) -> None: ...

    def reset_items(self, migration_id: int, outcomes: frozenset[ItemOutcome]) -> int:
        """Items with one of `outcomes` become PENDING again; how many."""
        ...

    def item_counts(self, migration_id: int) -> dict[ItemOutcome, int]: ...

    # -- resolving the selection (subscribers and wallet links are in the main database) --

    def selected_links(
        self, migration: Migration, after_subscriber_pk: int, limit: int
    ) -> list[SelectedLink]:
        """Links of the subscribers a range, batch or product type selection names, by
        subscriber pk then wallet type."""
        ...

    def links_of_numbers(self, provider: str, numbers: Sequence[str]) -> list[SelectedLink]:
        """Links of the subscribers with these numbers (an input file's chunk)."""
        ...

    def wallet_subscribers(self, wallet_ids: Sequence[int]) -> dict[int, list[str]]:
        """Every subscriber number linked to each wallet."""
        ...

    def batch_exists(self, batch_id: int) -> bool: ...
