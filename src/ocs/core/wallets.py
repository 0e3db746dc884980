"""Wallets, balances and buckets: states, permissions, limit types and the balance arithmetic.

All functions are pure. A balance is the sum of its buckets; the part that charging and the
maximum-balance check see is the *available* value: buckets that have started and not expired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from ocs.core.configuration import MaximumBalancePolicy
from ocs.core.errors import DomainError, ProblemKind, invalid

MAX_CONCURRENT_ACCESSES_MAX = 1000
# Generated wallet references have this shape; operators may not choose one like it.
GENERATED_REFERENCE = re.compile(r"^W\d{10}$")
REFERENCE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:\-]{0,31}$")
AMOUNT_ABS_MAX = 2**62


class WalletState(StrEnum):
    PRE_USE = "PRE_USE"
    ACTIVE = "ACTIVE"
    DORMANT = "DORMANT"
    SUSPENDED = "SUSPENDED"
    FROZEN = "FROZEN"
    TERMINATED = "TERMINATED"


class LimitType(StrEnum):
    PREPAID = "PREPAID"
    SINGLE_USE = "SINGLE_USE"
    POSTPAID = "POSTPAID"
    LIMITED_POSTPAID = "LIMITED_POSTPAID"


class WalletType(StrEnum):
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"


class WalletAction(StrEnum):
    CHARGE = "CHARGE"
    RECHARGE = "RECHARGE"
    ADJUST = "ADJUST"
    MERGE = "MERGE"


# The default permission matrix. A product type may override single (state, action) cells.
# PRE_USE may be charged because the first chargeable use activates it. Operator adjustments
# stay possible on FROZEN wallets so that a fraud investigation can correct balances.
DEFAULT_PERMISSIONS: Mapping[WalletState, frozenset[WalletAction]] = {
    WalletState.PRE_USE: frozenset(WalletAction),
    WalletState.ACTIVE: frozenset(WalletAction),
    WalletState.DORMANT: frozenset(WalletAction),
    WalletState.SUSPENDED: frozenset(
        {WalletAction.RECHARGE, WalletAction.ADJUST, WalletAction.MERGE}
    ),
    WalletState.FROZEN: frozenset({WalletAction.ADJUST}),
    WalletState.TERMINATED: frozenset(),
}

# PRE_USE is only ever initial (it leaves through activation); TERMINATED is final.
WALLET_TRANSITIONS: Mapping[WalletState, frozenset[WalletState]] = {
    WalletState.PRE_USE: frozenset(
        {WalletState.ACTIVE, WalletState.FROZEN, WalletState.TERMINATED}
    ),
    WalletState.ACTIVE: frozenset(
        {WalletState.DORMANT, WalletState.SUSPENDED, WalletState.FROZEN, WalletState.TERMINATED}
    ),
    WalletState.DORMANT: frozenset(
        {WalletState.ACTIVE, WalletState.SUSPENDED, WalletState.FROZEN, WalletState.TERMINATED}
    ),
    WalletState.SUSPENDED: frozenset(
        {WalletState.ACTIVE, WalletState.DORMANT, WalletState.FROZEN, WalletState.TERMINATED}
    ),
    WalletState.FROZEN: frozenset(
        {WalletState.ACTIVE, WalletState.SUSPENDED, WalletState.TERMINATED}
    ),
    WalletState.TERMINATED: frozenset(),
}

PermissionOverrides = Mapping[tuple[WalletState, WalletAction], bool]
E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: object, field: str) -> E:
    try:
        return kind(str(value))
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise invalid(field, f"{field} must be one of {choices}, got {value!r}") from None


def permitted(state: WalletState, action: WalletAction, overrides: PermissionOverrides) -> bool:
    override = overrides.get((state, action))
    return action in DEFAULT_PERMISSIONS[state] if override is None else override


def check_permitted(
    state: WalletState, action: WalletAction, overrides: PermissionOverrides
) -> None:
    if not permitted(state, action, overrides):
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"a {state.value} wallet does not allow {action.value}",
            "state",
        )


def check_wallet_transition(current: WalletState, target: WalletState) -> None:
    if target not in WALLET_TRANSITIONS[current]:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION,
            f"a wallet cannot change from {current.value} to {target.value}",
            "state",
        )


def allowed_limit_types(is_default_balance_type: bool, allow_credit: bool) -> tuple[LimitType, ...]:
    """The limit types a balance may take: the default balance type always allows credit."""
    if is_default_balance_type:
        return tuple(LimitType)
    if allow_credit:
        return (LimitType.PREPAID, LimitType.LIMITED_POSTPAID)
    return (LimitType.PREPAID,)


def check_limit_type(
    limit_type: LimitType, is_default_balance_type: bool, allow_credit: bool
) -> None:
    allowed = allowed_limit_types(is_default_balance_type, allow_credit)
    if limit_type not in allowed:
        names = ", ".join(t.value for t in allowed)
        raise invalid("limit_type", f"limit_type must be one of {names} for this balance type")


def check_minimum_credit(limit_type: LimitType, minimum_credit: int | None) -> int | None:
    """LIMITED_POSTPAID needs a minimum credit of zero or below; other limit types take none."""
    if limit_type is not LimitType.LIMITED_POSTPAID:
        if minimum_credit is not None:
            raise invalid("minimum_credit", "minimum_credit applies only to LIMITED_POSTPAID")
        return None
    if minimum_credit is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD,
            "minimum_credit is required for LIMITED_POSTPAID",
            "minimum_credit",
        )
    if not -AMOUNT_ABS_MAX <= minimum_credit <= 0:
        raise invalid("minimum_credit", "minimum_credit must be zero or negative")
    return minimum_credit


def balance_floor(limit_type: LimitType, minimum_credit: int | None) -> int | None:
    """The lowest available value a balance may reach; None means no floor."""
    if limit_type is LimitType.POSTPAID:
        return None
    if limit_type is LimitType.LIMITED_POSTPAID:
        return minimum_credit or 0
    return 0


def check_amount(value: object, field: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, f"{field} must be an integer number of minor units")
    if abs(value) > AMOUNT_ABS_MAX:
        raise invalid(field, f"{field} is too large")
    if value == 0 and not allow_zero:
        raise invalid(field, f"{field} must not be zero")
    return value


def check_max_concurrent_accesses(value: int) -> int:
    if not 1 <= value <= MAX_CONCURRENT_ACCESSES_MAX:
        raise invalid(
            "max_concurrent_accesses",
            f"max_concurrent_accesses must be 1-{MAX_CONCURRENT_ACCESSES_MAX}",
        )
    return value


def check_reference(value: str) -> str:
    text = value.strip()
    if not REFERENCE_PATTERN.match(text):
        raise invalid(
            "reference", "reference may hold 1-32 letters, digits and _.:- (starting alphanumeric)"
        )
    if GENERATED_REFERENCE.match(text):
        raise invalid("reference", "references shaped W + 10 digits are reserved for generation")
    return text


def generated_reference(wallet_id: int) -> str:
    return f"W{wallet_id:010d}"


@dataclass(frozen=True)
class Wallet:
    id: int
    reference: str
    service_provider: str
    product_type: str
    currency: str
    display_currency: str
    customer_id: int | None
    # The limit type chosen at creation; the default balance type's balance inherits it.
    limit_type: LimitType
    minimum_credit: int | None
    max_concurrent_accesses: int
    state: WalletState
    expires_at: datetime | None
    created_at: datetime
    activated_at: datetime | None
    last_used_at: datetime | None
    state_changed_at: datetime

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class WalletLink:
    subscriber_id: int
    wallet_type: WalletType
    wallet_id: int


@dataclass(frozen=True)
class WalletBalance:
    wallet_id: int
    balance_type: str
    limit_type: LimitType
    minimum_credit: int | None
    display_currency: str | None

    @property
    def floor(self) -> int | None:
        return balance_floor(self.limit_type, self.minimum_credit)


class HistoryEvent(StrEnum):
    CREATED = "CREATED"
    ACTIVATED = "ACTIVATED"
    STATE_CHANGED = "STATE_CHANGED"
    EXPIRY_CHANGED = "EXPIRY_CHANGED"
    LINKED = "LINKED"
    UNLINKED = "UNLINKED"
    MERGED = "MERGED"


@dataclass(frozen=True)
class WalletHistoryEntry:
    wallet_id: int
    at: datetime
    event: HistoryEvent
    operator: str | None
    state_from: WalletState | None = None
    state_to: WalletState | None = None
    detail: str | None = None


# -- buckets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """A value in one balance type; id 0 marks a bucket that is not stored yet."""

    id: int
    balance_type: str
    value: int
    start_at: datetime | None = None
    expires_at: datetime | None = None

    def is_started(self, now: datetime) -> bool:
        return self.start_at is None or self.start_at <= now

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def is_available(self, now: datetime) -> bool:
        return self.is_started(now) and not self.is_expired(now)


@dataclass(frozen=True)
class BucketChange:
    """A delta applied to a bucket (new when bucket.id is 0), possibly moving its expiry."""

    bucket: Bucket
    delta: int
    expires_at: datetime | None

    @property
    def new_value(self) -> int:
        return self.bucket.value + self.delta


def change(bucket: Bucket, delta: int) -> BucketChange:
    return BucketChange(bucket, delta, bucket.expires_at)


def new_bucket(
    balance_type: str, value: int, start_at: datetime | None, expires_at: datetime | None
) -> BucketChange:
    return BucketChange(Bucket(0, balance_type, 0, start_at, expires_at), value, expires_at)


def check_bucket_dates(
    start_at: datetime | None, expires_at: datetime | None, now: datetime
) -> None:
    """An expiry lies in the future; a start (offset) date lies between now and the expiry."""
    for name, value in (("start_at", start_at), ("expires_at", expires_at)):
        if value is not None and value.tzinfo is None:
            raise invalid(name, f"{name} must carry a time zone")
    if expires_at is not None and expires_at <= now:
        raise invalid("expires_at", "expires_at must be in the future")
    if start_at is not None:
        if start_at < now:
            raise invalid("start_at", "start_at must not be in the past")
        if expires_at is not None and start_at >= expires_at:
            raise invalid("start_at", "start_at must be before expires_at")


def of_type(buckets: Iterable[Bucket], balance_type: str) -> list[Bucket]:
    return [b for b in buckets if b.balance_type == balance_type]


def total_value(buckets: Iterable[Bucket]) -> int:
    """Everything held, including buckets that have not started yet."""
    return sum(b.value for b in buckets)


def available_value(buckets: Iterable[Bucket], now: datetime) -> int:
    """What charging and the maximum-balance check see: started, unexpired buckets."""
    return sum(b.value for b in buckets if b.is_available(now))


def consumption_order(buckets: Iterable[Bucket], now: datetime) -> list[Bucket]:
    """Buckets a debit may draw on, in order: earliest expiry first, never-expiring last."""
    usable = [b for b in buckets if b.is_available(now) and b.value > 0]
    return sorted(usable, key=lambda b: (b.expires_at is None, b.expires_at or now, b.id))


def _open_bucket(buckets: Sequence[Bucket], now: datetime) -> Bucket | None:
    """The started, never-expiring bucket that carries debt and undated credit."""
    for bucket in buckets:
        if bucket.expires_at is None and bucket.is_started(now):
            return bucket
    return None


def plan_debit(
    buckets: Sequence[Bucket], balance_type: str, amount: int, now: datetime, floor: int | None
) -> list[BucketChange] | None:
    """Bucket changes taking `amount` (> 0) from one balance type, or None when the limit type's
    floor would be crossed. What the buckets cannot cover becomes debt on the open bucket."""
    own = of_type(buckets, balance_type)
    if floor is not None and available_value(own, now) - amount < floor:
        return None
    changes: list[BucketChange] = []
    remaining = amount
    for bucket in consumption_order(own, now):
        take = min(bucket.value, remaining)
        changes.append(change(bucket, -take))
        remaining -= take
        if remaining == 0:
            return changes
    debt_holder = _open_bucket(own, now)
    taken = {c.bucket.id: c.delta for c in changes}
    if debt_holder is None:
        changes.append(new_bucket(balance_type, -remaining, None, None))
    elif debt_holder.id in taken:
        changes = [
            change(c.bucket, c.delta - remaining) if c.bucket.id == debt_holder.id else c
            for c in changes
        ]
    else:
        changes.append(change(debt_holder, -remaining))
    return changes


def plan_credit(
    buckets: Sequence[Bucket],
    balance_type: str,
    amount: int,
    now: datetime,
    start_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> list[BucketChange]:
    """Bucket changes adding `amount` (> 0). Undated credit joins the open bucket (which also
    carries any debt); dated credit that is available now pays off debt first, and the rest
    joins a bucket with exactly the same dates or starts a new one."""
    own = of_type(buckets, balance_type)
    if start_at is not None and start_at <= now:
        start_at = None
    if start_at is None and expires_at is None:
        holder = _open_bucket(own, now)
        if holder is None:
            return [new_bucket(balance_type, amount, None, None)]
        return [change(holder, amount)]
    changes: list[BucketChange] = []
    remaining = amount
    if start_at is None:
        for debt in (b for b in own if b.value < 0 and b.is_available(now)):
            pay = min(-debt.value, remaining)
            changes.append(change(debt, pay))
            remaining -= pay
            if remaining == 0:
                return changes
    same = next((b for b in own if (b.start_at, b.expires_at) == (start_at, expires_at)), None)
    if same is None:
        changes.append(new_bucket(balance_type, remaining, start_at, expires_at))
    else:
        changes.append(change(same, remaining))
    return changes


# -- maximum balance ---------------------------------------------------------------------------


class CreditOutcome(StrEnum):
    """How a credit meets the maximum balance, most severe first."""

    REJECTED = "REJECTED"
    LIMITED = "LIMITED"
    ACCEPTED = "ACCEPTED"


@dataclass(frozen=True)
class CreditDecision:
    outcome: CreditOutcome
    accepted: int
    dropped: int


def decide_credit(
    available: int,
    amount: int,
    maximum: int | None,
    policy: MaximumBalancePolicy | None,
    starts_later: bool = False,
) -> CreditDecision:
    """Apply the maximum balance to a credit. A credit that starts later is not checked, as
    not-yet-started buckets are outside the check; LIMIT keeps what fits and drops the excess;
    REJECT refuses the whole credit."""
    if maximum is None or starts_later or available + amount <= maximum:
        return CreditDecision(CreditOutcome.ACCEPTED, amount, 0)
    if policy is MaximumBalancePolicy.REJECT:
        return CreditDecision(CreditOutcome.REJECTED, 0, amount)
    accepted = max(0, min(amount, maximum - available))
    return CreditDecision(CreditOutcome.LIMITED, accepted, amount - accepted)


def maximum_exceeded(balance_type: str, amount: int, available: int, maximum: int) -> DomainError:
    return DomainError(
        ProblemKind.MAXIMUM_BALANCE_EXCEEDED,
        f"crediting {amount} to {balance_type} (available {available}) would exceed its "
        f"maximum balance {maximum}; the REJECT policy refuses the whole credit",
        "amount",
    )


def insufficient(balance_type: str, amount: int, available: int, floor: int | None) -> DomainError:
    return DomainError(
        ProblemKind.INSUFFICIENT_BALANCE,
        f"taking {amount} from {balance_type} (available {available}) would go below its "
        f"floor {floor}",
        "amount",
    )


# -- adjustments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AdjustmentLimits:
    minimum: int
    maximum: int


@dataclass(frozen=True)
class AdjustmentLimitRule:
    product_type: str
    balance_type: str
    # None: the product type's own limits; else this operator's, which win.
    operator: str | None
    limits: AdjustmentLimits


def check_adjustment_limits(minimum: int, maximum: int) -> AdjustmentLimits:
    check_amount(minimum, "minimum", allow_zero=True)
    check_amount(maximum, "maximum", allow_zero=True)
    if minimum > maximum:
        raise invalid("minimum", "minimum must not be above maximum")
    return AdjustmentLimits(minimum, maximum)


def effective_limits(
    product_type_limits: AdjustmentLimits | None, operator_limits: AdjustmentLimits | None
) -> AdjustmentLimits | None:
    """The operator's own limits win over the product type's."""
    return operator_limits if operator_limits is not None else product_type_limits


def check_adjustment(amount: int, limits: AdjustmentLimits | None, balance_type: str) -> None:
    if limits is None:
        raise DomainError(
            ProblemKind.OUTSIDE_ADJUSTMENT_LIMITS,
            f"no adjustment limits are configured for balance type {balance_type!r}",
            "balance_type",
        )
    if amount < 0 and limits.minimum >= 0:
        raise DomainError(
            ProblemKind.OUTSIDE_ADJUSTMENT_LIMITS,
            f"negative adjustments are not allowed: the minimum is {limits.minimum}",
            "amount",
        )
    if not limits.minimum <= amount <= limits.maximum:
        raise DomainError(
            ProblemKind.OUTSIDE_ADJUSTMENT_LIMITS,
            f"amount {amount} is outside the adjustment limits {limits.minimum}..{limits.maximum}",
            "amount",
        )


# -- activation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationCredit:
    product_type: str
    balance_type: str
    amount: int
    validity_s: int | None = None


# -- charging ----------------------------------------------------------------------------------


class ChargeOutcome(StrEnum):
    """Result of a direct debit, in precedence order: the first failing check is reported."""

    NOT_ALLOWED_IN_STATE = "NOT_ALLOWED_IN_STATE"
    WALLET_EXPIRED = "WALLET_EXPIRED"
    MAXIMUM_BALANCE_EXCEEDED = "MAXIMUM_BALANCE_EXCEEDED"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    CHARGED = "CHARGED"


# -- merge -------------------------------------------------------------------------------------


class ExpiryPolicy(StrEnum):
    BEST = "BEST"
    IGNORE = "IGNORE"


class BucketPolicy(StrEnum):
    MERGE = "MERGE"
    MOVE = "MOVE"


def merged_expiry(
    target: datetime | None, source: datetime | None, policy: ExpiryPolicy
) -> datetime | None:
    """The target wallet's expiry after a merge; never expiring counts as the latest date."""
    if policy is ExpiryPolicy.IGNORE or target is None:
        return target
    if source is None:
        return None
    return max(target, source)


