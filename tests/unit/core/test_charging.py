from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocs.core.charging import (
    BalanceSource,
    Outcome,
    ServiceDecision,
    UnitAmounts,
    allocate,
    amounts_of,
    overall_outcome,
)
from ocs.core.rating import Rate, RatedUnit

PER_MB = Rate("R", "DATA", "", None, price=2, unit_size=1_000_000, rounding_unit=1_000_000)
MB = 1_000_000


def _native(available: int, name: str = "FREE-DATA") -> BalanceSource:
    return BalanceSource(name, True, available, 0)


def _cash(available: int, floor: int | None = 0, name: str = "CASH") -> BalanceSource:
    return BalanceSource(name, False, available, floor)


def test_free_units_are_used_before_cash() -> None:
    got = allocate(10 * MB, [_native(4 * MB), _cash(100)], PER_MB, must_cover=False)
    assert got.takes == (("FREE-DATA", 4 * MB), ("CASH", 12))
    assert (got.units, got.money_minor, got.limited) == (10 * MB, 12, False)


def test_prepaid_grant_is_limited_to_what_cash_affords() -> None:
    got = allocate(10 * MB, [_native(1 * MB), _cash(7)], PER_MB, must_cover=False)
    assert got.units == 4 * MB  # 1 free + 3 paid (6 cents); a 4th paid MB would cost 8
    assert got.takes == (("FREE-DATA", MB), ("CASH", 6))
    assert got.limited


def test_nothing_affordable_grants_nothing() -> None:
    got = allocate(5 * MB, [_cash(1)], PER_MB, must_cover=False)
    assert (got.units, got.takes, got.limited) == (0, (), True)


def test_limited_postpaid_may_go_down_to_its_minimum() -> None:
    got = allocate(10 * MB, [_cash(0, floor=-10)], PER_MB, must_cover=False)
    assert (got.units, got.money_minor) == (5 * MB, 10)


def test_postpaid_has_no_limit() -> None:
    got = allocate(10 * MB, [_cash(-500, floor=None)], PER_MB, must_cover=False)
    assert (got.units, got.money_minor, got.limited) == (10 * MB, 20, False)


def test_used_units_beyond_the_balance_leave_a_shortfall_not_a_negative_prepaid() -> None:
    got = allocate(10 * MB, [_cash(7)], PER_MB, must_cover=True)
    assert got.units == 10 * MB
    assert got.takes == (("CASH", 6),)
    assert got.shortfall_minor == 14


def test_money_spreads_over_scoped_then_general_cash() -> None:
    sources = [_cash(3, name="BONUS"), _cash(100)]
    got = allocate(5 * MB, sources, PER_MB, must_cover=False)
    assert got.takes == (("BONUS", 3), ("CASH", 7))


def test_without_a_rate_only_free_units_count() -> None:
    got = allocate(5 * MB, [_native(2 * MB), _cash(100)], None, must_cover=False)
    assert (got.units, got.takes, got.limited) == (2 * MB, (("FREE-DATA", 2 * MB),), True)


@given(
    wanted=st.integers(0, 50 * MB),
    free=st.integers(0, 20 * MB),
    cash=st.integers(0, 200),
    must_cover=st.booleans(),
)
def test_prepaid_balances_never_go_below_zero(
    wanted: int, free: int, cash: int, must_cover: bool
) -> None:
    got = allocate(wanted, [_native(free), _cash(cash)], PER_MB, must_cover)
    taken = dict(got.takes)
    assert taken.get("FREE-DATA", 0) <= free
    assert taken.get("CASH", 0) <= cash
    assert got.units <= wanted
    if not must_cover:
        # Whatever is granted is paid for: free units plus what the cash covers.
        paid_units = got.units - taken.get("FREE-DATA", 0)
        assert PER_MB.cost(paid_units) == taken.get("CASH", 0)


def test_unit_amounts_pick_the_rated_unit() -> None:
    used = UnitAmounts(time_s=60, input_octets=5, output_octets=7, service_specific_units=2)
    assert used.amount_in(RatedUnit.SECONDS) == 60
    assert used.amount_in(RatedUnit.OCTETS) == 12
    assert used.amount_in(RatedUnit.EVENTS) == 2
    assert UnitAmounts(total_octets=9, input_octets=1).amount_in(RatedUnit.OCTETS) == 9
    assert UnitAmounts().amount_in(RatedUnit.OCTETS) is None
    assert UnitAmounts().is_empty
    assert not amounts_of(RatedUnit.SECONDS, 5).is_empty


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([Outcome.CREDIT_LIMIT_REACHED, Outcome.SUCCESS], Outcome.SUCCESS),
        ([Outcome.CREDIT_LIMIT_REACHED, Outcome.RATING_FAILED], Outcome.RATING_FAILED),
        ([], Outcome.USER_UNKNOWN),
    ],
)
def test_overall_outcome(outcomes: list[Outcome], expected: Outcome) -> None:
    services = tuple(ServiceDecision(1, None, o) for o in outcomes)
    assert overall_outcome(services, Outcome.USER_UNKNOWN) is expected
