"""The Diameter listener: accepts TCP connections and runs one `PeerConnection` each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from ocs.diameter.constants import DisconnectCause
from ocs.diameter.message import Origin
from ocs.diameter.peer import PeerConfig, PeerConnection, RequestHandler

log = logging.getLogger("ocs.diameter")

DEFAULT_PORT = 3868


@dataclass(frozen=True, slots=True)
class ServerConfig:
    peer: PeerConfig
    listen_host: str = "127.0.0.1"
    listen_port: int = DEFAULT_PORT
    max_connections: int = 256


class DiameterServer:
    """Listens for peers; application requests go to the injected `RequestHandler`."""

    def __init__(
        self, config: ServerConfig, handler: RequestHandler, origin_state_id: int | None = None
    ) -> None:
        self._config = config
        self._handler = handler
        # Origin-State-Id changes on every restart so peers can tell (RFC 6733 §8.16).
        state_id = int(time.time()) & 0xFFFFFFFF if origin_state_id is None else origin_state_id
        self.origin = Origin(config.peer.origin_host, config.peer.origin_realm, state_id)
        self._server: asyncio.Server | None = None
        self._connections: dict[PeerConnection, asyncio.Task[None]] = {}
        self._open: dict[str, PeerConnection] = {}

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        if self._server is None:
            raise RuntimeError("the Diameter server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def open_peers(self) -> list[PeerConnection]:
        return list(self._open.values())

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self._config.listen_host, self._config.listen_port
        )
        log.info(
            "Diameter server %s listening on %s:%d",
            self.origin.host,
            self._config.listen_host,
            self.port,
        )

    async def stop(self) -> None:
        """Stop listening, send DPR to every open peer, and close every connection."""
        if self._server is None:
            return
        self._server.close()
        connections = list(self._connections)
        await asyncio.gather(*(c.disconnect(DisconnectCause.REBOOTING) for c in connections))
        tasks = list(self._connections.values())
        if tasks:
            await asyncio.wait(tasks, timeout=self._config.peer.dpa_timeout_s)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> DiameterServer:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def register(self, origin_host: str, connection: PeerConnection) -> None:
        """One open connection per Origin-Host: a reconnecting peer replaces a stale one."""
        self.unregister(connection)
        key = origin_host.lower()
        previous = self._open.get(key)
        if previous is not None:
            log.warning("Diameter peer %s: replaced by a new connection", previous.name)
            previous.abort()
        self._open[key] = connection

    def unregister(self, connection: PeerConnection) -> None:
        for key, listed in list(self._open.items()):
            if listed is connection:
                del self._open[key]

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connection = PeerConnection(
            reader, writer, self._config.peer, self.origin, self._handler, self
        )
        if len(self._connections) >= self._config.max_connections:
            log.warning(
                "Diameter connection from %s refused: %d connections already",
                connection.name,
                self._config.max_connections,
            )
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections[connection] = task
        try:
            await connection.run()
        finally:
            del self._connections[connection]
