"""Number translation: a dialled short code becomes a full termination number.

Short codes are configured at four levels; the most specific level that knows the code wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.numbers import NUMBER_DIGITS_MAX, check_number

SHORT_CODES_MAX = 100
# Service short codes may carry the keypad's * and # (e.g. *100#).
SHORT_CODE_PATTERN = re.compile(rf"^[0-9*#]{{1,{NUMBER_DIGITS_MAX}}}$")


class TranslationLevel(StrEnum):
    """Levels from most to least specific."""

    SUBSCRIBER = "SUBSCRIBER"
    PRODUCT_TYPE = "PRODUCT_TYPE"
    SERVICE_PROVIDER = "SERVICE_PROVIDER"
    SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class ShortCode:
    short_code: str
    number: str


@dataclass(frozen=True)
class TranslationScope:
    """Whose short codes: one subscriber, product type or service provider, or the system."""

    level: TranslationLevel
    subscriber_id: int | None = None
    product_type: str | None = None
    service_provider: str | None = None

    @property
    def owner(self) -> str:
        """The key short codes are unique under within their level ('' for the system)."""
        if self.level is TranslationLevel.SUBSCRIBER:
            return str(self.subscriber_id)
        if self.level is TranslationLevel.PRODUCT_TYPE:
            return str(self.product_type)
        if self.level is TranslationLevel.SERVICE_PROVIDER:
            return str(self.service_provider)
        return ""


@dataclass(frozen=True)
class Translation:
    number: str
    level: TranslationLevel | None = None  # None: the dialled number was not a short code


def check_short_code(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not SHORT_CODE_PATTERN.match(text):
        raise invalid(
            "short_code",
            f"short_code must be 1-{NUMBER_DIGITS_MAX} characters of 0-9, * and #, got {value!r}",
        )
    return text


def check_short_codes(entries: Sequence[tuple[object, object]]) -> tuple[ShortCode, ...]:
    """Pairs of (short code, number): distinct short codes, at most SHORT_CODES_MAX."""
    if len(entries) > SHORT_CODES_MAX:
        raise invalid(
            "short_codes",
            f"short_codes may hold at most {SHORT_CODES_MAX} entries, got {len(entries)}",
        )
    codes: list[ShortCode] = []
    seen: set[str] = set()
    for short_code, number in entries:
        code = ShortCode(check_short_code(short_code), check_number(number, "number"))
        if code.short_code in seen:
            raise DomainError(
                ProblemKind.DUPLICATE,
                f"short code {code.short_code!r} is listed twice",
                "short_code",
            )
        seen.add(code.short_code)
        codes.append(code)
    return tuple(sorted(codes, key=lambda c: c.short_code))


def translate(dialled: str, tables: Mapping[TranslationLevel, Sequence[ShortCode]]) -> Translation:
    """The number to route and rate: the short code's number from the most specific level
    that defines `dialled`, or `dialled` itself. A short code is matched whole, never as a
    prefix, so "12" does not translate "123"."""
    for level in TranslationLevel:
        for code in tables.get(level, ()):
            if code.short_code == dialled:
                return Translation(code.number, level)
    return Translation(dialled)
