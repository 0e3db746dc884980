"""Subscriber batch rules: the list file, card number ranges, PINs and batch states."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocs.core.batches import (
    BatchState,
    CardNumbering,
    NumberRange,
    card_numbers,
    card_range,
    check_edit,
    check_pin_length,
    count_numbers,
    generate_pin,
    iter_numbers,
    parse_subscriber_list,
)
from ocs.core.errors import DomainError, ProblemKind


def refused(lines: list[str], count_max: int = 10**7) -> str:
    with pytest.raises(DomainError) as error:
        parse_subscriber_list(lines, count_max)
    assert error.value.kind is ProblemKind.INVALID_VALUE
    assert error.value.field == "subscriber_list"
    return error.value.detail


# -- the list file ---------------------------------------------------------------------------


def test_the_manual_example() -> None:
    ranges = parse_subscriber_list(["# this is a comment", "482345932", "482464935-482464945"])
    assert [(r.text, r.line) for r in ranges] == [("482345932", 2), ("482464935-482464945", 3)]
    assert count_numbers(ranges) == 12
    numbers = list(iter_numbers(ranges))
    assert numbers[:3] == ["482345932", "482464935", "482464936"]
    assert numbers[-1] == "482464945"


def test_blank_lines_comments_spaces_and_line_endings() -> None:
    ranges = parse_subscriber_list(
        ["", "   ", "# all comment", " 100 - 102  # inline\r\n", "\t200\n"]
    )
    assert [(r.first, r.last, r.line) for r in ranges] == [(100, 102, 4), (200, 200, 5)]


def test_leading_zeros_keep_the_width() -> None:
    [r] = parse_subscriber_list(["0098-0101"])
    assert list(iter_numbers([r])) == ["0098", "0099", "0100", "0101"]
    # "0100" and "100" are different subscriber IDs: no overlap.
    assert count_numbers(parse_subscriber_list(["0100", "100"])) == 2


def test_lines_that_continue_each_other_merge() -> None:
    ranges = parse_subscriber_list(["500", "501", "502-510", "600", "511"])
    assert [(r.text, r.lines) for r in ranges] == [
        ("500-510", "lines 1-3"),
        ("600", "line 4"),
        ("511", "line 5"),
    ]


@pytest.mark.parametrize(
    ("lines", "detail"),
    [
        (["123", "12a4"], "line 2: '12a4' is not a number"),
        (["+31612345678"], "line 1: '+31612345678' is not a number"),
        (["1-2-3"], "line 1: '2-3' is not a number"),
        (["99-100"], "line 1: both ends of the range '99-100' need the same digit count"),
        (["# x", "", "20-10"], "line 3: the range '20-10' ends before it starts"),
        (["1" * 33], "line 1: '" + "1" * 33 + "' has more than 32 digits"),
        (["x" * 201], "line 1: longer than 200 characters"),
        (["# nothing here", ""], "the subscriber list holds no numbers"),
        (["٣٤٥"], "line 1: '٣٤٥' is not a number"),
    ],
)
def test_bad_lines_name_the_line(lines: list[str], detail: str) -> None:
    assert refused(lines).startswith(detail)


def test_overlaps_name_both_lines() -> None:
    assert refused(["100-200", "300", "150"]) == "line 3: 150 overlaps 100-200 (line 1)"
    assert refused(["150", "100-200"]) == "line 2: 100-200 overlaps 150 (line 1)"
    assert refused(["10", "10"]).startswith("line 2: 10 overlaps 10 (line 1)")
    assert refused(["1-5", "5-9"]) == "line 2: 5-9 overlaps 1-5 (line 1)"


def test_the_list_is_bounded() -> None:
    assert refused(["1-5", "7-9"], count_max=7) == "line 2: the list holds more than 7 numbers"
    assert count_numbers(parse_subscriber_list(["1-5", "7-8"], count_max=7)) == 7


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 50)), min_size=1, max_size=20))
def test_accepted_lists_never_repeat_a_number(spans: list[tuple[int, int]]) -> None:
    lines = [f"{a:07d}-{a + n:07d}" for a, n in spans]
    listed = [x for a, n in spans for x in range(a, a + n + 1)]
    if len(listed) != len(set(listed)):
        assert "overlaps" in refused(lines)
        return
    numbers = list(iter_numbers(parse_subscriber_list(lines)))
    assert sorted(numbers) == [f"{x:07d}" for x in sorted(listed)]


# -- card numbers ------------------------------------------------------------------------------


def test_card_range_allocates_in_order_and_must_be_large_enough() -> None:
    cards = card_range("000100", "000199", 3)
    assert list(iter_numbers([cards])) == ["000100", "000101", "000102"]
    with pytest.raises(DomainError) as error:
        card_range("000100", "000101", 3)
    assert error.value.field == "card_last"
    assert "holds 2 numbers, the batch needs 3" in error.value.detail
    with pytest.raises(DomainError) as error:
        card_range("000100", None, 1)
    assert error.value.kind is ProblemKind.MISSING_FIELD
    assert error.value.field == "card_last"
    with pytest.raises(DomainError) as error:
        card_range("12AB", "12CD", 1)
    assert error.value.field == "card_first"


def test_card_numbers_follow_the_numbering() -> None:
    subscribers = [NumberRange(1, 3, 4, 1)]
    assert card_numbers(CardNumbering.SUBSCRIBER_ID, subscribers, None) == subscribers
    cards = card_range("9000", "9999", 3)
    assert card_numbers(CardNumbering.RANGE, subscribers, cards) == [cards]


# -- PINs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [4, 5, 12, 20])
def test_pins_have_the_length_and_only_digits(length: int) -> None:
    pins = [generate_pin(length) for _ in range(200)]
    assert all(len(p) == length and p.isascii() and p.isdigit() for p in pins)
    assert len(set(pins)) > 150  # random, not a constant


def test_pins_use_every_digit_and_keep_leading_zeros() -> None:
    digits = iter([0, 0, 7, 9])
    assert generate_pin(4, lambda n: next(digits)) == "0079"
    seen = set("".join(generate_pin(20) for _ in range(50)))
    assert seen == set("0123456789")


@pytest.mark.parametrize("length", [None, 3, 21, 0, -4])
def test_pin_length_is_4_to_20(length: int | None) -> None:
    with pytest.raises(DomainError) as error:
        check_pin_length(length)
    assert error.value.field == "pin_length"
    with pytest.raises(DomainError):
        generate_pin(length or 3)


# -- states ------------------------------------------------------------------------------------


def test_edits_activate_or_stop_only() -> None:
    check_edit(BatchState.INACTIVE, BatchState.ACTIVE)
    check_edit(BatchState.CREATING, BatchState.FAILED)
    for current in BatchState:
        for target in BatchState:
            if (current, target) in {
                (BatchState.INACTIVE, BatchState.ACTIVE),
                (BatchState.CREATING, BatchState.FAILED),
            }:
                continue
            with pytest.raises(DomainError) as error:
                check_edit(current, target)
            assert error.value.kind is ProblemKind.INVALID_STATE_TRANSITION
