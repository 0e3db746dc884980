"""Reservations and charging figures through the REST API over a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.core.charging import (
    ChargingRequest,
    IdentityType,
    RequestType,
    ServiceRequest,
    UnitAmounts,
)
from ocs.service.actor import Actor
from tests.support.charging import DATA_RG, MB, load_charging_catalog, provision_subscriber
from tests.support.http_server import serve_in_thread

ADMIN = ("root", "root-password-1")


@pytest.fixture
def api(services: Services, admin: Actor) -> Iterator[tuple[httpx.Client, int]]:
    services.operators.create(admin, *ADMIN, "admin")
    load_charging_catalog(services, admin)
    wallet_id = provision_subscriber(services, admin, "31600000001")
    services.wallets.top_up(admin, wallet_id, "CASH", 100)
    data = ServiceRequest(DATA_RG, requested=UnitAmounts(total_octets=10 * MB))
    identity = (IdentityType.E164, "31600000001")
    request = ChargingRequest(
        "s1", 0, RequestType.INITIAL, (identity,), services.clock.now(), (data,)
    )
    with services.store.transaction() as uow:
        services.charging.process(uow, request)
    with (
        serve_in_thread(create_app(services)) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=ADMIN, timeout=10) as client,
    ):
        yield client, wallet_id


def test_reservations_can_be_seen_and_committed(api: tuple[httpx.Client, int]) -> None:
    client, wallet_id = api
    balances = client.get(f"/wallets/{wallet_id}/reservation-balances").json()
    cash = next(b for b in balances if b["balance_type"] == "CASH")
    assert (cash["total"], cash["reserved"], cash["available"]) == (100, 20, 80)
    listed = client.get(f"/wallets/{wallet_id}/reservations").json()
    assert [(r["reservation"]["state"], r["holds"]) for r in listed] == [("OPEN", {"CASH": 20})]
    stats = client.get("/charging/stats").json()
    assert (stats["open_sessions"], stats["open_reservations"]) == (1, 1)
    reservation_id = listed[0]["reservation"]["id"]
    committed = client.post(f"/reservations/{reservation_id}/commit")
    assert committed.status_code == 200
    assert committed.json()["reservation"]["state"] == "COMMITTED"
    again = client.post(f"/reservations/{reservation_id}/revoke")
    assert (again.status_code, again.json()["type"]) == (409, "urn:ocs:problem:conflict")
    bad = client.post(f"/reservations/{reservation_id}/refund")
    assert (bad.status_code, bad.json()["field"]) == (422, "action")
    cash = next(
        b for b in client.get(f"/wallets/{wallet_id}/reservation-balances").json()
        if b["balance_type"] == "CASH"
    )  # fmt: skip
    assert (cash["total"], cash["reserved"]) == (80, 0)
