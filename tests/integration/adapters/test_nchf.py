"""5G Nchf converged charging over HTTP on a real socket, through the charging writer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.config import Settings
from ocs.runtime import ChargingRuntime
from ocs.service.actor import Actor
from tests.support.charging import DATA_RG, MB, load_charging_catalog, provision_subscriber
from tests.support.http_server import serve_in_thread

TOKEN = "nf-secret"
BASE = "/nchf-convergedcharging/v3/chargingdata"


@pytest.fixture
def nchf(services: Services, admin: Actor) -> Iterator[tuple[httpx.Client, Services, int]]:
    load_charging_catalog(services, admin)
    wallet_id = provision_subscriber(services, admin, "31600000001")
    services.wallets.top_up(admin, wallet_id, "CASH", 100)
    runtime = ChargingRuntime(
        services, Settings(database_url="unused://", charging_worker="thread")
    )
    runtime.start()
    app = create_app(services, runtime.decide, TOKEN)
    try:
        with (
            serve_in_thread(app) as base,
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
            ) as client,
        ):
            yield client, services, wallet_id
    finally:
        runtime.stop()


def _body(number: int, requested: int | None = None, used: int | None = None,
          subscriber: str = "msisdn-31600000001") -> dict[str, Any]:  # fmt: skip
    usage: dict[str, Any] = {"ratingGroup": DATA_RG}
    if requested is not None:
        usage["requestedUnit"] = {"totalVolume": requested}
    if used is not None:
        usage["usedUnitContainer"] = [{"totalVolume": used}]
    return {
        "subscriberIdentifier": subscriber,
        "nfConsumerIdentification": {"nodeFunctionality": "SMF"},
        "invocationTimeStamp": "2026-01-15T09:00:00Z",
        "invocationSequenceNumber": number,
        "multipleUnitUsage": [usage],
    }


def _cash(services: Services, admin: Actor, wallet_id: int) -> int:
    view = services.wallets.get_wallet(admin, wallet_id)
    return next(b.total_value for b in view.balances if b.balance_type == "CASH")


def test_a_5g_data_session_reserves_updates_and_releases(
    nchf: tuple[httpx.Client, Services, int], admin: Actor
) -> None:
    client, services, wallet_id = nchf
    created = client.post(BASE, json=_body(0, requested=10 * MB))
    assert created.status_code == 201
    ref = created.headers["Location"].rsplit("/", 1)[1]
    unit = created.json()["multipleUnitInformation"][0]
    assert unit["resultCode"] == "SUCCESS"
    assert unit["grantedUnit"] == {"totalVolume": 10 * MB}
    assert unit["validityTime"] == 600
    update = client.post(f"{BASE}/{ref}/update", json=_body(1, requested=10 * MB, used=4 * MB))
    assert update.status_code == 200
    again = client.post(f"{BASE}/{ref}/update", json=_body(1, requested=10 * MB, used=4 * MB))
    assert again.json()["multipleUnitInformation"] == update.json()["multipleUnitInformation"]
    released = client.post(f"{BASE}/{ref}/release", json=_body(2, used=MB))
    assert released.status_code == 204
    assert _cash(services, admin, wallet_id) == 90  # 5 MB at 2 cents, the retry not charged


def test_failures_are_problem_details(nchf: tuple[httpx.Client, Services, int]) -> None:
    client, _services, _wallet_id = nchf
    unknown = client.post(BASE, json=_body(0, requested=MB, subscriber="msisdn-999"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["cause"] == "USER_UNKNOWN"
    lost = client.post(f"{BASE}/nope/update", json=_body(1, used=MB))
    assert (lost.status_code, lost.json()["cause"]) == (404, "CHARGING_DATA_NOT_FOUND")
    refused = client.post(BASE, json=_body(0, requested=MB), headers={"Authorization": "x"})
    assert (refused.status_code, refused.json()["cause"]) == (401, "UNAUTHORIZED")
    broken = client.post(BASE, json={"invocationSequenceNumber": 0})
    assert broken.status_code == 422
