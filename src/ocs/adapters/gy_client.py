"""A small Gy client: builds CCRs and exchanges them with an OCS over TCP.

Used by the Diameter load generator in bench/, by end-to-end tests and by `ocs gy ccr` to probe
a running server. It plays the network element (PGW, SMF, IMS) side.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import ip_address

from ocs.diameter import dictionary as d
from ocs.diameter.codec import decode, encode, frame_length, request_flags
from ocs.diameter.constants import (
    FLAG_RETRANSMIT,
    HEADER_LENGTH,
    ApplicationId,
    CommandCode,
    ResultCode,
)
from ocs.diameter.message import Avp, Message

A = Avp.of
CCR_TYPES = {"INITIAL": 1, "UPDATE": 2, "TERMINATION": 3, "EVENT": 4}
MESSAGE_BYTES_MAX = 1 << 20


@dataclass(frozen=True)
class Mscc:
    """One Multiple-Services-Credit-Control: what to request and what was used."""

    rating_group: int
    requested_octets: int | None = None
    requested_time_s: int | None = None
    requested_units: int | None = None
    request_default: bool = False  # an empty Requested-Service-Unit
    used_octets: int | None = None
    used_time_s: int | None = None
    used_units: int | None = None


@dataclass
class GyPeer:
    origin_host: str
    origin_realm: str
    destination_realm: str = "localdomain"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return next(self._ids) & 0xFFFFFFFF

    def cer(self) -> Message:
        avps = [
            A(d.ORIGIN_HOST, self.origin_host),
            A(d.ORIGIN_REALM, self.origin_realm),
            A(d.HOST_IP_ADDRESS, ip_address("127.0.0.1")),
            A(d.VENDOR_ID, 0),
            A(d.PRODUCT_NAME, "ocs-gy-client"),
            A(d.AUTH_APPLICATION_ID, ApplicationId.CREDIT_CONTROL),
        ]
        command = d.COMMANDS[CommandCode.CAPABILITIES_EXCHANGE]
        hop = self.next_id()
        return Message(command.code, 0, request_flags(command), hop, hop, avps)

    def ccr(
        self,
        session_id: str,
        request_type: str,
        request_number: int,
        msisdn: str,
        services: tuple[Mscc, ...] = (),
        requested_action: int | None = None,
        called_party: str | None = None,
        event_time: datetime | None = None,
    ) -> Message:
        avps = [
            A(d.SESSION_ID, session_id),
            A(d.ORIGIN_HOST, self.origin_host),
            A(d.ORIGIN_REALM, self.origin_realm),
            A(d.DESTINATION_REALM, self.destination_realm),
            A(d.AUTH_APPLICATION_ID, ApplicationId.CREDIT_CONTROL),
            A(d.SERVICE_CONTEXT_ID, "32251@3gpp.org"),
            A(d.CC_REQUEST_TYPE, CCR_TYPES[request_type]),
            A(d.CC_REQUEST_NUMBER, request_number),
            A(d.SUBSCRIPTION_ID, [A(d.SUBSCRIPTION_ID_TYPE, 0), A(d.SUBSCRIPTION_ID_DATA, msisdn)]),
        ]
        if event_time is not None:
            avps.append(A(d.EVENT_TIMESTAMP, event_time))
        if requested_action is not None:
            avps.append(A(d.REQUESTED_ACTION, requested_action))
        if services:
            avps.append(A(d.MULTIPLE_SERVICES_INDICATOR, 1))
            avps += [A(d.MULTIPLE_SERVICES_CREDIT_CONTROL, _mscc(s)) for s in services]
        if called_party is not None:
            ims = A(d.IMS_INFORMATION, [A(d.CALLED_PARTY_ADDRESS, called_party)])
            avps.append(A(d.SERVICE_INFORMATION, [ims]))
        command = d.COMMANDS[CommandCode.CREDIT_CONTROL]
        hop = self.next_id()
        return Message(
            command.code, ApplicationId.CREDIT_CONTROL, request_flags(command), hop, hop, avps
        )


def _units(octets: int | None, time_s: int | None, units: int | None) -> list[Avp]:
    pairs = ((d.CC_TOTAL_OCTETS, octets), (d.CC_TIME, time_s), (d.CC_SERVICE_SPECIFIC_UNITS, units))
    return [A(definition, value) for definition, value in pairs if value is not None]


def _mscc(service: Mscc) -> list[Avp]:
    avps: list[Avp] = []
    requested = _units(service.requested_octets, service.requested_time_s, service.requested_units)
    if requested or service.request_default:
        avps.append(A(d.REQUESTED_SERVICE_UNIT, requested))
    used = _units(service.used_octets, service.used_time_s, service.used_units)
    if used:
        avps.append(A(d.USED_SERVICE_UNIT, used))
    avps.append(A(d.RATING_GROUP, service.rating_group))
    return avps


def retransmitted(message: Message) -> Message:
    """The same request again with the T flag, as after a failover."""
    return Message(
        message.command_code,
        message.application_id,
        message.flags | FLAG_RETRANSMIT,
        message.hop_by_hop_id,
        message.end_to_end_id,
        message.avps,
    )


class GyConnection:
    """One TCP connection to an OCS, with answers matched to requests by hop-by-hop id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._waiting: dict[int, asyncio.Future[Message]] = {}
        self._pump: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, host: str, port: int, peer: GyPeer) -> GyConnection:
        reader, writer = await asyncio.open_connection(host, port)
        connection = cls(reader, writer)
        writer.write(encode(peer.cer()))
        cea = await connection._read()
        if cea.result_code != ResultCode.SUCCESS:
            writer.close()
            raise ConnectionError(f"CER refused with Result-Code {cea.result_code}")
        connection._pump = asyncio.create_task(connection._read_answers())
        return connection

    async def _read(self) -> Message:
        header = await self._reader.readexactly(HEADER_LENGTH)
        body = await self._reader.readexactly(
            frame_length(header, MESSAGE_BYTES_MAX) - HEADER_LENGTH
        )
        return decode(header + body)

    async def _read_answers(self) -> None:
        try:
            while True:
                message = await self._read()
                waiter = self._waiting.pop(message.hop_by_hop_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError(f"connection lost: {exc}"))
            self._waiting.clear()

    async def ask(self, request: Message) -> Message:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[request.hop_by_hop_id] = future
        self._writer.write(encode(request))
        return await future

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except ConnectionError:
            return


def granted_octets(cca: Message, rating_group: int) -> int | None:
    for mscc in cca.find_all(d.MULTIPLE_SERVICES_CREDIT_CONTROL):
        if mscc.int_value(d.RATING_GROUP) == rating_group:
            gsu = mscc.find(d.GRANTED_SERVICE_UNIT)
            return None if gsu is None else gsu.int_value(d.CC_TOTAL_OCTETS)
    return None


def mscc_result(cca: Message, rating_group: int) -> int | None:
    for mscc in cca.find_all(d.MULTIPLE_SERVICES_CREDIT_CONTROL):
        if mscc.int_value(d.RATING_GROUP) == rating_group:
            return mscc.int_value(d.RESULT_CODE)
    return None
