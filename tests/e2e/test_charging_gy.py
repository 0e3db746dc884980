"""Real-time charging end to end: `ocs serve` as a process, a Gy client over TCP."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocs.adapters.gy_client import (
    GyConnection,
    GyPeer,
    Mscc,
    granted_octets,
    mscc_result,
    retransmitted,
)
from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.security import Privilege
from ocs.diameter import dictionary as d
from ocs.diameter.constants import ResultCode
from ocs.diameter.message import Message
from ocs.service.actor import Actor
from ocs.service.offers import SubscriptionInput
from tests.support.catalog import PROVIDER
from tests.support.charging import DATA_RG, MB, load_charging_catalog, provision_subscriber
from tests.support.offers import offer_with
from tests.support.server_process import start_server

pytestmark = pytest.mark.e2e
PEER = "pgw1.test.local"
ADMIN = Actor("e2e", frozenset(Privilege))


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    diameter_port: int
    services: Services
    wallet_id: int
    log: Path

    def cash(self) -> int:
        view = self.services.wallets.get_wallet(ADMIN, self.wallet_id)
        return next(b.total_value for b in view.balances if b.balance_type == "CASH")


def _start(database_url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    server = start_server(database_url, tmp_path, "gy", {"OCS_DIAMETER_PEERS": PEER})
    return server.process, server.diameter_port, server.log


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    services = build_services(Settings(database_url=database_url))
    load_charging_catalog(services, ADMIN)
    wallet_id = provision_subscriber(services, ADMIN, "31600000001")
    services.wallets.top_up(ADMIN, wallet_id, "CASH", 100)
    process, port, log = _start(database_url, tmp_path)
    try:
        yield Server(process, port, services, wallet_id, log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        services.engine.dispose()


async def _session(port: int) -> dict[str, Message]:
    peer = GyPeer(PEER, "test.local")
    gy = await GyConnection.open("127.0.0.1", port, peer)
    try:
        initial = await gy.ask(peer.ccr("s-1", "INITIAL", 0, "31600000001",
                                        (Mscc(DATA_RG, requested_octets=10 * MB),)))  # fmt: skip
        update_request = peer.ccr(
            "s-1", "UPDATE", 1, "31600000001",
            (Mscc(DATA_RG, requested_octets=10 * MB, used_octets=3 * MB),),
        )  # fmt: skip
        update = await gy.ask(update_request)
        duplicate = await gy.ask(retransmitted(update_request))
        final = await gy.ask(peer.ccr("s-1", "TERMINATION", 2, "31600000001",
                                      (Mscc(DATA_RG, used_octets=2 * MB),)))  # fmt: skip
        unknown = await gy.ask(peer.ccr("s-2", "INITIAL", 0, "999",
                                        (Mscc(DATA_RG, request_default=True),)))  # fmt: skip
        lost = await gy.ask(peer.ccr("s-3", "UPDATE", 1, "31600000001",
                                     (Mscc(DATA_RG, used_octets=MB),)))  # fmt: skip
        return {
            "initial": initial, "update": update, "duplicate": duplicate, "final": final,
            "unknown": unknown, "lost": lost,
        }  # fmt: skip
    finally:
        await gy.close()


def test_a_data_session_over_gy_charges_once(server: Server) -> None:
    answers = asyncio.run(_session(server.diameter_port))
    initial, update, duplicate = answers["initial"], answers["update"], answers["duplicate"]
    assert initial.result_code == ResultCode.SUCCESS
    assert granted_octets(initial, DATA_RG) == 10 * MB
    assert initial.int_value(d.CC_REQUEST_NUMBER) == 0
    assert update.result_code == ResultCode.SUCCESS
    # The retransmission gets the same answer and is not charged again.
    assert duplicate.avps == update.avps
    assert answers["final"].result_code == ResultCode.SUCCESS
    assert answers["unknown"].result_code == ResultCode.USER_UNKNOWN
    assert answers["lost"].result_code == ResultCode.UNKNOWN_SESSION_ID
    assert server.cash() == 90  # 3 MB + 2 MB at 2 cents per MB


def test_a_refused_peer_is_logged_by_name(server: Server) -> None:
    async def attempt() -> str:
        try:
            await GyConnection.open("127.0.0.1", server.diameter_port, GyPeer("rogue.test", "t"))
        except ConnectionError as exc:
            return str(exc)
        return "accepted"

    assert asyncio.run(attempt()) == "CER refused with Result-Code 3010"
    deadline = time.monotonic() + 10
    while "rogue.test" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "rogue.test" in server.log.read_text()


def test_a_granted_balance_that_rejects_at_100_percent_answers_4012(server: Server) -> None:
    services = server.services
    subscriber = services.casm.find_subscriber_by_resource(ADMIN, "31600000001").subscriber.id
    offer = offer_with(services, ADMIN, {
        "code": "FREE5", "name": "Five free MB", "service_provider": PROVIDER, "kind": "BALANCE",
        "unit": "MEGABYTE", "granted": 5, "charging_classes": ["DATA"], "reject_at_full": True,
    })  # fmt: skip
    services.offers.subscribe(ADMIN, SubscriptionInput(offer.code, "subscriber", subscriber))
    services.grants.run_due()

    async def session() -> tuple[Message, Message]:
        peer = GyPeer(PEER, "test.local")
        gy = await GyConnection.open("127.0.0.1", server.diameter_port, peer)
        try:
            wanted = (Mscc(DATA_RG, requested_octets=10 * MB),)
            initial = await gy.ask(peer.ccr("g-1", "INITIAL", 0, "31600000001", wanted))
            update = await gy.ask(peer.ccr(
                "g-1", "UPDATE", 1, "31600000001",
                (Mscc(DATA_RG, requested_octets=10 * MB, used_octets=5 * MB),),
            ))  # fmt: skip
            return initial, update
        finally:
            await gy.close()

    initial, update = asyncio.run(session())
    assert granted_octets(initial, DATA_RG) == 5 * MB  # the grant only, not cash
    assert mscc_result(update, DATA_RG) == ResultCode.CREDIT_LIMIT_REACHED
    assert server.cash() == 100
