"""Vouchers and credit transfers: voucher types, batches and their states, voucher numbers
and secrets, the failed-recharge blacklist rule and what a voucher type credits to a wallet.

All functions are pure; the secret generator is passed in so tests can make it predictable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ocs.core.configuration import CODE_PATTERN, NAME_LENGTH_MAX
from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.wallets import (
    AMOUNT_ABS_MAX,
    Bucket,
    BucketChange,
    new_bucket,
    of_type,
    parse_enum,
)

DAY_S = 86_400
VALIDITY_DAYS_MAX = 3650
VOUCHER_TYPE_BALANCES_MAX = 16
ALLOWED_PRODUCT_TYPES_MAX = 64
BATCH_VOUCHERS_MAX = 10_000
BATCH_LIST_ROWS_MAX = 500
DESCRIPTION_LENGTH_MAX = 500
# A scratch card carries 20 random digits (about 66 bits): far beyond guessing, and the
# blacklist stops a subscriber after three wrong tries anyway.
SECRET_DIGITS = 20
SERIAL_DIGITS = 12
NUMBER_PATTERN = re.compile(r"^[0-9]{6,32}$")
SECRET_PATTERN = re.compile(r"^[0-9]{4,64}$")
SERIAL_PATTERN = re.compile(r"^[0-9]{1,32}$")
# Three consecutive failed voucher recharges blacklist the subscriber (domain.md section 7).
FAILED_RECHARGES_TO_BLACKLIST = 3


# -- voucher types -----------------------------------------------------------------------------


class BucketExpiry(StrEnum):
    """Where a voucher's value goes in the wallet.

    NONE: the undated (never-expiring) bucket. VALIDITY: a bucket expiring validity_days from
    the recharge. EXTEND: the balance's latest-expiring bucket takes the value and its expiry
    moves out to validity_days from the recharge if that is later (a new bucket without one).
    """

    NONE = "NONE"
    VALIDITY = "VALIDITY"
    EXTEND = "EXTEND"


@dataclass(frozen=True)
class VoucherBalance:
    balance_type: str
    value: int
    expiry: BucketExpiry = BucketExpiry.NONE
    validity_days: int | None = None


@dataclass(frozen=True)
class VoucherType:
    id: int
    code: str
    name: str
    service_provider: str
    balances: tuple[VoucherBalance, ...]
    description: str | None = None
    # Days added to the wallet's expiry date; None leaves it alone.
    wallet_expiry_extension_days: int | None = None
    # The wallet takes this product type on recharge.
    product_type_swap: str | None = None
    # Product types a wallet must have to take the voucher; empty means every product type.
    allowed_product_types: tuple[str, ...] = ()


def check_code(value: str, field: str = "code") -> str:
    text = value.strip()
    if not CODE_PATTERN.match(text):
        raise invalid(field, f"{field} must be 1-32 letters, digits or _.- (starting alphanumeric)")
    return text


def check_name(value: str, field: str = "name") -> str:
    text = value.strip()
    if not text:
        raise DomainError(ProblemKind.MISSING_FIELD, f"{field} is required", field)
    if len(text) > NAME_LENGTH_MAX:
        raise invalid(field, f"{field} must be at most {NAME_LENGTH_MAX} characters")
    return text


def check_description(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > DESCRIPTION_LENGTH_MAX:
        raise invalid(
            "description", f"description must be at most {DESCRIPTION_LENGTH_MAX} characters"
        )
    return text or None


def check_days(value: int | None, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, f"{field} must be a whole number of days")
    if not 1 <= value <= VALIDITY_DAYS_MAX:
        raise invalid(field, f"{field} must be 1-{VALIDITY_DAYS_MAX} days")
    return value


@dataclass(frozen=True)
class VoucherBalanceInput:
    """One balance a voucher type credits, as an operator enters it."""

    balance_type: str
    value: int
    expiry: str = BucketExpiry.NONE.value
    validity_days: int | None = None


def check_voucher_balance(balance: VoucherBalanceInput, index: int) -> VoucherBalance:
    prefix = f"balances[{index}]."
    value = balance.value
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(prefix + "value", "value must be an integer number of minor units")
    if value <= 0:
        raise invalid(prefix + "value", "value must be positive")
    if value > AMOUNT_ABS_MAX:
        raise invalid(prefix + "value", "value is too large")
    expiry = parse_enum(BucketExpiry, balance.expiry, prefix + "expiry")
    days = check_days(balance.validity_days, prefix + "validity_days")
    if expiry is BucketExpiry.NONE and days is not None:
        raise invalid(prefix + "validity_days", "validity_days needs expiry VALIDITY or EXTEND")
    if expiry is not BucketExpiry.NONE and days is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD,
            f"validity_days is required with expiry {expiry.value}",
            prefix + "validity_days",
        )
    return VoucherBalance(balance.balance_type.strip(), value, expiry, days)


def check_voucher_balances(balances: Sequence[VoucherBalanceInput]) -> tuple[VoucherBalance, ...]:
    if not balances:
        raise DomainError(
            ProblemKind.MISSING_FIELD, "a voucher type credits at least one balance", "balances"
        )
    if len(balances) > VOUCHER_TYPE_BALANCES_MAX:
        raise invalid("balances", f"at most {VOUCHER_TYPE_BALANCES_MAX} balance types")
    checked = tuple(check_voucher_balance(b, i) for i, b in enumerate(balances))
    seen: set[str] = set()
    for i, balance in enumerate(checked):
        if balance.balance_type in seen:
            raise invalid(
                f"balances[{i}].balance_type",
                f"balance type {balance.balance_type!r} is listed twice",
            )
        seen.add(balance.balance_type)
    return checked


def check_product_types(codes: Iterable[str], field: str) -> tuple[str, ...]:
    result = tuple(sorted({code.strip() for code in codes}))
    if len(result) > ALLOWED_PRODUCT_TYPES_MAX:
        raise invalid(field, f"at most {ALLOWED_PRODUCT_TYPES_MAX} product types")
    return result


def product_type_allowed(allowed: Sequence[str], product_type: str) -> bool:
    return not allowed or product_type in allowed


# -- batches and vouchers ----------------------------------------------------------------------


class BatchState(StrEnum):
    CREATED = "CREATED"
    ACTIVE = "ACTIVE"
    FROZEN = "FROZEN"


# CREATED is only initial: a batch is printed and distributed before it is activated. A frozen
# batch (stolen cards, say) may be activated again once the matter is settled.
BATCH_TRANSITIONS: Mapping[BatchState, frozenset[BatchState]] = {
    BatchState.CREATED: frozenset({BatchState.ACTIVE, BatchState.FROZEN}),
    BatchState.ACTIVE: frozenset({BatchState.FROZEN}),
    BatchState.FROZEN: frozenset({BatchState.ACTIVE}),
}


class VoucherState(StrEnum):
    AVAILABLE = "AVAILABLE"
    REDEEMED = "REDEEMED"
    FROZEN = "FROZEN"


# REDEEMED is final: a voucher credits once.
VOUCHER_TRANSITIONS: Mapping[VoucherState, frozenset[VoucherState]] = {
    VoucherState.AVAILABLE: frozenset({VoucherState.FROZEN}),
    VoucherState.FROZEN: frozenset({VoucherState.AVAILABLE}),
    VoucherState.REDEEMED: frozenset(),
}


def check_batch_transition(current: BatchState, target: BatchState) -> None:
    if target not in BATCH_TRANSITIONS[current]:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION,
            f"a voucher batch cannot change from {current.value} to {target.value}",
            "state",
        )


def check_voucher_transition(current: VoucherState, target: VoucherState) -> None:
    if target not in VOUCHER_TRANSITIONS[current]:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION,
            f"a voucher cannot change from {current.value} to {target.value}",
            "state",
        )


@dataclass(frozen=True)
class VoucherBatch:
    id: int
    voucher_type: str
    service_provider: str
    size: int
    state: BatchState
    expires_at: datetime
    created_at: datetime
    description: str | None = None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Voucher:
    """A voucher as operators see it: never with its secret (only a keyed hash is stored)."""

    id: int
    batch_id: int
    number: str
    serial_number: str
    state: VoucherState
    redeemed_by: int | None = None
    redeemed_at: datetime | None = None
    redeemed_wallet_id: int | None = None


@dataclass(frozen=True)
class IssuedVoucher:
    """A new voucher with its secret: exists only in the batch creation output."""

    number: str
    serial_number: str
    secret: str


def check_batch_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= BATCH_VOUCHERS_MAX:
        raise invalid("size", f"size must be 1-{BATCH_VOUCHERS_MAX} vouchers")
    return size


def check_batch_expiry(expires_at: datetime, now: datetime) -> datetime:
    if expires_at.tzinfo is None:
        raise invalid("expires_at", "expires_at must carry a time zone")
    if expires_at <= now:
        raise invalid("expires_at", "expires_at must be in the future")
    return expires_at


def voucher_number(batch_id: int, sequence: int) -> str:
    """Batch id and position: unique by construction. Numbers are not secret; the secret is."""
    return f"{batch_id:08d}{sequence:06d}"


def issue_vouchers(
    batch_id: int, size: int, random_below: Callable[[int], int]
) -> list[IssuedVoucher]:
    """Numbers, random serial numbers (distinct within the batch) and random secrets;
    `random_below` is secrets.randbelow in production."""
    serials: set[str] = set()
    issued = []
    for sequence in range(1, size + 1):
        serial = _digits(random_below, SERIAL_DIGITS)
        while serial in serials:
            serial = _digits(random_below, SERIAL_DIGITS)
        serials.add(serial)
        secret = _digits(random_below, SECRET_DIGITS)
        issued.append(IssuedVoucher(voucher_number(batch_id, sequence), serial, secret))
    return issued


def _digits(random_below: Callable[[int], int], count: int) -> str:
    return f"{random_below(10**count):0{count}d}"


def hash_secret(key: bytes, number: str, secret: str) -> str:
    """The stored form of a voucher secret: HMAC-SHA256 under the server key, bound to the
    voucher number. A fast keyed hash is enough here (unlike PINs, which are argon2): the
    secrets are long random strings, not human choices, so there is no dictionary to try, and
    without the key a stolen table gives nothing to brute-force offline."""
    message = f"{number}:{secret}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def secret_matches(key: bytes, number: str, secret: str, stored: str) -> bool:
    return hmac.compare_digest(hash_secret(key, number, secret), stored)


def check_voucher_number(value: str) -> str:
    text = value.strip()
    if not NUMBER_PATTERN.match(text):
        raise invalid("voucher_number", "voucher_number must be 6-32 digits")
    return text


def check_secret(value: str) -> str:
    """The secret's shape; the detail never repeats it."""
    text = value.strip()
    if not SECRET_PATTERN.match(text):
        raise invalid("secret", "secret must be 4-64 digits")
    return text


