"""The repository port for credit cards, their masking rules and their registrations;
`UnitOfWork.credit_cards` provides it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from ocs.core.credit_cards import (
    CardState,
    CreditCard,
    MaskingRule,
    Registration,
    RegistrationState,
)


@dataclass(frozen=True)
class CardQuery:
    """Search criteria (any combination); `token` is the tokenised full number."""

    providers: frozenset[str] | None
    states: frozenset[CardState]
    display_number: str | None = None
    masking_rule: str | None = None
    token: str | None = None
    calling_card_id: str | None = None


class CreditCardRepository(Protocol):
    def insert_rule(self, rule: MaskingRule) -> None: ...

    def get_rule(self, code: str) -> MaskingRule | None: ...

    def list_rules(self) -> list[MaskingRule]: ...

    def delete_rule(self, code: str) -> None: ...

    def rule_in_use(self, code: str) -> bool: ...

    def insert_card(self, card: CreditCard) -> int: ...

    def get_card(self, card_id: int, for_update: bool = False) -> CreditCard | None:
        """The card; for_update locks its row until the transaction ends."""
        ...

    def card_by_token(self, provider: str, token: str) -> CreditCard | None: ...

    def update_card(self, card: CreditCard) -> None: ...

    def delete_card(self, card_id: int) -> None:
        """Remove the card with its registrations."""
        ...

    def search(self, query: CardQuery, limit: int) -> list[CreditCard]:
        """Matches in id order, at most `limit`."""
        ...

    def cards_of_subscriber(self, subscriber_id: int) -> list[CreditCard]: ...

    def list_registrations(self, card_id: int) -> list[Registration]: ...

    def count_registrations_of_subscriber(
        self, subscriber_id: int, excluded_states: Collection[CardState]
    ) -> int:
        """The subscriber's registrations on cards not in one of `excluded_states`."""
        ...

    def insert_registration(self, registration: Registration) -> None: ...

    def set_registration_state(
        self, card_id: int, subscriber_id: int, state: RegistrationState
    ) -> None: ...

    def delete_registration(self, card_id: int, subscriber_id: int) -> None: ...
