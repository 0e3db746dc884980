"""Diameter Gy/Ro (RFC 8506, 3GPP TS 32.299) <-> the neutral charging request and decision.

Translates and never decides: every rule lives behind `ChargingRequest`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from ocs.core.charging import (
    ChargingDecision,
    ChargingRequest,
    FinalUnitAction,
    IdentityType,
    Outcome,
    RequestedAction,
    RequestType,
    ServiceDecision,
    ServiceRequest,
    UnitAmounts,
)
from ocs.core.errors import DomainError, ProblemKind
from ocs.diameter import dictionary as d
from ocs.diameter.constants import ResultCode
from ocs.diameter.message import Avp, AvpContainer, Message, Origin, make_answer

log = logging.getLogger(__name__)

RESULT_BY_OUTCOME: dict[Outcome, ResultCode] = {
    Outcome.TOO_BUSY: ResultCode.TOO_BUSY,
    Outcome.UNABLE_TO_COMPLY: ResultCode.UNABLE_TO_COMPLY,
    Outcome.MISSING_INFO: ResultCode.MISSING_AVP,
    Outcome.UNKNOWN_SESSION: ResultCode.UNKNOWN_SESSION_ID,
    Outcome.USER_UNKNOWN: ResultCode.USER_UNKNOWN,
    Outcome.END_USER_SERVICE_DENIED: ResultCode.END_USER_SERVICE_DENIED,
    Outcome.RATING_FAILED: ResultCode.RATING_FAILED,
    Outcome.CREDIT_LIMIT_REACHED: ResultCode.CREDIT_LIMIT_REACHED,
    Outcome.CREDIT_CONTROL_NOT_APPLICABLE: ResultCode.CREDIT_CONTROL_NOT_APPLICABLE,
    Outcome.SUCCESS: ResultCode.SUCCESS,
}
REQUEST_TYPES = {
    1: RequestType.INITIAL,
    2: RequestType.UPDATE,
    3: RequestType.TERMINATION,
    4: RequestType.EVENT,
}
REQUESTED_ACTIONS = list(RequestedAction)  # 0..3 in RFC 8506 order
IDENTITY_TYPES = list(IdentityType)  # Subscription-Id-Type 0..4
FINAL_UNIT_ACTIONS = {a: i for i, a in enumerate(FinalUnitAction)}
CHECK_BALANCE_ENOUGH, CHECK_BALANCE_NO_CREDIT = 0, 1
MONEY_SCALE = 2
# ISO 4217 numeric codes for Cost-Information's Currency-Code.
ISO_NUMERIC = {"EUR": 978, "USD": 840, "GBP": 826, "CHF": 756, "JPY": 392, "SEK": 752}


class CcrError(Exception):
    def __init__(self, result: ResultCode, detail: str, failed: Avp | None = None) -> None:
        super().__init__(detail)
        self.result = result
        self.failed = failed


def request_from_ccr(ccr: Message, now: datetime) -> ChargingRequest:
    """The neutral request, or CcrError naming the offending AVP."""
    request_type = REQUEST_TYPES.get(ccr.int_value(d.CC_REQUEST_TYPE) or 0)
    if request_type is None:
        raise CcrError(
            ResultCode.INVALID_AVP_VALUE, "bad CC-Request-Type", ccr.find(d.CC_REQUEST_TYPE)
        )
    action = None
    if request_type is RequestType.EVENT:
        code = ccr.int_value(d.REQUESTED_ACTION)
        code = 0 if code is None else code
        if not 0 <= code < len(REQUESTED_ACTIONS):
            raise CcrError(
                ResultCode.INVALID_AVP_VALUE, "bad Requested-Action", ccr.find(d.REQUESTED_ACTION)
            )
        action = REQUESTED_ACTIONS[code]
    timestamp = ccr.find(d.EVENT_TIMESTAMP)
    event_time = timestamp.value if timestamp and isinstance(timestamp.value, datetime) else now
    return ChargingRequest(
        session_id=ccr.session_id or "",
        request_number=ccr.int_value(d.CC_REQUEST_NUMBER) or 0,
        request_type=request_type,
        identities=_identities(ccr),
        event_time=event_time.astimezone(UTC),
        services=_services(ccr),
        requested_action=action,
        calling_party=_party(ccr, d.CALLING_PARTY_ADDRESS),
        called_party=_party(ccr, d.CALLED_PARTY_ADDRESS),
        retransmission=ccr.is_retransmit,
    )


def _identities(ccr: Message) -> tuple[tuple[IdentityType, str], ...]:
    identities = []
    for sub in ccr.find_all(d.SUBSCRIPTION_ID):
        kind, data = sub.int_value(d.SUBSCRIPTION_ID_TYPE), sub.str_value(d.SUBSCRIPTION_ID_DATA)
        if kind is None or data is None or not 0 <= kind < len(IDENTITY_TYPES):
            raise CcrError(ResultCode.INVALID_AVP_VALUE, "bad Subscription-Id", sub)
        identities.append((IDENTITY_TYPES[kind], data))
    user_name = ccr.str_value(d.USER_NAME)
    if not identities and user_name:
        identities.append((IdentityType.NAI, user_name))
    return tuple(identities)


def _units(container: Avp | None) -> UnitAmounts | None:
    if container is None:
        return None
    money = container.find(d.CC_MONEY)
    return UnitAmounts(
        time_s=container.int_value(d.CC_TIME),
        total_octets=container.int_value(d.CC_TOTAL_OCTETS),
        input_octets=container.int_value(d.CC_INPUT_OCTETS),
        output_octets=container.int_value(d.CC_OUTPUT_OCTETS),
        service_specific_units=container.int_value(d.CC_SERVICE_SPECIFIC_UNITS),
        money_minor=None if money is None else _unit_value(money),
    )


def _unit_value(money: Avp) -> int | None:
    unit_value = money.find(d.UNIT_VALUE)
    if unit_value is None:
        return None
    digits = unit_value.int_value(d.VALUE_DIGITS) or 0
    exponent = unit_value.int_value(d.EXPONENT) or 0
    # Value-Digits x 10^Exponent major units, as cents (scale 2); finer fractions round down.
    shift = exponent + MONEY_SCALE
    return int(digits * 10**shift if shift >= 0 else digits // 10**-shift)


def _used(container: AvpContainer) -> UnitAmounts | None:
    """Several Used-Service-Unit AVPs (tariff changes, reporting reasons) add up."""
    used = [_units(u) for u in container.find_all(d.USED_SERVICE_UNIT)]
    present = [u for u in used if u is not None]
    if not present:
        return None
    totals: dict[str, int | None] = {}
    for u in present:
        for name, value in vars(u).items():
            if value is not None:
                totals[name] = (totals.get(name) or 0) + value
    return UnitAmounts(**totals)


def _services(ccr: Message) -> tuple[ServiceRequest, ...]:
    mscc = ccr.find_all(d.MULTIPLE_SERVICES_CREDIT_CONTROL)
    if not mscc:
        rsu, used = ccr.find(d.REQUESTED_SERVICE_UNIT), _used(ccr)
        if rsu is None and used is None:
            return ()
        return (ServiceRequest(None, ccr.int_value(d.SERVICE_IDENTIFIER), _units(rsu), used),)
    return tuple(
        ServiceRequest(
            rating_group=m.int_value(d.RATING_GROUP),
            service_identifier=m.int_value(d.SERVICE_IDENTIFIER),
            requested=_units(m.find(d.REQUESTED_SERVICE_UNIT)),
            used=_used(m),
        )
        for m in mscc
    )


def _party(ccr: Message, definition: d.AvpDef) -> str | None:
    info = ccr.find(d.SERVICE_INFORMATION)
    if info is None:
        return None
    for holder in (d.IMS_INFORMATION, d.SMS_INFORMATION):
        container = info.find(holder)
        if container is not None and container.str_value(definition):
            return container.str_value(definition)
    return None


def cca_from_decision(ccr: Message, decision: ChargingDecision, origin: Origin) -> Message:
    cca = make_answer(ccr, origin, RESULT_BY_OUTCOME[decision.outcome])
    if decision.detail and decision.outcome is not Outcome.SUCCESS:
        cca.avps.append(Avp.of(d.ERROR_MESSAGE, decision.detail[:200]))
    in_mscc = bool(ccr.find(d.MULTIPLE_SERVICES_CREDIT_CONTROL))
    for service in decision.services:
        if in_mscc:
            cca.avps.append(Avp.of(d.MULTIPLE_SERVICES_CREDIT_CONTROL, _service_avps(service)))
        else:
            cca.avps += [a for a in _service_avps(service) if a.code != d.RESULT_CODE.code]
    if decision.balance_minor is not None:
        enough = decision.balance_minor > 0
        result = CHECK_BALANCE_ENOUGH if enough else CHECK_BALANCE_NO_CREDIT
        cca.avps.append(Avp.of(d.CHECK_BALANCE_RESULT, result))
    if decision.cost_minor is not None and decision.currency in ISO_NUMERIC:
        numeric = ISO_NUMERIC[str(decision.currency)]
        cca.avps.append(_cost_information(decision.cost_minor, numeric))
    return cca


def _cost_information(cost_minor: int, currency_numeric: int) -> Avp:
    digits = [Avp.of(d.VALUE_DIGITS, cost_minor), Avp.of(d.EXPONENT, -MONEY_SCALE)]
    unit_value = Avp.of(d.UNIT_VALUE, digits)
    return Avp.of(d.COST_INFORMATION, [unit_value, Avp.of(d.CURRENCY_CODE, currency_numeric)])


def _service_avps(service: ServiceDecision) -> list[Avp]:
    avps: list[Avp] = []
    if service.granted is not None:
        avps.append(Avp.of(d.GRANTED_SERVICE_UNIT, _unit_avps(service.granted)))
    if service.rating_group is not None:
        avps.append(Avp.of(d.RATING_GROUP, service.rating_group))
    if service.service_identifier is not None:
        avps.append(Avp.of(d.SERVICE_IDENTIFIER, service.service_identifier))
    if service.validity_time_s is not None:
        avps.append(Avp.of(d.VALIDITY_TIME, service.validity_time_s))
    avps.append(Avp.of(d.RESULT_CODE, RESULT_BY_OUTCOME[service.outcome]))
    if service.final_unit_action is not None:
        action = Avp.of(d.FINAL_UNIT_ACTION, FINAL_UNIT_ACTIONS[service.final_unit_action])
        avps.append(Avp.of(d.FINAL_UNIT_INDICATION, [action]))
    if service.quota_threshold is not None and service.granted is not None:
        avps.append(Avp.of(_threshold_avp(service.granted), service.quota_threshold))
    return avps


def _unit_avps(units: UnitAmounts) -> list[Avp]:
    pairs = (
        (d.CC_TIME, units.time_s),
        (d.CC_TOTAL_OCTETS, units.total_octets),
        (d.CC_INPUT_OCTETS, units.input_octets),
        (d.CC_OUTPUT_OCTETS, units.output_octets),
        (d.CC_SERVICE_SPECIFIC_UNITS, units.service_specific_units),
    )
    return [Avp.of(definition, value) for definition, value in pairs if value is not None]


def _threshold_avp(granted: UnitAmounts) -> d.AvpDef:
    if granted.time_s is not None:
        return d.TIME_QUOTA_THRESHOLD
    if granted.service_specific_units is not None:
        return d.UNIT_QUOTA_THRESHOLD
    return d.VOLUME_QUOTA_THRESHOLD


Decide = Callable[[ChargingRequest], Awaitable[ChargingDecision]]


class GyHandler:
    """The Credit-Control application handler plugged into the Diameter server."""

    def __init__(self, decide: Decide, origin: Origin, now: Callable[[], datetime]) -> None:
        self._decide = decide
        self._origin = origin
        self._now = now

    async def handle(self, request: Message) -> Message:
        try:
            charging_request = request_from_ccr(request, self._now())
        except CcrError as bad:
            failed = [bad.failed] if bad.failed is not None else []
            return make_answer(request, self._origin, bad.result, error_message=str(bad),
                               failed_avps=failed)  # fmt: skip
        try:
            decision = await self._decide(charging_request)
        except DomainError as error:
            if error.kind is ProblemKind.OVERLOADED:
                return make_answer(request, self._origin, ResultCode.TOO_BUSY)
            log.warning("charging refused %s: %s", charging_request.session_id, error.detail)
            return make_answer(request, self._origin, ResultCode.UNABLE_TO_COMPLY,
                               error_message=error.detail[:200])  # fmt: skip
        return cca_from_decision(request, decision, self._origin)
