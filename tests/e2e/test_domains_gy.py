"""Charging over Gy against `ocs serve` with three charging domains, while wallets move."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from ocs.adapters.gy_client import GyConnection, GyPeer, Mscc
from ocs.bootstrap import build_services
from ocs.config import Settings
from ocs.core.domains import MoveOutcome
from ocs.core.migrations import MigrationFields, MigrationState, SelectionKind
from ocs.core.security import Privilege
from ocs.core.wallets import WalletState
from ocs.diameter.constants import ResultCode
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.charging import DATA_RG, MB, load_charging_catalog, provision_subscriber
from tests.support.server_process import start_server

pytestmark = pytest.mark.e2e
PEER = "pgw1.test.local"
ADMIN = Actor("e2e", frozenset(Privilege))
STAYS, MOVES = "31600000001", "31600000002"


async def _session(port: int, session_id: str, msisdn: str, used_mb: int) -> int:
    peer = GyPeer(PEER, "test.local")
    gy = await GyConnection.open("127.0.0.1", port, peer)
    try:
        await gy.ask(peer.ccr(session_id, "INITIAL", 0, msisdn,
                              (Mscc(DATA_RG, requested_octets=10 * MB),)))  # fmt: skip
        final = await gy.ask(peer.ccr(session_id, "TERMINATION", 1, msisdn,
                                      (Mscc(DATA_RG, used_octets=used_mb * MB),)))  # fmt: skip
        return final.result_code
    finally:
        await gy.close()


def test_charging_routes_to_each_wallets_domain_and_follows_a_move(
    database_url: str, extra_domain_urls: tuple[tuple[str, str], ...], tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, charging_domain_urls=extra_domain_urls)
    services = build_services(settings)
    load_charging_catalog(services, ADMIN)
    wallets = {msisdn: provision_subscriber(services, ADMIN, msisdn) for msisdn in (STAYS, MOVES)}
    for wallet_id in wallets.values():
        services.wallets.top_up(ADMIN, wallet_id, "CASH", 100)
    assert services.domains.move_wallet(wallets[STAYS], "default", "west").outcome is (
        MoveOutcome.MOVED
    )
    domains_env = ",".join(f"{name}={url}" for name, url in extra_domain_urls)
    env = {"OCS_DIAMETER_PEERS": PEER, "OCS_CHARGING_DOMAINS": domains_env}
    server = start_server(database_url, tmp_path, "domains", env)

    def cash(msisdn: str) -> int:
        view = services.wallets.get_wallet(ADMIN, wallets[msisdn])
        return next(b.total_value for b in view.balances if b.balance_type == "CASH")

    try:
        port = server.diameter_port
        assert asyncio.run(_session(port, "a-1", STAYS, 2)) == ResultCode.SUCCESS
        assert asyncio.run(_session(port, "b-1", MOVES, 3)) == ResultCode.SUCCESS
        assert (cash(STAYS), cash(MOVES)) == (96, 94)

        # Moved while the server runs and has the wallet in its cache.
        moved = services.domains.move_wallet(wallets[MOVES], "default", "east")
        assert moved.outcome is MoveOutcome.MOVED
        assert asyncio.run(_session(port, "b-2", MOVES, 1)) == ResultCode.SUCCESS
        assert asyncio.run(_session(port, "a-2", STAYS, 1)) == ResultCode.SUCCESS
        assert (cash(STAYS), cash(MOVES)) == (94, 92)
        assert services.domains.summary("east").wallets_by_state == {"ACTIVE": 1}
        assert services.domains.summary("west").wallets_by_state == {"ACTIVE": 1}
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
        services.engine.dispose()
        services.domains.dispose()


def test_charging_goes_on_for_other_wallets_while_a_migration_runs(
    database_url: str,
    extra_domain_urls: tuple[tuple[str, str], ...],
    tmp_path: Path,
    admin: Actor,
) -> None:
    settings = Settings(database_url=database_url, charging_domain_urls=extra_domain_urls)
    services = build_services(settings)
    load_charging_catalog(services, ADMIN)
    movers = [f"3160000010{i}" for i in range(6)]
    wallets = {n: provision_subscriber(services, ADMIN, n) for n in (STAYS, *movers)}
    for wallet_id in wallets.values():
        services.wallets.top_up(ADMIN, wallet_id, "CASH", 1000)
    migration = services.migrations.create(
        admin,
        MigrationFields(
            service_provider=PROVIDER,
            source_domain="default",
            target_domain="west",
            selection=SelectionKind.INPUT_FILE,
            wallet_states=frozenset(WalletState),
            input_filename="movers.txt",
            input_numbers=tuple(movers),
            throttle_per_s=1,
        ),
    )
    domains_env = ",".join(f"{name}={url}" for name, url in extra_domain_urls)
    env = {"OCS_DIAMETER_PEERS": PEER, "OCS_CHARGING_DOMAINS": domains_env}
    server = start_server(database_url, tmp_path, "migrating", env)
    try:
        sessions, sessions_while_running = 0, 0
        for n in range(200):
            state = services.migrations.get(admin, migration.id).state
            if state is MigrationState.MIGRATED:
                break
            code = asyncio.run(_session(server.diameter_port, f"c-{n}", STAYS, 1))
            assert code == ResultCode.SUCCESS
            sessions += 1
            sessions_while_running += state is MigrationState.RUNNING
            time.sleep(0.1)
        deadline = time.monotonic() + 60
        while services.migrations.get(admin, migration.id).state is not MigrationState.MIGRATED:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
    try:
        assert sessions_while_running >= 3
        view = services.wallets.get_wallet(ADMIN, wallets[STAYS])
        cash = next(b.total_value for b in view.balances if b.balance_type == "CASH")
        assert cash == 1000 - 2 * sessions  # 1 MB at 2 cents each
        assert [services.domains.domain_of(wallets[m]) for m in movers] == ["west"] * 6
        assert services.domains.domain_of(wallets[STAYS]) == "default"
    finally:
        services.engine.dispose()
        services.domains.dispose()
