from __future__ import annotations

import pytest

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.numbers import check_number, check_number_list, longest_prefix


def test_numbers_are_1_to_32_digits() -> None:
    assert check_number(" 0031 ", "number") == "0031"
    assert check_number("9" * 32, "number") == "9" * 32
    for bad, kind in (
        ("9" * 33, ProblemKind.INVALID_VALUE),
        ("+31", ProblemKind.INVALID_VALUE),
        ("31 6", ProblemKind.INVALID_VALUE),
        ("", ProblemKind.MISSING_FIELD),
        (None, ProblemKind.MISSING_FIELD),
        (316, ProblemKind.MISSING_FIELD),
    ):
        with pytest.raises(DomainError) as caught:
            check_number(bad, "number")
        assert (caught.value.kind, caught.value.field) == (kind, "number")


def test_number_lists_keep_order_and_refuse_repeats() -> None:
    assert check_number_list(["2", "1"], "numbers", 2) == ("2", "1")
    with pytest.raises(DomainError) as caught:
        check_number_list(["1", "2", "3"], "numbers", 2)
    assert caught.value.field == "numbers"
    with pytest.raises(DomainError) as caught:
        check_number_list(["1", " 1"], "numbers", 2)
    assert caught.value.kind is ProblemKind.DUPLICATE


def test_longest_prefix() -> None:
    assert longest_prefix("31612", ["3", "316", "31"]) == "316"
    assert longest_prefix("4", ["3", "316"]) is None
    assert longest_prefix("", ["3"]) is None
