"""python-diameter (PyPI) as an independent decoder and encoder for our codec."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from diameter.message import constants as pdc
from diameter.message.avp import (
    AvpAddress,
    AvpGrouped,
    AvpInteger32,
    AvpInteger64,
    AvpOctetString,
    AvpTime,
    AvpUnsigned32,
    AvpUnsigned64,
    AvpUtf8String,
)
from diameter.message.avp.dictionary import AVP_DICTIONARY, AVP_VENDOR_DICTIONARY
from diameter.message.commands.credit_control import (
    CreditControlRequest,
    MultipleServicesCreditControl,
    RequestedServiceUnit,
    SubscriptionId,
    UsedServiceUnit,
)

from ocs.diameter import dictionary as d
from ocs.diameter.codec import decode, encode
from ocs.diameter.constants import CommandCode, DisconnectCause, ResultCode
from ocs.diameter.message import Avp, Message, make_answer
from tests.unit.diameter.independent import assert_decodes_identically
from tests.unit.diameter.samples import OCS_ORIGIN, base_request, cca_for, ccr_update, cer

SAMPLES: dict[str, Message] = {
    "CCR-U": ccr_update(),
    "CCA": cca_for(ccr_update()),
    "CER": cer(),
    "DWR": base_request(CommandCode.DEVICE_WATCHDOG, 9),
    "DPR": base_request(
        CommandCode.DISCONNECT_PEER, 10, Avp.of(d.DISCONNECT_CAUSE, DisconnectCause.REBOOTING)
    ),
    "CCA 5005 with Failed-AVP": make_answer(
        ccr_update(),
        OCS_ORIGIN,
        ResultCode.MISSING_AVP,
        error_message="Credit-Control lacks CC-Request-Number",
        failed_avps=[Avp.of(d.CC_REQUEST_NUMBER, 0)],
    ),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_our_encoding_decodes_identically_in_python_diameter(name: str) -> None:
    raw = encode(SAMPLES[name])
    assert decode(raw) == SAMPLES[name]
    assert_decodes_identically(raw, decode(raw))


def test_a_ccr_built_by_python_diameter_decodes_to_the_same_values() -> None:
    ccr = CreditControlRequest()
    ccr.header.application_id = 4  # python-diameter leaves it 0
    ccr.header.hop_by_hop_identifier = 0x1234
    ccr.header.end_to_end_identifier = 0x5678
    ccr.session_id = "pgw.python-diameter;1;2"
    ccr.origin_host = b"pgw.python-diameter"
    ccr.origin_realm = b"test.local"
    ccr.destination_realm = b"test.local"
    ccr.service_context_id = "32251@3gpp.org"
    ccr.cc_request_type = 2
    ccr.cc_request_number = 5
    ccr.event_timestamp = datetime(2026, 3, 1, 12, 0, 0)
    ccr.subscription_id = [SubscriptionId(subscription_id_type=1, subscription_id_data="2620199")]
    ccr.multiple_services_credit_control = [
        MultipleServicesCreditControl(
            requested_service_unit=RequestedServiceUnit(),
            used_service_unit=[UsedServiceUnit(cc_total_octets=123456, cc_time=30)],
            rating_group=20,
        )
    ]
    ours = decode(ccr.as_bytes())
    assert (ours.command_code, ours.application_id, ours.hop_by_hop_id) == (272, 4, 0x1234)
    assert ours.is_request
    assert ours.is_proxiable
    assert ours.session_id == "pgw.python-diameter;1;2"
    assert ours.str_value(d.ORIGIN_HOST) == "pgw.python-diameter"
    assert ours.int_value(d.CC_REQUEST_NUMBER) == 5
    timestamp = ours.find(d.EVENT_TIMESTAMP)
    assert timestamp is not None
    assert timestamp.value == datetime.fromtimestamp(ccr.event_timestamp.timestamp(), UTC)
    mscc = ours.find(d.MULTIPLE_SERVICES_CREDIT_CONTROL)
    assert mscc is not None
    assert mscc.int_value(d.RATING_GROUP) == 20
    used = mscc.find(d.USED_SERVICE_UNIT)
    assert used is not None
    assert (used.int_value(d.CC_TOTAL_OCTETS), used.int_value(d.CC_TIME)) == (123456, 30)
    assert encode(ours) == ccr.as_bytes()


_COMPATIBLE = {
    d.AvpType.OCTET_STRING: {AvpOctetString},
    d.AvpType.DIAMETER_IDENTITY: {AvpOctetString},  # python-diameter has no identity type
    d.AvpType.UTF8_STRING: {AvpUtf8String},
    d.AvpType.ADDRESS: {AvpAddress},
    d.AvpType.INTEGER32: {AvpInteger32},
    d.AvpType.ENUMERATED: {AvpInteger32},
    d.AvpType.INTEGER64: {AvpInteger64},
    d.AvpType.UNSIGNED32: {AvpUnsigned32},
    d.AvpType.UNSIGNED64: {AvpUnsigned64},
    d.AvpType.TIME: {AvpTime},
    d.AvpType.GROUPED: {AvpGrouped},
}
# python-diameter says Integer32 where RFC 6733 (§7.1, §6.10) says Unsigned32: we follow the RFC.
_KNOWN_DIFFERENCES = {(d.RESULT_CODE.code, 0), (d.INBAND_SECURITY_ID.code, 0)}


def _python_diameter_entry(definition: d.AvpDef) -> dict[str, object] | None:
    table = (
        AVP_VENDOR_DICTIONARY.get(definition.vendor_id, {})
        if definition.vendor_id
        else AVP_DICTIONARY
    )
    entry: dict[str, object] | None = table.get(definition.code)
    return entry


def test_our_dictionary_agrees_with_python_diameter_on_shared_entries() -> None:
    compared = 0
    for definition in d.ALL_AVPS:
        entry = _python_diameter_entry(definition)
        if entry is None or (definition.code, definition.vendor_id) in _KNOWN_DIFFERENCES:
            continue
        compared += 1
        assert entry["type"] in _COMPATIBLE[definition.type], definition.name
    assert compared >= 80
    assert d.TGPP_CHARGING_ID.vendor_id == pdc.VENDOR_TGPP
