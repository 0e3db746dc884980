"""Event detail records: one immutable record per financial or state change of a wallet.

Per balance type an EDR holds the old value, the delta and the new value of everything the
wallet holds in that balance type, so a balance always equals the sum of its EDR deltas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from ocs.core.configuration import UnitOfMeasure
from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.money import convert_minor
from ocs.core.wallets import Bucket, BucketChange, WalletType

EDR_PAGE_ROWS_MAX = 500
EDR_SEARCH_ROWS_MAX = 10_000
TAGS_MAX = 16
TAG_KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,31}$")
TAG_VALUE_LENGTH_MAX = 128
TEXT_LENGTH_MAX = 64
MASK_CHAR = "*"
MASKED_TEXT_FIELDS = ("called_number", "session_id", "discounts")
TAG_FIELD_PREFIX = "tag:"


class EdrType(StrEnum):
    WALLET_CREATED = "WALLET_CREATED"
    ACTIVATION = "ACTIVATION"
    STATE_CHANGE = "STATE_CHANGE"
    CHARGE = "CHARGE"
    RECHARGE = "RECHARGE"
    ADJUSTMENT = "ADJUSTMENT"
    BALANCE_EDIT = "BALANCE_EDIT"
    MERGE = "MERGE"
    EXPIRY = "EXPIRY"
    REVERSAL = "REVERSAL"
    REFUND = "REFUND"
    RESERVATION = "RESERVATION"
    WALLET_DELETED = "WALLET_DELETED"
    CREDIT_TRANSFER = "CREDIT_TRANSFER"


class UnitClass(StrEnum):
    """The unit groups the EDR viewer reports costs in."""

    CASH = "CASH"
    TIME = "TIME"
    UNITS = "UNITS"


def unit_class(unit: UnitOfMeasure) -> UnitClass:
    if unit is UnitOfMeasure.MONEY:
        return UnitClass.CASH
    if unit is UnitOfMeasure.SECONDS:
        return UnitClass.TIME
    return UnitClass.UNITS


@dataclass(frozen=True)
class BalanceLine:
    balance_type: str
    unit_class: UnitClass
    currency: str | None
    old_value: int
    delta_value: int
    new_value: int

    def __post_init__(self) -> None:
        if self.old_value + self.delta_value != self.new_value:
            raise ValueError(f"EDR line for {self.balance_type} does not add up")


@dataclass(frozen=True)
class Edr:
    id: int
    type: EdrType
    at: datetime
    wallet_id: int
    subscriber_id: int | None
    wallet_type: WalletType | None
    operator: str | None
    change_reason: str | None
    balances: tuple[BalanceLine, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    called_number: str | None = None
    duration_s: int | None = None
    session_id: str | None = None
    discounts: str | None = None
    partial: bool = False
    reverses_edr_id: int | None = None
    # Type-specific facts: state from/to, excess dropped by LIMIT, bucket movements, merge ends.
    detail: Mapping[str, object] = field(default_factory=dict)


def cost(edr: Edr, unit: UnitClass) -> int:
    """What the event cost in one unit class: a charge is positive, a recharge negative."""
    return -sum(line.delta_value for line in edr.balances if line.unit_class is unit)


def check_tags(tags: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    if len(tags) > TAGS_MAX:
        raise invalid("tags", f"at most {TAGS_MAX} tags")
    for key, value in tags.items():
        if not TAG_KEY_PATTERN.match(key):
            raise invalid("tags", f"tag key {key!r} must be 1-32 letters, digits or _.-")
        if not isinstance(value, str) or len(value) > TAG_VALUE_LENGTH_MAX:
            raise invalid("tags", f"tag {key} value must be text of at most 128 characters")
    return tuple(sorted(tags.items()))


def check_text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > TEXT_LENGTH_MAX:
        raise invalid(name, f"{name} must be at most {TEXT_LENGTH_MAX} characters")
    return text or None


# -- bucket movements, kept on charge EDRs so that a reversal restores the same buckets ---------


def encode_movements(changes: Iterable[BucketChange], bucket_ids: Iterable[int]) -> list[object]:
    """The buckets a change drew on, with their dates; ids are those after storing."""
    return [
        {
            "bucket_id": bucket_id,
            "balance_type": c.bucket.balance_type,
            "delta": c.delta,
            "start_at": None if c.bucket.start_at is None else c.bucket.start_at.isoformat(),
            "expires_at": None if c.expires_at is None else c.expires_at.isoformat(),
        }
        for c, bucket_id in zip(changes, bucket_ids, strict=True)
    ]


def decode_movements(edr: Edr) -> list[tuple[Bucket, int]]:
    """(bucket as it was identified and dated, delta) for every movement of a charge EDR."""
    raw = edr.detail.get("buckets", [])
    assert isinstance(raw, list)
    movements = []
    for item in raw:
        assert isinstance(item, dict)
        bucket = Bucket(
            id=int(item["bucket_id"]),
            balance_type=str(item["balance_type"]),
            value=0,
            start_at=_time(item["start_at"]),
            expires_at=_time(item["expires_at"]),
        )
        movements.append((bucket, int(item["delta"])))
    return movements


def _time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def check_reversible(edr: Edr, reversed_by: int | None) -> None:
    if edr.type is not EdrType.CHARGE:
        raise invalid(
            "edr_id", f"only CHARGE EDRs can be reversed; EDR {edr.id} is a {edr.type.value}"
        )
    if reversed_by is not None:
        raise DomainError(
            ProblemKind.CONFLICT,
            f"EDR {edr.id} was already reversed by EDR {reversed_by}",
            "edr_id",
        )


# -- search ------------------------------------------------------------------------------------


class EdrSort(StrEnum):
    DATE = "DATE"
    BALANCE_TYPE = "BALANCE_TYPE"
    COST = "COST"
    TYPE = "TYPE"


# Newest first; balance type (internal id) ascending; highest cost first; type ascending.
DEFAULT_DESCENDING: Mapping[EdrSort, bool] = {
    EdrSort.DATE: True,
    EdrSort.BALANCE_TYPE: False,
    EdrSort.COST: True,
    EdrSort.TYPE: False,
}


@dataclass(frozen=True)
class EdrQuery:
    """The "View EDRs for Subscriber" search: a subscriber (or one wallet) plus filters."""

    subscriber_id: int | None = None
    wallet_id: int | None = None
    wallet_types: frozenset[WalletType] = frozenset(WalletType)
    start: datetime | None = None
    end: datetime | None = None
    # Search categories; empty means every type.
    types: frozenset[EdrType] = frozenset()
    called_number: str | None = None
    tag: str | None = None
    tag_value: str | None = None
    include_partial: bool = False
    unit_class: UnitClass = UnitClass.CASH
    sort: EdrSort = EdrSort.DATE
    reverse: bool = False
    # "Number of EDRs": at most this many match in total; None means up to the search maximum.
    max_results: int | None = None
    offset: int = 0
    page_size: int = 50

    @property
    def descending(self) -> bool:
        return DEFAULT_DESCENDING[self.sort] != self.reverse

    @property
    def result_limit(self) -> int:
        return EDR_SEARCH_ROWS_MAX if self.max_results is None else self.max_results


def check_query(query: EdrQuery) -> EdrQuery:
    if query.subscriber_id is None and query.wallet_id is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD, "give a subscriber_id or a wallet_id", "subscriber_id"
        )
    if query.subscriber_id is not None and query.wallet_id is not None:
        raise invalid("wallet_id", "give a subscriber_id or a wallet_id, not both")
    if not query.wallet_types:
        raise invalid("wallet_types", "choose at least one wallet type")
    for name, value in (("start", query.start), ("end", query.end)):
        if value is not None and value.tzinfo is None:
            raise invalid(name, f"{name} must carry a time zone")
    if query.start is not None and query.end is not None and query.start >= query.end:
        raise invalid("end", "end must be after start")
    if query.tag_value is not None and query.tag is None:
        raise DomainError(ProblemKind.MISSING_FIELD, "tag_value needs a tag", "tag")
    if query.max_results is not None and not 1 <= query.max_results <= EDR_SEARCH_ROWS_MAX:
        raise invalid("max_results", f"max_results must be 1-{EDR_SEARCH_ROWS_MAX}")
    if not 1 <= query.page_size <= EDR_PAGE_ROWS_MAX:
        raise invalid("page_size", f"page_size must be 1-{EDR_PAGE_ROWS_MAX}")
    if query.offset < 0:
        raise invalid("offset", "offset must not be negative")
    return query


@dataclass(frozen=True)
class EdrHit:
    edr: Edr
    cost: int


@dataclass(frozen=True)
class EdrPage:
    items: list[EdrHit]
    # Matches in total (at most the query's result limit) and where the next page starts.
    total: int
    offset: int
    next_offset: int | None
    display_currency: str | None


# -- display currency --------------------------------------------------------------------------


def line_in_currency(
    line: BalanceLine, currency: str, from_scale: int, to_scale: int, rate_nano: int
) -> BalanceLine:
    """A cash line shown in another currency: old and new convert, the delta is their
    difference so the displayed line still adds up."""
    old = convert_minor(line.old_value, from_scale, to_scale, rate_nano)
    new = convert_minor(line.new_value, from_scale, to_scale, rate_nano)
    return replace(line, currency=currency, old_value=old, delta_value=new - old, new_value=new)


# -- masking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaskingRule:
    """Show only the first keep_prefix and last keep_suffix characters of a field."""

    field: str
    keep_prefix: int
    keep_suffix: int


def check_masking_rule(field_name: str, keep_prefix: int, keep_suffix: int) -> MaskingRule:
    is_tag = field_name.startswith(TAG_FIELD_PREFIX) and bool(
        TAG_KEY_PATTERN.match(field_name.removeprefix(TAG_FIELD_PREFIX))
    )
    if field_name not in MASKED_TEXT_FIELDS and not is_tag:
        names = ", ".join(MASKED_TEXT_FIELDS)
        raise invalid("field", f"field must be one of {names} or tag:<KEY>, got {field_name!r}")
    for name, value in (("keep_prefix", keep_prefix), ("keep_suffix", keep_suffix)):
        if not 0 <= value <= TEXT_LENGTH_MAX:
            raise invalid(name, f"{name} must be 0-{TEXT_LENGTH_MAX}")
    return MaskingRule(field_name, keep_prefix, keep_suffix)


def mask_text(text: str, keep_prefix: int, keep_suffix: int) -> str:
    """Mask the middle of a value; a value too short to hide anything is masked entirely."""
    length = len(text)
    if keep_prefix + keep_suffix >= length:
        return MASK_CHAR * length
    hidden = length - keep_prefix - keep_suffix
    return text[:keep_prefix] + MASK_CHAR * hidden + text[length - keep_suffix :]


def mask_edr(edr: Edr, rules: Mapping[str, MaskingRule]) -> Edr:
    def masked(name: str, value: str | None) -> str | None:
        rule = rules.get(name)
        if value is None or rule is None:
            return value
        return mask_text(value, rule.keep_prefix, rule.keep_suffix)

    tags = tuple((key, masked(TAG_FIELD_PREFIX + key, value) or "") for key, value in edr.tags)
    return replace(
        edr,
        called_number=masked("called_number", edr.called_number),
        session_id=masked("session_id", edr.session_id),
        discounts=masked("discounts", edr.discounts),
        tags=tags,
    )
