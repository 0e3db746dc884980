"""One Diameter peer connection: CER/CEA, DWR/DWA, DPR/DPA and application requests.

RFC 6733 §5 (capabilities exchange, disconnect) and RFC 3539 (watchdog). This side is
always the responder: peers connect to us and must be on the configured allow-list.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Protocol

from ocs.diameter import dictionary as d
from ocs.diameter.codec import DecodeError, decode, encode, frame_length
from ocs.diameter.constants import (
    FLAG_REQUEST,
    HEADER_LENGTH,
    VENDOR_3GPP,
    ApplicationId,
    CommandCode,
    DisconnectCause,
    ResultCode,
)
from ocs.diameter.message import Avp, Message, Origin, make_answer

# Below this much unsent data an answer is not worth a drain() and its timeout timer.
WRITE_BUFFER_BYTES_QUIET = 64 * 1024
log = logging.getLogger("ocs.diameter")

IPAddress = IPv4Address | IPv6Address
SUPPORTED_APPLICATIONS = frozenset({ApplicationId.CREDIT_CONTROL})


class RequestHandler(Protocol):
    """The application behind the peer layer: answers one request (e.g. a CCR with a CCA)."""

    async def handle(self, request: Message) -> Message: ...


@dataclass(frozen=True, slots=True)
class AllowedPeer:
    """A peer that may connect: its Origin-Host, and optionally its realm and source IPs."""

    origin_host: str
    origin_realm: str | None = None
    ip_addresses: frozenset[IPAddress] = frozenset()


@dataclass(frozen=True, slots=True)
class PeerConfig:
    """What governs every peer connection."""

    origin_host: str
    origin_realm: str
    allowed_peers: tuple[AllowedPeer, ...]
    product_name: str = "ocs"
    vendor_id: int = 0
    firmware_revision: int = 1
    watchdog_interval_s: float = 30.0  # Tw, RFC 3539 §3.4.1 default
    cer_timeout_s: float = 10.0
    dpa_timeout_s: float = 5.0
    write_timeout_s: float = 10.0
    max_in_flight_requests: int = 64
    max_message_bytes: int = 65536


class PeerState(Enum):
    WAIT_CER = "wait-cer"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


@dataclass(slots=True)
class PeerCounters:
    watchdog_requests_received: int = 0
    watchdog_answers_received: int = 0
    application_requests_received: int = 0
    busy_answers_sent: int = 0
    malformed_messages_received: int = 0


class PeerRegistry(Protocol):
    """Where open connections are listed, one per Origin-Host."""

    def register(self, origin_host: str, connection: PeerConnection) -> None: ...

    def unregister(self, connection: PeerConnection) -> None: ...


def refusal_reason(
    allowed: tuple[AllowedPeer, ...], origin_host: str, origin_realm: str, address: IPAddress
) -> str | None:
    """Why a peer may not connect, or None if it may. DiameterIdentities compare caselessly."""
    entry = next((p for p in allowed if p.origin_host.lower() == origin_host.lower()), None)
    if entry is None:
        return "Origin-Host is not a configured peer"
    if entry.origin_realm is not None and entry.origin_realm.lower() != origin_realm.lower():
        return f"Origin-Realm is not the configured {entry.origin_realm}"
    if entry.ip_addresses and address not in entry.ip_addresses:
        return "source address is not configured for this peer"
    return None


def common_applications(cer: Message) -> frozenset[int]:
    """The applications both sides support; a relay (0xffffffff) supports all of ours."""
    offered = {a.as_int() for a in cer.find_all(d.AUTH_APPLICATION_ID)}
    for vendor_app in cer.find_all(d.VENDOR_SPECIFIC_APPLICATION_ID):
        offered |= {a.as_int() for a in vendor_app.find_all(d.AUTH_APPLICATION_ID)}
    if ApplicationId.RELAY in offered:
        return SUPPORTED_APPLICATIONS
    return SUPPORTED_APPLICATIONS & offered


def _identifiers() -> Iterator[int]:
    # RFC 6733 §3: End-to-End ids start with the low 12 bits of the clock, then random.
    start = ((int(time.time()) & 0xFFF) << 20) | random.getrandbits(20)
    return (n & 0xFFFFFFFF for n in itertools.count(start))


@dataclass(slots=True)
class _Outstanding:
    """Requests we sent (DWR, DPR), by Hop-by-Hop id, awaiting their answers."""

    futures: dict[int, asyncio.Future[Message]] = field(default_factory=dict)

    def resolve(self, answer: Message) -> bool:
        future = self.futures.pop(answer.hop_by_hop_id, None)
        if future is None or future.done():
            return False
        future.set_result(answer)
        return True

    def fail_all(self) -> None:
        for future in self.futures.values():
            if not future.done():
                future.set_exception(ConnectionResetError("connection closed"))
        self.futures.clear()


class PeerConnection:
    """Serves one TCP connection until the peer leaves, fails its watchdog or is refused."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        config: PeerConfig,
        origin: Origin,
        handler: RequestHandler,
        registry: PeerRegistry,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._config = config
        self._origin = origin
        self._handler = handler
        self._registry = registry
        peer_ip, self.remote_port = writer.get_extra_info("peername")[:2]
        self.remote_ip: IPAddress = ip_address(peer_ip)
        self._local_ip: IPAddress = ip_address(writer.get_extra_info("sockname")[0])
        self.state = PeerState.WAIT_CER
        self.origin_host: str | None = None
        self.origin_realm: str | None = None
        self.applications: frozenset[int] = frozenset()
        self.counters = PeerCounters()
        self._ids = _identifiers()
        self._outstanding = _Outstanding()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._last_received_s = time.monotonic()

    @property
    def name(self) -> str:
        """For log lines: the Origin-Host once known, and always the address."""
        address = f"{self.remote_ip}:{self.remote_port}"
        return f"{self.origin_host} ({address})" if self.origin_host else address

    async def run(self) -> None:
        watchdog: asyncio.Task[None] | None = None
        try:
            if await self._exchange_capabilities():
                watchdog = asyncio.create_task(self._watchdog())
                await self._serve()
        except (ConnectionError, TimeoutError) as exc:
            log.info("Diameter peer %s: connection lost: %r", self.name, exc)
        except Exception:
            # A bug must cost one connection, never the server.
            log.exception("Diameter peer %s: closing after an unexpected error", self.name)
        finally:
            if watchdog is not None:
                watchdog.cancel()
            await self._close()

    async def disconnect(self, cause: DisconnectCause) -> None:
        """Leave politely: DPR, wait for the DPA (bounded), then close."""
        if self.state is not PeerState.OPEN:
            self.abort()
            return
        self.state = PeerState.CLOSING
        dpr = self._request(CommandCode.DISCONNECT_PEER, [Avp.of(d.DISCONNECT_CAUSE, cause)])
        answer = await self._ask(dpr, self._config.dpa_timeout_s)
        log.info(
            "Diameter peer %s: sent DPR, DPA %s", self.name, "received" if answer else "missing"
        )
        self.abort()

    def abort(self) -> None:
        """Close the transport at once; the read loop then ends."""
        self._writer.close()

    # ------------------------------------------------------------ reading

    async def _read(self) -> Message | None:
        """The next well-formed message; None when the connection must end."""
        while True:
            raw = await self._read_frame()
            if raw is None:
                return None
            self._last_received_s = time.monotonic()
            try:
                return decode(raw)
            except DecodeError as fault:
                await self._reject(fault)
                if self.state is not PeerState.OPEN:
                    return None  # a bad CER ends the connection

    async def _read_frame(self) -> bytes | None:
        try:
            header = await self._reader.readexactly(HEADER_LENGTH)
            length = frame_length(header, self._config.max_message_bytes)
            return header + await self._reader.readexactly(length - HEADER_LENGTH)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                log.warning("Diameter peer %s: closed mid-message", self.name)
            return None
        except DecodeError as fault:
            # The framing is lost: answer if the header is a readable request, then leave.
            self.state = PeerState.CLOSING
            await self._reject(fault)
            return None

    async def _reject(self, fault: DecodeError) -> None:
        self.counters.malformed_messages_received += 1
        log.warning("Diameter peer %s: malformed message: %s", self.name, fault)
        message = fault.message
        # A wrong version means the bytes are probably not Diameter at all: do not answer.
        unversioned = fault.result_code is ResultCode.UNSUPPORTED_VERSION
        if message is None or not message.is_request or unversioned:
            return
        failed = [fault.failed_avp] if fault.failed_avp else []
        answer = make_answer(
            message,
            self._origin,
            fault.result_code,
            error_message=fault.detail,
            failed_avps=failed,
        )
        if message.command_code == CommandCode.CAPABILITIES_EXCHANGE:
            answer.avps += self._capabilities()
        await self._send(answer)

    # ------------------------------------------------------------ capabilities

    async def _exchange_capabilities(self) -> bool:
        try:
            async with asyncio.timeout(self._config.cer_timeout_s):
                cer = await self._read()
        except TimeoutError:
            log.warning(
                "Diameter peer %s: no CER within %ss", self.name, self._config.cer_timeout_s
            )
            return False
        if cer is None:
            return False
        if not cer.is_request or cer.command_code != CommandCode.CAPABILITIES_EXCHANGE:
            log.warning("Diameter peer %s: sent command %d before CER", self.name, cer.command_code)
            return False
        return await self._on_cer(cer)

    async def _on_cer(self, cer: Message) -> bool:
        host = cer.str_value(d.ORIGIN_HOST) or ""
        realm = cer.str_value(d.ORIGIN_REALM) or ""
        reason = refusal_reason(self._config.allowed_peers, host, realm, self.remote_ip)
        if reason is not None:
            log.warning(
                "Diameter peer refused: Origin-Host %s, Origin-Realm %s, from %s:%d: %s",
                host,
                realm,
                self.remote_ip,
                self.remote_port,
                reason,
            )
            await self._send_cea(cer, ResultCode.UNKNOWN_PEER, reason)
            return False
        applications = common_applications(cer)
        if not applications:
            log.warning("Diameter peer %s (%s): no common application", host, self.name)
            await self._send_cea(cer, ResultCode.NO_COMMON_APPLICATION, "no common application")
            return False
        self.origin_host, self.origin_realm, self.applications = host, realm, applications
        self.state = PeerState.OPEN
        self._registry.register(host, self)
        log.info("Diameter peer %s: open, applications %s", self.name, sorted(applications))
        await self._send_cea(cer, ResultCode.SUCCESS, None)
        return True

    async def _send_cea(self, cer: Message, result: ResultCode, error: str | None) -> None:
        answer = make_answer(cer, self._origin, result, error_message=error)
        answer.avps += self._capabilities()
        await self._send(answer)

    def _capabilities(self) -> list[Avp]:
        return [
            Avp.of(d.HOST_IP_ADDRESS, self._local_ip),
            Avp.of(d.VENDOR_ID, self._config.vendor_id),
            Avp.of(d.PRODUCT_NAME, self._config.product_name),
            Avp.of(d.ORIGIN_STATE_ID, self._origin.state_id),
            Avp.of(d.SUPPORTED_VENDOR_ID, VENDOR_3GPP),
            *(Avp.of(d.AUTH_APPLICATION_ID, app) for app in sorted(SUPPORTED_APPLICATIONS)),
            Avp.of(d.FIRMWARE_REVISION, self._config.firmware_revision),
        ]

    # ------------------------------------------------------------ open state

    async def _serve(self) -> None:
        while self.state is PeerState.OPEN:
            message = await self._read()
            if message is None:
                return
            if not message.is_request:
                if not self._outstanding.resolve(message):
                    log.warning(
                        "Diameter peer %s: unexpected answer %d", self.name, message.command_code
                    )
            elif message.command_code == CommandCode.DEVICE_WATCHDOG:
                self.counters.watchdog_requests_received += 1
                await self._send(
                    self._answer(message, [Avp.of(d.ORIGIN_STATE_ID, self._origin.state_id)])
                )
            elif message.command_code == CommandCode.DISCONNECT_PEER:
                await self._on_dpr(message)
            elif message.command_code == CommandCode.CAPABILITIES_EXCHANGE:
                if not await self._on_cer(message):
                    return
            elif len(self._in_flight) >= self._config.max_in_flight_requests:
                # Answered inline: a peer that floods us also waits for our writes.
                self.counters.busy_answers_sent += 1
                await self._send(make_answer(message, self._origin, ResultCode.TOO_BUSY))
            else:
                self._start_application_request(message)

    async def _on_dpr(self, dpr: Message) -> None:
        self.state = PeerState.CLOSING
        log.info("Diameter peer %s: DPR, cause %s", self.name, dpr.int_value(d.DISCONNECT_CAUSE))
        await self._send(self._answer(dpr, []))
        # RFC 6733 §5.4: the DPR sender closes the transport once it has the DPA.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._config.dpa_timeout_s):
                while await self._reader.read(self._config.max_message_bytes):
                    pass

    def _answer(self, request: Message, extra: list[Avp]) -> Message:
        answer = make_answer(request, self._origin, ResultCode.SUCCESS)
        answer.avps += extra
        return answer

    def _start_application_request(self, request: Message) -> None:
        self.counters.application_requests_received += 1
        task = asyncio.create_task(self._answer_application(request))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _answer_application(self, request: Message) -> None:
        try:
            data = encode(await self._handler.handle(request))
        except Exception:
            log.exception("Diameter peer %s: handler failed on %s", self.name, request.session_id)
            data = encode(make_answer(request, self._origin, ResultCode.UNABLE_TO_COMPLY))
        await self._write(data)

    # ------------------------------------------------------------ watchdog and requests

    async def _watchdog(self) -> None:
        interval_s = self._config.watchdog_interval_s
        while self.state is PeerState.OPEN:
            idle_s = time.monotonic() - self._last_received_s
            if idle_s < interval_s:
                await asyncio.sleep(interval_s - idle_s)
                continue
            dwr = self._request(
                CommandCode.DEVICE_WATCHDOG, [Avp.of(d.ORIGIN_STATE_ID, self._origin.state_id)]
            )
            answered = await self._ask(dwr, interval_s) is not None
            if self.state is not PeerState.OPEN:
                return
            if not answered:
                log.warning("Diameter peer %s: no DWA within %ss, closing", self.name, interval_s)
                self.abort()
                return
            self.counters.watchdog_answers_received += 1

    def _request(self, command: CommandCode, extra: list[Avp]) -> Message:
        hop_by_hop = next(self._ids)
        avps = [
            Avp.of(d.ORIGIN_HOST, self._origin.host),
            Avp.of(d.ORIGIN_REALM, self._origin.realm),
        ]
        return Message(
            command, ApplicationId.COMMON, FLAG_REQUEST, hop_by_hop, hop_by_hop, avps + extra
        )

    async def _ask(self, request: Message, timeout_s: float) -> Message | None:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._outstanding.futures[request.hop_by_hop_id] = future
        await self._send(request)
        try:
            async with asyncio.timeout(timeout_s):
                return await future
        except (TimeoutError, ConnectionError):
            return None
        finally:
            self._outstanding.futures.pop(request.hop_by_hop_id, None)

    # ------------------------------------------------------------ writing and closing

    async def _send(self, message: Message) -> None:
        await self._write(encode(message))

    async def _write(self, data: bytes) -> None:
        if self._writer.is_closing():
            return
        self._writer.write(data)
        if self._writer.transport.get_write_buffer_size() <= WRITE_BUFFER_BYTES_QUIET:
            return  # the kernel took it: no flow control to wait for, no timer to arm
        try:
            async with asyncio.timeout(self._config.write_timeout_s):
                await self._writer.drain()
        except TimeoutError:
            log.warning("Diameter peer %s: not reading, closing", self.name)
            self.abort()
        except ConnectionError:
            self.abort()

    async def _close(self) -> None:
        was_open = self.state in (PeerState.OPEN, PeerState.CLOSING)
        self.state = PeerState.CLOSED
        self._registry.unregister(self)
        self._outstanding.fail_all()
        if self._in_flight:
            # Let handlers finish what they started; their answers are dropped.
            await asyncio.wait(self._in_flight, timeout=self._config.write_timeout_s)
            for task in self._in_flight:
                task.cancel()
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
        if was_open:
            log.info("Diameter peer %s: closed", self.name)
