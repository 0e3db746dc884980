"""Typed Diameter values: `Avp` and `Message`, lookups, and answers built from requests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address

from ocs.diameter import dictionary as d
from ocs.diameter.constants import (
    AVP_FLAG_MANDATORY,
    AVP_FLAG_VENDOR,
    FLAG_ERROR,
    FLAG_PROXIABLE,
    FLAG_REQUEST,
    FLAG_RETRANSMIT,
)

AvpValue = int | str | bytes | datetime | IPv4Address | IPv6Address | list["Avp"]
AvpRef = d.AvpDef | tuple[int, int]
"""An AVP to look for: a dictionary entry, or a (code, vendor id) pair for unknown ones."""


def _ref_key(ref: AvpRef) -> tuple[int, int]:
    if isinstance(ref, d.AvpDef):
        return ref.code, ref.vendor_id
    return ref


class AvpContainer:
    """Lookups shared by a message (its AVPs) and a Grouped AVP (its children)."""

    __slots__ = ()

    def children(self) -> list[Avp]:
        raise NotImplementedError

    def find_all(self, ref: AvpRef) -> list[Avp]:
        code, vendor_id = _ref_key(ref)
        return [a for a in self.children() if a.code == code and a.vendor_id == vendor_id]

    def find(self, ref: AvpRef) -> Avp | None:
        code, vendor_id = _ref_key(ref)
        for avp in self.children():
            if avp.code == code and avp.vendor_id == vendor_id:
                return avp
        return None

    def int_value(self, ref: AvpRef) -> int | None:
        avp = self.find(ref)
        return None if avp is None else avp.as_int()

    def str_value(self, ref: AvpRef) -> str | None:
        avp = self.find(ref)
        return None if avp is None else avp.as_str()


@dataclass(slots=True)
class Avp(AvpContainer):
    """One AVP. `value` is typed by the dictionary; unknown AVPs keep their raw bytes.

    The V flag always follows `vendor_id` when encoding.
    """

    code: int
    value: AvpValue
    vendor_id: int = 0
    flags: int = 0

    @classmethod
    def of(cls, definition: d.AvpDef, value: AvpValue) -> Avp:
        """A new AVP with the flags its dictionary entry prescribes."""
        flags = AVP_FLAG_MANDATORY if definition.mandatory else 0
        if definition.vendor_id:
            flags |= AVP_FLAG_VENDOR
        return cls(definition.code, value, definition.vendor_id, flags)

    @property
    def is_mandatory(self) -> bool:
        return bool(self.flags & AVP_FLAG_MANDATORY)

    @property
    def definition(self) -> d.AvpDef | None:
        return d.AVPS_BY_KEY.get(d.avp_key(self.code, self.vendor_id))

    def children(self) -> list[Avp]:
        return self.value if isinstance(self.value, list) else []

    def as_int(self) -> int:
        if not isinstance(self.value, int):
            raise TypeError(f"AVP {self.code} holds {type(self.value).__name__}, not int")
        return self.value

    def as_str(self) -> str:
        if not isinstance(self.value, str):
            raise TypeError(f"AVP {self.code} holds {type(self.value).__name__}, not str")
        return self.value


@dataclass(slots=True)
class Message(AvpContainer):
    """A Diameter message: the header fields and the top-level AVPs in wire order."""

    command_code: int
    application_id: int
    flags: int = 0
    hop_by_hop_id: int = 0
    end_to_end_id: int = 0
    avps: list[Avp] = field(default_factory=list)

    def children(self) -> list[Avp]:
        return self.avps

    @property
    def is_request(self) -> bool:
        return bool(self.flags & FLAG_REQUEST)

    @property
    def is_proxiable(self) -> bool:
        return bool(self.flags & FLAG_PROXIABLE)

    @property
    def is_error(self) -> bool:
        return bool(self.flags & FLAG_ERROR)

    @property
    def is_retransmit(self) -> bool:
        """The T flag: a possible duplicate, for the application to detect (RFC 6733 §3)."""
        return bool(self.flags & FLAG_RETRANSMIT)

    @property
    def session_id(self) -> str | None:
        return self.str_value(d.SESSION_ID)

    @property
    def result_code(self) -> int | None:
        return self.int_value(d.RESULT_CODE)


@dataclass(frozen=True, slots=True)
class Origin:
    """Who we are on the wire: Origin-Host, Origin-Realm and our Origin-State-Id."""

    host: str
    realm: str
    state_id: int


def make_answer(
    request: Message,
    origin: Origin,
    result_code: int,
    *,
    error_message: str | None = None,
    failed_avps: Iterable[Avp] = (),
) -> Message:
    """An answer to `request` as RFC 6733 §6.2 requires.

    Same command, application and identifiers; P bit kept; E bit for 3xxx; Session-Id first;
    Proxy-Info copied in order; plus the AVPs the command's dictionary entry echoes.
    """
    flags = request.flags & FLAG_PROXIABLE
    if 3000 <= result_code < 4000:
        flags |= FLAG_ERROR
    avps: list[Avp] = []
    session_id = request.find(d.SESSION_ID)
    if session_id is not None:
        avps.append(session_id)
    avps += [
        Avp.of(d.RESULT_CODE, result_code),
        Avp.of(d.ORIGIN_HOST, origin.host),
        Avp.of(d.ORIGIN_REALM, origin.realm),
    ]
    command = d.COMMANDS.get(request.command_code)
    for copied in command.answer_copies if command else ():
        avps += request.find_all(copied)
    if error_message:
        avps.append(Avp.of(d.ERROR_MESSAGE, error_message))
    avps += [Avp.of(d.FAILED_AVP, [failed]) for failed in failed_avps]
    avps += request.find_all(d.PROXY_INFO)
    return Message(
        request.command_code,
        request.application_id,
        flags,
        request.hop_by_hop_id,
        request.end_to_end_id,
        avps,
    )
