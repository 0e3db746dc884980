"""The AVP and command dictionary as plain data tables.

Covers the base protocol AVPs of CER/CEA, DWR/DWA and DPR/DPA (RFC 6733), the
Credit-Control application (RFC 8506) and the 3GPP TS 32.299 AVPs of Gy/Ro.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ocs.diameter.constants import VENDOR_3GPP, ApplicationId, CommandCode


class AvpType(Enum):
    OCTET_STRING = "OctetString"
    UTF8_STRING = "UTF8String"
    DIAMETER_IDENTITY = "DiameterIdentity"
    ADDRESS = "Address"
    INTEGER32 = "Integer32"
    INTEGER64 = "Integer64"
    UNSIGNED32 = "Unsigned32"
    UNSIGNED64 = "Unsigned64"
    ENUMERATED = "Enumerated"
    TIME = "Time"
    GROUPED = "Grouped"


@dataclass(frozen=True, slots=True)
class AvpDef:
    """One dictionary entry. `required` lists the children a Grouped AVP must carry."""

    code: int
    name: str
    type: AvpType
    vendor_id: int = 0
    mandatory: bool = True
    required: tuple[AvpDef, ...] = ()
    # Failed-AVP quotes AVPs we may not know or that were malformed: never reject them.
    opaque_children: bool = False
    key: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", avp_key(self.code, self.vendor_id))


def avp_key(code: int, vendor_id: int) -> int:
    """One int per (code, vendor) pair: cheaper to hash than a tuple on the decode path."""
    return (vendor_id << 32) | code


T = AvpType

# RFC 6733 base protocol
USER_NAME = AvpDef(1, "User-Name", T.UTF8_STRING)
CLASS = AvpDef(25, "Class", T.OCTET_STRING)
SESSION_TIMEOUT = AvpDef(27, "Session-Timeout", T.UNSIGNED32)
PROXY_STATE = AvpDef(33, "Proxy-State", T.OCTET_STRING)
EVENT_TIMESTAMP = AvpDef(55, "Event-Timestamp", T.TIME)
HOST_IP_ADDRESS = AvpDef(257, "Host-IP-Address", T.ADDRESS)
AUTH_APPLICATION_ID = AvpDef(258, "Auth-Application-Id", T.UNSIGNED32)
ACCT_APPLICATION_ID = AvpDef(259, "Acct-Application-Id", T.UNSIGNED32)
VENDOR_ID = AvpDef(266, "Vendor-Id", T.UNSIGNED32)
VENDOR_SPECIFIC_APPLICATION_ID = AvpDef(
    260, "Vendor-Specific-Application-Id", T.GROUPED, required=(VENDOR_ID,)
)
SESSION_ID = AvpDef(263, "Session-Id", T.UTF8_STRING)
ORIGIN_HOST = AvpDef(264, "Origin-Host", T.DIAMETER_IDENTITY)
SUPPORTED_VENDOR_ID = AvpDef(265, "Supported-Vendor-Id", T.UNSIGNED32)
FIRMWARE_REVISION = AvpDef(267, "Firmware-Revision", T.UNSIGNED32, mandatory=False)
RESULT_CODE = AvpDef(268, "Result-Code", T.UNSIGNED32)
PRODUCT_NAME = AvpDef(269, "Product-Name", T.UTF8_STRING, mandatory=False)
DISCONNECT_CAUSE = AvpDef(273, "Disconnect-Cause", T.ENUMERATED)
AUTH_REQUEST_TYPE = AvpDef(274, "Auth-Request-Type", T.ENUMERATED)
AUTH_SESSION_STATE = AvpDef(277, "Auth-Session-State", T.ENUMERATED)
ORIGIN_STATE_ID = AvpDef(278, "Origin-State-Id", T.UNSIGNED32)
FAILED_AVP = AvpDef(279, "Failed-AVP", T.GROUPED, opaque_children=True)
PROXY_HOST = AvpDef(280, "Proxy-Host", T.DIAMETER_IDENTITY)
ERROR_MESSAGE = AvpDef(281, "Error-Message", T.UTF8_STRING, mandatory=False)
ROUTE_RECORD = AvpDef(282, "Route-Record", T.DIAMETER_IDENTITY)
DESTINATION_REALM = AvpDef(283, "Destination-Realm", T.DIAMETER_IDENTITY)
PROXY_INFO = AvpDef(284, "Proxy-Info", T.GROUPED, required=(PROXY_HOST, PROXY_STATE))
DESTINATION_HOST = AvpDef(293, "Destination-Host", T.DIAMETER_IDENTITY)
ERROR_REPORTING_HOST = AvpDef(294, "Error-Reporting-Host", T.DIAMETER_IDENTITY, mandatory=False)
TERMINATION_CAUSE = AvpDef(295, "Termination-Cause", T.ENUMERATED)
ORIGIN_REALM = AvpDef(296, "Origin-Realm", T.DIAMETER_IDENTITY)
EXPERIMENTAL_RESULT_CODE = AvpDef(298, "Experimental-Result-Code", T.UNSIGNED32)
EXPERIMENTAL_RESULT = AvpDef(
    297, "Experimental-Result", T.GROUPED, required=(VENDOR_ID, EXPERIMENTAL_RESULT_CODE)
)
INBAND_SECURITY_ID = AvpDef(299, "Inband-Security-Id", T.UNSIGNED32)
CALLED_STATION_ID = AvpDef(30, "Called-Station-Id", T.UTF8_STRING)  # RFC 7155, used by Gy

# RFC 8506 Credit-Control
CC_CORRELATION_ID = AvpDef(411, "CC-Correlation-Id", T.OCTET_STRING, mandatory=False)
CC_INPUT_OCTETS = AvpDef(412, "CC-Input-Octets", T.UNSIGNED64)
CURRENCY_CODE = AvpDef(425, "Currency-Code", T.UNSIGNED32)
EXPONENT = AvpDef(429, "Exponent", T.INTEGER32)
VALUE_DIGITS = AvpDef(447, "Value-Digits", T.INTEGER64)
UNIT_VALUE = AvpDef(445, "Unit-Value", T.GROUPED, required=(VALUE_DIGITS,))
CC_MONEY = AvpDef(413, "CC-Money", T.GROUPED, required=(UNIT_VALUE,))
CC_OUTPUT_OCTETS = AvpDef(414, "CC-Output-Octets", T.UNSIGNED64)
CC_REQUEST_NUMBER = AvpDef(415, "CC-Request-Number", T.UNSIGNED32)
CC_REQUEST_TYPE = AvpDef(416, "CC-Request-Type", T.ENUMERATED)
CC_SERVICE_SPECIFIC_UNITS = AvpDef(417, "CC-Service-Specific-Units", T.UNSIGNED64)
CC_SESSION_FAILOVER = AvpDef(418, "CC-Session-Failover", T.ENUMERATED)
CC_SUB_SESSION_ID = AvpDef(419, "CC-Sub-Session-Id", T.UNSIGNED64)
CC_TIME = AvpDef(420, "CC-Time", T.UNSIGNED32)
CC_TOTAL_OCTETS = AvpDef(421, "CC-Total-Octets", T.UNSIGNED64)
CHECK_BALANCE_RESULT = AvpDef(422, "Check-Balance-Result", T.ENUMERATED)
COST_UNIT = AvpDef(424, "Cost-Unit", T.UTF8_STRING)
COST_INFORMATION = AvpDef(423, "Cost-Information", T.GROUPED, required=(UNIT_VALUE, CURRENCY_CODE))
CREDIT_CONTROL_FAILURE_HANDLING = AvpDef(427, "Credit-Control-Failure-Handling", T.ENUMERATED)
DIRECT_DEBITING_FAILURE_HANDLING = AvpDef(428, "Direct-Debiting-Failure-Handling", T.ENUMERATED)
FINAL_UNIT_ACTION = AvpDef(449, "Final-Unit-Action", T.ENUMERATED)
REDIRECT_ADDRESS_TYPE = AvpDef(433, "Redirect-Address-Type", T.ENUMERATED)
REDIRECT_SERVER_ADDRESS = AvpDef(435, "Redirect-Server-Address", T.UTF8_STRING)
REDIRECT_SERVER = AvpDef(
    434, "Redirect-Server", T.GROUPED, required=(REDIRECT_ADDRESS_TYPE, REDIRECT_SERVER_ADDRESS)
)
RESTRICTION_FILTER_RULE = AvpDef(438, "Restriction-Filter-Rule", T.OCTET_STRING)
FILTER_ID = AvpDef(11, "Filter-Id", T.UTF8_STRING)
FINAL_UNIT_INDICATION = AvpDef(
    430, "Final-Unit-Indication", T.GROUPED, required=(FINAL_UNIT_ACTION,)
)
TARIFF_TIME_CHANGE = AvpDef(451, "Tariff-Time-Change", T.TIME)
TARIFF_CHANGE_USAGE = AvpDef(452, "Tariff-Change-Usage", T.ENUMERATED)
GSU_POOL_IDENTIFIER = AvpDef(453, "G-S-U-Pool-Identifier", T.UNSIGNED32)
CC_UNIT_TYPE = AvpDef(454, "CC-Unit-Type", T.ENUMERATED)
GSU_POOL_REFERENCE = AvpDef(
    457, "G-S-U-Pool-Reference", T.GROUPED, required=(GSU_POOL_IDENTIFIER, CC_UNIT_TYPE, UNIT_VALUE)
)
GRANTED_SERVICE_UNIT = AvpDef(431, "Granted-Service-Unit", T.GROUPED)
RATING_GROUP = AvpDef(432, "Rating-Group", T.UNSIGNED32)
REQUESTED_ACTION = AvpDef(436, "Requested-Action", T.ENUMERATED)
REQUESTED_SERVICE_UNIT = AvpDef(437, "Requested-Service-Unit", T.GROUPED)
SERVICE_IDENTIFIER = AvpDef(439, "Service-Identifier", T.UNSIGNED32)
SERVICE_PARAMETER_TYPE = AvpDef(441, "Service-Parameter-Type", T.UNSIGNED32, mandatory=False)
SERVICE_PARAMETER_VALUE = AvpDef(442, "Service-Parameter-Value", T.OCTET_STRING, mandatory=False)
SERVICE_PARAMETER_INFO = AvpDef(
    440,
    "Service-Parameter-Info",
    T.GROUPED,
    mandatory=False,
    required=(SERVICE_PARAMETER_TYPE, SERVICE_PARAMETER_VALUE),
)
SUBSCRIPTION_ID_DATA = AvpDef(444, "Subscription-Id-Data", T.UTF8_STRING)
SUBSCRIPTION_ID_TYPE = AvpDef(450, "Subscription-Id-Type", T.ENUMERATED)
SUBSCRIPTION_ID = AvpDef(
    443, "Subscription-Id", T.GROUPED, required=(SUBSCRIPTION_ID_TYPE, SUBSCRIPTION_ID_DATA)
)
USED_SERVICE_UNIT = AvpDef(446, "Used-Service-Unit", T.GROUPED)
VALIDITY_TIME = AvpDef(448, "Validity-Time", T.UNSIGNED32)
MULTIPLE_SERVICES_INDICATOR = AvpDef(455, "Multiple-Services-Indicator", T.ENUMERATED)
MULTIPLE_SERVICES_CREDIT_CONTROL = AvpDef(456, "Multiple-Services-Credit-Control", T.GROUPED)
USER_EQUIPMENT_INFO_TYPE = AvpDef(459, "User-Equipment-Info-Type", T.ENUMERATED, mandatory=False)
USER_EQUIPMENT_INFO_VALUE = AvpDef(
    460, "User-Equipment-Info-Value", T.OCTET_STRING, mandatory=False
)
USER_EQUIPMENT_INFO = AvpDef(
    458,
    "User-Equipment-Info",
    T.GROUPED,
    mandatory=False,
    required=(USER_EQUIPMENT_INFO_TYPE, USER_EQUIPMENT_INFO_VALUE),
)
SERVICE_CONTEXT_ID = AvpDef(461, "Service-Context-Id", T.UTF8_STRING)

# 3GPP TS 32.299 (vendor 10415)
V = VENDOR_3GPP
TGPP_CHARGING_ID = AvpDef(2, "3GPP-Charging-Id", T.OCTET_STRING, V, mandatory=False)
TGPP_RAT_TYPE = AvpDef(21, "3GPP-RAT-Type", T.OCTET_STRING, V, mandatory=False)
TGPP_USER_LOCATION_INFO = AvpDef(22, "3GPP-User-Location-Info", T.OCTET_STRING, V, mandatory=False)
CALLING_PARTY_ADDRESS = AvpDef(831, "Calling-Party-Address", T.UTF8_STRING, V)
CALLED_PARTY_ADDRESS = AvpDef(832, "Called-Party-Address", T.UTF8_STRING, V)
GGSN_ADDRESS = AvpDef(847, "GGSN-Address", T.ADDRESS, V)
TIME_QUOTA_THRESHOLD = AvpDef(868, "Time-Quota-Threshold", T.UNSIGNED32, V)
VOLUME_QUOTA_THRESHOLD = AvpDef(869, "Volume-Quota-Threshold", T.UNSIGNED32, V)
TRIGGER_TYPE = AvpDef(870, "Trigger-Type", T.ENUMERATED, V)
QUOTA_HOLDING_TIME = AvpDef(871, "Quota-Holding-Time", T.UNSIGNED32, V)
TGPP_REPORTING_REASON = AvpDef(872, "3GPP-Reporting-Reason", T.ENUMERATED, V)
PS_INFORMATION = AvpDef(874, "PS-Information", T.GROUPED, V)
IMS_INFORMATION = AvpDef(876, "IMS-Information", T.GROUPED, V)
SMS_INFORMATION = AvpDef(2000, "SMS-Information", T.GROUPED, V)
SERVICE_INFORMATION = AvpDef(873, "Service-Information", T.GROUPED, V)
UNIT_QUOTA_THRESHOLD = AvpDef(1226, "Unit-Quota-Threshold", T.UNSIGNED32, V)
PDP_ADDRESS = AvpDef(1227, "PDP-Address", T.ADDRESS, V)
SGSN_ADDRESS = AvpDef(1228, "SGSN-Address", T.ADDRESS, V)
TRIGGER = AvpDef(1264, "Trigger", T.GROUPED, V)

ALL_AVPS: tuple[AvpDef, ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, AvpDef)
)
AVPS_BY_KEY: dict[int, AvpDef] = {definition.key: definition for definition in ALL_AVPS}


@dataclass(frozen=True, slots=True)
class CommandDef:
    """A command: which AVPs its request and answer must carry, and what an answer copies.

    `answer_copies` are request AVPs echoed into every answer, error answers included,
    so that a client can match e.g. a CCA to its CCR (RFC 8506 §3.2).
    """

    code: CommandCode
    name: str
    application_id: ApplicationId
    proxiable: bool
    request_required: tuple[AvpDef, ...]
    answer_required: tuple[AvpDef, ...]
    answer_copies: tuple[AvpDef, ...] = ()


_ANSWER_BASE = (RESULT_CODE, ORIGIN_HOST, ORIGIN_REALM)
_CAPABILITIES = (ORIGIN_HOST, ORIGIN_REALM, HOST_IP_ADDRESS, VENDOR_ID, PRODUCT_NAME)

# What every answer carries, failures included (RFC 6733 §7.2).
ERROR_ANSWER_REQUIRED = _ANSWER_BASE

COMMANDS: dict[int, CommandDef] = {
    command.code: command
    for command in (
        CommandDef(
            CommandCode.CAPABILITIES_EXCHANGE,
            "Capabilities-Exchange",
            ApplicationId.COMMON,
            proxiable=False,
            request_required=_CAPABILITIES,
            answer_required=(RESULT_CODE, *_CAPABILITIES),
        ),
        CommandDef(
            CommandCode.DEVICE_WATCHDOG,
            "Device-Watchdog",
            ApplicationId.COMMON,
            proxiable=False,
            request_required=(ORIGIN_HOST, ORIGIN_REALM),
            answer_required=_ANSWER_BASE,
        ),
        CommandDef(
            CommandCode.DISCONNECT_PEER,
            "Disconnect-Peer",
            ApplicationId.COMMON,
            proxiable=False,
            request_required=(ORIGIN_HOST, ORIGIN_REALM, DISCONNECT_CAUSE),
            answer_required=_ANSWER_BASE,
        ),
        CommandDef(
            CommandCode.CREDIT_CONTROL,
            "Credit-Control",
            ApplicationId.CREDIT_CONTROL,
            proxiable=True,
            request_required=(
                SESSION_ID,
                ORIGIN_HOST,
                ORIGIN_REALM,
                DESTINATION_REALM,
                AUTH_APPLICATION_ID,
                SERVICE_CONTEXT_ID,
                CC_REQUEST_TYPE,
                CC_REQUEST_NUMBER,
            ),
            answer_required=(
                SESSION_ID,
                *_ANSWER_BASE,
                AUTH_APPLICATION_ID,
                CC_REQUEST_TYPE,
                CC_REQUEST_NUMBER,
            ),
            answer_copies=(AUTH_APPLICATION_ID, CC_REQUEST_TYPE, CC_REQUEST_NUMBER),
        ),
    )
}
