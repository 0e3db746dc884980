"""Profile group fields: per service provider groups of typed fields that subscribers carry
values for, each value checked against its tag type and limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.numbers import NUMBER_DIGITS_MAX, check_distinct
from ocs.core.zones import Shape, check_shape_count, parse_shape

GROUP_NAME_LENGTH_MAX = 50
DISPLAY_NAME_LENGTH_MAX = 50
TAG_NAME_LENGTH_MAX = 50
PERMISSION_NAME_LENGTH_MAX = 200
ORDER_MAX = 9999
BYTE_MIN, BYTE_MAX = -9, 9
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1
STRING_LENGTH_MAX = 255
PREFIX_ENTRIES_MAX = 100
GROUPS_PER_PROVIDER_MAX = 100
FIELDS_PER_GROUP_MAX = 100
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")
ASCII_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
DIGITS = re.compile(r"^[0-9]+$")


class ProfileTagType(StrEnum):
    BOOLEAN = "BOOLEAN"
    BYTE = "BYTE"  # a signed single digit
    DATE = "DATE"
    INTEGER = "INTEGER"  # signed 32-bit
    LNSTRING = "LNSTRING"  # digits, at most `limit` of them
    LOPREFIX = "LOPREFIX"  # ordered digit prefixes, at most `limit` of them
    NSTRING = "NSTRING"  # digits
    OPREFIX = "OPREFIX"  # ordered digit prefixes
    PREFIX = "PREFIX"  # a set of digit prefixes
    STRING = "STRING"  # printable ASCII
    ZONE = "ZONE"  # 1-5 shapes; kept as the subscriber's zone named after the tag


LIMITED_TYPES: dict[ProfileTagType, tuple[str, int]] = {
    ProfileTagType.LNSTRING: ("digits", STRING_LENGTH_MAX),
    ProfileTagType.LOPREFIX: ("entries", PREFIX_ENTRIES_MAX),
}

ProfileValue = bool | int | str | tuple[str, ...]


@dataclass(frozen=True)
class ProfileGroup:
    id: int
    service_provider: str
    name: str
    permission_name: str


@dataclass(frozen=True)
class ProfileField:
    id: int
    group_id: int
    service_provider: str
    display_name: str
    tag_name: str
    tag_type: ProfileTagType
    group_order: int
    sub_order: int
    permission_name: str
    limit: int | None = None


def check_name(value: object, field: str, length_max: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise DomainError(ProblemKind.MISSING_FIELD, f"{field} is required", field)
    if len(text) > length_max or not NAME_PATTERN.match(text):
        raise invalid(
            field,
            f"{field} must be 1-{length_max} letters, digits, spaces or _.- starting with a "
            "letter or digit",
        )
    return text


def check_permission_name(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > PERMISSION_NAME_LENGTH_MAX:
        raise invalid(
            "permission_name", f"permission_name must be 1-{PERMISSION_NAME_LENGTH_MAX} characters"
        )
    return text


def group_permission_name(service_provider: str, group_name: str) -> str:
    """The auto-populated permission name of a group: <service provider>-<group>."""
    return f"{service_provider}-{group_name}"


def field_permission_name(service_provider: str, group_name: str, display_name: str) -> str:
    """The auto-populated permission name of a field: <service provider>-<group>-<field>."""
    return f"{service_provider}-{group_name}-{display_name}"


def parse_tag_type(value: str) -> ProfileTagType:
    try:
        return ProfileTagType(value)
    except ValueError:
        choices = ", ".join(t.value for t in ProfileTagType)
        raise invalid("tag_type", f"tag_type must be one of {choices}") from None


def check_order(value: int, field: str) -> int:
    if not 0 <= value <= ORDER_MAX:
        raise invalid(field, f"{field} must be 0-{ORDER_MAX}")
    return value


def check_limit(tag_type: ProfileTagType, limit: int | None) -> int | None:
    """LNSTRING and LOPREFIX fields carry a limit (digits, entries); no other type takes one."""
    if tag_type not in LIMITED_TYPES:
        if limit is not None:
            raise invalid("limit", f"a {tag_type.value} field takes no limit")
        return None
    what, high = LIMITED_TYPES[tag_type]
    if limit is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD, f"a {tag_type.value} field needs a limit ({what})", "limit"
        )
    if not 1 <= limit <= high:
        raise invalid("limit", f"limit ({what}) must be 1-{high}")
    return limit


def check_profile_value(field: ProfileField, value: object) -> ProfileValue:
    """The normalised value for `field`, or an error naming the field's tag. ZONE values are
    shapes and go through `check_zone_value`."""
    name = field.tag_name
    kind = field.tag_type
    assert kind is not ProfileTagType.ZONE, "ZONE values are checked by check_zone_value"
    if kind is ProfileTagType.BOOLEAN:
        if not isinstance(value, bool):
            raise invalid(name, f"{name} must be true or false")
        return value
    if kind in (ProfileTagType.BYTE, ProfileTagType.INTEGER):
        low, high = (
            (BYTE_MIN, BYTE_MAX) if kind is ProfileTagType.BYTE else (INTEGER_MIN, INTEGER_MAX)
        )
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(name, f"{name} must be an integer from {low} to {high}")
        return value
    if kind is ProfileTagType.DATE:
        return _date(name, value)
    if kind in (ProfileTagType.LNSTRING, ProfileTagType.NSTRING):
        digits_max = field.limit if kind is ProfileTagType.LNSTRING else STRING_LENGTH_MAX
        assert digits_max is not None
        return _digits(name, value, digits_max)
    if kind is ProfileTagType.STRING:
        if not isinstance(value, str) or not value or not ASCII_PRINTABLE.match(value):
            raise invalid(name, f"{name} must be printable ASCII text")
        if len(value) > STRING_LENGTH_MAX:
            raise invalid(name, f"{name} must be at most {STRING_LENGTH_MAX} characters")
        return value
    entries_max = field.limit if kind is ProfileTagType.LOPREFIX else PREFIX_ENTRIES_MAX
    assert entries_max is not None
    prefixes = _prefixes(name, value, entries_max)
    # A PREFIX tree has no order; the ordered kinds keep the operator's order.
    return tuple(sorted(prefixes)) if kind is ProfileTagType.PREFIX else prefixes


def _date(name: str, value: object) -> str:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise invalid(name, f"{name} must be a date as YYYY-MM-DD")


def _digits(name: str, value: object, digits_max: int) -> str:
    if not isinstance(value, str) or not DIGITS.match(value):
        raise invalid(name, f"{name} may hold only the digits 0-9")
    if len(value) > digits_max:
        raise invalid(name, f"{name} must be at most {digits_max} digits")
    return value


def _prefixes(name: str, value: object, entries_max: int) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise invalid(name, f"{name} must be a list of digit prefixes")
    if len(value) > entries_max:
        raise invalid(name, f"{name} may hold at most {entries_max} prefixes")
    prefixes = tuple(_digits(name, v, NUMBER_DIGITS_MAX) for v in value)
    check_distinct(prefixes, name)
    return prefixes


def check_zone_value(field: ProfileField, value: object) -> tuple[Shape, ...]:
    """A ZONE field's value: 1-5 circles or rectangles in their API form."""
    name = field.tag_name
    if not isinstance(value, list | tuple) or not all(isinstance(v, Mapping) for v in value):
        raise invalid(name, f"{name} must be a list of shapes")
    check_shape_count(value)
    return tuple(parse_shape(v) for v in value)
