"""Customers, accounts, subscribers and resources (CASM): values and pure rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.states import EntityState

SEARCH_ROWS_MAX = 100
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
SUBSCRIBER_ID_PATTERN = re.compile(r"^[0-9A-Za-z+@._:\-]{1,64}$")


class CasmLevel(StrEnum):
    CUSTOMER = "customer"
    ACCOUNT = "account"
    SUBSCRIBER = "subscriber"


class SubscriberSearchField(StrEnum):
    """Subscriber columns the subscriber search matches on, exactly or by prefix."""

    SUBSCRIBER_ID = "subscriber_id"
    CARD_NUMBER = "card_number"
    # The finding-subscribers fields of seed 002 (see core/subscriber_search.py).
    WALLET_REFERENCE = "wallet_reference"
    CUSTOMER = "customer"
    CUSTOMER_ID = "customer_id"


def customer_name_key(name: str) -> str:
    """Comparison key for customer names: case, spaces and special characters make no
    difference, so "Super Savers" and "Super saver's" share the key "supersavers"."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def check_customer_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, "name is required", "name")
    text = name.strip()
    if len(text) > 100:
        raise invalid("name", "name must be at most 100 characters")
    if not customer_name_key(text):
        raise invalid("name", "name must contain at least one letter or digit")
    return text


def check_subscriber_id(value: object, field: str = "subscriber_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, f"{field} is required", field)
    text = value.strip()
    if not SUBSCRIBER_ID_PATTERN.match(text):
        raise invalid(field, f"{field} {text!r} may hold only digits, letters and +@._:- (max 64)")
    return text


def check_language(value: object) -> str:
    if not isinstance(value, str) or not LANGUAGE_PATTERN.match(value):
        raise invalid("language", f"language must be an ISO 639 code such as 'en', got {value!r}")
    return value


@dataclass(frozen=True)
class StateChange:
    """A requested state change; pending until confirmed when valid_from is in the future."""

    id: int
    level: CasmLevel
    entity_id: int
    state: EntityState
    state_reason: str
    valid_from: datetime
    status: str
    requested_by: str


class StateChangeStatus(StrEnum):
    PENDING = "PENDING"
    APPLIED = "APPLIED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Customer:
    id: int
    service_provider: str
    name: str
    description: str | None
    reference: str | None
    segment: str | None
    state: EntityState
    state_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Account:
    id: int
    customer_id: int
    name: str
    account_type: str
    payment_responsible: bool
    parent_account_id: int | None
    billing_cycle: str | None
    currency: str | None
    segment: str | None
    state: EntityState
    state_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Subscriber:
    id: int
    account_id: int
    service_provider: str
    subscriber_id: str
    card_number: str
    language: str
    segment: str | None
    state: EntityState
    state_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Resource:
    id: int
    subscriber_id: int
    resource_type: str
    value: str
