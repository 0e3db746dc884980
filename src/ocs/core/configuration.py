"""Integration configuration entities (seed 000 and the NCC product types), described as data.

Every entity has an immutable `code`, a `name` and an optional `description`; the specs below
add the fields each kind carries. Validation of a single payload is pure and lives here;
rules that need other records (references, uniqueness) live in the service layer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.rating import DIGITS_PATTERN, RatedUnit, parse_minute_of_day, parse_weekdays
from ocs.core.states import EntityState

FieldValue = str | int | bool | None
Record = dict[str, FieldValue]

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
NAME_LENGTH_MAX = 100
DESCRIPTION_LENGTH_MAX = 500


class FieldType(StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    ENUM = "enum"
    REF = "ref"


class ConfigKind(StrEnum):
    """Configuration kinds in dependency order: a kind refers only to kinds listed before it."""

    SERVICE_PROVIDER = "service-providers"
    CURRENCY = "currencies"
    ACCOUNT_TYPE = "account-types"
    RESOURCE_TYPE = "resource-types"
    STATE_REASON = "state-reasons"
    CUSTOMER_SEGMENT = "customer-segments"
    ACCOUNT_SEGMENT = "account-segments"
    SUBSCRIBER_SEGMENT = "subscriber-segments"
    BILLING_CYCLE = "billing-cycles"
    CUSTOMER_PROFILE = "customer-profiles"
    ACCOUNT_PROFILE = "account-profiles"
    SUBSCRIBER_PROFILE = "subscriber-profiles"
    CHARGING_CLASS = "charging-classes"
    TIME_BAND = "time-bands"
    TARIFF_PLAN = "tariff-plans"
    TARIFF_RATE = "tariff-rates"
    RATING_GROUP = "rating-groups"
    BALANCE_TYPE = "balance-types"
    BALANCE_TYPE_CLASS = "balance-type-classes"
    PRODUCT_TYPE = "product-types"


class DurationUnit(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class UnitOfMeasure(StrEnum):
    MONEY = "MONEY"
    SECONDS = "SECONDS"
    OCTETS = "OCTETS"
    EVENTS = "EVENTS"
    PIECES = "PIECES"


class BalanceCategory(StrEnum):
    CHARGEABLE = "CHARGEABLE"
    EXPENDITURE = "EXPENDITURE"
    FRAUD = "FRAUD"
    CROSS_BALANCE_DISCOUNT = "CROSS_BALANCE_DISCOUNT"


class MaximumBalancePolicy(StrEnum):
    LIMIT = "LIMIT"
    REJECT = "REJECT"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: ConfigKind | None = None
    length_max: int = NAME_LENGTH_MAX
    value_min: int | None = None
    value_max: int | None = None
    default: FieldValue = None
    description: str = ""


@dataclass(frozen=True)
class EntitySpec:
    kind: ConfigKind
    label: str
    fields: tuple[FieldSpec, ...]
    # Codes are upper-case ISO codes for currencies; free-form elsewhere.
    code_pattern: re.Pattern[str] = CODE_PATTERN
    field_by_name: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_by_name", {f.name: f for f in self.fields})

    @property
    def references(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.type is FieldType.REF)


def _enum(name: str, choices: type[StrEnum], **kw: object) -> FieldSpec:
    return FieldSpec(name, FieldType.ENUM, choices=tuple(c.value for c in choices), **kw)  # type: ignore[arg-type]


def _ref(name: str, kind: ConfigKind, required: bool = False) -> FieldSpec:
    return FieldSpec(name, FieldType.REF, required=required, ref=kind)


def _bool(name: str) -> FieldSpec:
    return FieldSpec(name, FieldType.BOOL, default=False)


COMMON_FIELDS = (
    FieldSpec("code", FieldType.TEXT, required=True, length_max=32),
    FieldSpec("name", FieldType.TEXT, required=True),
    FieldSpec("description", FieldType.TEXT, length_max=DESCRIPTION_LENGTH_MAX),
)


def _spec(kind: ConfigKind, label: str, *extra: FieldSpec, **kw: object) -> EntitySpec:
    return EntitySpec(kind, label, COMMON_FIELDS + extra, **kw)  # type: ignore[arg-type]


SPECS: dict[ConfigKind, EntitySpec] = {
    s.kind: s
    for s in (
        _spec(ConfigKind.SERVICE_PROVIDER, "Service provider"),
        _spec(
            ConfigKind.CURRENCY,
            "Currency",
            FieldSpec("scale", FieldType.INT, required=True, value_min=0, value_max=4),
            code_pattern=re.compile(r"^[A-Z]{3}$"),
        ),
        _spec(ConfigKind.ACCOUNT_TYPE, "Account type", _bool("payment_responsible")),
        _spec(ConfigKind.RESOURCE_TYPE, "Resource type", _bool("primary")),
        _spec(
            ConfigKind.STATE_REASON,
            "State reason",
            _enum("state", EntityState, required=True),
            _bool("charged"),
        ),
        _spec(ConfigKind.CUSTOMER_SEGMENT, "Customer segment"),
        _spec(ConfigKind.ACCOUNT_SEGMENT, "Account segment"),
        _spec(ConfigKind.SUBSCRIBER_SEGMENT, "Subscriber segment"),
        _spec(
            ConfigKind.BILLING_CYCLE,
            "Billing cycle",
            FieldSpec("duration", FieldType.INT, required=True, value_min=1, value_max=1000),
            _enum("duration_unit", DurationUnit, required=True),
            FieldSpec("billing_day", FieldType.INT, value_min=1, value_max=28),
        ),
        _spec(
            ConfigKind.CUSTOMER_PROFILE,
            "Customer profile",
            _ref("customer_segment", ConfigKind.CUSTOMER_SEGMENT),
            _enum("customer_state", EntityState),
            _ref("customer_state_reason", ConfigKind.STATE_REASON),
        ),
        _spec(
            ConfigKind.ACCOUNT_PROFILE,
            "Account profile",
            _ref("account_type", ConfigKind.ACCOUNT_TYPE, required=True),
            _ref("account_segment", ConfigKind.ACCOUNT_SEGMENT),
            _ref("billing_cycle", ConfigKind.BILLING_CYCLE),
            _bool("payment_responsible"),
            _ref("currency", ConfigKind.CURRENCY),
            _enum("account_state", EntityState),
            _ref("account_state_reason", ConfigKind.STATE_REASON),
            _ref("customer_profile", ConfigKind.CUSTOMER_PROFILE),
        ),
        _spec(
            ConfigKind.SUBSCRIBER_PROFILE,
            "Subscriber profile",
            _ref("subscriber_segment", ConfigKind.SUBSCRIBER_SEGMENT),
            _enum("subscriber_state", EntityState),
            _ref("subscriber_state_reason", ConfigKind.STATE_REASON),
            _ref("account_profile", ConfigKind.ACCOUNT_PROFILE),
        ),
        _spec(
            ConfigKind.CHARGING_CLASS,
            "Charging class",
            _ref("parent", ConfigKind.CHARGING_CLASS),
        ),
        _spec(
            ConfigKind.TIME_BAND,
            "Time band",
            FieldSpec("weekdays", FieldType.TEXT, required=True, length_max=40),
            FieldSpec("start_time", FieldType.TEXT, required=True, length_max=5),
            FieldSpec("end_time", FieldType.TEXT, required=True, length_max=5),
        ),
        _spec(
            ConfigKind.TARIFF_PLAN,
            "Tariff plan",
            _ref("currency", ConfigKind.CURRENCY, required=True),
        ),
        _spec(
            ConfigKind.TARIFF_RATE,
            "Tariff rate",
            _ref("tariff_plan", ConfigKind.TARIFF_PLAN, required=True),
            _ref("charging_class", ConfigKind.CHARGING_CLASS, required=True),
            FieldSpec("destination_prefix", FieldType.TEXT, length_max=32),
            _ref("time_band", ConfigKind.TIME_BAND),
            _enum("unit", RatedUnit, required=True),
            FieldSpec("price", FieldType.INT, required=True, value_min=0, value_max=10**12),
            FieldSpec("unit_size", FieldType.INT, required=True, value_min=1, value_max=2**40),
            FieldSpec("rounding_unit", FieldType.INT, required=True, value_min=1, value_max=2**40),
        ),
        _spec(
            ConfigKind.RATING_GROUP,
            "Rating group",
            FieldSpec(
                "rating_group", FieldType.INT, required=True, value_min=0, value_max=2**32 - 1
            ),
            FieldSpec("service_identifier", FieldType.INT, value_min=0, value_max=2**32 - 1),
            _ref("charging_class", ConfigKind.CHARGING_CLASS, required=True),
            _enum("unit", RatedUnit, required=True),
        ),
        _spec(
            ConfigKind.BALANCE_TYPE,
            "Balance type",
            _enum("unit", UnitOfMeasure, required=True),
            _ref("currency", ConfigKind.CURRENCY),
            _enum("category", BalanceCategory, default=BalanceCategory.CHARGEABLE.value),
            _bool("allow_credit"),
            FieldSpec("maximum_balance", FieldType.INT, value_min=0, value_max=2**62),
            _enum("maximum_balance_policy", MaximumBalancePolicy),
        ),
        _spec(
            ConfigKind.BALANCE_TYPE_CLASS,
            "Balance type charging class",
            _ref("balance_type", ConfigKind.BALANCE_TYPE, required=True),
            _ref("charging_class", ConfigKind.CHARGING_CLASS, required=True),
            _bool("include_sub_classes"),
        ),
        _spec(
            ConfigKind.PRODUCT_TYPE,
            "Product type",
            _ref("service_provider", ConfigKind.SERVICE_PROVIDER, required=True),
            _ref("currency", ConfigKind.CURRENCY),
            _ref("tariff_plan", ConfigKind.TARIFF_PLAN),
            # Wallet defaults: the general (default) balance type, whose balance may take any
            # limit type, and the maximum concurrent accesses a new wallet gets.
            _ref("default_balance_type", ConfigKind.BALANCE_TYPE),
            FieldSpec("max_concurrent_accesses", FieldType.INT, value_min=1, value_max=1000),
            # Price reductions for calls to a subscriber's Friends and Family numbers and to
            # numbers under their Friends and Destination prefix, in percent.
            FieldSpec("friends_family_discount_percent", FieldType.INT, value_min=0, value_max=100),
            FieldSpec(
                "friends_destination_discount_percent", FieldType.INT, value_min=0, value_max=100
            ),
        ),
    )
}

# Pairs of (state field, reason field) whose reason must be bound to that state.
STATE_REASON_PAIRS: dict[ConfigKind, tuple[str, str]] = {
    ConfigKind.CUSTOMER_PROFILE: ("customer_state", "customer_state_reason"),
    ConfigKind.ACCOUNT_PROFILE: ("account_state", "account_state_reason"),
    ConfigKind.SUBSCRIBER_PROFILE: ("subscriber_state", "subscriber_state_reason"),
}


def _coerce(spec: FieldSpec, value: object) -> FieldValue:
    if value is None:
        if spec.required:
            raise DomainError(ProblemKind.MISSING_FIELD, f"{spec.name} is required", spec.name)
        return None
    if spec.type is FieldType.BOOL:
        if not isinstance(value, bool):
            raise invalid(spec.name, f"{spec.name} must be true or false")
        return value
    if spec.type is FieldType.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(spec.name, f"{spec.name} must be an integer")
        if spec.value_min is not None and value < spec.value_min:
            raise invalid(spec.name, f"{spec.name} must be at least {spec.value_min}")
        if spec.value_max is not None and value > spec.value_max:
            raise invalid(spec.name, f"{spec.name} must be at most {spec.value_max}")
        return value
    if not isinstance(value, str):
        raise invalid(spec.name, f"{spec.name} must be a string")
    text = value.strip()
    if spec.type is FieldType.ENUM:
        if text not in spec.choices:
            raise invalid(spec.name, f"{spec.name} must be one of {', '.join(spec.choices)}")
        return text
    if not text:
        if spec.required:
            raise DomainError(ProblemKind.MISSING_FIELD, f"{spec.name} is required", spec.name)
        return None
    if len(text) > spec.length_max:
        raise invalid(spec.name, f"{spec.name} must be at most {spec.length_max} characters")
    return text


def validate_new(spec: EntitySpec, payload: Mapping[str, object]) -> Record:
    """A complete, normalised record for a new entity, or a DomainError naming the field."""
    _reject_unknown(spec, payload)
    record: Record = {}
    for f in spec.fields:
        value = payload.get(f.name, f.default)
        record[f.name] = _coerce(f, value)
    code = record["code"]
    assert isinstance(code, str)
    if not spec.code_pattern.match(code):
        raise invalid("code", f"code {code!r} does not match {spec.code_pattern.pattern}")
    _check_record_rules(spec.kind, record)
    return record


def validate_update(spec: EntitySpec, current: Record, payload: Mapping[str, object]) -> Record:
    """The record after applying a partial update; `code` may be sent only unchanged."""
    _reject_unknown(spec, payload)
    if "code" in payload and payload["code"] != current["code"]:
        raise DomainError(
            ProblemKind.IMMUTABLE_FIELD, "code cannot be changed after creation", "code"
        )
    record = dict(current)
    for name, value in payload.items():
        if name == "code":
            continue
        record[name] = _coerce(spec.field_by_name[name], value)
    _check_record_rules(spec.kind, record)
    return record


def _reject_unknown(spec: EntitySpec, payload: Mapping[str, object]) -> None:
    for name in payload:
        if name not in spec.field_by_name:
            raise DomainError(
                ProblemKind.UNKNOWN_FIELD, f"{spec.label} has no field {name!r}", name
            )


def _check_record_rules(kind: ConfigKind, record: Record) -> None:
    """Rules that involve several fields of the same record."""
    if kind is ConfigKind.BILLING_CYCLE:
        _check_billing_day(record)
    elif kind is ConfigKind.BALANCE_TYPE:
        _check_balance_type(record)
    elif kind is ConfigKind.TIME_BAND:
        parse_weekdays(str(record["weekdays"]))
        start = parse_minute_of_day(str(record["start_time"]), "start_time")
        if start == parse_minute_of_day(str(record["end_time"]), "end_time"):
            raise invalid("end_time", "end_time must differ from start_time")
    elif kind is ConfigKind.TARIFF_RATE:
        prefix = record["destination_prefix"]
        if prefix is not None and not DIGITS_PATTERN.match(str(prefix)):
            raise invalid("destination_prefix", "destination_prefix must be up to 32 digits")
    elif kind in STATE_REASON_PAIRS:
        state_field, reason_field = STATE_REASON_PAIRS[kind]
        if record[reason_field] is not None and record[state_field] is None:
            raise DomainError(
                ProblemKind.MISSING_FIELD,
                f"{state_field} is required when {reason_field} is set",
                state_field,
            )


def _check_billing_day(record: Record) -> None:
    unit = DurationUnit(str(record["duration_unit"]))
    day = record["billing_day"]
    if unit is DurationUnit.WEEK:
        if not isinstance(day, int) or not 1 <= day <= 7:
            raise invalid("billing_day", "billing_day must be 1-7 for a weekly billing cycle")
    elif unit is DurationUnit.MONTH:
        if not isinstance(day, int):
            raise invalid("billing_day", "billing_day must be 1-28 for a monthly billing cycle")
    elif day is not None:
        raise invalid("billing_day", f"billing_day applies only to WEEK and MONTH, not {unit}")


def _check_balance_type(record: Record) -> None:
    is_money = record["unit"] == UnitOfMeasure.MONEY.value
    if is_money and record["currency"] is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD, "currency is required for a MONEY balance type", "currency"
        )
    if not is_money and record["currency"] is not None:
        raise invalid("currency", "currency applies only to MONEY balance types")
    if record["maximum_balance"] is None:
        if record["maximum_balance_policy"] is not None:
            raise invalid(
                "maximum_balance_policy", "maximum_balance_policy needs a maximum_balance"
            )
    elif record["maximum_balance_policy"] is None:
        record["maximum_balance_policy"] = MaximumBalancePolicy.LIMIT.value
