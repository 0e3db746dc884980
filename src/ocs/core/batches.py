"""Subscriber batches (seed 003 "Subscriber Batch"): the batch record and its states, the
subscriber list file, card number allocation and PIN generation.

A list file holds one subscriber number or one `first-last` range per line; `#` starts a
comment. Numbers are digit strings: "0123" and "123" are different subscriber IDs, so a range
keeps its digit count (its width) and both ends must have the same one.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.subscriber_details import PIN_DIGITS_MAX, PIN_DIGITS_MIN

BATCH_SIZE_MAX = 10_000_000
NUMBER_DIGITS_MAX = 32
LIST_LINE_LENGTH_MAX = 200
FILENAME_LENGTH_MAX = 255
ERROR_LENGTH_MAX = 500
SEARCH_ROWS_MAX = 100
PIN_ALPHABET = "0123456789"
LIST_FIELD = "subscriber_list"


class BatchState(StrEnum):
    """CREATING while the subscribers are being written; INACTIVE once they all are; ACTIVE
    after the operator activates the batch; FAILED when creation stopped on an error."""

    CREATING = "CREATING"
    INACTIVE = "INACTIVE"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"


# The operator edits only the state: to activate a created batch, or to stop a creation (one
# running, or one a killed process left CREATING).
EDIT_TRANSITIONS: dict[BatchState, frozenset[BatchState]] = {
    BatchState.CREATING: frozenset({BatchState.FAILED}),
    BatchState.INACTIVE: frozenset({BatchState.ACTIVE}),
    BatchState.ACTIVE: frozenset(),
    BatchState.FAILED: frozenset(),
}
# Deleting the subscribers with the batch is allowed only while they have never been activated.
SUBSCRIBERS_DELETABLE = frozenset({BatchState.INACTIVE, BatchState.FAILED})


class CardNumbering(StrEnum):
    SUBSCRIBER_ID = "SUBSCRIBER_ID"  # the card number is the subscriber ID
    RANGE = "RANGE"  # allocated in order from an operator-given range


@dataclass(frozen=True)
class NumberRange:
    """first..last inclusive, written with `width` digits; `line` is where it came from."""

    first: int
    last: int
    width: int
    line: int
    # The last line merged into this range (lines that continue each other become one range).
    end_line: int = 0

    @property
    def lines(self) -> str:
        if self.end_line > self.line:
            return f"lines {self.line}-{self.end_line}"
        return f"line {self.line}"

    def offset_of(self, number: str) -> int | None:
        """Where `number` is in this range, if it is."""
        if len(number) != self.width or not number.isdigit():
            return None
        value = int(number)
        return value - self.first if self.first <= value <= self.last else None

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def number(self, offset: int) -> str:
        return f"{self.first + offset:0{self.width}d}"

    @property
    def text(self) -> str:
        first, last = self.number(0), self.number(self.count - 1)
        return first if first == last else f"{first}-{last}"


@dataclass(frozen=True)
class Batch:
    id: int
    service_provider: str
    account_id: int
    size: int
    list_filename: str | None
    result_filename: str
    charging_domain: str
    product_type: str
    currency: str
    max_concurrent_accesses: int
    card_numbering: CardNumbering
    card_first: str | None
    card_last: str | None
    pins: bool
    pin_length: int | None
    pin_method: str | None
    state: BatchState
    state_reason: str | None
    created_count: int
    error: str | None
    created_by: str
    created_at: datetime
    state_changed_at: datetime


def parse_state(value: object, field: str = "state") -> BatchState:
    try:
        return BatchState(str(value))
    except ValueError:
        choices = ", ".join(s.value for s in BatchState)
        raise invalid(field, f"{field} must be one of {choices}, got {value!r}") from None


def check_edit(current: BatchState, target: BatchState) -> None:
    if target not in EDIT_TRANSITIONS[current]:
        raise DomainError(
            ProblemKind.INVALID_STATE_TRANSITION,
            f"a {current.value} batch cannot become {target.value} "
            "(INACTIVE -> ACTIVE activates, CREATING -> FAILED stops a creation)",
            "state",
        )


def check_batch_size(value: int) -> int:
    if not 1 <= value <= BATCH_SIZE_MAX:
        raise invalid("batch_size", f"batch_size must be 1-{BATCH_SIZE_MAX:,}")
    return value


def check_pin_length(value: int | None) -> int:
    if value is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD, "pin_length is required when PINs are added", "pin_length"
        )
    if not PIN_DIGITS_MIN <= value <= PIN_DIGITS_MAX:
        raise invalid("pin_length", f"pin_length must be {PIN_DIGITS_MIN}-{PIN_DIGITS_MAX}")
    return value


def check_filename(value: str | None, field: str, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(ProblemKind.MISSING_FIELD, f"{field} is required", field)
        return None
    if len(text) > FILENAME_LENGTH_MAX or any(ord(ch) < 32 for ch in text):
        raise invalid(field, f"{field} must be 1-{FILENAME_LENGTH_MAX} printable characters")
    return text


def generate_pin(length: int, randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A uniformly random PIN of `length` decimal digits (leading zeros kept)."""
    check_pin_length(length)
    return "".join(PIN_ALPHABET[randbelow(len(PIN_ALPHABET))] for _ in range(length))


