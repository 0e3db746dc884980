"""Table-driven RFC 6733 codec: one `struct.unpack_from` walk decodes, one bytearray encodes.

`decode` is strict: every fault raises `DecodeError` carrying the Result-Code to answer with,
the offending AVP for Failed-AVP, and whatever of the message was readable.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, IPv6Address

from ocs.diameter import dictionary as d
from ocs.diameter.constants import (
    AVP_FLAG_MANDATORY,
    AVP_FLAG_VENDOR,
    FLAG_ERROR,
    FLAG_PROXIABLE,
    FLAG_REQUEST,
    HEADER_LENGTH,
    VERSION,
    ResultCode,
)
from ocs.diameter.message import Avp, AvpValue, Message

MAX_GROUP_DEPTH = 16
MAX_LENGTH = 0xFFFFFF  # the 24-bit length fields of header and AVP

_HEADER = struct.Struct(">IIIII")
_AVP_HEADER = struct.Struct(">II")
_AVP_VENDOR_HEADER = struct.Struct(">III")
_U32 = struct.Struct(">I")
_I32 = struct.Struct(">i")
_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")
_FAMILY = struct.Struct(">H")
_FAMILY_IPV4 = 1
_FAMILY_IPV6 = 2
_NTP_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)
_NTP_ERA = 1 << 32
_ONE_SECOND = timedelta(seconds=1)
# Shortest valid payload per type: what a Failed-AVP quotes for a wrong length (RFC 6733 §7.1.5).
_MIN_PAYLOAD_BYTES = {
    d.AvpType.INTEGER32: 4,
    d.AvpType.UNSIGNED32: 4,
    d.AvpType.ENUMERATED: 4,
    d.AvpType.TIME: 4,
    d.AvpType.INTEGER64: 8,
    d.AvpType.UNSIGNED64: 8,
    d.AvpType.ADDRESS: 6,
}


class DecodeError(Exception):
    """A message we cannot accept, with the Result-Code and Failed-AVP to answer it with."""

    def __init__(self, result_code: ResultCode, detail: str, failed_avp: Avp | None = None) -> None:
        super().__init__(f"{result_code.name} ({int(result_code)}): {detail}")
        self.result_code = result_code
        self.detail = detail
        self.failed_avp = failed_avp
        # The header and the AVPs read before the fault, to address the error answer.
        self.message: Message | None = None


class EncodeError(ValueError):
    """A value that does not fit its AVP type or the wire format."""


class _AvpError(Exception):
    """A bad AVP value, turned into a DecodeError by the walk that knows the AVP."""

    def __init__(self, result_code: ResultCode, detail: str) -> None:
        super().__init__(detail)
        self.result_code = result_code
        self.detail = detail


# ---------------------------------------------------------------- decoding

Decoder = Callable[[bytes, int, int], AvpValue]


def _decode_octets(buf: bytes, start: int, stop: int) -> AvpValue:
    return buf[start:stop]


def _decode_utf8(buf: bytes, start: int, stop: int) -> AvpValue:
    try:
        return buf[start:stop].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _AvpError(ResultCode.INVALID_AVP_VALUE, f"not UTF-8: {exc.reason}") from None


def _decode_identity(buf: bytes, start: int, stop: int) -> AvpValue:
    if start == stop:
        raise _AvpError(ResultCode.INVALID_AVP_VALUE, "empty DiameterIdentity")
    try:
        return buf[start:stop].decode("ascii")
    except UnicodeDecodeError:
        raise _AvpError(ResultCode.INVALID_AVP_VALUE, "DiameterIdentity is not ASCII") from None


def _decode_address(buf: bytes, start: int, stop: int) -> AvpValue:
    if stop - start < _FAMILY.size:
        raise _AvpError(ResultCode.INVALID_AVP_LENGTH, "Address shorter than its family")
    family = _FAMILY.unpack_from(buf, start)[0]
    raw = buf[start + _FAMILY.size : stop]
    if family == _FAMILY_IPV4 and len(raw) == 4:
        return IPv4Address(raw)
    if family == _FAMILY_IPV6 and len(raw) == 16:
        return IPv6Address(raw)
    if family in (_FAMILY_IPV4, _FAMILY_IPV6):
        raise _AvpError(
            ResultCode.INVALID_AVP_LENGTH, f"{len(raw)} address bytes for family {family}"
        )
    raise _AvpError(ResultCode.INVALID_AVP_VALUE, f"address family {family} is not IPv4 or IPv6")


def _decode_time(buf: bytes, start: int, stop: int) -> AvpValue:
    if stop - start != _U32.size:
        raise _AvpError(ResultCode.INVALID_AVP_LENGTH, f"{stop - start} bytes, expected 4")
    seconds: int = _U32.unpack_from(buf, start)[0]
    if seconds < 0x80000000:  # RFC 2030 §3: a clear top bit means the era starting 2036
        seconds += _NTP_ERA
    return _NTP_EPOCH + timedelta(seconds=seconds)


_DECODERS: dict[d.AvpType, Decoder] = {
    d.AvpType.OCTET_STRING: _decode_octets,
    d.AvpType.UTF8_STRING: _decode_utf8,
    d.AvpType.DIAMETER_IDENTITY: _decode_identity,
    d.AvpType.ADDRESS: _decode_address,
    d.AvpType.TIME: _decode_time,
}
_INTEGERS: dict[d.AvpType, struct.Struct] = {
    d.AvpType.INTEGER32: _I32,
    d.AvpType.INTEGER64: _I64,
    d.AvpType.UNSIGNED32: _U32,
    d.AvpType.UNSIGNED64: _U64,
    d.AvpType.ENUMERATED: _I32,
}
Unpack = Callable[[bytes, int], tuple[int]]
# Per avp_key: (definition, integer size, integer unpacker, decoder). Integers are read
# inline by the walk, other types through their decoder; neither means Grouped.
DecodeEntry = tuple[d.AvpDef, int, Unpack | None, Decoder | None]


def _decode_entry(definition: d.AvpDef) -> DecodeEntry:
    layout = _INTEGERS.get(definition.type)
    if layout is not None:
        return definition, layout.size, layout.unpack_from, None
    return definition, 0, None, _DECODERS.get(definition.type)


_TABLE = {key: _decode_entry(definition) for key, definition in d.AVPS_BY_KEY.items()}


def _example(definition: d.AvpDef) -> Avp:
    """A zero-filled AVP of minimum length: how Failed-AVP names a missing or short AVP."""
    if definition.type is d.AvpType.GROUPED:
        return Avp.of(definition, [])
    return Avp.of(definition, bytes(_MIN_PAYLOAD_BYTES.get(definition.type, 0)))


def _short_header_fault(buf: bytes, pos: int, end: int) -> DecodeError:
    # RFC 6733 §7.1.5: an incomplete AVP header is quoted padded with zeros.
    code, flags_len, vendor_id = _AVP_VENDOR_HEADER.unpack_from(bytes(buf[pos:end]) + bytes(12))
    flags = flags_len >> 24
    vendor_id = vendor_id if flags & AVP_FLAG_VENDOR else 0
    failed = Avp(code, b"", vendor_id, flags)
    return DecodeError(ResultCode.INVALID_AVP_LENGTH, f"{end - pos} bytes left for an AVP", failed)


def _length_fault(
    code: int, vendor_id: int, flags: int, length: int, definition: d.AvpDef | None
) -> DecodeError:
    failed = _example(definition) if definition else Avp(code, b"", vendor_id)
    failed.flags = flags
    detail = f"AVP {code} (vendor {vendor_id}) length {length} does not fit"
    return DecodeError(ResultCode.INVALID_AVP_LENGTH, detail, failed)


def _value_fault(definition: d.AvpDef, flags: int, fault: _AvpError, raw: bytes) -> DecodeError:
    if fault.result_code is ResultCode.INVALID_AVP_LENGTH:
        failed = _example(definition)
    else:
        failed = Avp(definition.code, raw, definition.vendor_id)
    failed.flags = flags
    return DecodeError(fault.result_code, f"{definition.name}: {fault.detail}", failed)


def _walk(buf: bytes, pos: int, end: int, out: list[Avp], depth: int, strict: bool) -> None:
    """Decode the AVPs in buf[pos:end] into `out`. Non-strict keeps bad values as bytes.

    The hot path of every request: locals instead of globals, integers read inline.
    """
    unpack_header = _AVP_HEADER.unpack_from
    unpack_u32 = _U32.unpack_from
    table_get = _TABLE.get
    append = out.append
    vendor_bit, mandatory_bit = AVP_FLAG_VENDOR, AVP_FLAG_MANDATORY
    while pos < end:
        if end - pos < 8:
            raise _short_header_fault(buf, pos, end)
        code, flags_len = unpack_header(buf, pos)
        flags = flags_len >> 24
        length = flags_len & 0xFFFFFF
        if flags & vendor_bit:
            if end - pos < 12:
                raise _short_header_fault(buf, pos, end)
            vendor_id = unpack_u32(buf, pos + 8)[0]
            start = pos + 12
        else:
            vendor_id = 0
            start = pos + 8
        stop = pos + length
        entry = table_get((vendor_id << 32) | code)
        if stop < start or stop > end:
            raise _length_fault(code, vendor_id, flags, length, entry[0] if entry else None)
        value: AvpValue
        if entry is None:
            if strict and flags & mandatory_bit:
                raise DecodeError(
                    ResultCode.AVP_UNSUPPORTED,
                    f"unknown AVP {code} (vendor {vendor_id}) has the M bit",
                    Avp(code, buf[start:stop], vendor_id, flags),
                )
            value = buf[start:stop]
        else:
            definition, size, unpack, decoder = entry
            if unpack is not None:
                if stop - start == size:
                    value = unpack(buf, start)[0]
                elif strict:
                    fault = _AvpError(ResultCode.INVALID_AVP_LENGTH, f"{stop - start} bytes")
                    raise _value_fault(definition, flags, fault, buf[start:stop])
                else:
                    value = buf[start:stop]
            elif decoder is not None:
                try:
                    value = decoder(buf, start, stop)
                except _AvpError as fault:
                    if strict:
                        raise _value_fault(definition, flags, fault, buf[start:stop]) from None
                    value = buf[start:stop]
            else:
                value = _decode_group(buf, start, stop, definition, flags, depth, strict)
        append(Avp(code, value, vendor_id, flags))
        pos += (length + 3) & ~3


def _decode_group(
    buf: bytes, start: int, stop: int, definition: d.AvpDef, flags: int, depth: int, strict: bool
) -> AvpValue:
    if depth >= MAX_GROUP_DEPTH:
        if not strict:
            return buf[start:stop]
        fault = _AvpError(ResultCode.INVALID_AVP_VALUE, f"nested deeper than {MAX_GROUP_DEPTH}")
        raise _value_fault(definition, flags, fault, buf[start:stop])
    children: list[Avp] = []
    strict_children = strict and not definition.opaque_children
    try:
        _walk(buf, start, stop, children, depth + 1, strict_children)
        if strict_children and definition.required:
            _check_required(children, definition.required, definition.name)
    except DecodeError as inner:
        # RFC 6733 §7.5: quote a nested offender inside its (otherwise empty) parents.
        nested = [inner.failed_avp] if inner.failed_avp else []
        inner.failed_avp = Avp(definition.code, nested, definition.vendor_id, flags)
        raise
    return children


def _check_required(avps: Iterable[Avp], required: tuple[d.AvpDef, ...], where: str) -> None:
    present = {(a.vendor_id << 32) | a.code for a in avps}
    for definition in required:
        if definition.key not in present:
            raise DecodeError(
                ResultCode.MISSING_AVP,
                f"{where} lacks {definition.name}",
                _example(definition),
            )


def _header_message(buf: bytes) -> tuple[Message, int, int]:
    ver_len, flags_code, application_id, hop_by_hop, end_to_end = _HEADER.unpack_from(buf)
    command_code, flags = flags_code & MAX_LENGTH, flags_code >> 24
    message = Message(command_code, application_id, flags, hop_by_hop, end_to_end)
    return message, ver_len >> 24, ver_len & MAX_LENGTH


def frame_length(header: bytes, max_message_bytes: int) -> int:
    """The length of the message that starts with these 20 bytes, if we can take it.

    Raises DecodeError (with the header as `message`) when the stream cannot be trusted.
    """
    message, version, length = _header_message(header)
    fault = None
    if version != VERSION:
        fault = DecodeError(ResultCode.UNSUPPORTED_VERSION, f"version {version}")
    elif length < HEADER_LENGTH or length % 4:
        fault = DecodeError(ResultCode.INVALID_MESSAGE_LENGTH, f"message length {length}")
    elif length > max_message_bytes:
        fault = DecodeError(
            ResultCode.INVALID_MESSAGE_LENGTH, f"{length} bytes exceeds {max_message_bytes}"
        )
    if fault is not None:
        fault.message = message
        raise fault
    return length


def decode(buf: bytes) -> Message:
    """Decode and validate one whole message."""
    if len(buf) < HEADER_LENGTH:
        raise DecodeError(ResultCode.INVALID_MESSAGE_LENGTH, f"{len(buf)} bytes is no header")
    message, version, length = _header_message(buf)
    try:
        if version != VERSION:
            raise DecodeError(ResultCode.UNSUPPORTED_VERSION, f"version {version}")
        if length != len(buf) or length % 4:
            raise DecodeError(
                ResultCode.INVALID_MESSAGE_LENGTH, f"header says {length} bytes, got {len(buf)}"
            )
        _decode_body(buf, message)
    except DecodeError as fault:
        fault.message = message
        raise
    return message


def _decode_body(buf: bytes, message: Message) -> None:
    try:
        _walk(buf, HEADER_LENGTH, len(buf), message.avps, 0, strict=True)
    except DecodeError:
        if message.is_request:
            _check_request_header(message)  # a protocol error (3xxx) outranks a bad AVP
        raise
    # Answers are not refused for their command: one we never asked for is simply dropped.
    if message.is_request:
        command: d.CommandDef | None = _check_request_header(message)
    else:
        command = d.COMMANDS.get(message.command_code)
    where = command.name if command else f"command {message.command_code}"
    _check_required(message.avps, _required_avps(message, command), where)


def _required_avps(message: Message, command: d.CommandDef | None) -> tuple[d.AvpDef, ...]:
    if command is None:
        return d.ERROR_ANSWER_REQUIRED
    if message.is_request:
        return command.request_required
    result_code = message.result_code
    if result_code is not None and 2000 <= result_code < 3000:
        return command.answer_required
    # A failure may answer a request that lacked the very AVPs its answer would echo.
    return d.ERROR_ANSWER_REQUIRED


def _check_request_header(message: Message) -> d.CommandDef:
    command = d.COMMANDS.get(message.command_code)
    if command is None:
        raise DecodeError(ResultCode.COMMAND_UNSUPPORTED, f"command {message.command_code}")
    if message.application_id != command.application_id:
        raise DecodeError(
            ResultCode.APPLICATION_UNSUPPORTED,
            f"{command.name} with application {message.application_id}",
        )
    if message.flags & FLAG_ERROR or message.is_proxiable != command.proxiable:
        raise DecodeError(
            ResultCode.INVALID_HDR_BITS, f"{command.name} request flags {message.flags:#04x}"
        )
    return command


# ---------------------------------------------------------------- encoding

Encoder = Callable[[AvpValue, bytearray], None]
_PADDING = (b"", b"\0", b"\0\0", b"\0\0\0")


def _encode_utf8(value: AvpValue, out: bytearray) -> None:
    if not isinstance(value, str):
        raise EncodeError(f"{type(value).__name__} is not a str")
    out += value.encode("utf-8")


def _encode_identity(value: AvpValue, out: bytearray) -> None:
    if not isinstance(value, str) or not value.isascii() or not value:
        raise EncodeError(f"{value!r} is not a DiameterIdentity")
    out += value.encode("ascii")


def _encode_address(value: AvpValue, out: bytearray) -> None:
    if isinstance(value, IPv4Address):
        out += _FAMILY.pack(_FAMILY_IPV4) + value.packed
    elif isinstance(value, IPv6Address):
        out += _FAMILY.pack(_FAMILY_IPV6) + value.packed
    else:
        raise EncodeError(f"{value!r} is not an IP address")


def _encode_time(value: AvpValue, out: bytearray) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise EncodeError(f"{value!r} is not a timezone-aware datetime")
    seconds = (value - _NTP_EPOCH) // _ONE_SECOND
    if not 0x80000000 <= seconds < 0x80000000 + _NTP_ERA:
        raise EncodeError(f"{value.isoformat()} is outside the Time range 1968-2104")
    out += _U32.pack(seconds % _NTP_ERA)


def _encode_wrong_shape(value: AvpValue, out: bytearray) -> None:
    raise EncodeError(f"{type(value).__name__} does not fit this AVP type")


_ENCODERS: dict[d.AvpType, Encoder] = {
    d.AvpType.UTF8_STRING: _encode_utf8,
    d.AvpType.DIAMETER_IDENTITY: _encode_identity,
    d.AvpType.ADDRESS: _encode_address,
    d.AvpType.TIME: _encode_time,
}
Pack = Callable[[int], bytes]


# Per avp_key: an integer packer, or an encoder for the other types. Bytes values (raw)
# and lists (Grouped) never reach the table.
def _encode_entry(definition: d.AvpDef) -> tuple[Pack | None, Encoder]:
    layout = _INTEGERS.get(definition.type)
    encoder = _ENCODERS.get(definition.type, _encode_wrong_shape)
    return (layout.pack if layout else None), encoder


_ENCODER_TABLE = {key: _encode_entry(definition) for key, definition in d.AVPS_BY_KEY.items()}


def _encode_avps(avps: list[Avp], out: bytearray) -> None:
    """Append the AVPs to `out`; integers are packed inline, as the walk reads them."""
    pack_header, pack_vendor_header = _AVP_HEADER.pack, _AVP_VENDOR_HEADER.pack
    pack_length = _U32.pack_into
    table_get = _ENCODER_TABLE.get
    for avp in avps:
        start = len(out)
        code, vendor_id, value = avp.code, avp.vendor_id, avp.value
        if vendor_id:
            out += pack_vendor_header(code, 0, vendor_id)
            flags = avp.flags | AVP_FLAG_VENDOR
        else:
            out += pack_header(code, 0)
            flags = avp.flags & ~AVP_FLAG_VENDOR
        if isinstance(value, bytes):  # raw: unknown AVPs, and quotes of malformed ones
            out += value
        elif isinstance(value, list):
            _encode_avps(value, out)
        else:
            entry = table_get((vendor_id << 32) | code)
            if entry is None:
                raise EncodeError(f"AVP {code} (vendor {vendor_id}) is unknown: give bytes")
            pack, encoder = entry
            if pack is None:
                encoder(value, out)
            elif isinstance(value, int) and not isinstance(value, bool):
                out += pack(value)  # struct.error when out of range
            else:
                raise EncodeError(f"AVP {code}: {type(value).__name__} is not an integer")
        length = len(out) - start
        if length > MAX_LENGTH:
            raise EncodeError(f"AVP {code} is {length} bytes long")
        pack_length(out, start + 4, (flags << 24) | length)
        out += _PADDING[-length & 3]


def encode(message: Message) -> bytes:
    """Encode a message; raises EncodeError for a value its AVP type cannot carry."""
    if not (0 <= message.command_code <= MAX_LENGTH and 0 <= message.flags <= 0xFF):
        raise EncodeError(f"command {message.command_code} flags {message.flags} out of range")
    out = bytearray(HEADER_LENGTH)
    try:
        _encode_avps(message.avps, out)
        if len(out) > MAX_LENGTH:
            raise EncodeError(f"message is {len(out)} bytes long")
        _HEADER.pack_into(
            out,
            0,
            (VERSION << 24) | len(out),
            (message.flags << 24) | message.command_code,
            message.application_id,
            message.hop_by_hop_id,
            message.end_to_end_id,
        )
    except struct.error as exc:
        raise EncodeError(f"header or AVP field out of range: {exc}") from None
    return bytes(out)


def request_flags(command: d.CommandDef) -> int:
    """The header flags a request of this command carries."""
    return FLAG_REQUEST | (FLAG_PROXIABLE if command.proxiable else 0)
