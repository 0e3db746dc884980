"""The charging engine in its own process, on a real database, over the real pipe."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services
from ocs.charging_worker import ChargingWorker, engine_of
from ocs.config import Settings
from ocs.core.charging import (
    ChargingDecision,
    ChargingRequest,
    IdentityType,
    Outcome,
    RequestType,
    ServiceRequest,
    UnitAmounts,
)
from ocs.core.errors import DomainError, ProblemKind
from ocs.runtime import ChargingRuntime
from ocs.service.actor import Actor
from ocs.service.charging import ANSWERS_PRUNED_MAX
from ocs.service.wallets import WalletUpdate
from tests.support.charging import DATA_RG, MB, load_charging_catalog, provision_subscriber

MSISDN = "31600000001"


def _request(session: str, number: int, kind: RequestType, used_mb: int | None) -> ChargingRequest:
    service = ServiceRequest(
        DATA_RG,
        requested=None if kind is RequestType.TERMINATION else UnitAmounts(total_octets=MB),
        used=None if used_mb is None else UnitAmounts(total_octets=used_mb * MB),
    )
    return ChargingRequest(
        session, number, kind, ((IdentityType.E164, MSISDN),), datetime.now(UTC), (service,)
    )


async def _session(worker: ChargingWorker, session: str) -> list[ChargingDecision]:
    steps = [
        _request(session, 0, RequestType.INITIAL, None),
        _request(session, 1, RequestType.UPDATE, 1),
        _request(session, 2, RequestType.TERMINATION, 1),
    ]
    return [await worker.decide(step) for step in steps]


@pytest.fixture
def worker(database_url: str, services: Services, admin: Actor) -> ChargingWorker:
    load_charging_catalog(services, admin)
    wallet_id = provision_subscriber(services, admin, MSISDN)
    services.wallets.top_up(admin, wallet_id, "CASH", 10_000)
    settings = Settings(database_url=database_url, charging_sweep_interval_s=0.2)
    started = ChargingWorker(settings)
    started.start()
    yield started
    started.stop()


def _cash(services: Services, admin: Actor) -> int:
    (view,) = services.wallets.subscriber_wallets(admin, 1)
    return next(b.total_value for b in view.balances if b.balance_type == "CASH")


def test_answers_past_retention_are_pruned_by_the_engine_in_chunks(
    worker: ChargingWorker, services: Services
) -> None:
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    old = ANSWERS_PRUNED_MAX * 2 + 10  # three chunks
    with services.store.transaction() as uow:
        for number in range(old):
            uow.charging.put_answer("old-session", number, two_days_ago, "{}")
    decisions = asyncio.run(_session(worker, "s-new"))
    deadline = time.monotonic() + 30
    while _answers(services, "old-session") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _answers(services, "old-session") == 0
    assert _answers(services, "s-new") == len(decisions) == 3


def _answers(services: Services, session_id: str) -> int:
    with services.engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM charging_answers WHERE session_id = :s")
        return int(conn.scalar(query, {"s": session_id}) or 0)


def test_concurrent_sessions_are_charged_in_the_engine_process(
    worker: ChargingWorker, services: Services, admin: Actor
) -> None:
    async def run() -> list[list[ChargingDecision]]:
        # Two concurrent sessions at most: the product type allows two per wallet.
        first = await asyncio.gather(*(_session(worker, f"w{i}") for i in range(2)))
        second = await asyncio.gather(*(_session(worker, f"w{i}") for i in range(2, 4)))
        return first + second

    results = asyncio.run(run())
    assert all(d.outcome is Outcome.SUCCESS for session in results for d in session)
    assert _cash(services, admin) == 10_000 - 4 * 2 * 2  # 2 MB per session at 2 cents per MB


def test_an_unknown_subscriber_is_answered_by_the_engine_process(worker: ChargingWorker) -> None:
    request = _request("x", 0, RequestType.INITIAL, None)
    unknown = ChargingRequest("x", 0, RequestType.INITIAL, ((IdentityType.E164, "999"),),
                              request.event_time, request.services)  # fmt: skip
    decision = asyncio.run(worker.decide(unknown))
    assert decision.outcome is Outcome.USER_UNKNOWN


def test_a_killed_engine_process_is_replaced(
    worker: ChargingWorker, services: Services, admin: Actor
) -> None:
    (pid,) = worker.engine_pids()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while worker.engine_pids() == [pid] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker.engine_pids() != [pid]
    results = asyncio.run(_session(worker, "after"))
    assert [d.outcome for d in results] == [Outcome.SUCCESS] * 3
    assert _cash(services, admin) == 10_000 - 4


def test_requests_beyond_the_queue_limit_are_refused(database_url: str) -> None:
    worker = ChargingWorker(Settings(database_url=database_url, charging_queue_requests_max=0))
    with pytest.raises(DomainError) as refused:
        asyncio.run(worker.decide(_request("q", 0, RequestType.INITIAL, None)))
    assert refused.value.kind is ProblemKind.OVERLOADED


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_engines_share_a_prepaid_wallet_without_overspending_it(
    database_url: str, services: Services, admin: Actor
) -> None:
    """Sessions on one wallet split over two engine processes, each using what it was
    granted round after round: the wallet's row lock and revision keep the engines from
    granting the same cents twice or writing over each other's debits."""
    load_charging_catalog(services, admin)
    wallet_id = provision_subscriber(services, admin, MSISDN)
    services.wallets.top_up(admin, wallet_id, "CASH", 100)  # 1.00 EUR buys 50 MB
    services.wallets.update_wallet(admin, wallet_id, WalletUpdate(max_concurrent_accesses=50))
    sessions = [f"e{i}" for i in range(12)]
    assert {engine_of(s, 2) for s in sessions} == {0, 1}
    worker = ChargingWorker(
        Settings(database_url=database_url, charging_engines=2, charging_sweep_interval_s=0.2)
    )
    worker.start()

    async def session(name: str) -> int:
        """Octets used: each round uses all of the last grant and asks for 2 MB more."""
        used_octets, granted, number = 0, 0, 0
        while True:
            kind = RequestType.INITIAL if number == 0 else RequestType.UPDATE
            if number == 8 or (number and not granted):
                kind = RequestType.TERMINATION
            service = ServiceRequest(
                DATA_RG,
                requested=None if kind is RequestType.TERMINATION else UnitAmounts(
                    total_octets=2 * MB),
                used=UnitAmounts(total_octets=granted) if granted else None,
            )  # fmt: skip
            request = ChargingRequest(name, number, kind, ((IdentityType.E164, MSISDN),),
                                      datetime.now(UTC), (service,))  # fmt: skip
            decision = await worker.decide(request)
            used_octets += granted
            if kind is RequestType.TERMINATION:
                return used_octets
            grant = decision.services[0].granted if decision.services else None
            granted = (grant.total_octets or 0) if grant else 0
            number += 1

    async def run() -> list[int]:
        # Both engines up first (an unknown caller on each), so that neither starts late.
        for engine in (0, 1):
            name = next(f"up{i}" for i in range(100) if engine_of(f"up{i}", 2) == engine)
            caller = ((IdentityType.E164, "999"),)
            unknown = ChargingRequest(name, 0, RequestType.INITIAL, caller, datetime.now(UTC), ())
            assert (await worker.decide(unknown)).outcome is Outcome.USER_UNKNOWN
        return await asyncio.gather(*(session(name) for name in sessions))

    try:
        assert len([pid for pid in worker.engine_pids() if pid is not None]) == 2
        used = asyncio.run(run())
    finally:
        worker.stop()
    # Only granted octets were used, at 2 cents per MB: never more than the 1.00 EUR held.
    charged = sum(used) // MB * 2
    assert charged <= 100
    assert _cash(services, admin) == 100 - charged
    charging_engines = {engine_of(n, 2) for n, octets in zip(sessions, used, strict=True) if octets}
    assert charging_engines == {0, 1}
    with services.store.transaction() as uow:
        assert uow.edrs.delta_sums(wallet_id).get("CASH") == 100 - charged
        assert uow.charging.open_counts() == (0, 0)


