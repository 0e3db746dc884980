"""The charging engine in its own process, on a real database, over the real pipe."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime

import pytest

from ocs.bootstrap import Services
from ocs.charging_worker import ChargingWorker
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
from ocs.service.actor import Actor
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
    child = worker._child
    assert child is not None
    os.kill(child.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while worker._child is child and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker._child is not child
    results = asyncio.run(_session(worker, "after"))
    assert [d.outcome for d in results] == [Outcome.SUCCESS] * 3
    assert _cash(services, admin) == 10_000 - 4


def test_requests_beyond_the_queue_limit_are_refused(database_url: str) -> None:
    worker = ChargingWorker(Settings(database_url=database_url, charging_queue_requests_max=0))
    with pytest.raises(DomainError) as refused:
        asyncio.run(worker.decide(_request("q", 0, RequestType.INITIAL, None)))
    assert refused.value.kind is ProblemKind.OVERLOADED
