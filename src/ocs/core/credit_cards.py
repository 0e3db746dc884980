"""Credit cards registered to subscribers: masking rules, number checks, the keyed token, and
the card and registration state rules (seed 003 "Credit Cards", seed 002 "Credit Card").

The full card number and the CVC pass through these functions only to be checked, masked and
tokenised; no value built here contains either, and no error message repeats them."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid

CARD_NUMBER_LENGTH_MIN = 12
CARD_NUMBER_LENGTH_MAX = 19
# PCI DSS 3.4: a displayed number may show at most the first six and the last four digits.
# More would also let the Luhn check digit give the rest away.
MASK_PREFIX_LENGTH_MAX = 6
MASK_SUFFIX_LENGTH_MAX = 4
CODE_LENGTH_MAX = 32
NAME_LENGTH_MAX = 100
EXPIRY_YEARS_AHEAD_MAX = 20
SEARCH_ROWS_MAX = 100
REGISTRATIONS_PER_SUBSCRIBER_DEFAULT = 3
REGISTRATIONS_PER_SUBSCRIBER_MAX = 100


class CardState(StrEnum):
    """The states the Frozen box and the delete rule of seed 003 give a card."""

    ACTIVE = "ACTIVE"
    FROZEN = "FROZEN"
    DELETED = "DELETED"


# The search looks for these unless told otherwise (seed 003: Active and Frozen by default).
DEFAULT_SEARCH_STATES = frozenset({CardState.ACTIVE, CardState.FROZEN})


class RegistrationState(StrEnum):
    """A subscriber's registration to a card (seed 003 "Registered Subscribers").

    NEW: made together with the card; PENDING: added to an existing card. Both wait for the
    operator's Confirm, which makes the registration PRIMARY when the card has no primary
    subscriber yet and SECONDARY otherwise."""

    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"
    PENDING = "PENDING"
    NEW = "NEW"


UNCONFIRMED = frozenset({RegistrationState.NEW, RegistrationState.PENDING})


class DeleteOutcome(StrEnum):
    REMOVED = "REMOVED"  # gone from the database
    DELETED = "DELETED"  # kept, in the DELETED state


@dataclass(frozen=True)
class MaskingRule:
    """How a card number is shown: the first prefix_length digits, one padding character for
    each hidden digit, then the last suffix_length digits."""

    code: str
    name: str
    prefix_length: int
    suffix_length: int
    padding: str


@dataclass(frozen=True)
class CreditCard:
    """A stored card: the keyed token and the display number, never the number itself."""

    id: int
    service_provider: str
    token: str
    display_number: str
    masking_rule: str
    expiry_month: int
    expiry_year: int
    name_on_card: str | None
    state: CardState
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Registration:
    card_id: int
    subscriber_id: int
    state: RegistrationState
    registered_at: datetime


# -- masking rules ---------------------------------------------------------------------------


def check_masking_rule(
    code: object, name: object, prefix_length: object, suffix_length: object, padding: object
) -> MaskingRule:
    if not isinstance(code, str) or not code.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, "code is required", "code")
    code = code.strip()
    if len(code) > CODE_LENGTH_MAX or not all(ch.isalnum() or ch in "_-" for ch in code):
        raise invalid("code", f"code must be 1-{CODE_LENGTH_MAX} letters, digits, _ or -")
    if not isinstance(name, str) or not name.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, "name is required", "name")
    if len(name.strip()) > NAME_LENGTH_MAX:
        raise invalid("name", f"name must be at most {NAME_LENGTH_MAX} characters")
    prefix = _length(prefix_length, "prefix_length", MASK_PREFIX_LENGTH_MAX)
    suffix = _length(suffix_length, "suffix_length", MASK_SUFFIX_LENGTH_MAX)
    if prefix + suffix >= CARD_NUMBER_LENGTH_MIN:
        raise invalid(
            "suffix_length",
            f"prefix_length + suffix_length must be shorter than the shortest card number "
            f"({CARD_NUMBER_LENGTH_MIN} digits)",
        )
    if not isinstance(padding, str) or len(padding) != 1:
        raise invalid("padding", "padding must be exactly one character")
    if padding.isdigit() or padding.isspace():
        raise invalid("padding", "padding must not be a digit or white space")
    return MaskingRule(code, name.strip(), prefix, suffix, padding)


def _length(value: object, field: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, f"{field} must be a whole number")
    if value < 0:
        raise invalid(field, f"{field} must not be negative")
    if value > maximum:
        raise invalid(field, f"{field} may show at most {maximum} digits (PCI DSS)")
    return value


def mask_number(number: str, rule: MaskingRule) -> str:
    """The display number: prefix + padding + suffix."""
    hidden = len(number) - rule.prefix_length - rule.suffix_length
    if hidden <= 0:
        raise invalid("number", "the masking rule would show the whole card number")
    suffix = number[len(number) - rule.suffix_length :] if rule.suffix_length else ""
    return number[: rule.prefix_length] + rule.padding * hidden + suffix


# -- card number, CVC, expiry, name ----------------------------------------------------------


def check_card_number(value: object) -> str:
    """Digits only, 12-19 of them. The message never repeats the value."""
    if not isinstance(value, str) or not value:
        raise DomainError(ProblemKind.MISSING_FIELD, "number is required", "number")
    if not value.isascii() or not value.isdigit():
        raise invalid("number", "the card number must be digits only, without spaces")
    if not CARD_NUMBER_LENGTH_MIN <= len(value) <= CARD_NUMBER_LENGTH_MAX:
        raise invalid(
            "number",
            f"the card number must have {CARD_NUMBER_LENGTH_MIN}-{CARD_NUMBER_LENGTH_MAX} digits",
        )
    return value


def luhn_valid(number: str) -> bool:
    """The Luhn (mod 10) checksum over a string of digits."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


