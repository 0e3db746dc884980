"""Rating: tariff plans price usage by charging class, destination prefix and time band.

A rate charges `price` minor units per `unit_size` units, billed per started
`rounding_unit` (e.g. 10 cents per 60 s in started 60 s steps; 1 cent per MiB in started
MiB steps). Costs round up to whole minor units, so rating never undercharges.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ocs.core.errors import invalid

DIGITS_PATTERN = re.compile(r"^[0-9]{0,32}$")
TIME_OF_DAY_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
WEEKDAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
CLASS_DEPTH_MAX = 32


class RatedUnit(StrEnum):
    SECONDS = "SECONDS"
    OCTETS = "OCTETS"
    EVENTS = "EVENTS"


@dataclass(frozen=True)
class TimeBand:
    code: str
    weekdays: frozenset[int]  # 0 = Monday
    start_minute: int  # inclusive
    end_minute: int  # exclusive; a band whose end is before its start wraps past midnight

    def contains(self, local_time: datetime) -> bool:
        minute = local_time.hour * 60 + local_time.minute
        day = local_time.weekday()
        if self.start_minute < self.end_minute:
            return day in self.weekdays and self.start_minute <= minute < self.end_minute
        # Wrapping band: the part after midnight belongs to the previous day's band.
        if minute >= self.start_minute:
            return day in self.weekdays
        return minute < self.end_minute and (day - 1) % 7 in self.weekdays


@dataclass(frozen=True)
class Rate:
    code: str
    charging_class: str
    destination_prefix: str  # "" matches every destination
    time_band: TimeBand | None
    price: int  # minor units per unit_size
    unit_size: int
    rounding_unit: int

    def billed_units(self, units: int) -> int:
        """Units rounded up to whole rounding steps."""
        if units <= 0:
            return 0
        return -(-units // self.rounding_unit) * self.rounding_unit

    def cost(self, units: int) -> int:
        """Minor units for the usage, rounded up."""
        return -(-self.billed_units(units) * self.price // self.unit_size)

    def discounted(self, percent: int) -> Rate:
        """The rate with its price reduced by percent, exactly: the price is scaled by
        (100 - percent) and the unit size by 100, so no rounding happens before the cost."""
        if percent == 0:
            return self
        return replace(self, price=self.price * (100 - percent), unit_size=self.unit_size * 100)

    def affordable_units(self, money: int) -> int | None:
        """The most units, in whole rounding steps, whose cost fits in money; None if free."""
        if self.price == 0:
            return None
        if money <= 0:
            return 0
        steps = (money * self.unit_size) // (self.rounding_unit * self.price)
        return steps * self.rounding_unit


@dataclass(frozen=True)
class TariffPlan:
    code: str
    currency: str
    rates: tuple[Rate, ...]


def class_chain(charging_class: str, parents: Mapping[str, str | None]) -> list[str]:
    """The class and its ancestors, most specific first (configuration applies downwards)."""
    chain = [charging_class]
    parent = parents.get(charging_class)
    while parent is not None and parent not in chain and len(chain) < CLASS_DEPTH_MAX:
        chain.append(parent)
        parent = parents.get(parent)
    return chain


def select_rate(
    plan: TariffPlan, classes: Sequence[str], destination: str, local_time: datetime
) -> Rate | None:
    """The rate for the most specific class that has one: longest matching destination
    prefix, and a rate of a matching time band before a rate without a band."""
    for charging_class in classes:
        best: Rate | None = None
        for rate in plan.rates:
            if rate.charging_class != charging_class:
                continue
            if not destination.startswith(rate.destination_prefix):
                continue
            if rate.time_band is not None and not rate.time_band.contains(local_time):
                continue
            if best is None or _specificity(rate) > _specificity(best):
                best = rate
        if best is not None:
            return best
    return None


def _specificity(rate: Rate) -> tuple[int, int]:
    return len(rate.destination_prefix), rate.time_band is not None


def parse_minute_of_day(value: str, field: str) -> int:
    match = TIME_OF_DAY_PATTERN.match(value)
    if not match:
        raise invalid(field, f"{field} must be HH:MM (00:00-24:00), got {value!r}")
    if value == "24:00":
        return 24 * 60
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_weekdays(value: str, field: str = "weekdays") -> frozenset[int]:
    """Comma-separated day names or ranges, e.g. "MON-FRI" or "SAT,SUN"."""
    days: set[int] = set()
    for part in value.upper().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAY_NAMES or (last and last not in WEEKDAY_NAMES):
            raise invalid(field, f"{field} must list days like MON-FRI or SAT,SUN, got {value!r}")
        start = WEEKDAY_NAMES.index(first)
        end = WEEKDAY_NAMES.index(last) if last else start
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    return frozenset(days)


def normalise_number(value: str) -> str:
    """Digits of a dialled number; '+' and separators are dropped for prefix matching."""
    return "".join(ch for ch in value if ch.isdigit())
