from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocs.core.call_barring import (
    BARRING_ENTRIES_MAX,
    BarringListType,
    BarringOutcome,
    CallBarring,
    check_call_barring,
    decide_barring,
)
from ocs.core.errors import DomainError, ProblemKind

ALLOWED, BARRED = BarringListType.ALLOWED, BarringListType.BARRED
digits = st.text(alphabet="0123456789", min_size=1, max_size=12)


@pytest.mark.parametrize(
    ("list_type", "numbers", "called", "outcome", "matched"),
    [
        (BARRED, (), "3161234", BarringOutcome.ALLOWED, None),
        (BARRED, ("0900",), "0900123", BarringOutcome.BARRED, "0900"),
        (BARRED, ("0900",), "090", BarringOutcome.ALLOWED, None),
        (BARRED, ("0900",), "0800123", BarringOutcome.ALLOWED, None),
        (BARRED, ("09", "0900"), "090055", BarringOutcome.BARRED, "0900"),
        (BARRED, ("3161234",), "3161234", BarringOutcome.BARRED, "3161234"),
        (ALLOWED, (), "3161234", BarringOutcome.NOT_ON_ALLOWED_LIST, None),
        (ALLOWED, ("31",), "3161234", BarringOutcome.ALLOWED, "31"),
        (ALLOWED, ("31",), "4420", BarringOutcome.NOT_ON_ALLOWED_LIST, None),
        (ALLOWED, ("3", "316"), "31655", BarringOutcome.ALLOWED, "316"),
    ],
)
def test_lists_cover_numbers_by_prefix(
    list_type: BarringListType,
    numbers: tuple[str, ...],
    called: str,
    outcome: BarringOutcome,
    matched: str | None,
) -> None:
    decision = decide_barring(CallBarring(list_type, False, numbers), called)
    assert (decision.outcome, decision.matched) == (outcome, matched)


@pytest.mark.parametrize("list_type", list(BarringListType))
def test_ignore_lets_every_call_through(list_type: BarringListType) -> None:
    for numbers in ((), ("0900",), ("31",)):
        barring = CallBarring(list_type, True, numbers)
        assert decide_barring(barring, "0900123").outcome is BarringOutcome.ALLOWED


def test_the_default_bars_nothing() -> None:
    assert decide_barring(CallBarring(), "0900123").outcome is BarringOutcome.ALLOWED


@given(st.lists(digits, max_size=5, unique=True), digits)
def test_an_allowed_list_lets_through_exactly_what_the_same_barred_list_bars(
    numbers: list[str], called: str
) -> None:
    allowed = decide_barring(CallBarring(ALLOWED, False, tuple(numbers)), called)
    barred = decide_barring(CallBarring(BARRED, False, tuple(numbers)), called)
    assert (allowed.outcome is BarringOutcome.ALLOWED) == (barred.outcome is BarringOutcome.BARRED)
    assert allowed.matched == barred.matched


def test_check_call_barring_validates_and_sorts() -> None:
    barring = check_call_barring("ALLOWED", False, ["316", " 0031 "])
    assert barring == CallBarring(ALLOWED, False, ("0031", "316"))


@pytest.mark.parametrize(
    ("list_type", "numbers", "kind", "field"),
    [
        ("ALLOW", [], ProblemKind.INVALID_VALUE, "list_type"),
        ("BARRED", ["09a"], ProblemKind.INVALID_VALUE, "numbers"),
        ("BARRED", ["1" * 33], ProblemKind.INVALID_VALUE, "numbers"),
        ("BARRED", [""], ProblemKind.MISSING_FIELD, "numbers"),
        ("BARRED", ["0900", "0900"], ProblemKind.DUPLICATE, "numbers"),
        ("BARRED", [str(i) for i in range(BARRING_ENTRIES_MAX + 1)], ProblemKind.INVALID_VALUE,
         "numbers"),
    ],
)  # fmt: skip
def test_check_call_barring_refusals(
    list_type: str, numbers: list[str], kind: ProblemKind, field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        check_call_barring(list_type, False, numbers)
    assert (caught.value.kind, caught.value.field) == (kind, field)
