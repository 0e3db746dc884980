from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.money import (
    RATE_MAX,
    convert_minor,
    format_rate,
    parse_rate,
    round_half_away_from_zero,
)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 3), (-5, 2, -3), (4, 2, 2), (7, 3, 2), (-7, 3, -2), (8, 3, 3), (-8, 3, -3),
     (1, 3, 0), (-1, 3, 0), (0, 7, 0), (3, 2, 2), (-3, 2, -2)],
)  # fmt: skip
def test_halves_round_away_from_zero(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_away_from_zero(numerator, denominator) == expected


def test_rounding_needs_a_positive_denominator() -> None:
    with pytest.raises(ValueError, match="positive"):
        round_half_away_from_zero(1, 0)


@pytest.mark.parametrize(
    ("amount", "from_scale", "to_scale", "rate", "expected"),
    [
        (1000, 2, 2, "1.085", 1085),  # 10.00 EUR -> 10.85 USD
        (700, 2, 2, "1.085", 760),  # 7.595 USD: the half cent rounds up
        (-700, 2, 2, "1.085", -760),  # and a refund mirrors it
        (1000, 2, 0, "162.4449", 1624),  # 10.00 EUR -> 1624.449 JPY
        (100, 0, 2, "0.00615", 62),  # 100 JPY -> 0.615 EUR
        (1, 2, 2, "0.5", 1),  # half a cent is a cent
        (1, 2, 2, "0.499999999", 0),
        (123456789, 3, 3, "1", 123456789),
    ],
)
def test_conversion_between_minor_units(
    amount: int, from_scale: int, to_scale: int, rate: str, expected: int
) -> None:
    assert convert_minor(amount, from_scale, to_scale, parse_rate(rate)) == expected


@given(st.integers(-(10**15), 10**15), st.integers(1, RATE_MAX), st.sampled_from([0, 2, 3]))
def test_conversion_is_symmetric_around_zero(amount: int, rate: int, scale: int) -> None:
    assert convert_minor(-amount, 2, scale, rate) == -convert_minor(amount, 2, scale, rate)


@pytest.mark.parametrize(
    ("text", "rate_nano"),
    [("1.0853", 1_085_300_000), ("2", 2_000_000_000), ("0.000000001", 1), (" 1.5 ", 1_500_000_000),
     ("1000000", RATE_MAX)],
)  # fmt: skip
def test_rates_parse_exactly(text: str, rate_nano: int) -> None:
    assert parse_rate(text) == rate_nano


@pytest.mark.parametrize("text", ["", "1,5", "-1", "1e3", "0", "0.0", "1000001", ".5", "1.", 1.5])
def test_bad_rates_name_the_field(text: object) -> None:
    with pytest.raises(DomainError) as caught:
        parse_rate(text, "rate")
    assert (caught.value.kind, caught.value.field) == (ProblemKind.INVALID_VALUE, "rate")


@given(st.integers(1, RATE_MAX))
def test_rates_format_and_parse_back(rate_nano: int) -> None:
    assert parse_rate(format_rate(rate_nano)) == rate_nano


def test_rates_format_without_trailing_zeros() -> None:
    assert [format_rate(r) for r in (1_085_000_000, 2_000_000_000, 1)] == [
        "1.085",
        "2",
        "0.000000001",
    ]
