from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocs.core.errors import DomainError
from ocs.core.rating import (
    Rate,
    TariffPlan,
    TimeBand,
    class_chain,
    parse_minute_of_day,
    parse_weekdays,
    select_rate,
)

PEAK = TimeBand("PEAK", frozenset(range(5)), 8 * 60, 18 * 60)
NIGHT = TimeBand("NIGHT", frozenset(range(7)), 22 * 60, 6 * 60)
MONDAY_NOON = datetime(2026, 1, 5, 12, 0)
SATURDAY_NOON = datetime(2026, 1, 10, 12, 0)


def _rate(code: str, cls: str = "VOICE", prefix: str = "", band: TimeBand | None = None,
          price: int = 10, unit: int = 60, rounding: int = 60) -> Rate:  # fmt: skip
    return Rate(code, cls, prefix, band, price, unit, rounding)


@pytest.mark.parametrize(
    ("units", "billed", "cost"),
    [(0, 0, 0), (1, 60, 10), (60, 60, 10), (61, 120, 20), (-5, 0, 0)],
)
def test_usage_is_billed_per_started_rounding_unit(units: int, billed: int, cost: int) -> None:
    rate = _rate("R")
    assert (rate.billed_units(units), rate.cost(units)) == (billed, cost)


def test_cost_rounds_up_to_a_whole_minor_unit() -> None:
    per_second = _rate("R", price=10, unit=60, rounding=1)  # 10 per minute, per-second billing
    assert per_second.cost(1) == 1  # 0.1666 -> 1
    assert per_second.cost(6) == 1
    assert per_second.cost(7) == 2


def test_affordable_units_are_whole_rounding_steps() -> None:
    rate = _rate("R", price=10, unit=60, rounding=60)
    assert rate.affordable_units(25) == 120
    assert rate.affordable_units(9) == 0
    assert rate.affordable_units(-3) == 0
    assert _rate("FREE", price=0).affordable_units(0) is None


@given(
    price=st.integers(1, 10_000),
    unit=st.integers(1, 10**6),
    rounding=st.integers(1, 10**6),
    money=st.integers(0, 10**9),
)
def test_affordable_units_never_cost_more_than_the_money(
    price: int, unit: int, rounding: int, money: int
) -> None:
    rate = _rate("R", price=price, unit=unit, rounding=rounding)
    units = rate.affordable_units(money)
    assert units is not None
    assert rate.cost(units) <= money
    assert rate.cost(units + rounding) > money


def test_longest_prefix_and_band_win_within_the_most_specific_class() -> None:
    plan = TariffPlan(
        "STD",
        "EUR",
        (
            _rate("ANY"),
            _rate("NL", prefix="31"),
            _rate("NL-MOB", prefix="316"),
            _rate("NL-MOB-PEAK", prefix="316", band=PEAK),
            _rate("DATA", cls="DATA"),
        ),
    )
    chain = ["VOICE-NAT", "VOICE", "ALL"]
    assert select_rate(plan, chain, "31612345678", MONDAY_NOON).code == "NL-MOB-PEAK"  # type: ignore[union-attr]
    assert select_rate(plan, chain, "31612345678", SATURDAY_NOON).code == "NL-MOB"  # type: ignore[union-attr]
    assert select_rate(plan, chain, "3120", MONDAY_NOON).code == "NL"  # type: ignore[union-attr]
    assert select_rate(plan, chain, "4420", MONDAY_NOON).code == "ANY"  # type: ignore[union-attr]
    assert select_rate(plan, ["SMS", "ALL"], "31", MONDAY_NOON) is None


def test_a_band_wrapping_midnight_belongs_to_the_day_it_started() -> None:
    sunday_night = TimeBand("SUN-NIGHT", frozenset({6}), 22 * 60, 6 * 60)
    assert sunday_night.contains(datetime(2026, 1, 11, 23, 0))  # Sunday 23:00
    assert sunday_night.contains(datetime(2026, 1, 12, 5, 59))  # Monday 05:59
    assert not sunday_night.contains(datetime(2026, 1, 12, 6, 0))
    assert not sunday_night.contains(datetime(2026, 1, 11, 5, 0))  # Sunday early = Saturday's
    assert NIGHT.contains(datetime(2026, 1, 5, 2, 0))


def test_class_chain_walks_to_the_root_and_survives_cycles() -> None:
    parents = {"NAT": "VOICE", "VOICE": "ALL", "ALL": None, "A": "B", "B": "A"}
    assert class_chain("NAT", parents) == ["NAT", "VOICE", "ALL"]
    assert class_chain("A", parents) == ["A", "B"]
    assert class_chain("UNKNOWN", parents) == ["UNKNOWN"]


def test_weekday_and_time_parsing() -> None:
    assert parse_weekdays("MON-FRI") == frozenset(range(5))
    assert parse_weekdays("sat, sun") == frozenset({5, 6})
    assert parse_weekdays("SAT-MON") == frozenset({5, 6, 0})
    assert parse_minute_of_day("08:30", "start") == 510
    assert parse_minute_of_day("24:00", "end") == 1440
    with pytest.raises(DomainError) as caught:
        parse_weekdays("MONDAY")
    assert caught.value.field == "weekdays"
    with pytest.raises(DomainError) as caught:
        parse_minute_of_day("25:00", "start_time")
    assert caught.value.field == "start_time"


def test_a_discounted_rate_costs_exactly_the_reduced_price() -> None:
    dutch = _rate("NL", "VOICE", "31", price=6, unit=60, rounding=60)
    assert dutch.discounted(0) is dutch
    assert dutch.discounted(50).cost(120) == 6
    assert dutch.discounted(25).cost(120) == 9
    assert dutch.discounted(25).cost(60) == 5  # 4.5 cents, rounded up like every cost
    assert dutch.discounted(100).cost(600) == 0
    assert dutch.discounted(100).affordable_units(0) is None  # free


@given(st.integers(0, 100), st.integers(1, 10_000), st.integers(0, 10**6))
def test_discounted_affordable_units_never_cost_more_than_the_money(
    percent: int, price: int, money: int
) -> None:
    rate = _rate("X", "VOICE", "", price=price, unit=60, rounding=60).discounted(percent)
    units = rate.affordable_units(money)
    if units is not None:
        assert rate.cost(units) <= money
        assert rate.cost(units + 60) > money