def check_serial_number(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not SERIAL_PATTERN.match(text):
        raise invalid("serial_number", "serial_number must be 1-32 digits")
    return text


# -- recharge refusals and the blacklist ---------------------------------------------------------


class RechargeFailure(StrEnum):
    """Attempts that count towards the blacklist: the caller did not hold a valid voucher."""

    UNKNOWN_VOUCHER = "UNKNOWN_VOUCHER"
    WRONG_SECRET = "WRONG_SECRET"
    WRONG_SERIAL = "WRONG_SERIAL"
    REDEEMED = "REDEEMED"


@dataclass(frozen=True)
class FailureCount:
    failures: int
    blacklisted: bool


def after_failure(failures: int, blacklisted: bool) -> FailureCount:
    """One more consecutive failure; the third one blacklists (and it stays so until an
    operator clears it)."""
    count = failures + 1
    return FailureCount(count, blacklisted or count >= FAILED_RECHARGES_TO_BLACKLIST)


def failure_error(failure: RechargeFailure) -> DomainError:
    """The refusal a subscriber sees. An unknown number and a wrong secret look the same, so
    that numbers cannot be probed."""
    if failure is RechargeFailure.REDEEMED:
        return DomainError(
            ProblemKind.CONFLICT, "this voucher has already been redeemed", "voucher_number"
        )
    if failure is RechargeFailure.WRONG_SERIAL:
        return invalid("serial_number", "the serial number does not belong to this voucher")
    return invalid("secret", "no voucher matches this voucher number and secret")


def usable_error(voucher: Voucher, batch: VoucherBatch, now: datetime) -> DomainError | None:
    """Why a genuine, unredeemed voucher cannot be used now (None: it can)."""
    if voucher.state is VoucherState.FROZEN:
        return DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE, "this voucher is frozen", "voucher_number"
        )
    if batch.state is not BatchState.ACTIVE:
        return DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"the voucher's batch is {batch.state.value}, not ACTIVE",
            "voucher_number",
        )
    if batch.is_expired(now):
        return DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"the voucher's batch expired at {batch.expires_at.isoformat()}",
            "voucher_number",
        )
    return None