@pytest.mark.parametrize(
    ("url", "worker"),
    [("sqlite:///x.db", "process"), ("postgresql://h/db", "thread")],
)
def test_several_engines_need_postgresql_and_engine_processes(url: str, worker: str) -> None:
    with pytest.raises(ValueError, match="OCS_CHARGING_ENGINES above 1 needs"):
        Settings(database_url=url, charging_engines=2, charging_worker=worker)
    with pytest.raises(ValueError, match="at least 1"):
        Settings(database_url=url, charging_engines=0)


def test_the_engine_s_page_cache_is_set_in_mib() -> None:
    env = {"OCS_CHARGING_SQLITE_CACHE_MIB": "64"}
    assert Settings.from_env(env).charging_sqlite_cache_mib == 64
    assert Settings.from_env({}).charging_sqlite_cache_mib == 256
    with pytest.raises(ValueError, match="OCS_CHARGING_SQLITE_CACHE_MIB must be at least 1"):
        Settings(database_url="sqlite:///x.db", charging_sqlite_cache_mib=0)


def test_sessions_spread_over_the_engines() -> None:
    assert engine_of("pgw;1;2", 1) == 0
    picks = [engine_of(f"pgw;{i}", 3) for i in range(300)]
    assert {picks.count(engine) > 70 for engine in range(3)} == {True}


def test_without_an_engine_process_the_sweeper_prunes_answers_in_chunks(
    database_url: str, services: Services
) -> None:
    two_days_ago = services.clock.now() - timedelta(days=2)  # this process's (test) clock
    with services.store.transaction() as uow:
        for number in range(ANSWERS_PRUNED_MAX + 10):  # two chunks
            uow.charging.put_answer("old-session", number, two_days_ago, "{}")
    settings = Settings(
        database_url=database_url, charging_worker="thread", charging_sweep_interval_s=0.05
    )
    runtime = ChargingRuntime(services, settings)
    runtime.start()

    async def sweep_until_pruned() -> None:
        sweeper = asyncio.create_task(runtime.sweep_forever())
        deadline = time.monotonic() + 30
        while _answers(services, "old-session") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        sweeper.cancel()

    try:
        asyncio.run(sweep_until_pruned())
    finally:
        runtime.stop()
    assert _answers(services, "old-session") == 0
