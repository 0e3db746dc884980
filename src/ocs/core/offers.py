"""The offer catalogue: Balance and Recurrent Cost Control Balance services, products that group
them, offers that customers subscribe to, subscriptions and the grants they produce.

All values and validation here are pure. Amounts a service grants are entered in the unit of
measure an operator chooses (Minute, Megabyte, ...) and stored in the balance's base unit
(seconds, octets, events, pieces, minor units of money): see `base_amount`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from ocs.core.configuration import BalanceCategory, UnitOfMeasure
from ocs.core.errors import DomainError, ProblemKind, invalid

# Service codes stay short enough that the derived balance type code ("<code>-BAL") and its
# charging class rows ("<code>-CC<n>") fit the 32 characters of a configuration code.
SERVICE_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,23}$")
CATALOG_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
NAME_LENGTH_MAX = 100
DESCRIPTION_LENGTH_MAX = 500
THRESHOLDS_MAX = 3
GRANTED_MAX = 2**50  # in the entered unit; the base amount must stay below 2**62
RECURRENCE_EVERY_MAX = 1000
RECURRENCE_CYCLES_MAX = 100_000
ROLLOVER_PERIODS_MAX = 120
VALIDITY_MAX = 100_000
PRIORITY_MAX = 1000
CHARGING_CLASSES_MAX = 50
MEMBERS_MAX = 50


class ServiceKind(StrEnum):
    BALANCE = "BALANCE"
    RECURRENT_COST_CONTROL_BALANCE = "RECURRENT_COST_CONTROL_BALANCE"


class GrantUnit(StrEnum):
    """The units of measure a service may grant in (seed 001)."""

    EVENT = "EVENT"
    SECOND = "SECOND"
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    BYTE = "BYTE"
    KILOBYTE = "KILOBYTE"
    MEGABYTE = "MEGABYTE"
    GIGABYTE = "GIGABYTE"
    TERABYTE = "TERABYTE"
    MONEY = "MONEY"
    PIECE = "PIECE"


# (balance unit, base units per entered unit). Data units are decimal SI multiples, the same
# convention the tariff rates use ("per 1 MB" = 1,000,000 octets): a 1 GB bundle is 10**9 octets.
GRANT_UNITS: Mapping[GrantUnit, tuple[UnitOfMeasure, int]] = {
    GrantUnit.EVENT: (UnitOfMeasure.EVENTS, 1),
    GrantUnit.SECOND: (UnitOfMeasure.SECONDS, 1),
    GrantUnit.MINUTE: (UnitOfMeasure.SECONDS, 60),
    GrantUnit.HOUR: (UnitOfMeasure.SECONDS, 3600),
    GrantUnit.DAY: (UnitOfMeasure.SECONDS, 86_400),
    GrantUnit.BYTE: (UnitOfMeasure.OCTETS, 1),
    GrantUnit.KILOBYTE: (UnitOfMeasure.OCTETS, 10**3),
    GrantUnit.MEGABYTE: (UnitOfMeasure.OCTETS, 10**6),
    GrantUnit.GIGABYTE: (UnitOfMeasure.OCTETS, 10**9),
    GrantUnit.TERABYTE: (UnitOfMeasure.OCTETS, 10**12),
    GrantUnit.MONEY: (UnitOfMeasure.MONEY, 1),
    GrantUnit.PIECE: (UnitOfMeasure.PIECES, 1),
}


class TimeUnit(StrEnum):
    """Units of a Balance service's validity."""

    SECOND = "SECOND"
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class PeriodUnit(StrEnum):
    """Units of a recurrence period."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class CreateBalanceAt(StrEnum):
    ACTIVATION_ANNIVERSARY = "ACTIVATION_ANNIVERSARY"
    BILLING_CYCLE = "BILLING_CYCLE"
    CALENDAR = "CALENDAR"


class ProRateMode(StrEnum):
    NONE = "NONE"
    DAILY = "DAILY"
    EXACT = "EXACT"


class RolloverPriority(StrEnum):
    NEW_FIRST = "NEW_FIRST"
    ROLLOVER_FIRST = "ROLLOVER_FIRST"


class SubscriptionLevel(StrEnum):
    CUSTOMER = "customer"
    ACCOUNT = "account"
    SUBSCRIBER = "subscriber"


class SubscriptionState(StrEnum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Recurrence:
    """The recurrence part of a Recurrent Cost Control Balance (seed 004)."""

    create_balance_at: CreateBalanceAt
    every: int
    period_unit: PeriodUnit
    execute_immediately: bool
    prorate_when_activated: bool
    prorate_when_not_charged: bool
    prorate_mode: ProRateMode
    # None: forever.
    cycles: int | None
    on_recurrence_notify: bool
    # None: unconsumed units do not roll over.
    rollover_periods: int | None
    rollover_priority: RolloverPriority


@dataclass(frozen=True)
class BalanceService:
    code: str
    name: str
    description: str | None
    service_provider: str
    kind: ServiceKind
    unit: GrantUnit
    currency: str | None
    # In the entered unit; see `granted_base`.
    granted: int
    reject_at_full: bool
    first_usage_notify: bool
    thresholds_pct: tuple[int, ...]
    # None: the units never expire (Balance) / last one recurrence period (RCCB).
    validity: int | None
    validity_unit: TimeUnit | None
    include_sub_classes: bool
    charging_classes: tuple[str, ...]
    recurrence: Recurrence | None
    balance_type: str

    @property
    def granted_base(self) -> int:
        return base_amount(self.unit, self.granted)

    @property
    def balance_unit(self) -> UnitOfMeasure:
        return GRANT_UNITS[self.unit][0]

    @property
    def category(self) -> BalanceCategory:
        return balance_category(self.kind, self.unit)


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    description: str | None
    service_provider: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Offer:
    code: str
    name: str
    description: str | None
    service_provider: str
    # Lower numbers are granted first when several subscriptions fall due together.
    priority: int
    products: tuple[str, ...]


@dataclass(frozen=True)
class Subscription:
    id: int
    offer: str
    level: SubscriptionLevel
    entity_id: int
    service_provider: str
    wallet_id: int
    start_at: datetime
    end_at: datetime | None
    state: SubscriptionState
    created_at: datetime
    # The first time the subscribed entity was active on or after start_at (set by the
    # grant scheduler); recurrence periods and pro-rating are measured from it.
    activated_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class BalanceGrant:
    """One grant of one service for one period: the contract real-time charging reads."""

    id: int
    subscription_id: int
    service_code: str
    period_index: int
    wallet_id: int
    balance_type: str
    bucket_id: int | None
    granted: int
    period_start: datetime
    period_end: datetime | None
    reject_at_full: bool
    thresholds_pct: tuple[int, ...]
    first_usage_notify: bool
    granted_at: datetime
    notified_thresholds_pct: tuple[int, ...] = ()
    first_used_at: datetime | None = None
    exhausted_at: datetime | None = None


@dataclass(frozen=True)
class GrantRollover:
    """Unconsumed units of one grant carried into the following periods."""

    id: int
    subscription_id: int
    service_code: str
    period_index: int
    wallet_id: int
    balance_type: str
    bucket_id: int | None
    value: int
    rolled_at: datetime
    drop_at: datetime
    bucket_expires_at: datetime | None = None
    dropped_at: datetime | None = None


# -- units --------------------------------------------------------------------------------------


def base_amount(unit: GrantUnit, amount: int) -> int:
    """An amount in the entered unit converted to the balance's base unit."""
    return amount * GRANT_UNITS[unit][1]


