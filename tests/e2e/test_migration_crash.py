"""A wallet migration survives `kill -9` of `ocs serve`: the restarted server resumes the
running migration, which ends M with every wallet moved once and no money created or lost."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from ocs.bootstrap import build_services
from ocs.config import Settings
from ocs.core.migrations import MigrationFields, MigrationState, SelectionKind
from ocs.core.wallets import WalletState
from ocs.service.actor import Actor
from ocs.storage import tables as t
from tests.support.catalog import PROVIDER
from tests.support.server_process import start_server
from tests.support.wallets import load_wallet_catalog, new_subscriber, wallet_of

OPERATOR = ("mover", "mover-password-1")
WALLETS = 10
# Slow enough that the server is still moving wallets when the test kills it.
THROTTLE_PER_S = 1
WAIT_S = 90.0


def _migration(base: str, migration_id: int) -> dict[str, object]:
    response = httpx.get(f"{base}/api/v1/migrations/{migration_id}", auth=OPERATOR, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_kill_9_in_the_middle_of_a_migration_then_resume(
    database_url: str,
    extra_domain_urls: tuple[tuple[str, str], ...],
    admin: Actor,
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=database_url, charging_domain_urls=extra_domain_urls)
    services = build_services(settings)
    services.operators.create(admin, *OPERATOR, "admin")
    load_wallet_catalog(services, admin)
    numbers, wallets = [], []
    for i in range(WALLETS):
        sid = new_subscriber(services, admin)
        wallet = wallet_of(services, admin, sid)
        services.wallets.top_up(admin, wallet, "CASH", 1000 + i)
        numbers.append(services.casm.get_subscriber(admin, sid).subscriber.subscriber_id)
        wallets.append(wallet)
    cash_before = _cash_everywhere(services, wallets)
    migration = services.migrations.create(
        admin,
        MigrationFields(
            service_provider=PROVIDER,
            source_domain="default",
            target_domain="east",
            selection=SelectionKind.INPUT_FILE,
            wallet_states=frozenset(WalletState),
            input_filename="all.txt",
            input_numbers=tuple(numbers),
            throttle_per_s=THROTTLE_PER_S,
        ),
    )
    services.engine.dispose()
    services.domains.dispose()
    env = {"OCS_CHARGING_DOMAINS": ",".join(f"{n}={u}" for n, u in extra_domain_urls)}

    first = start_server(database_url, tmp_path, "first", env)
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            shown = _migration(first.base_url, migration.id)
            if shown["state"] == "R" and int(str(shown["wallets_moved"])) >= 3:
                break
            assert shown["state"] in ("P", "R"), shown
            assert time.monotonic() < deadline, shown
            time.sleep(0.05)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=30)
    finally:
        if first.process.poll() is None:
            first.process.kill()

    after_kill = build_services(settings)
    killed = after_kill.migrations.get(admin, migration.id)
    assert killed.state is MigrationState.RUNNING
    assert 3 <= killed.wallets_moved < WALLETS
    after_kill.engine.dispose()
    after_kill.domains.dispose()

    second = start_server(database_url, tmp_path, "second", env)
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            shown = _migration(second.base_url, migration.id)
            if shown["state"] != "R":
                break
            assert time.monotonic() < deadline, shown
            time.sleep(0.1)
        assert shown["state"] == "M", shown
        assert (shown["wallets_moved"], shown["wallets_total"]) == (WALLETS, WALLETS)
    finally:
        second.process.send_signal(signal.SIGTERM)
        try:
            second.process.wait(timeout=30)
        except Exception:
            second.process.kill()

    final = build_services(settings)
    try:
        assert [final.domains.domain_of(w) for w in wallets] == ["east"] * WALLETS
        registry = final.domains.mover.registry  # type: ignore[attr-defined]
        for wallet in wallets:
            holders = []
            for name in ("east", "west"):
                with registry.get(name).engine.connect() as conn:
                    rows = conn.scalar(
                        sa.select(sa.func.count()).select_from(t.wallets)
                        .where(t.wallets.c.id == wallet)
                    )  # fmt: skip
                if rows:
                    holders.append(name)
            assert holders == ["east"], (wallet, holders)
        assert _cash_everywhere(final, wallets) == cash_before
        report = final.migrations.report(admin, migration.id)
        assert f"Migrations Completed: {WALLETS}/{WALLETS} (100%)" in report
    finally:
        final.engine.dispose()
        final.domains.dispose()


def _cash_everywhere(services: object, wallets: list[int]) -> int:
    """The CASH held by the wallets, read where each one lives (the routed store)."""
    total = 0
    with services.store.transaction() as uow:  # type: ignore[attr-defined]
        for wallet in wallets:
            total += sum(
                b.value for b in uow.wallets.list_buckets(wallet) if b.balance_type == "CASH"
            )
    return total