LUHN_WARNING = "the card number fails the Luhn checksum"


def luhn_warnings(number: str, accept_failure: bool) -> list[str]:
    """The manual shows a failed checksum as a warning: creation goes ahead only when the
    caller has accepted it (accept_luhn_failure), and the warning is returned."""
    if luhn_valid(number):
        return []
    if not accept_failure:
        raise invalid(
            "number",
            f"{LUHN_WARNING}; repeat with accept_luhn_failure to create the card anyway",
        )
    return [LUHN_WARNING]


def check_cvc(value: object) -> None:
    """Three or four digits; checked, then forgotten (PCI DSS forbids keeping it)."""
    if not isinstance(value, str) or not value:
        raise DomainError(ProblemKind.MISSING_FIELD, "cvc is required", "cvc")
    if not (value.isascii() and value.isdigit() and len(value) in (3, 4)):
        raise invalid("cvc", "the CVC must be three or four digits")


def check_expiry(month: object, year: object, now: datetime) -> tuple[int, int]:
    """A month 1-12 of a four-digit year; the card is valid to the end of that month."""
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise invalid("expiry_month", "expiry_month must be 1-12")
    if isinstance(year, bool) or not isinstance(year, int):
        raise invalid("expiry_year", "expiry_year must be a four-digit year")
    if (year, month) < (now.year, now.month):
        raise invalid("expiry_year", f"the card expired at the end of {year:04d}-{month:02d}")
    if year > now.year + EXPIRY_YEARS_AHEAD_MAX:
        raise invalid(
            "expiry_year", f"expiry_year may be at most {EXPIRY_YEARS_AHEAD_MAX} years ahead"
        )
    return month, year


def check_name_on_card(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("name_on_card", "name_on_card must be text")
    text = " ".join(value.split())
    if len(text) > NAME_LENGTH_MAX:
        raise invalid("name_on_card", f"name_on_card must be at most {NAME_LENGTH_MAX} characters")
    if any(ch.isdigit() for ch in text):
        # A name holds no digits; refusing them keeps a mistyped card number out of storage.
        raise invalid("name_on_card", "name_on_card must not contain digits")
    return text or None


def card_token(key: bytes, number: str) -> str:
    """HMAC-SHA256 of the number under the server key: the same number always gives the same
    token (so it can be searched and duplicates found), and without the key the token cannot
    be tested against guessed numbers."""
    return hmac.new(key, number.encode("ascii"), hashlib.sha256).hexdigest()


# -- card states -----------------------------------------------------------------------------


def initial_state(frozen: bool, registered: bool) -> CardState:
    """Registered new cards may be frozen or active; unregistered ones only frozen."""
    if not frozen and not registered:
        raise invalid("frozen", "a new card without a registered subscriber must be frozen")
    return CardState.FROZEN if frozen else CardState.ACTIVE


def check_not_deleted(card: CreditCard) -> None:
    if card.state is CardState.DELETED:
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE, f"credit card {card.id} is DELETED", "state"
        )


def check_freeze(card: CreditCard) -> None:
    check_not_deleted(card)
    if card.state is CardState.FROZEN:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION, f"credit card {card.id} is already FROZEN"
        )


def check_unfreeze(card: CreditCard, registrations: int) -> None:
    """A card can be made active again only while a subscriber is registered to it."""
    check_not_deleted(card)
    if card.state is CardState.ACTIVE:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION, f"credit card {card.id} is already ACTIVE"
        )
    if registrations == 0:
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"credit card {card.id} has no registered subscriber and must stay FROZEN",
            "state",
        )


def delete_outcome(card: CreditCard) -> DeleteOutcome:
    """Seed 003: a card in the primary (ACTIVE) state is removed from the database; a FROZEN
    one is moved to DELETED and kept."""
    if card.state is CardState.ACTIVE:
        return DeleteOutcome.REMOVED
    if card.state is CardState.FROZEN:
        return DeleteOutcome.DELETED
    raise DomainError(
        ProblemKind.NOT_ALLOWED_IN_STATE, f"credit card {card.id} is already DELETED", "state"
    )


# -- registrations ---------------------------------------------------------------------------


def check_registration_limit(current: int, limit: int) -> None:
    if current >= limit:
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"the subscriber already has the allowed number of credit card registrations ({limit})",
            "subscriber_id",
        )


def confirmed_state(registration: Registration, has_primary: bool) -> RegistrationState:
    """Confirming a NEW or PENDING registration: the first confirmed subscriber is primary."""
    if registration.state not in UNCONFIRMED:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION,
            f"the registration is {registration.state.value}; only NEW or PENDING ones are "
            f"confirmed",
            "subscriber_id",
        )
    return RegistrationState.SECONDARY if has_primary else RegistrationState.PRIMARY


def check_set_primary(card: CreditCard, registration: Registration) -> None:
    """Seed 003: the primary subscriber is chosen on a frozen card."""
    check_not_deleted(card)
    if card.state is not CardState.FROZEN:
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"credit card {card.id} must be FROZEN to change its primary subscriber",
            "state",
        )
    if registration.state is RegistrationState.PRIMARY:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION,
            f"subscriber {registration.subscriber_id} is already the primary subscriber",
            "subscriber_id",
        )


def check_deregister(registration: Registration) -> None:
    if registration.state is RegistrationState.PRIMARY:
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            "the primary subscriber cannot be deregistered",
            "subscriber_id",
        )


def check_registrations_limit_setting(value: object) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= REGISTRATIONS_PER_SUBSCRIBER_MAX
    ):
        raise invalid(
            "registrations_per_subscriber_max",
            f"registrations_per_subscriber_max must be 1-{REGISTRATIONS_PER_SUBSCRIBER_MAX}",
        )
    return value
