"""python-diameter (PyPI, import `diameter`) as an independent decoder of our bytes.

Both decoders' results are reduced to the same plain tree of (code, vendor, flags, value)
so that "decodes identically" is one equality.
"""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

from diameter.message import Message as PdMessage
from diameter.message.avp import Avp as PdAvp
from diameter.message.avp import AvpAddress, AvpGrouped, AvpTime
from diameter.message.avp.errors import AvpDecodeError

from ocs.diameter import dictionary as d
from ocs.diameter.message import Avp, Message

Node = tuple[int, int, int, object]
_SIGNED = {d.AvpType.INTEGER32, d.AvpType.INTEGER64, d.AvpType.ENUMERATED}


def our_tree(avps: list[Avp]) -> list[Node]:
    return [
        (a.code, a.vendor_id, a.flags, our_tree(a.value) if isinstance(a.value, list) else a.value)
        for a in avps
    ]


def _plain(avp: Any) -> object:
    """python-diameter's value for one AVP, in the types our decoder uses."""
    definition = d.AVPS_BY_KEY.get(d.avp_key(avp.code, avp.vendor_id))
    if isinstance(avp, AvpGrouped):
        return pd_tree(avp.value)
    if isinstance(avp, AvpTime):
        return datetime.fromtimestamp(avp.value.timestamp(), UTC)
    if isinstance(avp, AvpAddress):
        return ip_address(avp.value[1])
    if type(avp) is PdAvp and definition is not None:
        return _from_payload(definition, avp.payload)  # known to us, unknown to python-diameter
    try:
        value = avp.value
    except AvpDecodeError:
        return avp.payload  # a zero-length quote inside Failed-AVP: we keep it raw too
    if definition is not None and definition.type is d.AvpType.DIAMETER_IDENTITY:
        return value.decode("ascii")  # python-diameter keeps DiameterIdentity as bytes
    return value


def _from_payload(definition: d.AvpDef, payload: bytes) -> object:
    if definition.type in (d.AvpType.UTF8_STRING, d.AvpType.DIAMETER_IDENTITY):
        return payload.decode()
    if definition.type is d.AvpType.OCTET_STRING:
        return payload
    return int.from_bytes(payload, "big", signed=definition.type in _SIGNED)


def pd_tree(avps: list[Any]) -> list[Node]:
    return [(a.code, a.vendor_id, a.flags, _plain(a)) for a in avps]


def pd_decode(raw: bytes) -> Any:
    return PdMessage.from_bytes(raw, plain_msg=True)


def assert_decodes_identically(raw: bytes, ours: Message) -> None:
    """python-diameter reads the same header and AVP tree, and re-encodes the same bytes."""
    theirs = pd_decode(raw)
    header = theirs.header
    assert (
        header.command_code,
        header.application_id,
        header.command_flags,
        header.hop_by_hop_identifier,
        header.end_to_end_identifier,
        header.length,
    ) == (
        ours.command_code,
        ours.application_id,
        ours.flags,
        ours.hop_by_hop_id,
        ours.end_to_end_id,
        len(raw),
    )
    assert pd_tree(theirs.avps) == our_tree(ours.avps)
    assert theirs.as_bytes() == raw