# -- the subscriber list file -------------------------------------------------------------------


def _number(text: str, line: int) -> tuple[int, int]:
    if not text.isascii() or not text.isdigit():
        raise invalid(LIST_FIELD, f"line {line}: {text!r} is not a number (digits only)")
    if len(text) > NUMBER_DIGITS_MAX:
        raise invalid(LIST_FIELD, f"line {line}: {text!r} has more than {NUMBER_DIGITS_MAX} digits")
    return int(text), len(text)


def parse_line(raw: str, line: int) -> NumberRange | None:
    """One line of a list file: None for a blank or comment-only line."""
    if len(raw) > LIST_LINE_LENGTH_MAX:
        raise invalid(LIST_FIELD, f"line {line}: longer than {LIST_LINE_LENGTH_MAX} characters")
    text = raw.split("#", 1)[0].strip()
    if not text:
        return None
    first_text, dash, last_text = text.partition("-")
    first, width = _number(first_text.strip(), line)
    if not dash:
        return NumberRange(first, first, width, line)
    last, last_width = _number(last_text.strip(), line)
    if last_width != width:
        raise invalid(
            LIST_FIELD, f"line {line}: both ends of the range {text!r} need the same digit count"
        )
    if last < first:
        raise invalid(LIST_FIELD, f"line {line}: the range {text!r} ends before it starts")
    return NumberRange(first, last, width, line)


def parse_subscriber_list(
    lines: Iterable[str], count_max: int = BATCH_SIZE_MAX
) -> list[NumberRange]:
    """The ranges of a list file in file order, a line continuing the previous one merged
    into it. Refuses bad lines, overlaps and more than count_max numbers, naming the line."""
    ranges: list[NumberRange] = []
    total = 0
    for index, raw in enumerate(lines, start=1):
        parsed = parse_line(raw.rstrip("\r\n"), index)
        if parsed is None:
            continue
        total += parsed.count
        if total > count_max:
            raise invalid(
                LIST_FIELD, f"line {index}: the list holds more than {count_max:,} numbers"
            )
        previous = ranges[-1] if ranges else None
        if (
            previous is not None
            and previous.width == parsed.width
            and parsed.first == previous.last + 1
        ):
            ranges[-1] = NumberRange(
                previous.first, parsed.last, parsed.width, previous.line, parsed.line
            )
        else:
            ranges.append(parsed)
    if not ranges:
        raise invalid(LIST_FIELD, "the subscriber list holds no numbers")
    check_no_overlap(ranges)
    return ranges


def check_no_overlap(ranges: Sequence[NumberRange]) -> None:
    ordered = sorted(ranges, key=lambda r: (r.width, r.first))
    for before, after in itertools.pairwise(ordered):
        if before.width == after.width and after.first <= before.last:
            later, earlier = (after, before) if after.line > before.line else (before, after)
            raise invalid(
                LIST_FIELD,
                f"{later.lines}: {later.text} overlaps {earlier.text} ({earlier.lines})",
            )


def count_numbers(ranges: Iterable[NumberRange]) -> int:
    return sum(r.count for r in ranges)


def iter_numbers(ranges: Iterable[NumberRange]) -> Iterator[str]:
    for r in ranges:
        for offset in range(r.count):
            yield r.number(offset)


# -- card numbers -------------------------------------------------------------------------------


def card_range(first: str | None, last: str | None, needed: int) -> NumberRange:
    """The operator's card number range; it must hold a card for every subscriber."""
    if not first or not last:
        raise DomainError(
            ProblemKind.MISSING_FIELD,
            "card_first and card_last are required to allocate card numbers in a range",
            "card_first" if not first else "card_last",
        )
    try:
        parsed = parse_line(f"{first.strip()}-{last.strip()}", 1)
    except DomainError as error:
        raise invalid("card_first", error.detail.removeprefix("line 1: ")) from None
    assert parsed is not None
    if parsed.count < needed:
        raise invalid(
            "card_last",
            f"the card range {parsed.text} holds {parsed.count:,} numbers, "
            f"the batch needs {needed:,}",
        )
    return NumberRange(parsed.first, parsed.first + needed - 1, parsed.width, 0)


def card_numbers(
    numbering: CardNumbering, subscribers: Sequence[NumberRange], cards: NumberRange | None
) -> list[NumberRange]:
    """The card numbers the batch takes, as ranges (used for the "already in use" check)."""
    if numbering is CardNumbering.SUBSCRIBER_ID:
        return list(subscribers)
    assert cards is not None
    return [cards]
