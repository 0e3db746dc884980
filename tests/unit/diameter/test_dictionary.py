"""The dictionary: consistent tables, and the AVPs our protocol notes require."""

from __future__ import annotations

import pytest

from ocs.diameter import dictionary as d
from ocs.diameter.constants import VENDOR_3GPP

T = d.AvpType
REQUIRED_ENTRIES = [
    (456, 0, "Multiple-Services-Credit-Control", T.GROUPED),
    (432, 0, "Rating-Group", T.UNSIGNED32),
    (439, 0, "Service-Identifier", T.UNSIGNED32),
    (437, 0, "Requested-Service-Unit", T.GROUPED),
    (431, 0, "Granted-Service-Unit", T.GROUPED),
    (446, 0, "Used-Service-Unit", T.GROUPED),
    (420, 0, "CC-Time", T.UNSIGNED32),
    (421, 0, "CC-Total-Octets", T.UNSIGNED64),
    (412, 0, "CC-Input-Octets", T.UNSIGNED64),
    (414, 0, "CC-Output-Octets", T.UNSIGNED64),
    (417, 0, "CC-Service-Specific-Units", T.UNSIGNED64),
    (413, 0, "CC-Money", T.GROUPED),
    (445, 0, "Unit-Value", T.GROUPED),
    (447, 0, "Value-Digits", T.INTEGER64),
    (429, 0, "Exponent", T.INTEGER32),
    (425, 0, "Currency-Code", T.UNSIGNED32),
    (448, 0, "Validity-Time", T.UNSIGNED32),
    (430, 0, "Final-Unit-Indication", T.GROUPED),
    (449, 0, "Final-Unit-Action", T.ENUMERATED),
    (268, 0, "Result-Code", T.UNSIGNED32),
    (279, 0, "Failed-AVP", T.GROUPED),
    (443, 0, "Subscription-Id", T.GROUPED),
    (444, 0, "Subscription-Id-Data", T.UTF8_STRING),
    (450, 0, "Subscription-Id-Type", T.ENUMERATED),
    (416, 0, "CC-Request-Type", T.ENUMERATED),
    (415, 0, "CC-Request-Number", T.UNSIGNED32),
    (436, 0, "Requested-Action", T.ENUMERATED),
    (455, 0, "Multiple-Services-Indicator", T.ENUMERATED),
    (427, 0, "Credit-Control-Failure-Handling", T.ENUMERATED),
    (55, 0, "Event-Timestamp", T.TIME),
    (295, 0, "Termination-Cause", T.ENUMERATED),
    (461, 0, "Service-Context-Id", T.UTF8_STRING),
    (458, 0, "User-Equipment-Info", T.GROUPED),
    (868, VENDOR_3GPP, "Time-Quota-Threshold", T.UNSIGNED32),
    (869, VENDOR_3GPP, "Volume-Quota-Threshold", T.UNSIGNED32),
    (1226, VENDOR_3GPP, "Unit-Quota-Threshold", T.UNSIGNED32),
    (871, VENDOR_3GPP, "Quota-Holding-Time", T.UNSIGNED32),
    (872, VENDOR_3GPP, "3GPP-Reporting-Reason", T.ENUMERATED),
    (1264, VENDOR_3GPP, "Trigger", T.GROUPED),
    (870, VENDOR_3GPP, "Trigger-Type", T.ENUMERATED),
    (873, VENDOR_3GPP, "Service-Information", T.GROUPED),
    (874, VENDOR_3GPP, "PS-Information", T.GROUPED),
    (876, VENDOR_3GPP, "IMS-Information", T.GROUPED),
    (831, VENDOR_3GPP, "Calling-Party-Address", T.UTF8_STRING),
    (832, VENDOR_3GPP, "Called-Party-Address", T.UTF8_STRING),
    (2000, VENDOR_3GPP, "SMS-Information", T.GROUPED),
]


@pytest.mark.parametrize(("code", "vendor_id", "name", "type_"), REQUIRED_ENTRIES)
def test_gy_avps_from_the_protocol_notes_are_defined(
    code: int, vendor_id: int, name: str, type_: d.AvpType
) -> None:
    definition = d.AVPS_BY_KEY[d.avp_key(code, vendor_id)]
    assert (definition.name, definition.type) == (name, type_)


def test_no_two_entries_share_a_code_and_vendor() -> None:
    assert len(d.AVPS_BY_KEY) == len(d.ALL_AVPS)
    assert len({a.name for a in d.ALL_AVPS}) == len(d.ALL_AVPS)


def test_only_grouped_avps_list_required_children() -> None:
    for definition in d.ALL_AVPS:
        if definition.required or definition.opaque_children:
            assert definition.type is T.GROUPED, definition.name
        for child in definition.required:
            assert d.AVPS_BY_KEY[child.key] is child


def test_commands_require_only_dictionary_avps() -> None:
    for command in d.COMMANDS.values():
        for definition in (*command.request_required, *command.answer_required):
            assert d.AVPS_BY_KEY[definition.key] is definition
        assert set(command.answer_copies) <= set(command.request_required)
