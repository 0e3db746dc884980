"""The codec: exact wire format, round trips of every type, and every decode fault."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import ip_address

import pytest

from ocs.diameter import dictionary as d
from ocs.diameter.codec import (
    MAX_GROUP_DEPTH,
    DecodeError,
    EncodeError,
    decode,
    encode,
    frame_length,
    request_flags,
)
from ocs.diameter.constants import (
    FLAG_ERROR,
    FLAG_PROXIABLE,
    FLAG_REQUEST,
    FLAG_RETRANSMIT,
    VENDOR_3GPP,
    ApplicationId,
    CommandCode,
    ResultCode,
)
from ocs.diameter.message import Avp, AvpValue, Message
from tests.unit.diameter.samples import (
    UNKNOWN_3GPP_MANDATORY,
    base_request,
    cca_for,
    ccr_update,
    cer,
    raw_avp,
    with_raw_avp,
)

A = Avp.of


def with_avps(message: Message, avps: list[Avp]) -> Message:
    return Message(
        message.command_code,
        message.application_id,
        message.flags,
        message.hop_by_hop_id,
        message.end_to_end_id,
        avps,
    )


def dwr(*extra: Avp) -> Message:
    return base_request(CommandCode.DEVICE_WATCHDOG, 5, *extra)


def dwr_with_raw(avp_bytes: bytes) -> bytes:
    return with_raw_avp(dwr(), avp_bytes)


def decode_fault(raw: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        decode(raw)
    return caught.value


# ---------------------------------------------------------------- wire format


def test_header_and_avp_bytes_follow_rfc6733_layout() -> None:
    message = Message(257, 0, FLAG_REQUEST, 0x11223344, 0x55667788, [A(d.SESSION_ID, "abc")])
    assert encode(message) == bytes.fromhex(
        "01 00 0020 80 000101 00000000 11223344 55667788"  # version, length, flags, code, ids
        "00000107 40 00000b 616263 00"  # Session-Id, M, length 11 excludes the padding
    )


def test_vendor_avp_carries_v_bit_and_vendor_id() -> None:
    raw = encode(Message(280, 0, FLAG_REQUEST, 1, 1, [A(d.VOLUME_QUOTA_THRESHOLD, 7)]))
    assert raw[20:] == bytes.fromhex("00000365 c0 000010 000028af 00000007")


def test_v_bit_follows_vendor_id_whatever_the_flags_say() -> None:
    avp = Avp(d.RATING_GROUP.code, 3, vendor_id=0, flags=0xC0)
    decoded = decode(encode(with_avps(dwr(), [*dwr().avps, avp])))
    assert decoded.avps[-1].flags == 0x40


def test_header_flags_are_visible_including_the_t_flag() -> None:
    request = ccr_update()
    request.flags |= FLAG_RETRANSMIT
    decoded = decode(encode(request))
    assert decoded.is_request
    assert decoded.is_proxiable
    assert decoded.is_retransmit
    assert not decoded.is_error


# ---------------------------------------------------------------- round trips


def test_ccr_with_mscc_round_trips() -> None:
    request = ccr_update()
    assert decode(encode(request)) == request


def test_cca_round_trips() -> None:
    answer = cca_for(ccr_update())
    decoded = decode(encode(answer))
    assert decoded == answer
    mscc = decoded.find(d.MULTIPLE_SERVICES_CREDIT_CONTROL)
    assert mscc is not None
    granted = mscc.find(d.GRANTED_SERVICE_UNIT)
    assert granted is not None
    assert granted.int_value(d.CC_TOTAL_OCTETS) == 10_485_760


VALUES: list[tuple[d.AvpDef, AvpValue]] = [
    (d.CLASS, b"\x00\xff\x10"),
    (d.SESSION_ID, "Zürich;✓;1"),
    (d.ORIGIN_HOST, "pgw.example.net"),
    (d.HOST_IP_ADDRESS, ip_address("192.0.2.10")),
    (d.HOST_IP_ADDRESS, ip_address("2001:db8::10")),
    (d.EXPONENT, -(2**31)),
    (d.VALUE_DIGITS, -(2**63)),
    (d.RESULT_CODE, 2**32 - 1),
    (d.CC_TOTAL_OCTETS, 2**64 - 1),
    (d.CC_REQUEST_TYPE, 4),
    (d.EVENT_TIMESTAMP, datetime(1968, 1, 20, 3, 14, 8, tzinfo=UTC)),
    (d.EVENT_TIMESTAMP, datetime(2036, 2, 7, 6, 28, 15, tzinfo=UTC)),
    (d.EVENT_TIMESTAMP, datetime(2036, 2, 7, 6, 28, 16, tzinfo=UTC)),
    (d.EVENT_TIMESTAMP, datetime(2104, 2, 26, 9, 42, 23, tzinfo=UTC)),
    (d.USED_SERVICE_UNIT, [A(d.CC_TIME, 1), A(d.TGPP_REPORTING_REASON, 2)]),
    (d.REQUESTED_SERVICE_UNIT, []),
]


@pytest.mark.parametrize(("definition", "value"), VALUES, ids=lambda v: str(v)[:30])
def test_every_type_round_trips(definition: d.AvpDef, value: AvpValue) -> None:
    message = with_avps(dwr(), [*dwr().avps, A(definition, value)])
    assert decode(encode(message)).avps[-1].value == value


def test_time_uses_ntp_seconds_and_the_2036_era() -> None:
    before = A(d.EVENT_TIMESTAMP, datetime(2036, 2, 7, 6, 28, 15, tzinfo=UTC))
    after = A(d.EVENT_TIMESTAMP, datetime(2036, 2, 7, 6, 28, 16, tzinfo=UTC))
    raw_before = encode(with_avps(dwr(), [before]))[-4:]
    raw_after = encode(with_avps(dwr(), [after]))[-4:]
    assert (raw_before, raw_after) == (b"\xff\xff\xff\xff", b"\x00\x00\x00\x00")


def test_unknown_optional_avp_is_kept_raw_and_re_encoded_unchanged() -> None:
    raw = dwr_with_raw(raw_avp(99_999, b"\x01\x02\x03", flags=0x00))
    decoded = decode(raw)
    assert decoded.avps[-1] == Avp(99_999, b"\x01\x02\x03", 0, 0)
    assert encode(decoded) == raw


# ---------------------------------------------------------------- encode errors


@pytest.mark.parametrize(
    ("definition", "value"),
    [
        (d.RESULT_CODE, -1),
        (d.RESULT_CODE, 2**32),
        (d.EXPONENT, 2**31),
        (d.RESULT_CODE, "2001"),
        (d.RESULT_CODE, True),
        (d.SESSION_ID, 5),
        (d.ORIGIN_HOST, "höst"),
        (d.ORIGIN_HOST, ""),
        (d.HOST_IP_ADDRESS, "10.0.0.1"),
        (d.EVENT_TIMESTAMP, datetime(2026, 1, 1)),  # naive: which zone?
        (d.EVENT_TIMESTAMP, datetime(1960, 1, 1, tzinfo=UTC)),
        (d.MULTIPLE_SERVICES_CREDIT_CONTROL, 3),
    ],
)
def test_values_that_do_not_fit_their_type_raise_encode_error(
    definition: d.AvpDef, value: AvpValue
) -> None:
    with pytest.raises(EncodeError):
        encode(with_avps(dwr(), [A(definition, value)]))


def test_unknown_avp_needs_raw_bytes() -> None:
    with pytest.raises(EncodeError, match="unknown"):
        encode(with_avps(dwr(), [Avp(99_999, 5)]))


def test_header_fields_out_of_range_raise_encode_error() -> None:
    with pytest.raises(EncodeError):
        encode(Message(1 << 24, 0, FLAG_REQUEST))


# ---------------------------------------------------------------- framing


def test_frame_length_reads_the_header() -> None:
    raw = encode(ccr_update())
    assert frame_length(raw[:20], 65536) == len(raw)


@pytest.mark.parametrize(
    ("version", "length", "code"),
    [
        (2, 20, ResultCode.UNSUPPORTED_VERSION),
        (1, 19, ResultCode.INVALID_MESSAGE_LENGTH),
        (1, 22, ResultCode.INVALID_MESSAGE_LENGTH),
        (1, 65540, ResultCode.INVALID_MESSAGE_LENGTH),
    ],
)
def test_frame_length_refuses_untrustworthy_headers(
    version: int, length: int, code: ResultCode
) -> None:
    header = bytes([version]) + length.to_bytes(3, "big") + encode(dwr())[4:20]
    with pytest.raises(DecodeError) as caught:
        frame_length(header, 65536)
    assert caught.value.result_code is code
    assert caught.value.message is not None
    assert caught.value.message.command_code == CommandCode.DEVICE_WATCHDOG


# ---------------------------------------------------------------- decode faults


def test_shorter_than_a_header() -> None:
    fault = decode_fault(b"\x01\x00\x00")
    assert fault.result_code is ResultCode.INVALID_MESSAGE_LENGTH
    assert fault.message is None


def test_header_length_must_match_the_bytes() -> None:
    raw = encode(dwr())
    fault = decode_fault(raw + b"\x00\x00\x00\x00")
    assert fault.result_code is ResultCode.INVALID_MESSAGE_LENGTH
    assert fault.message is not None
    assert fault.message.hop_by_hop_id == 5


def test_unsupported_version() -> None:
    raw = encode(dwr())
    assert decode_fault(b"\x02" + raw[1:]).result_code is ResultCode.UNSUPPORTED_VERSION


def test_avp_length_below_its_header_is_invalid_avp_length() -> None:
    fault = decode_fault(dwr_with_raw(raw_avp(d.ORIGIN_STATE_ID.code, b"\0\0\0\0", length=6)))
    assert fault.result_code is ResultCode.INVALID_AVP_LENGTH
    assert fault.failed_avp == Avp(278, bytes(4), 0, 0x40)


def test_avp_length_beyond_the_message_quotes_a_zero_filled_avp() -> None:
    fault = decode_fault(dwr_with_raw(raw_avp(d.ORIGIN_STATE_ID.code, b"\0\0\0\1", length=64)))
    assert fault.result_code is ResultCode.INVALID_AVP_LENGTH
    assert fault.failed_avp == Avp(278, bytes(4), 0, 0x40)


def test_truncated_avp_header_is_quoted_zero_padded() -> None:
    fault = decode_fault(dwr_with_raw(b"\x00\x00\x01\x16"))  # 4 bytes: only an AVP code
    assert fault.result_code is ResultCode.INVALID_AVP_LENGTH
    assert fault.failed_avp == Avp(0x116, b"", 0, 0)


def test_fixed_size_value_with_wrong_length() -> None:
    fault = decode_fault(dwr_with_raw(raw_avp(d.ORIGIN_STATE_ID.code, b"\x01\x02\x03")))
    assert fault.result_code is ResultCode.INVALID_AVP_LENGTH
    assert fault.failed_avp == Avp(278, bytes(4), 0, 0x40)


def test_unknown_mandatory_avp_is_avp_unsupported_with_the_avp_quoted() -> None:
    request = ccr_update()
    request.avps.insert(3, UNKNOWN_3GPP_MANDATORY)
    fault = decode_fault(encode(request))
    assert fault.result_code is ResultCode.AVP_UNSUPPORTED
    assert fault.failed_avp == UNKNOWN_3GPP_MANDATORY
    assert fault.message is not None
    assert fault.message.session_id == request.session_id  # for the error answer


def test_unknown_mandatory_avp_inside_a_group_is_quoted_inside_its_parent() -> None:
    request = ccr_update()
    mscc = request.find(d.MULTIPLE_SERVICES_CREDIT_CONTROL)
    assert mscc is not None
    mscc.children().append(UNKNOWN_3GPP_MANDATORY)
    fault = decode_fault(encode(request))
    assert fault.result_code is ResultCode.AVP_UNSUPPORTED
    assert fault.failed_avp == Avp(456, [UNKNOWN_3GPP_MANDATORY], 0, 0x40)


def test_invalid_utf8_is_invalid_avp_value_with_the_value_quoted() -> None:
    fault = decode_fault(dwr_with_raw(raw_avp(d.ERROR_MESSAGE.code, b"\xff\xfe", flags=0)))
    assert fault.result_code is ResultCode.INVALID_AVP_VALUE
    assert fault.failed_avp == Avp(281, b"\xff\xfe", 0, 0)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"\x00\x07\x01\x02\x03\x04", ResultCode.INVALID_AVP_VALUE),
        (b"\x00\x01\x0a\x00\x00", ResultCode.INVALID_AVP_LENGTH),
        (b"\x00\x02" + bytes(4), ResultCode.INVALID_AVP_LENGTH),
        (b"\x00", ResultCode.INVALID_AVP_LENGTH),
    ],
)
def test_bad_addresses(payload: bytes, code: ResultCode) -> None:
    fault = decode_fault(dwr_with_raw(raw_avp(d.HOST_IP_ADDRESS.code, payload)))
    assert fault.result_code is code
    assert fault.failed_avp is not None
    assert fault.failed_avp.code == d.HOST_IP_ADDRESS.code


def test_empty_diameter_identity_is_invalid() -> None:
    fault = decode_fault(dwr_with_raw(raw_avp(d.DESTINATION_HOST.code, b"")))
    assert fault.result_code is ResultCode.INVALID_AVP_VALUE


def test_unknown_command_is_command_unsupported_even_with_bad_avps() -> None:
    message = Message(999, 0, FLAG_REQUEST, 1, 1, [A(d.SESSION_ID, "s"), UNKNOWN_3GPP_MANDATORY])
    fault = decode_fault(encode(message))
    assert fault.result_code is ResultCode.COMMAND_UNSUPPORTED
    assert fault.message is not None
    assert fault.message.session_id == "s"


def test_an_answer_to_an_unknown_command_decodes_with_the_generic_avps() -> None:
    generic = [A(d.RESULT_CODE, 3001), A(d.ORIGIN_HOST, "h"), A(d.ORIGIN_REALM, "r")]
    answer = Message(999, 77, FLAG_ERROR, 1, 1, generic)
    assert decode(encode(answer)) == answer
    answer.avps = generic[:2]
    assert decode_fault(encode(answer)).detail == "command 999 lacks Origin-Realm"


def test_credit_control_outside_its_application_is_application_unsupported() -> None:
    request = ccr_update()
    request.application_id = ApplicationId.COMMON
    assert decode_fault(encode(request)).result_code is ResultCode.APPLICATION_UNSUPPORTED


@pytest.mark.parametrize(
    "flags",
    [
        FLAG_REQUEST | FLAG_PROXIABLE,  # CER is not proxiable
        FLAG_REQUEST | FLAG_ERROR,  # a request cannot be an error
    ],
)
def test_inconsistent_header_bits(flags: int) -> None:
    message = cer()
    message.flags = flags
    assert decode_fault(encode(message)).result_code is ResultCode.INVALID_HDR_BITS


@pytest.mark.parametrize(
    "missing", d.COMMANDS[CommandCode.CREDIT_CONTROL].request_required, ids=lambda a: a.name
)
def test_every_required_ccr_avp_is_checked(missing: d.AvpDef) -> None:
    request = ccr_update()
    request.avps = [a for a in request.avps if (a.code, a.vendor_id) != (missing.code, 0)]
    fault = decode_fault(encode(request))
    assert fault.result_code is ResultCode.MISSING_AVP
    assert fault.failed_avp is not None
    assert (fault.failed_avp.code, fault.failed_avp.is_mandatory) == (missing.code, True)


def test_missing_avp_example_has_the_minimum_zero_value() -> None:
    request = ccr_update()
    request.avps = [a for a in request.avps if a.code != d.CC_REQUEST_NUMBER.code]
    assert decode_fault(encode(request)).failed_avp == Avp(415, bytes(4), 0, 0x40)


def test_missing_avp_inside_a_group() -> None:
    request = ccr_update()
    request.avps.append(A(d.SUBSCRIPTION_ID, [A(d.SUBSCRIPTION_ID_TYPE, 0)]))
    fault = decode_fault(encode(request))
    assert fault.result_code is ResultCode.MISSING_AVP
    assert fault.failed_avp == Avp(443, [Avp(444, b"", 0, 0x40)], 0, 0x40)


@pytest.mark.parametrize(
    ("flags", "result_code"),
    [(FLAG_PROXIABLE | FLAG_ERROR, ResultCode.TOO_BUSY), (FLAG_PROXIABLE, ResultCode.MISSING_AVP)],
)
def test_failure_answers_need_only_the_generic_avps(flags: int, result_code: ResultCode) -> None:
    generic = [A(d.RESULT_CODE, result_code), A(d.ORIGIN_HOST, "h"), A(d.ORIGIN_REALM, "r")]
    answer = Message(CommandCode.CREDIT_CONTROL, ApplicationId.CREDIT_CONTROL, flags, 1, 1, generic)
    assert decode(encode(answer)).result_code == result_code
    answer.avps = generic[1:]
    assert decode_fault(encode(answer)).result_code is ResultCode.MISSING_AVP


def test_a_successful_answer_needs_what_its_command_requires() -> None:
    generic = [A(d.RESULT_CODE, 2001), A(d.ORIGIN_HOST, "h"), A(d.ORIGIN_REALM, "r")]
    answer = Message(CommandCode.CREDIT_CONTROL, ApplicationId.CREDIT_CONTROL, 0x40, 1, 1, generic)
    assert decode_fault(encode(answer)).detail == "Credit-Control lacks Session-Id"


def test_failed_avp_may_quote_unknown_and_malformed_avps() -> None:
    quoted = [UNKNOWN_3GPP_MANDATORY, Avp(d.ORIGIN_STATE_ID.code, b"\x01", 0, 0x40)]
    answer = Message(
        CommandCode.DEVICE_WATCHDOG,
        0,
        0,
        1,
        1,
        [
            A(d.RESULT_CODE, 5001),
            A(d.ORIGIN_HOST, "h"),
            A(d.ORIGIN_REALM, "r"),
            A(d.FAILED_AVP, quoted),
        ],
    )
    failed = decode(encode(answer)).find(d.FAILED_AVP)
    assert failed is not None
    assert failed.children() == quoted


def test_grouped_avps_nested_too_deep_are_refused() -> None:
    nested = A(d.RATING_GROUP, 1)
    for _ in range(MAX_GROUP_DEPTH + 1):
        nested = A(d.MULTIPLE_SERVICES_CREDIT_CONTROL, [nested])
    request = ccr_update()
    request.avps.append(nested)
    assert decode_fault(encode(request)).result_code is ResultCode.INVALID_AVP_VALUE


def test_request_flags_follow_the_command_definition() -> None:
    ccr = d.COMMANDS[CommandCode.CREDIT_CONTROL]
    dwr_command = d.COMMANDS[CommandCode.DEVICE_WATCHDOG]
    assert request_flags(ccr) == FLAG_REQUEST | FLAG_PROXIABLE
    assert request_flags(dwr_command) == FLAG_REQUEST


def test_vendor_specific_lookup_distinguishes_vendors() -> None:
    user_name = Avp(d.USER_NAME.code, "alice", 0, 0x40)
    same_code_3gpp = Avp(d.USER_NAME.code, b"\x01", VENDOR_3GPP, 0x80)
    decoded = decode(encode(with_avps(dwr(), [*dwr().avps, user_name, same_code_3gpp])))
    assert decoded.find(d.USER_NAME) == user_name
    assert decoded.find((1, VENDOR_3GPP)) == Avp(1, b"\x01", VENDOR_3GPP, 0x80)
