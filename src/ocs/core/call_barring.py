"""Call barring: one list per subscriber that either allows or bars the numbers it holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ocs.core.errors import invalid
from ocs.core.numbers import check_number_list, longest_prefix

BARRING_ENTRIES_MAX = 100


class BarringListType(StrEnum):
    ALLOWED = "ALLOWED"
    BARRED = "BARRED"


class BarringOutcome(StrEnum):
    """Outcomes in precedence order: only the first lets the call through."""

    ALLOWED = "ALLOWED"
    BARRED = "BARRED"
    NOT_ON_ALLOWED_LIST = "NOT_ON_ALLOWED_LIST"


@dataclass(frozen=True)
class CallBarring:
    list_type: BarringListType = BarringListType.BARRED
    ignore: bool = False
    # Numbers or prefixes: an entry covers every number that starts with it.
    numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class BarringDecision:
    outcome: BarringOutcome
    matched: str | None = None


def check_call_barring(list_type: str, ignore: bool, numbers: Sequence[object]) -> CallBarring:
    try:
        parsed = BarringListType(list_type)
    except ValueError:
        choices = ", ".join(t.value for t in BarringListType)
        raise invalid("list_type", f"list_type must be one of {choices}") from None
    entries = check_number_list(numbers, "numbers", BARRING_ENTRIES_MAX)
    return CallBarring(parsed, ignore, tuple(sorted(entries)))


def decide_barring(barring: CallBarring, called: str) -> BarringDecision:
    """Whether `called` (digits, after number translation) may be called.

    An ignored list lets everything through. An allowed list lets through only numbers it
    covers, so an empty allowed list bars every call; a barred list bars only the numbers it
    covers. `matched` is the longest covering entry.
    """
    if barring.ignore:
        return BarringDecision(BarringOutcome.ALLOWED)
    matched = longest_prefix(called, barring.numbers)
    if barring.list_type is BarringListType.ALLOWED:
        if matched is None:
            return BarringDecision(BarringOutcome.NOT_ON_ALLOWED_LIST)
        return BarringDecision(BarringOutcome.ALLOWED, matched)
    if matched is None:
        return BarringDecision(BarringOutcome.ALLOWED)
    return BarringDecision(BarringOutcome.BARRED, matched)
