"""Recurrence periods, pro-rating and the state timeline: pure functions on UTC datetimes.

A recurrent service grants once per period of a *grid*: an anchor and a step (every X days,
weeks, months or years). Period k is [anchor + k*step, anchor + (k+1)*step); each bound is
computed from the anchor, so month ends never drift (Jan 31 + 1 month = Feb 28, + 2 = Mar 31).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ocs.core.offers import CreateBalanceAt, PeriodUnit, ProRateMode, TimeUnit
from ocs.core.states import EntityState

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def add_months(at: datetime, months: int) -> datetime:
    """The same day and time `months` later, on the month's last day when it is shorter."""
    index = at.year * 12 + at.month - 1 + months
    year, month = divmod(index, 12)
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)


def shift(at: datetime, unit: PeriodUnit, count: int) -> datetime:
    if unit is PeriodUnit.DAY:
        return at + count * DAY
    if unit is PeriodUnit.WEEK:
        return at + count * 7 * DAY
    if unit is PeriodUnit.MONTH:
        return add_months(at, count)
    return add_months(at, 12 * count)


def validity_end(start: datetime, amount: int, unit: TimeUnit) -> datetime:
    """The end of a Balance service's validity that starts at `start`."""
    fixed = {
        TimeUnit.SECOND: SECOND,
        TimeUnit.MINUTE: timedelta(minutes=1),
        TimeUnit.HOUR: timedelta(hours=1),
        TimeUnit.DAY: DAY,
        TimeUnit.WEEK: 7 * DAY,
    }
    if unit in fixed:
        return start + amount * fixed[unit]
    return add_months(start, amount if unit is TimeUnit.MONTH else 12 * amount)


def calendar_start(at: datetime, unit: PeriodUnit) -> datetime:
    """The start of the calendar day, week (Monday), month or year containing `at`."""
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit is PeriodUnit.DAY:
        return midnight
    if unit is PeriodUnit.WEEK:
        return midnight - midnight.weekday() * DAY
    if unit is PeriodUnit.MONTH:
        return midnight.replace(day=1)
    return midnight.replace(month=1, day=1)


def billing_start(at: datetime, unit: PeriodUnit, billing_day: int | None) -> datetime:
    """The latest billing-cycle boundary at or before `at`: day `billing_day` of the month
    (1-28), weekday `billing_day` of the week (1 = Monday), else the calendar start."""
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit is PeriodUnit.MONTH and billing_day is not None:
        candidate = midnight.replace(day=billing_day)
        return candidate if candidate <= at else add_months(candidate, -1)
    if unit is PeriodUnit.WEEK and billing_day is not None:
        back = (midnight.weekday() - (billing_day - 1)) % 7
        return midnight - back * DAY
    return calendar_start(at, unit)


@dataclass(frozen=True)
class Grid:
    anchor: datetime
    unit: PeriodUnit
    step: int

    def start(self, index: int) -> datetime:
        return shift(self.anchor, self.unit, index * self.step)

    def end(self, index: int) -> datetime:
        return self.start(index + 1)

    def index_at(self, at: datetime) -> int:
        """The index of the period containing `at` (negative before the anchor)."""
        approx_days = {PeriodUnit.DAY: 1, PeriodUnit.WEEK: 7, PeriodUnit.MONTH: 30}.get(
            self.unit, 365
        )
        index = (at - self.anchor) // (approx_days * self.step * DAY)
        while self.start(index) > at:
            index -= 1
        while self.end(index) <= at:
            index += 1
        return index


def recurrence_grid(
    mode: CreateBalanceAt,
    unit: PeriodUnit,
    every: int,
    activated_at: datetime,
    billing: tuple[int, PeriodUnit, int | None] | None = None,
) -> Grid:
    """The period grid of a recurrent service: anchored at the activation (anniversary), at
    the start of the calendar unit containing it, or at the billing-cycle boundary before it.
    `billing` is the account's cycle (duration, unit, billing day); its periods last `every`
    billing cycles."""
    if mode is CreateBalanceAt.ACTIVATION_ANNIVERSARY:
        return Grid(activated_at, unit, every)
    if mode is CreateBalanceAt.CALENDAR:
        return Grid(calendar_start(activated_at, unit), unit, every)
    if billing is None:
        raise ValueError("a BILLING_CYCLE grid needs the account's billing cycle")
    duration, cycle_unit, day = billing
    return Grid(billing_start(activated_at, cycle_unit, day), cycle_unit, duration * every)


def prorate(
    granted: int, mode: ProRateMode, start: datetime, end: datetime, from_at: datetime
) -> int:
    """The part of `granted` for a period [start, end) used only from `from_at` on.
    DAILY: whole days remaining / days in the period; EXACT: whole seconds remaining /
    seconds in the period; both rounded down to the unit. NONE grants everything."""
    if mode is ProRateMode.NONE or from_at <= start:
        return granted
    if from_at >= end:
        return 0
    if mode is ProRateMode.DAILY:
        return granted * ((end - from_at) // DAY) // ((end - start) // DAY)
    return granted * ((end - from_at) // SECOND) // ((end - start) // SECOND)


# -- state timeline -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatePoint:
    """From `at` on (until the next point), the entity is in `state`; `charged` is the flag of
    its state reason (a SUSPENDED entity with a charged reason still gets its balances)."""

    at: datetime
    state: EntityState
    charged: bool = False

    @property
    def chargeable(self) -> bool:
        if self.state is EntityState.ACTIVE:
            return True
        return self.state is EntityState.SUSPENDED and self.charged


def _spans(
    points: Sequence[StatePoint], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, StatePoint]]:
    ordered = sorted(points, key=lambda p: p.at)
    spans = []
    for i, point in enumerate(ordered):
        until = ordered[i + 1].at if i + 1 < len(ordered) else end
        lo, hi = max(point.at, start), min(until, end)
        if lo < hi:
            spans.append((lo, hi, point))
    return spans


def first_active(points: Sequence[StatePoint], since: datetime, until: datetime) -> datetime | None:
    """The first moment in [since, until) at which the entity is ACTIVE; an activation
    followed by another change at the same instant counts too."""
    ordered = sorted(points, key=lambda p: p.at)
    for i, point in enumerate(ordered):
        ends = ordered[i + 1].at if i + 1 < len(ordered) else None
        if point.state is not EntityState.ACTIVE or point.at >= until:
            continue
        if ends is None or ends >= since:
            return max(point.at, since)
    return None


def first_chargeable(
    points: Sequence[StatePoint], since: datetime, until: datetime
) -> datetime | None:
    """The first moment in [since, until) at which the entity may get balances."""
    for lo, _hi, point in _spans(points, since, until):
        if point.chargeable:
            return lo
    return None


def deactivated_at(points: Sequence[StatePoint]) -> datetime | None:
    for point in sorted(points, key=lambda p: p.at):
        if point.state is EntityState.DEACTIVATED:
            return point.at
    return None
