"""Periods, grids, pro-rating and the state timeline (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocs.core.offers import CreateBalanceAt, PeriodUnit, ProRateMode, TimeUnit
from ocs.core.recurrence import (
    Grid,
    StatePoint,
    add_months,
    billing_start,
    calendar_start,
    first_active,
    first_chargeable,
    prorate,
    recurrence_grid,
    validity_end,
)
from ocs.core.states import EntityState


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_month_ends_never_drift() -> None:
    grid = Grid(at(2026, 1, 31), PeriodUnit.MONTH, 1)
    assert [grid.start(i) for i in range(4)] == [
        at(2026, 1, 31), at(2026, 2, 28), at(2026, 3, 31), at(2026, 4, 30),
    ]  # fmt: skip
    assert add_months(at(2024, 2, 29), 12) == at(2025, 2, 28)
    assert add_months(at(2026, 3, 31), -1) == at(2026, 2, 28)


@pytest.mark.parametrize(
    ("unit", "step", "moment", "index"),
    [
        (PeriodUnit.DAY, 1, at(2026, 1, 1), 0),
        (PeriodUnit.DAY, 1, at(2026, 1, 1) - timedelta(microseconds=1), -1),
        (PeriodUnit.WEEK, 2, at(2026, 1, 29), 2),
        (PeriodUnit.MONTH, 1, at(2026, 3, 1), 2),
        (PeriodUnit.MONTH, 1, at(2026, 2, 28, 23, 59), 1),
        (PeriodUnit.MONTH, 3, at(2027, 1, 1), 4),
        (PeriodUnit.YEAR, 1, at(2035, 6, 1), 9),
    ],
)
def test_index_at_finds_the_period_containing_a_moment(
    unit: PeriodUnit, step: int, moment: datetime, index: int
) -> None:
    grid = Grid(at(2026, 1, 1), unit, step)
    assert grid.index_at(moment) == index
    assert grid.start(index) <= moment < grid.end(index)


def test_calendar_and_billing_starts() -> None:
    moment = at(2026, 4, 11, 15, 30)  # a Saturday
    assert calendar_start(moment, PeriodUnit.DAY) == at(2026, 4, 11)
    assert calendar_start(moment, PeriodUnit.WEEK) == at(2026, 4, 6)
    assert calendar_start(moment, PeriodUnit.MONTH) == at(2026, 4, 1)
    assert calendar_start(moment, PeriodUnit.YEAR) == at(2026, 1, 1)
    assert billing_start(moment, PeriodUnit.MONTH, 15) == at(2026, 3, 15)
    assert billing_start(moment, PeriodUnit.MONTH, 11) == at(2026, 4, 11)
    assert billing_start(moment, PeriodUnit.WEEK, 3) == at(2026, 4, 8)  # Wednesday
    assert billing_start(at(2026, 1, 10), PeriodUnit.MONTH, 20) == at(2025, 12, 20)


def test_recurrence_grids_per_mode() -> None:
    activated = at(2026, 4, 11, 9)
    anniversary = recurrence_grid(
        CreateBalanceAt.ACTIVATION_ANNIVERSARY, PeriodUnit.MONTH, 1, activated
    )
    assert (anniversary.start(0), anniversary.end(0)) == (activated, at(2026, 5, 11, 9))
    calendar = recurrence_grid(CreateBalanceAt.CALENDAR, PeriodUnit.WEEK, 2, activated)
    assert (calendar.start(0), calendar.end(0)) == (at(2026, 4, 6), at(2026, 4, 20))
    billing = recurrence_grid(
        CreateBalanceAt.BILLING_CYCLE, PeriodUnit.DAY, 1, activated, (1, PeriodUnit.MONTH, 15)
    )
    assert (billing.start(0), billing.end(0)) == (at(2026, 3, 15), at(2026, 4, 15))
    with pytest.raises(ValueError, match="billing cycle"):
        recurrence_grid(CreateBalanceAt.BILLING_CYCLE, PeriodUnit.MONTH, 1, activated)


def test_validity_end_per_unit() -> None:
    start = at(2026, 1, 31, 12)
    assert validity_end(start, 90, TimeUnit.SECOND) == start + timedelta(seconds=90)
    assert validity_end(start, 2, TimeUnit.WEEK) == start + timedelta(days=14)
    assert validity_end(start, 1, TimeUnit.MONTH) == at(2026, 2, 28, 12)
    assert validity_end(start, 1, TimeUnit.YEAR) == at(2027, 1, 31, 12)


APRIL = (at(2026, 4, 1), at(2026, 5, 1))


@pytest.mark.parametrize(
    ("mode", "from_at", "expected"),
    [
        (ProRateMode.NONE, at(2026, 4, 11), 3000),
        (ProRateMode.DAILY, at(2026, 4, 11), 3000 * 20 // 30),
        (ProRateMode.DAILY, at(2026, 4, 11, 0, 0, 1), 3000 * 19 // 30),
        (ProRateMode.EXACT, at(2026, 4, 11, 0, 0, 1), 3000 * (20 * 86400 - 1) // (30 * 86400)),
        (ProRateMode.EXACT, at(2026, 4, 1), 3000),
        (ProRateMode.EXACT, at(2026, 3, 1), 3000),
        (ProRateMode.DAILY, at(2026, 5, 1), 0),
        (ProRateMode.DAILY, at(2026, 4, 30, 1), 0),
        (ProRateMode.EXACT, at(2026, 4, 30, 23, 59, 59, 999999), 0),
    ],
)
def test_prorate_rounds_down_to_the_unit(
    mode: ProRateMode, from_at: datetime, expected: int
) -> None:
    assert prorate(3000, mode, *APRIL, from_at) == expected


def test_timeline_finds_activation_and_chargeable_moments() -> None:
    points = [
        StatePoint(at(2026, 1, 1), EntityState.INACTIVE),
        StatePoint(at(2026, 1, 5), EntityState.ACTIVE),
        StatePoint(at(2026, 1, 10), EntityState.SUSPENDED, charged=False),
        StatePoint(at(2026, 1, 20), EntityState.SUSPENDED, charged=True),
    ]
    assert first_active(points, at(2026, 1, 1), at(2026, 2, 1)) == at(2026, 1, 5)
    assert first_active(points, at(2026, 1, 7), at(2026, 2, 1)) == at(2026, 1, 7)
    assert first_active(points, at(2026, 1, 12), at(2026, 2, 1)) is None
    assert first_chargeable(points, at(2026, 1, 12), at(2026, 2, 1)) == at(2026, 1, 20)
    assert first_chargeable(points, at(2026, 1, 12), at(2026, 1, 15)) is None
    # Created ACTIVE and suspended at the same instant: it was activated.
    same = [StatePoint(at(2026, 1, 1), EntityState.ACTIVE),
            StatePoint(at(2026, 1, 1), EntityState.SUSPENDED)]  # fmt: skip
    assert first_active(same, at(2026, 1, 1), at(2026, 2, 1)) == at(2026, 1, 1)
