"""Finding subscribers (seed 002): one field of wallet reference, card number, subscriber ID or
customer, matched exactly or by prefix; one row per wallet, at most SEARCH_ROWS_MAX rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ocs.core.casm import SEARCH_ROWS_MAX, Subscriber, SubscriberSearchField, customer_name_key
from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.wallets import WalletState, WalletType

TEXT_LENGTH_MAX = 100


@dataclass(frozen=True)
class SubscriberQuery:
    field: SubscriberSearchField
    # What the column is compared with: the customer name key for CUSTOMER.
    text: str
    exact: bool


@dataclass(frozen=True)
class SubscriberWalletRow:
    """One search row: a subscriber with one of its wallets (None when it has no wallet)."""

    subscriber: Subscriber
    customer_id: int
    customer_name: str
    wallet_id: int | None
    wallet_reference: str | None
    wallet_type: WalletType | None
    wallet_state: WalletState | None


@dataclass(frozen=True)
class SubscriberSearchResult:
    rows: list[SubscriberWalletRow]
    # More than SEARCH_ROWS_MAX rows matched: the operator should enter a longer text.
    truncated: bool
    rows_max: int = SEARCH_ROWS_MAX


def subscriber_query(criteria: Mapping[str, str | None], exact: bool) -> SubscriberQuery:
    """The query of exactly one filled-in field; more than one (or none) is refused, as the
    manual's Search button is disabled when characters are entered in more than one field."""
    for name in criteria:
        if name not in {f.value for f in SubscriberSearchField}:
            raise invalid(name, f"{name!r} is not a subscriber search field")
    filled = {k: v.strip() for k, v in criteria.items() if v is not None and v.strip()}
    choices = ", ".join(f.value for f in SubscriberSearchField)
    if not filled:
        raise DomainError(
            ProblemKind.MISSING_FIELD, f"enter the text to find in one of {choices}", "q"
        )
    if len(filled) > 1:
        names = ", ".join(sorted(filled))
        raise invalid(
            sorted(filled)[1], f"search on one field only; characters were entered in {names}"
        )
    ((name, text),) = filled.items()
    field = SubscriberSearchField(name)
    if len(text) > TEXT_LENGTH_MAX:
        raise invalid(name, f"{name} must be at most {TEXT_LENGTH_MAX} characters")
    if field is SubscriberSearchField.CUSTOMER:
        key = customer_name_key(text)
        if not key:
            raise invalid(name, "a customer name needs at least one letter or digit")
        return SubscriberQuery(field, key, exact)
    if field is SubscriberSearchField.CUSTOMER_ID:
        if not text.isdigit() or len(text) > 18:
            raise invalid(name, f"customer_id must be a number, not {text!r}")
        # An id is an identity, not text: it always matches exactly.
        return SubscriberQuery(field, str(int(text)), True)
    return SubscriberQuery(field, text, exact)