# -- what a voucher type credits ----------------------------------------------------------------


def bucket_expiry(balance: VoucherBalance, now: datetime) -> datetime | None:
    if balance.validity_days is None:
        return None
    return now + timedelta(days=balance.validity_days)


def plan_extend(
    buckets: Sequence[Bucket], balance_type: str, amount: int, expires_at: datetime, now: datetime
) -> list[BucketChange]:
    """EXTEND: the available dated bucket with the latest expiry takes the amount and keeps the
    later of its expiry and `expires_at`; without one, a new bucket expires at `expires_at`."""
    dated = [
        b
        for b in of_type(buckets, balance_type)
        if b.expires_at is not None and b.is_available(now)
    ]
    target = max(dated, key=lambda b: (b.expires_at or now, b.id), default=None)
    if target is None or target.expires_at is None:
        return [new_bucket(balance_type, amount, None, expires_at)]
    return [BucketChange(target, amount, max(target.expires_at, expires_at))]


def extended_wallet_expiry(
    current: datetime | None, now: datetime, days: int | None
) -> datetime | None:
    """The wallet's expiry after a recharge adding `days`: counted from the current expiry,
    or from now when it has passed. A wallet that never expires keeps never expiring."""
    if days is None or current is None:
        return current
    return max(current, now) + timedelta(days=days)


# -- credit transfers ---------------------------------------------------------------------------


class TransferType(StrEnum):
    PEER_TO_PEER = "PEER_TO_PEER"
    SERVICE_BUNDLE = "SERVICE_BUNDLE"


@dataclass(frozen=True)
class TransferDefinition:
    """What a purchaser pays (an amount of one balance type) to apply a voucher type to the
    recipient's wallet."""

    id: int
    code: str
    name: str
    transfer_type: TransferType
    service_provider: str
    charge_balance_type: str
    charge_amount: int
    voucher_type: str
    pin_required: bool = False
    # Product types the purchaser's wallet must have; empty means every product type. (The
    # voucher type's own list restricts the recipient.)
    allowed_product_types: tuple[str, ...] = ()
    description: str | None = None


def check_charge_amount(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("charge_amount", "charge_amount must be an integer number of minor units")
    if value <= 0:
        raise invalid("charge_amount", "charge_amount must be positive")
    if value > AMOUNT_ABS_MAX:
        raise invalid("charge_amount", "charge_amount is too large")
    return value


def parse_transfer_type(value: object) -> TransferType:
    return parse_enum(TransferType, value, "transfer_type")
