"""Realistic Gy messages and base-protocol requests, built with our own API."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from ipaddress import ip_address

from ocs.diameter import dictionary as d
from ocs.diameter.codec import encode, request_flags
from ocs.diameter.constants import (
    FLAG_PROXIABLE,
    VENDOR_3GPP,
    ApplicationId,
    CommandCode,
    ResultCode,
)
from ocs.diameter.message import Avp, Message, Origin, make_answer

A = Avp.of
CLIENT_HOST = "pgw1.test.local"
CLIENT_REALM = "test.local"
OCS_ORIGIN = Origin("ocs.test.local", "test.local", 1_700_000_000)
EVENT_TIME = datetime(2026, 3, 1, 12, 30, 15, tzinfo=UTC)


def cer(
    origin_host: str = CLIENT_HOST,
    applications: tuple[int, ...] = (ApplicationId.CREDIT_CONTROL,),
    hop_by_hop: int = 1,
) -> Message:
    avps = [
        A(d.ORIGIN_HOST, origin_host),
        A(d.ORIGIN_REALM, CLIENT_REALM),
        A(d.HOST_IP_ADDRESS, ip_address("127.0.0.1")),
        A(d.VENDOR_ID, 0),
        A(d.PRODUCT_NAME, "test-pgw"),
        *(A(d.AUTH_APPLICATION_ID, app) for app in applications),
    ]
    command = d.COMMANDS[CommandCode.CAPABILITIES_EXCHANGE]
    return Message(command.code, 0, request_flags(command), hop_by_hop, hop_by_hop, avps)


def base_request(command_code: CommandCode, hop_by_hop: int, *extra: Avp) -> Message:
    avps = [A(d.ORIGIN_HOST, CLIENT_HOST), A(d.ORIGIN_REALM, CLIENT_REALM), *extra]
    command = d.COMMANDS[command_code]
    return Message(command.code, 0, request_flags(command), hop_by_hop, hop_by_hop, avps)


def subscription_id(kind: int, data: str) -> Avp:
    return A(d.SUBSCRIPTION_ID, [A(d.SUBSCRIPTION_ID_TYPE, kind), A(d.SUBSCRIPTION_ID_DATA, data)])


def ccr_update(hop_by_hop: int = 7, session_id: str = "pgw1.test.local;1;42") -> Message:
    """A CCR-U as a PGW sends it: usage report plus a new request for rating group 10."""
    avps = [
        A(d.SESSION_ID, session_id),
        A(d.ORIGIN_HOST, CLIENT_HOST),
        A(d.ORIGIN_REALM, CLIENT_REALM),
        A(d.DESTINATION_REALM, "test.local"),
        A(d.AUTH_APPLICATION_ID, ApplicationId.CREDIT_CONTROL),
        A(d.SERVICE_CONTEXT_ID, "32251@3gpp.org"),
        A(d.CC_REQUEST_TYPE, 2),
        A(d.CC_REQUEST_NUMBER, 3),
        A(d.EVENT_TIMESTAMP, EVENT_TIME),
        subscription_id(0, "4915100001"),
        subscription_id(1, "262011234567890"),
        A(d.MULTIPLE_SERVICES_INDICATOR, 1),
        A(
            d.MULTIPLE_SERVICES_CREDIT_CONTROL,
            [
                A(d.REQUESTED_SERVICE_UNIT, []),
                A(
                    d.USED_SERVICE_UNIT,
                    [
                        A(d.CC_TIME, 120),
                        A(d.CC_TOTAL_OCTETS, 5_368_709_120),
                        A(d.CC_INPUT_OCTETS, 1_073_741_824),
                        A(d.CC_OUTPUT_OCTETS, 4_294_967_296),
                        A(d.TGPP_REPORTING_REASON, 3),
                    ],
                ),
                A(d.RATING_GROUP, 10),
                A(d.SERVICE_IDENTIFIER, 1001),
            ],
        ),
        A(
            d.USER_EQUIPMENT_INFO,
            [A(d.USER_EQUIPMENT_INFO_TYPE, 0), A(d.USER_EQUIPMENT_INFO_VALUE, b"3542880123456789")],
        ),
        A(
            d.SERVICE_INFORMATION,
            [
                A(
                    d.PS_INFORMATION,
                    [
                        A(d.TGPP_CHARGING_ID, b"\x12\x34\xab\xcd"),
                        A(d.PDP_ADDRESS, ip_address("10.45.0.7")),
                        A(d.SGSN_ADDRESS, ip_address("2001:db8::5")),
                        A(d.GGSN_ADDRESS, ip_address("192.0.2.1")),
                        A(d.CALLED_STATION_ID, "internet"),
                        A(d.TGPP_RAT_TYPE, b"\x06"),
                    ],
                )
            ],
        ),
    ]
    command = d.COMMANDS[CommandCode.CREDIT_CONTROL]
    return Message(
        command.code,
        ApplicationId.CREDIT_CONTROL,
        request_flags(command),
        hop_by_hop,
        hop_by_hop + 1000,
        avps,
    )


def cca_for(request: Message, origin: Origin = OCS_ORIGIN) -> Message:
    """A rich CCA: grants per rating group of the request, thresholds, final unit, cost."""
    answer = make_answer(request, origin, ResultCode.SUCCESS)
    for mscc in request.find_all(d.MULTIPLE_SERVICES_CREDIT_CONTROL):
        rating_group = mscc.int_value(d.RATING_GROUP) or 0
        answer.avps.append(
            A(
                d.MULTIPLE_SERVICES_CREDIT_CONTROL,
                [
                    A(
                        d.GRANTED_SERVICE_UNIT,
                        [A(d.CC_TOTAL_OCTETS, 10_485_760), A(d.CC_TIME, 3600)],
                    ),
                    A(d.RATING_GROUP, rating_group),
                    A(d.VALIDITY_TIME, 1800),
                    A(d.RESULT_CODE, ResultCode.SUCCESS),
                    A(d.VOLUME_QUOTA_THRESHOLD, 1_048_576),
                    A(d.TIME_QUOTA_THRESHOLD, 60),
                    A(d.QUOTA_HOLDING_TIME, 300),
                    A(d.FINAL_UNIT_INDICATION, [A(d.FINAL_UNIT_ACTION, 0)]),
                ],
            )
        )
    answer.avps += [
        A(
            d.COST_INFORMATION,
            [
                A(d.UNIT_VALUE, [A(d.VALUE_DIGITS, -1234), A(d.EXPONENT, -2)]),
                A(d.CURRENCY_CODE, 978),
            ],
        ),
        A(d.CREDIT_CONTROL_FAILURE_HANDLING, 1),
    ]
    return answer


def proxied(message: Message) -> Message:
    """The same request as if it crossed a relay: Proxy-Info appended."""
    proxy = A(d.PROXY_INFO, [A(d.PROXY_HOST, "dra.test.local"), A(d.PROXY_STATE, b"\x01\x02")])
    return Message(
        message.command_code,
        message.application_id,
        message.flags | FLAG_PROXIABLE,
        message.hop_by_hop_id,
        message.end_to_end_id,
        [*message.avps, proxy],
    )


UNKNOWN_3GPP_MANDATORY = Avp(99_999, b"\x00\x00\x00\x01", VENDOR_3GPP, 0xC0)


def raw_avp(code: int, payload: bytes, flags: int = 0x40, length: int | None = None) -> bytes:
    """Hand-made AVP bytes; `length` may lie about the size."""
    size = 8 + len(payload) if length is None else length
    return struct.pack(">II", code, (flags << 24) | size) + payload + bytes(-len(payload) % 4)


def with_raw_avp(message: Message, avp_bytes: bytes) -> bytes:
    """The message encoded with hand-made AVP bytes appended, the header length fixed up."""
    raw = bytearray(encode(message) + avp_bytes)
    raw[1:4] = len(raw).to_bytes(3, "big")
    return bytes(raw)