def plan_bucket_merge(
    source: Sequence[Bucket], target: Sequence[Bucket], policy: BucketPolicy, now: datetime
) -> list[BucketChange]:
    """Target bucket changes taking in every source bucket (the source is emptied).

    Undated, started source value joins the target's open bucket of that balance type.
    Buckets that start later move unchanged. Dated buckets move unchanged (MOVE), or (MERGE)
    join the target bucket of the same balance type with the latest expiry, which then takes
    the later date of both.
    """
    changes: dict[int, BucketChange] = {}
    created: list[BucketChange] = []
    opened: dict[str, int] = {}
    for bucket in source:
        if bucket.value == 0:
            continue
        if not bucket.is_started(now):
            created.append(_moved(bucket))
            continue
        if bucket.expires_at is None:
            holder = _open_bucket(of_type(target, bucket.balance_type), now)
            if holder is None:
                opened[bucket.balance_type] = opened.get(bucket.balance_type, 0) + bucket.value
            else:
                _accumulate(changes, holder, bucket.value, None)
            continue
        partner = None
        if policy is BucketPolicy.MERGE:
            partner = _merge_partner(target, bucket.balance_type, now)
        if partner is None:
            created.append(_moved(bucket))
        else:
            _accumulate(changes, partner, bucket.value, bucket.expires_at)
    for balance_type, value in opened.items():
        created.append(new_bucket(balance_type, value, None, None))
    return [*changes.values(), *created]


def _moved(bucket: Bucket) -> BucketChange:
    """A new bucket carrying another bucket's value and dates (in another wallet)."""
    return new_bucket(bucket.balance_type, bucket.value, bucket.start_at, bucket.expires_at)


def _merge_partner(target: Sequence[Bucket], balance_type: str, now: datetime) -> Bucket | None:
    dated = [
        b for b in of_type(target, balance_type) if b.expires_at is not None and b.is_available(now)
    ]
    return max(dated, key=lambda b: (b.expires_at or now, -b.id), default=None)


def _accumulate(
    changes: dict[int, BucketChange], bucket: Bucket, value: int, expires_at: datetime | None
) -> None:
    current = changes.get(bucket.id, change(bucket, 0))
    expiry = current.expires_at
    if expires_at is not None and expiry is not None:
        expiry = max(expiry, expires_at)
    changes[bucket.id] = BucketChange(bucket, current.delta + value, expiry)
