"""Debian's freeDiameterd as a real peer: CER/CEA, DWR/DWA both ways, DPR/DPA both ways."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ocs.diameter.peer import AllowedPeer
from ocs.diameter.server import DiameterServer
from tests.integration.diameter.support import running_server

FREEDIAMETERD = shutil.which("freeDiameterd")
FD_HOST = "fd.test.local"
WAIT_S = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _config(ocs_port: int, watchdog_s: int) -> str:
    # No TLS (SecPort 0, no TLS_Cred), no SCTP; it connects to our server as its only peer.
    return f"""
Identity = "{FD_HOST}";
Realm = "test.local";
Port = {_free_port()};
SecPort = 0;
No_SCTP;
No_IPv6;
ListenOn = "127.0.0.1";
TcTimer = 3;
TwTimer = {watchdog_s};
ConnectPeer = "ocs.test.local" {{ ConnectTo = "127.0.0.1"; Port = {ocs_port}; No_TLS; }};
"""


class FreeDiameter:
    def __init__(self, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def stop(self) -> int:
        """SIGTERM: freeDiameter then says goodbye to its peers with a DPR."""
        if self.process.returncode is None:
            self.process.terminate()
        async with asyncio.timeout(WAIT_S):
            return await self.process.wait()


@contextlib.asynccontextmanager
async def free_diameter(
    server: DiameterServer, workdir: Path, watchdog_s: int = 30
) -> AsyncIterator[FreeDiameter]:
    assert FREEDIAMETERD is not None, "freeDiameterd is missing: scripts/test installs it"
    config = workdir / "freeDiameter.conf"
    config.write_text(_config(server.port, watchdog_s))
    log_path = workdir / "freeDiameter.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            FREEDIAMETERD, "-c", str(config), stdout=log_file, stderr=log_file
        )
    peer = FreeDiameter(process, log_path)
    try:
        yield peer
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT_S):
        while not condition():
            await asyncio.sleep(0.05)


def watchdog_answers(server: DiameterServer) -> int:
    return sum(p.counters.watchdog_answers_received for p in server.open_peers())


def watchdog_requests(server: DiameterServer) -> int:
    return sum(p.counters.watchdog_requests_received for p in server.open_peers())


async def test_freediameter_opens_answers_our_watchdog_and_our_dpr(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ocs.diameter")
    async with (
        running_server(watchdog_interval_s=1.0) as server,
        free_diameter(server, tmp_path) as peer,
    ):
        await eventually(lambda: [p.origin_host for p in server.open_peers()] == [FD_HOST])
        await eventually(lambda: "'STATE_WAITCEA'\t-> 'STATE_OPEN'" in peer.log())
        await eventually(lambda: watchdog_answers(server) >= 2)
        await server.stop()
        await eventually(lambda: "sent a DPR with cause: REBOOTING" in peer.log())
        assert await peer.stop() == 0
    assert any("sent DPR, DPA received" in r.getMessage() for r in caplog.records)
    assert "ERROR" not in peer.log()


async def test_freediameter_watchdog_and_dpr_are_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ocs.diameter")
    async with running_server() as server, free_diameter(server, tmp_path, watchdog_s=6) as peer:
        await eventually(lambda: watchdog_requests(server) >= 1)  # it is idle after Tw = 6 s
        assert "STATE_SUSPECT" not in peer.log()
        assert await peer.stop() == 0
        await eventually(lambda: server.open_peers() == [])
    assert any(f"{FD_HOST}" in r.getMessage() and "DPR" in r.getMessage() for r in caplog.records)
    assert "ERROR" not in peer.log()


async def test_freediameter_not_configured_is_refused_with_3010(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ocs.diameter")
    async with (
        running_server(allowed_peers=(AllowedPeer("someone.else"),)) as server,
        free_diameter(server, tmp_path) as peer,
    ):
        await eventually(lambda: "DIAMETER_UNKNOWN_PEER" in peer.log())
        assert server.open_peers() == []
        await peer.stop()
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals
    assert FD_HOST in refusals[0]
    assert "not a configured peer" in refusals[0]
