"""Lookups on messages and grouped AVPs, and answers built from requests (RFC 6733 §6.2)."""

from __future__ import annotations

import pytest

from ocs.diameter import dictionary as d
from ocs.diameter.constants import (
    FLAG_ERROR,
    FLAG_PROXIABLE,
    FLAG_RETRANSMIT,
    VENDOR_3GPP,
    CommandCode,
    ResultCode,
)
from ocs.diameter.message import Avp, make_answer
from tests.unit.diameter.samples import OCS_ORIGIN, base_request, ccr_update, proxied

A = Avp.of


def test_avp_of_sets_flags_from_the_dictionary() -> None:
    assert A(d.SESSION_ID, "s").flags == 0x40
    assert A(d.PRODUCT_NAME, "p").flags == 0x00
    assert (A(d.TIME_QUOTA_THRESHOLD, 1).flags, A(d.TIME_QUOTA_THRESHOLD, 1).vendor_id) == (
        0xC0,
        VENDOR_3GPP,
    )
    assert A(d.TGPP_CHARGING_ID, 1).flags == 0x80


def test_find_walks_messages_and_groups() -> None:
    request = ccr_update()
    assert request.session_id == "pgw1.test.local;1;42"
    assert request.int_value(d.CC_REQUEST_NUMBER) == 3
    assert request.find(d.RESULT_CODE) is None
    assert request.int_value(d.RESULT_CODE) is None
    ids = request.find_all(d.SUBSCRIPTION_ID)
    assert [i.str_value(d.SUBSCRIPTION_ID_DATA) for i in ids] == ["4915100001", "262011234567890"]
    mscc = request.find(d.MULTIPLE_SERVICES_CREDIT_CONTROL)
    assert mscc is not None
    used = mscc.find(d.USED_SERVICE_UNIT)
    assert used is not None
    assert used.int_value(d.TGPP_REPORTING_REASON) == 3
    assert mscc.find((d.RATING_GROUP.code, 0)) == A(d.RATING_GROUP, 10)


def test_leaf_avps_have_no_children_and_typed_accessors_check_types() -> None:
    avp = A(d.RATING_GROUP, 10)
    assert avp.children() == []
    assert avp.definition is d.RATING_GROUP
    with pytest.raises(TypeError):
        avp.as_str()
    with pytest.raises(TypeError):
        A(d.SESSION_ID, "s").as_int()


def test_answer_mirrors_the_request_header() -> None:
    request = ccr_update(hop_by_hop=77)
    request.flags |= FLAG_RETRANSMIT
    answer = make_answer(request, OCS_ORIGIN, ResultCode.SUCCESS)
    assert (answer.command_code, answer.application_id) == (272, 4)
    assert (answer.hop_by_hop_id, answer.end_to_end_id) == (77, 1077)
    assert answer.flags == FLAG_PROXIABLE  # R and T cleared, P kept


def test_answer_starts_with_session_id_and_copies_what_the_command_needs() -> None:
    request = ccr_update()
    answer = make_answer(request, OCS_ORIGIN, ResultCode.SUCCESS)
    assert [(a.code, a.value) for a in answer.avps] == [
        (263, "pgw1.test.local;1;42"),
        (268, 2001),
        (264, "ocs.test.local"),
        (296, "test.local"),
        (258, 4),
        (416, 2),
        (415, 3),
    ]


def test_answer_copies_proxy_info_in_order_at_the_end() -> None:
    request = proxied(ccr_update())
    answer = make_answer(request, OCS_ORIGIN, ResultCode.SUCCESS)
    assert answer.avps[-1] == request.avps[-1]
    assert answer.avps[-1].code == d.PROXY_INFO.code


def test_protocol_errors_set_the_e_bit_and_quote_the_failed_avp() -> None:
    request = base_request(CommandCode.DEVICE_WATCHDOG, 3)
    failed = Avp(99_999, b"x", 0, 0x40)
    answer = make_answer(
        request, OCS_ORIGIN, ResultCode.INVALID_HDR_BITS, error_message="bad", failed_avps=[failed]
    )
    assert answer.is_error
    assert not answer.is_request
    assert answer.str_value(d.ERROR_MESSAGE) == "bad"
    failed_avp = answer.find(d.FAILED_AVP)
    assert failed_avp is not None
    assert failed_avp.children() == [failed]
    assert answer.find(d.SESSION_ID) is None


def test_permanent_failures_are_not_protocol_errors() -> None:
    answer = make_answer(ccr_update(), OCS_ORIGIN, ResultCode.MISSING_AVP)
    assert not answer.flags & FLAG_ERROR
    assert ResultCode.TOO_BUSY.is_protocol_error
    assert not ResultCode.MISSING_AVP.is_protocol_error
