"""The protocol-neutral charging request and decision, and the pure quota arithmetic.

Diameter Gy/Ro and 5G Nchf are two translations of these types; rating, reservation and
consumption exist once, behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocs.core.rating import Rate, RatedUnit


class RequestType(StrEnum):
    INITIAL = "INITIAL"
    UPDATE = "UPDATE"
    TERMINATION = "TERMINATION"
    EVENT = "EVENT"


class RequestedAction(StrEnum):
    DIRECT_DEBITING = "DIRECT_DEBITING"
    REFUND_ACCOUNT = "REFUND_ACCOUNT"
    CHECK_BALANCE = "CHECK_BALANCE"
    PRICE_ENQUIRY = "PRICE_ENQUIRY"


class IdentityType(StrEnum):
    E164 = "E164"
    IMSI = "IMSI"
    SIP_URI = "SIP_URI"
    NAI = "NAI"
    PRIVATE = "PRIVATE"


class Outcome(StrEnum):
    """Charging outcomes in precedence order: when services disagree, the first one listed
    becomes the request's outcome."""

    TOO_BUSY = "TOO_BUSY"
    UNABLE_TO_COMPLY = "UNABLE_TO_COMPLY"
    MISSING_INFO = "MISSING_INFO"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"
    USER_UNKNOWN = "USER_UNKNOWN"
    END_USER_SERVICE_DENIED = "END_USER_SERVICE_DENIED"
    RATING_FAILED = "RATING_FAILED"
    CREDIT_LIMIT_REACHED = "CREDIT_LIMIT_REACHED"
    CREDIT_CONTROL_NOT_APPLICABLE = "CREDIT_CONTROL_NOT_APPLICABLE"
    SUCCESS = "SUCCESS"


class FinalUnitAction(StrEnum):
    TERMINATE = "TERMINATE"
    REDIRECT = "REDIRECT"
    RESTRICT_ACCESS = "RESTRICT_ACCESS"


@dataclass(frozen=True)
class UnitAmounts:
    """Requested, granted or used units of one service, as the network reports them."""

    time_s: int | None = None
    total_octets: int | None = None
    input_octets: int | None = None
    output_octets: int | None = None
    service_specific_units: int | None = None
    money_minor: int | None = None

    def amount_in(self, unit: RatedUnit) -> int | None:
        """The amount in the unit a rate prices, or None when the network gave none."""
        if unit is RatedUnit.SECONDS:
            return self.time_s
        if unit is RatedUnit.EVENTS:
            return self.service_specific_units
        if self.total_octets is not None:
            return self.total_octets
        if self.input_octets is None and self.output_octets is None:
            return None
        return (self.input_octets or 0) + (self.output_octets or 0)

    @property
    def is_empty(self) -> bool:
        return all(v is None for v in vars(self).values())


def amounts_of(unit: RatedUnit, amount: int) -> UnitAmounts:
    if unit is RatedUnit.SECONDS:
        return UnitAmounts(time_s=amount)
    if unit is RatedUnit.EVENTS:
        return UnitAmounts(service_specific_units=amount)
    return UnitAmounts(total_octets=amount)


@dataclass(frozen=True)
class ServiceRequest:
    rating_group: int | None
    service_identifier: int | None = None
    requested: UnitAmounts | None = None  # None: no reservation wanted for this service
    used: UnitAmounts | None = None


@dataclass(frozen=True)
class ChargingRequest:
    session_id: str
    request_number: int
    request_type: RequestType
    identities: tuple[tuple[IdentityType, str], ...]
    event_time: datetime
    services: tuple[ServiceRequest, ...] = ()
    requested_action: RequestedAction | None = None
    calling_party: str | None = None
    called_party: str | None = None
    retransmission: bool = False


@dataclass(frozen=True)
class ServiceDecision:
    rating_group: int | None
    service_identifier: int | None
    outcome: Outcome
    granted: UnitAmounts | None = None
    validity_time_s: int | None = None
    final_unit_action: FinalUnitAction | None = None
    quota_threshold: int | None = None  # in the granted unit


