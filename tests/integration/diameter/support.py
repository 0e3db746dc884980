"""A raw Diameter test client, a test handler that answers CCRs, and a server to run them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ocs.diameter.codec import decode, encode, frame_length
from ocs.diameter.constants import HEADER_LENGTH, ResultCode
from ocs.diameter.message import Message, Origin
from ocs.diameter.peer import AllowedPeer, PeerConfig
from ocs.diameter.server import DiameterServer, ServerConfig
from tests.unit.diameter.samples import CLIENT_HOST, CLIENT_REALM, OCS_ORIGIN, cca_for, cer

READ_TIMEOUT_S = 5.0
T = TypeVar("T")


def run_in_fresh_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run on a thread of its own: immune to an event loop that another test left
    running on the main thread (Playwright's sync API keeps one there for a whole session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


class EchoCcaHandler:
    """Test-only application: answers every CCR with a rich CCA and records what it saw."""

    def __init__(self) -> None:
        self.origin: Origin = OCS_ORIGIN
        self.requests: list[Message] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail = False

    async def handle(self, request: Message) -> Message:
        self.requests.append(request)
        await self.release.wait()
        if self.fail:
            raise RuntimeError("test handler told to fail")
        return cca_for(request, self.origin)


def peer_config(**overrides: Any) -> PeerConfig:
    base = PeerConfig(
        origin_host="ocs.test.local",
        origin_realm="test.local",
        allowed_peers=(AllowedPeer(CLIENT_HOST, CLIENT_REALM), AllowedPeer("fd.test.local")),
    )
    return dataclasses.replace(base, **overrides)


@contextlib.asynccontextmanager
async def running_server(
    handler: EchoCcaHandler | None = None, max_connections: int = 16, **overrides: Any
) -> AsyncIterator[DiameterServer]:
    """Our server on an ephemeral port of 127.0.0.1; `overrides` go to its PeerConfig."""
    handler = handler or EchoCcaHandler()
    config = ServerConfig(
        peer_config(**overrides),
        listen_host="127.0.0.1",
        listen_port=0,
        max_connections=max_connections,
    )
    server = DiameterServer(config, handler, origin_state_id=1_700_000_000)
    handler.origin = server.origin
    async with server:
        yield server


class Client:
    """A peer speaking raw bytes, so tests can send anything and see every byte back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.received: list[bytes] = []

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, message: Message | bytes) -> None:
        self.writer.write(message if isinstance(message, bytes) else encode(message))
        await self.writer.drain()

    async def receive(self) -> Message:
        async with asyncio.timeout(READ_TIMEOUT_S):
            header = await self.reader.readexactly(HEADER_LENGTH)
            body = await self.reader.readexactly(frame_length(header, 1 << 24) - HEADER_LENGTH)
        self.received.append(header + body)
        return decode(header + body)

    async def ask(self, message: Message | bytes) -> Message:
        await self.send(message)
        return await self.receive()

    async def closed_by_server(self) -> bool:
        """True when the server closed the connection (EOF or reset) within the timeout."""
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                return await self.reader.read(1) == b""
        except ConnectionResetError:
            return True

    async def open(self, origin_host: str = CLIENT_HOST) -> Message:
        cea = await self.ask(cer(origin_host))
        assert cea.result_code == ResultCode.SUCCESS
        return cea

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def connected(server: DiameterServer, *, open_: bool = True) -> AsyncIterator[Client]:
    client = await Client.connect(server.port)
    try:
        if open_:
            await client.open()
        yield client
    finally:
        await client.close()