def balance_category(kind: ServiceKind, unit: GrantUnit) -> BalanceCategory:
    """Money in a cost-control balance tracks spend (EXPENDITURE); everything else is a
    chargeable free-unit balance."""
    if kind is ServiceKind.RECURRENT_COST_CONTROL_BALANCE and unit is GrantUnit.MONEY:
        return BalanceCategory.EXPENDITURE
    return BalanceCategory.CHARGEABLE


def balance_type_code(service_code: str) -> str:
    return f"{service_code}-BAL"


def class_row_code(service_code: str, index: int) -> str:
    return f"{service_code}-CC{index}"


def format_pct(values: Sequence[int]) -> str:
    return ",".join(str(v) for v in values)


def parse_pct(text: str | None) -> tuple[int, ...]:
    return tuple(int(v) for v in (text or "").split(",") if v.strip())


# -- validation -----------------------------------------------------------------------------

E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], value: object, field_name: str) -> E:
    text = str(value).strip()
    for candidate in (text, text.upper(), text.lower()):
        if candidate in kind._value2member_map_:
            return kind(candidate)
    choices = ", ".join(m.value for m in kind)
    raise invalid(field_name, f"{field_name} must be one of {choices}, got {value!r}")


def check_code(value: object, pattern: re.Pattern[str] = CATALOG_CODE_PATTERN) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, "code is required", "code")
    text = value.strip()
    if not pattern.match(text):
        raise invalid("code", f"code {text!r} does not match {pattern.pattern}")
    return text


