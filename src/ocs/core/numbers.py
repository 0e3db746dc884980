"""Telephone numbers and prefixes as operators enter them for subscriber features.

Numbers are kept as digit strings (no '+', no separators) so that prefix tests are plain
string prefix tests; `ocs.core.rating.normalise_number` turns a dialled number into that form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ocs.core.errors import DomainError, ProblemKind, invalid

NUMBER_DIGITS_MAX = 32
DIGITS = re.compile(r"^[0-9]+$")


def check_number(value: object, field: str, digits_max: int = NUMBER_DIGITS_MAX) -> str:
    """A number or prefix: 1 to `digits_max` digits."""
    if not isinstance(value, str) or not value.strip():
        raise DomainError(ProblemKind.MISSING_FIELD, f"{field} needs a number", field)
    text = value.strip()
    if not DIGITS.match(text):
        raise invalid(field, f"{field}: {text!r} may hold only the digits 0-9")
    if len(text) > digits_max:
        raise invalid(field, f"{field}: {text!r} is longer than {digits_max} digits")
    return text


def check_number_list(
    values: Sequence[object],
    field: str,
    entries_max: int,
    digits_max: int = NUMBER_DIGITS_MAX,
) -> tuple[str, ...]:
    """Distinct numbers in the given order, at most `entries_max` of them."""
    if len(values) > entries_max:
        raise invalid(field, f"{field} may hold at most {entries_max} entries, got {len(values)}")
    numbers = tuple(check_number(v, field, digits_max) for v in values)
    check_distinct(numbers, field)
    return numbers


def check_distinct(values: Sequence[str], field: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise DomainError(ProblemKind.DUPLICATE, f"{field}: {value!r} is listed twice", field)
        seen.add(value)


def longest_prefix(number: str, prefixes: Sequence[str]) -> str | None:
    """The longest entry that `number` starts with, if any."""
    best: str | None = None
    for prefix in prefixes:
        if number.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best
