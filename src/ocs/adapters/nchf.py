"""5G Nchf_ConvergedCharging (3GPP TS 32.291) <-> the neutral charging request and decision.

POST /nchf-convergedcharging/v3/chargingdata opens a charging data session (201 with a
Location naming its ChargingDataRef), .../{ref}/update reports usage and asks for more, and
.../{ref}/release closes it (204). The ref is the session id; the invocation sequence number
is the request number, so a retransmitted update gets its first answer again. Translates and
never decides, like the Gy adapter.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ocs.core.charging import (
    ChargingDecision,
    ChargingRequest,
    IdentityType,
    Outcome,
    RequestType,
    ServiceDecision,
    ServiceRequest,
    UnitAmounts,
)

Decide = Callable[[ChargingRequest], Awaitable[ChargingDecision]]
BASE_PATH = "/nchf-convergedcharging/v3"
PROBLEM = "application/problem+json"

RESULT_CODES = {
    Outcome.SUCCESS: "SUCCESS",
    Outcome.CREDIT_LIMIT_REACHED: "QUOTA_LIMIT_REACHED",
    Outcome.END_USER_SERVICE_DENIED: "END_USER_SERVICE_DENIED",
    Outcome.RATING_FAILED: "RATING_FAILED",
    Outcome.USER_UNKNOWN: "USER_UNKNOWN",
    Outcome.CREDIT_CONTROL_NOT_APPLICABLE: "QUOTA_MANAGEMENT_NOT_APPLICABLE",
}
# Request-level failures: HTTP status and the ProblemDetails cause.
FAILURES = {
    Outcome.USER_UNKNOWN: (404, "USER_UNKNOWN"),
    Outcome.UNKNOWN_SESSION: (404, "CHARGING_DATA_NOT_FOUND"),
    Outcome.MISSING_INFO: (400, "MANDATORY_IE_MISSING"),
    Outcome.END_USER_SERVICE_DENIED: (403, "END_USER_REQUEST_DENIED"),
    Outcome.TOO_BUSY: (503, "NF_CONGESTION"),
    Outcome.UNABLE_TO_COMPLY: (400, "CHARGING_FAILED"),
}
IDENTITY_PREFIXES = {"imsi-": IdentityType.IMSI, "msisdn-": IdentityType.E164,
                     "nai-": IdentityType.NAI}  # fmt: skip


class _Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class Units(_Body):
    time: int | None = Field(None, ge=0)
    total_volume: int | None = Field(None, ge=0, alias="totalVolume")
    uplink_volume: int | None = Field(None, ge=0, alias="uplinkVolume")
    downlink_volume: int | None = Field(None, ge=0, alias="downlinkVolume")
    service_specific_units: int | None = Field(None, ge=0, alias="serviceSpecificUnits")

    def amounts(self) -> UnitAmounts:
        return UnitAmounts(
            time_s=self.time,
            total_octets=self.total_volume,
            input_octets=self.uplink_volume,
            output_octets=self.downlink_volume,
            service_specific_units=self.service_specific_units,
        )


class UsedUnitContainer(Units):
    quota_management_indicator: str | None = Field(None, alias="quotaManagementIndicator")


class MultipleUnitUsage(_Body):
    rating_group: int = Field(alias="ratingGroup", ge=0)
    requested_unit: Units | None = Field(None, alias="requestedUnit")
    used_unit_container: list[UsedUnitContainer] = Field(
        default_factory=list, alias="usedUnitContainer"
    )


class NfConsumer(_Body):
    node_functionality: str = Field(alias="nodeFunctionality")
    nf_name: str | None = Field(None, alias="nFName")


class ChargingDataRequest(_Body):
    subscriber_identifier: str | None = Field(None, alias="subscriberIdentifier")
    nf_consumer_identification: NfConsumer = Field(alias="nfConsumerIdentification")
    invocation_time_stamp: datetime = Field(alias="invocationTimeStamp")
    invocation_sequence_number: int = Field(alias="invocationSequenceNumber", ge=0)
    retransmission_indicator: bool = Field(False, alias="retransmissionIndicator")
    multiple_unit_usage: list[MultipleUnitUsage] = Field(
        default_factory=list, alias="multipleUnitUsage"
    )


def _identity(subscriber: str | None) -> tuple[tuple[IdentityType, str], ...]:
    if not subscriber:
        return ()
    for prefix, kind in IDENTITY_PREFIXES.items():
        if subscriber.startswith(prefix):
            return ((kind, subscriber.removeprefix(prefix)),)
    return ((IdentityType.PRIVATE, subscriber),)


def _used(usage: MultipleUnitUsage) -> UnitAmounts | None:
    if not usage.used_unit_container:
        return None
    totals: dict[str, int] = {}
    for container in usage.used_unit_container:
        for name, value in vars(container.amounts()).items():
            if value is not None:
                totals[name] = totals.get(name, 0) + value
    return UnitAmounts(**totals)


def neutral_request(
    body: ChargingDataRequest, ref: str, kind: RequestType, wants_quota: bool
) -> ChargingRequest:
    services = tuple(
        ServiceRequest(
            rating_group=u.rating_group,
            requested=(u.requested_unit.amounts() if u.requested_unit else UnitAmounts())
            if wants_quota and u.requested_unit is not None
            else None,
            used=_used(u),
        )
        for u in body.multiple_unit_usage
    )
    return ChargingRequest(
        session_id=ref,
        request_number=body.invocation_sequence_number,
        request_type=kind,
        identities=_identity(body.subscriber_identifier),
        event_time=body.invocation_time_stamp.astimezone(UTC),
        services=services,
        retransmission=body.retransmission_indicator,
    )


def _units_json(units: UnitAmounts) -> dict[str, int]:
    pairs = {
        "time": units.time_s,
        "totalVolume": units.total_octets,
        "uplinkVolume": units.input_octets,
        "downlinkVolume": units.output_octets,
        "serviceSpecificUnits": units.service_specific_units,
    }
    return {k: v for k, v in pairs.items() if v is not None}


def _unit_information(service: ServiceDecision) -> dict[str, Any]:
    info: dict[str, Any] = {
        "ratingGroup": service.rating_group,
        "resultCode": RESULT_CODES.get(service.outcome, "CHARGING_FAILED"),
    }
    if service.granted is not None:
        info["grantedUnit"] = _units_json(service.granted)
        if service.quota_threshold is not None:
            key = "timeQuotaThreshold" if service.granted.time_s is not None else (
                "unitQuotaThreshold" if service.granted.service_specific_units is not None
                else "volumeQuotaThreshold"
            )  # fmt: skip
            info[key] = service.quota_threshold
    if service.validity_time_s is not None:
        info["validityTime"] = service.validity_time_s
    if service.final_unit_action is not None:
        info["finalUnitIndication"] = {"finalUnitAction": service.final_unit_action.value}
    return info


def response_body(body: ChargingDataRequest, decision: ChargingDecision) -> dict[str, Any]:
    return {
        "invocationTimeStamp": datetime.now(UTC).isoformat(),
        "invocationSequenceNumber": body.invocation_sequence_number,
        "multipleUnitInformation": [_unit_information(s) for s in decision.services],
    }


def _problem(decision: ChargingDecision) -> JSONResponse | None:
    failure = FAILURES.get(decision.outcome)
    if failure is None or decision.outcome is Outcome.SUCCESS:
        return None
    status, cause = failure
    body = {"status": status, "cause": cause, "detail": decision.detail or cause}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def nchf_router(decide: Decide, token: str | None) -> APIRouter:
    """The Nchf routes; when a token is configured, consumers must present it as a Bearer."""
    router = APIRouter(prefix=BASE_PATH, tags=["5G Nchf converged charging"])

    def authorised(authorization: str) -> bool:
        if token is None:
            return True
        return secrets.compare_digest(authorization.encode(), f"Bearer {token}".encode())

    async def run(
        body: ChargingDataRequest, ref: str, kind: RequestType, wants_quota: bool
    ) -> tuple[ChargingDecision, JSONResponse | None]:
        decision = await decide(neutral_request(body, ref, kind, wants_quota))
        return decision, _problem(decision)

    @router.post("/chargingdata", status_code=201, summary="Open a charging data session")
    async def create(
        body: ChargingDataRequest, request: Request, authorization: str = Header("")
    ) -> Response:
        if not authorised(authorization):
            return _unauthorised()
        ref = uuid.uuid4().hex
        decision, problem = await run(body, ref, RequestType.INITIAL, wants_quota=True)
        if problem is not None:
            return problem
        location = f"{str(request.base_url).rstrip('/')}{BASE_PATH}/chargingdata/{ref}"
        return JSONResponse(response_body(body, decision), status_code=201,
                            headers={"Location": location})  # fmt: skip

    @router.post("/chargingdata/{ref}/update", summary="Report usage and ask for more quota")
    async def update(
        ref: str, body: ChargingDataRequest, authorization: str = Header("")
    ) -> Response:
        if not authorised(authorization):
            return _unauthorised()
        decision, problem = await run(body, ref, RequestType.UPDATE, wants_quota=True)
        return problem or JSONResponse(response_body(body, decision))

    @router.post("/chargingdata/{ref}/release", status_code=204, summary="Close the session")
    async def release(
        ref: str, body: ChargingDataRequest, authorization: str = Header("")
    ) -> Response:
        if not authorised(authorization):
            return _unauthorised()
        _decision, problem = await run(body, ref, RequestType.TERMINATION, wants_quota=False)
        return problem or Response(status_code=204)

    return router


def _unauthorised() -> JSONResponse:
    body = {"status": 401, "cause": "UNAUTHORIZED", "detail": "a valid Bearer token is required"}
    return JSONResponse(body, status_code=401, media_type=PROBLEM)