def check_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, "name is required", "name")
    text = value.strip()
    if len(text) > NAME_LENGTH_MAX:
        raise invalid("name", f"name must be at most {NAME_LENGTH_MAX} characters")
    return text


def check_description(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("description", "description must be a string")
    text = value.strip()
    if len(text) > DESCRIPTION_LENGTH_MAX:
        raise invalid("description", f"description must be at most {DESCRIPTION_LENGTH_MAX}")
    return text or None


def check_int(
    value: object, field_name: str, minimum: int, maximum: int, required: bool = True
) -> int | None:
    if value is None:
        if required:
            raise DomainError(ProblemKind.MISSING_FIELD, f"{field_name} is required", field_name)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field_name, f"{field_name} must be an integer")
    if not minimum <= value <= maximum:
        raise invalid(field_name, f"{field_name} must be {minimum}..{maximum}, got {value}")
    return value


def check_bool(value: object, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(field_name, f"{field_name} must be true or false")
    return value


def check_thresholds(values: Sequence[object]) -> tuple[int, ...]:
    """Up to three thresholds in percent of the granted amount, 1..100, strictly ascending."""
    if len(values) > THRESHOLDS_MAX:
        raise invalid("thresholds_pct", f"at most {THRESHOLDS_MAX} thresholds may be set")
    result: list[int] = []
    for i, value in enumerate(values):
        name = f"thresholds_pct[{i}]"
        pct = check_int(value, name, 1, 100)
        assert pct is not None
        if result and pct <= result[-1]:
            raise invalid(name, f"{name} must be above the previous threshold {result[-1]}")
        result.append(pct)
    return tuple(result)


def check_members(values: object, field_name: str, minimum: int = 1) -> tuple[str, ...]:
    """A list of distinct codes (charging classes, services, products)."""
    if not isinstance(values, list | tuple):
        raise invalid(field_name, f"{field_name} must be a list of codes")
    if len(values) < minimum:
        raise DomainError(
            ProblemKind.MISSING_FIELD, f"{field_name} needs at least {minimum} entry", field_name
        )
    if len(values) > MEMBERS_MAX:
        raise invalid(field_name, f"{field_name} may hold at most {MEMBERS_MAX} entries")
    codes: list[str] = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise invalid(f"{field_name}[{i}]", f"{field_name}[{i}] must be a code")
        if value.strip() in codes:
            raise invalid(f"{field_name}[{i}]", f"{value.strip()!r} is listed twice")
        codes.append(value.strip())
    return tuple(codes)


SERVICE_FIELDS = frozenset(
    {
        "code", "name", "description", "service_provider", "kind", "unit", "currency",
        "granted", "reject_at_full", "first_usage_notify", "thresholds_pct", "validity",
        "validity_unit", "include_sub_classes", "charging_classes", "create_balance_at",
        "every", "period_unit", "execute_immediately", "prorate_when_activated",
        "prorate_when_not_charged", "prorate_mode", "recurrence_cycles",
        "on_recurrence_notify", "rollover_periods", "rollover_priority",
    }
)  # fmt: skip
RECURRENCE_FIELDS = frozenset(
    {
        "create_balance_at", "every", "period_unit", "execute_immediately",
        "prorate_when_activated", "prorate_when_not_charged", "prorate_mode",
        "recurrence_cycles", "on_recurrence_notify", "rollover_periods", "rollover_priority",
    }
)  # fmt: skip
# Fixed at creation: the balance type derived from them cannot change its unit or owner.
SERVICE_IMMUTABLE = ("code", "service_provider", "kind", "unit", "currency")


def reject_unknown(payload: Mapping[str, object], allowed: frozenset[str], label: str) -> None:
    for name in payload:
        if name not in allowed:
            raise DomainError(ProblemKind.UNKNOWN_FIELD, f"{label} has no field {name!r}", name)


def check_service(payload: Mapping[str, object]) -> BalanceService:
    """A complete Balance or Recurrent Cost Control Balance service, or a DomainError naming
    the first wrong field. References (provider, currency, charging classes) are checked by
    the service layer."""
    reject_unknown(payload, SERVICE_FIELDS, "A service")
    code = check_code(payload.get("code"), SERVICE_CODE_PATTERN)
    kind = parse_choice(ServiceKind, payload.get("kind", ServiceKind.BALANCE.value), "kind")
    if "unit" not in payload or payload["unit"] is None:
        raise DomainError(ProblemKind.MISSING_FIELD, "unit is required", "unit")
    unit = parse_choice(GrantUnit, payload["unit"], "unit")
    currency = payload.get("currency")
    if unit is GrantUnit.MONEY:
        if not isinstance(currency, str) or not currency.strip():
            raise DomainError(
                ProblemKind.MISSING_FIELD, "currency is required for MONEY", "currency"
            )
        currency = currency.strip()
    elif currency is not None:
        raise invalid("currency", "currency applies only to the MONEY unit")
    granted = check_int(payload.get("granted"), "granted", 1, GRANTED_MAX)
    assert granted is not None
    validity = check_int(payload.get("validity"), "validity", 1, VALIDITY_MAX, required=False)
    validity_unit = None
    if validity is not None:
        if payload.get("validity_unit") is None:
            raise DomainError(
                ProblemKind.MISSING_FIELD,
                "validity_unit is required with validity",
                "validity_unit",
            )
        validity_unit = parse_choice(TimeUnit, payload["validity_unit"], "validity_unit")
    elif payload.get("validity_unit") is not None:
        raise invalid("validity_unit", "validity_unit needs a validity")
    recurrence = None
    if kind is ServiceKind.RECURRENT_COST_CONTROL_BALANCE:
        recurrence = check_recurrence(payload)
        if validity is not None:
            raise invalid(
                "validity", "a recurrent balance is valid for its recurrence period; omit validity"
            )
    else:
        for name in sorted(RECURRENCE_FIELDS):
            if payload.get(name) is not None:
                raise invalid(name, f"{name} applies only to RECURRENT_COST_CONTROL_BALANCE")
    thresholds = payload.get("thresholds_pct", [])
    if not isinstance(thresholds, list | tuple):
        raise invalid("thresholds_pct", "thresholds_pct must be a list of percentages")
    return BalanceService(
        code=code,
        name=check_name(payload.get("name")),
        description=check_description(payload.get("description")),
        service_provider=_required_text(payload.get("service_provider"), "service_provider"),
        kind=kind,
        unit=unit,
        currency=currency if isinstance(currency, str) else None,
        granted=granted,
        reject_at_full=check_bool(payload.get("reject_at_full", False), "reject_at_full"),
        first_usage_notify=check_bool(
            payload.get("first_usage_notify", False), "first_usage_notify"
        ),
        thresholds_pct=check_thresholds(thresholds),
        validity=validity,
        validity_unit=validity_unit,
        include_sub_classes=check_bool(
            payload.get("include_sub_classes", False), "include_sub_classes"
        ),
        charging_classes=check_members(payload.get("charging_classes"), "charging_classes"),
        recurrence=recurrence,
        balance_type=balance_type_code(code),
    )


def check_recurrence(payload: Mapping[str, object]) -> Recurrence:
    every = check_int(payload.get("every", 1), "every", 1, RECURRENCE_EVERY_MAX)
    assert every is not None
    cycles = check_int(
        payload.get("recurrence_cycles"),
        "recurrence_cycles",
        1,
        RECURRENCE_CYCLES_MAX,
        required=False,
    )
    rollover = check_int(
        payload.get("rollover_periods"),
        "rollover_periods",
        1,
        ROLLOVER_PERIODS_MAX,
        required=False,
    )
    if payload.get("period_unit") is None:
        raise DomainError(ProblemKind.MISSING_FIELD, "period_unit is required", "period_unit")
    return Recurrence(
        create_balance_at=parse_choice(
            CreateBalanceAt,
            payload.get("create_balance_at", CreateBalanceAt.ACTIVATION_ANNIVERSARY.value),
            "create_balance_at",
        ),
        every=every,
        period_unit=parse_choice(PeriodUnit, payload["period_unit"], "period_unit"),
        execute_immediately=check_bool(
            payload.get("execute_immediately", True), "execute_immediately"
        ),
        prorate_when_activated=check_bool(
            payload.get("prorate_when_activated", False), "prorate_when_activated"
        ),
        prorate_when_not_charged=check_bool(
            payload.get("prorate_when_not_charged", False), "prorate_when_not_charged"
        ),
        prorate_mode=parse_choice(
            ProRateMode, payload.get("prorate_mode", ProRateMode.NONE.value), "prorate_mode"
        ),
        cycles=cycles,
        on_recurrence_notify=check_bool(
            payload.get("on_recurrence_notify", False), "on_recurrence_notify"
        ),
        rollover_periods=rollover,
        rollover_priority=parse_choice(
            RolloverPriority,
            payload.get("rollover_priority", RolloverPriority.NEW_FIRST.value),
            "rollover_priority",
        ),
    )


def service_payload(service: BalanceService) -> dict[str, object]:
    """The fields of a service as an operator enters them (for updates and the API)."""
    data: dict[str, object] = {
        "code": service.code,
        "name": service.name,
        "description": service.description,
        "service_provider": service.service_provider,
        "kind": service.kind.value,
        "unit": service.unit.value,
        "currency": service.currency,
        "granted": service.granted,
        "reject_at_full": service.reject_at_full,
        "first_usage_notify": service.first_usage_notify,
        "thresholds_pct": list(service.thresholds_pct),
        "validity": service.validity,
        "validity_unit": None if service.validity_unit is None else service.validity_unit.value,
        "include_sub_classes": service.include_sub_classes,
        "charging_classes": list(service.charging_classes),
    }
    r = service.recurrence
    if r is not None:
        data.update(
            create_balance_at=r.create_balance_at.value,
            every=r.every,
            period_unit=r.period_unit.value,
            execute_immediately=r.execute_immediately,
            prorate_when_activated=r.prorate_when_activated,
            prorate_when_not_charged=r.prorate_when_not_charged,
            prorate_mode=r.prorate_mode.value,
            recurrence_cycles=r.cycles,
            on_recurrence_notify=r.on_recurrence_notify,
            rollover_periods=r.rollover_periods,
            rollover_priority=r.rollover_priority.value,
        )
    return data


def updated_service(current: BalanceService, payload: Mapping[str, object]) -> BalanceService:
    """The service after a partial update; the identity fields may only be sent unchanged."""
    reject_unknown(payload, SERVICE_FIELDS, "A service")
    merged = service_payload(current)
    for name in SERVICE_IMMUTABLE:
        if name in payload and payload[name] != merged[name]:
            raise DomainError(
                ProblemKind.IMMUTABLE_FIELD, f"{name} cannot be changed after creation", name
            )
    merged.update(payload)
    if current.recurrence is None:
        merged = {k: v for k, v in merged.items() if k not in RECURRENCE_FIELDS or v is not None}
    return check_service(merged)


def check_product(payload: Mapping[str, object]) -> Product:
    reject_unknown(
        payload,
        frozenset({"code", "name", "description", "service_provider", "services"}),
        "A product",
    )
    return Product(
        code=check_code(payload.get("code")),
        name=check_name(payload.get("name")),
        description=check_description(payload.get("description")),
        service_provider=_required_text(payload.get("service_provider"), "service_provider"),
        services=check_members(payload.get("services"), "services"),
    )


def check_offer(payload: Mapping[str, object]) -> Offer:
    reject_unknown(
        payload,
        frozenset({"code", "name", "description", "service_provider", "priority", "products"}),
        "An offer",
    )
    priority = check_int(payload.get("priority", 100), "priority", 0, PRIORITY_MAX)
    assert priority is not None
    return Offer(
        code=check_code(payload.get("code")),
        name=check_name(payload.get("name")),
        description=check_description(payload.get("description")),
        service_provider=_required_text(payload.get("service_provider"), "service_provider"),
        priority=priority,
        products=check_members(payload.get("products"), "products"),
    )


def _required_text(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, f"{field_name} is required", field_name)
    return value.strip()