@dataclass(frozen=True)
class ChargingDecision:
    outcome: Outcome
    services: tuple[ServiceDecision, ...] = ()
    # CHECK_BALANCE answers the available cash; PRICE_ENQUIRY the cost, both in minor units.
    balance_minor: int | None = None
    cost_minor: int | None = None
    detail: str | None = None
    currency: str | None = None  # of balance_minor and cost_minor


def overall_outcome(services: tuple[ServiceDecision, ...], default: Outcome) -> Outcome:
    """A request succeeds when any service does (per-service codes carry the failures), and
    otherwise reports the failure that takes precedence."""
    if not services:
        return default
    outcomes = [s.outcome for s in services]
    if Outcome.SUCCESS in outcomes:
        return Outcome.SUCCESS
    order = list(Outcome)
    return min(outcomes, key=order.index)


@dataclass(frozen=True)
class BalanceSource:
    """A balance that charging may draw on for one service, listed in consumption order."""

    balance_type: str
    native: bool  # holds the service's own unit (free units); otherwise money
    available: int  # started, unexpired value minus what other reservations hold
    floor: int | None  # the lowest value the limit type allows; None: no floor (postpaid)

    @property
    def spendable(self) -> int | None:
        """How much may be taken; None when unlimited."""
        if self.floor is None:
            return None
        return max(0, self.available - self.floor)


@dataclass(frozen=True)
class Allocation:
    """Which balances cover how much of a service's units."""

    units: int
    takes: tuple[tuple[str, int], ...]  # (balance type, amount in that balance's unit)
    money_minor: int  # the part of `takes` that is money
    limited: bool  # fewer units than wanted could be covered
    shortfall_minor: int = 0  # money owed for used units that no balance could cover


def allocate(
    wanted: int,
    sources: Sequence[BalanceSource],
    rate: Rate | None,
    must_cover: bool,
    money_cap_minor: int | None = None,
) -> Allocation:
    """Cover `wanted` units: native free units first, in order, then money priced by the rate.

    For a reservation (`must_cover` False) only what the balances afford is covered, and at
    most `money_cap_minor` of money (what a cost-control balance still allows). For used
    units (`must_cover` True) everything is charged: what no balance can pay stays as a
    shortfall, so a prepaid balance never drops below its floor.
    """
    takes: list[tuple[str, int]] = []
    remaining = wanted
    for source in sources:
        if not source.native or remaining == 0:
            continue
        room = source.spendable
        take = remaining if room is None else min(remaining, room)
        if take > 0:
            takes.append((source.balance_type, take))
            remaining -= take
    if remaining == 0:
        return Allocation(wanted, tuple(takes), 0, False)
    money_sources = [s for s in sources if not s.native]
    if rate is None or not money_sources:
        covered = wanted - remaining
        return Allocation(wanted if must_cover else covered, tuple(takes), 0, True)
    rooms = [s.spendable for s in money_sources]
    room_total = None if any(room is None for room in rooms) else sum(r or 0 for r in rooms)
    if money_cap_minor is not None and not must_cover:
        room_total = money_cap_minor if room_total is None else min(room_total, money_cap_minor)
    if room_total is None:
        paid_units = remaining
    else:
        affordable = rate.affordable_units(max(0, room_total))
        paid_units = remaining if affordable is None else min(remaining, affordable)
    money = rate.cost(paid_units)
    shortfall = rate.cost(remaining) - money if must_cover and paid_units < remaining else 0
    _spread_money(money, money_sources, takes)
    units = wanted if must_cover else wanted - remaining + paid_units
    return Allocation(units, tuple(takes), money, paid_units < remaining, shortfall)


def _spread_money(
    money: int, sources: Sequence[BalanceSource], takes: list[tuple[str, int]]
) -> None:
    left = money
    for source in sources:
        if left == 0:
            return
        room = source.spendable
        take = left if room is None else min(left, room)
        if take > 0:
            takes.append((source.balance_type, take))
            left -= take
    # Only reachable if the rate's affordability and the rooms disagree: never silently drop.
    if left:
        raise ValueError(f"{left} minor units could not be placed on any balance")
