"""The offer, subscription and grant REST API over a real socket, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.clock import FakeClock
from tests.support.http_server import serve_in_thread
from tests.support.offers import load_classes, recurrent
from tests.support.wallets import (
    assert_balances_explained,
    load_wallet_catalog,
    new_subscriber,
    wallet_of,
)

ADMIN = ("root", "root-password-1")
READER = ("reader", "reader-password-1")


@pytest.fixture
def api(services: Services, admin: Actor, clock: FakeClock) -> Iterator[httpx.Client]:
    clock.current = datetime(2026, 4, 11, tzinfo=UTC)
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *READER, "read_only")
    load_wallet_catalog(services, admin)
    load_classes(services, admin)
    with (
        serve_in_thread(create_app(services)) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=ADMIN, timeout=10) as client,
    ):
        yield client
    assert_balances_explained(services)


def _ok(response: httpx.Response, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def test_catalogue_subscription_and_grants_end_to_end(
    api: httpx.Client, services: Services, admin: Actor
) -> None:
    payload = recurrent("V", prorate_when_activated=True, prorate_mode="DAILY")
    service = _ok(api.post("/offer-services", json=payload), 201)
    assert (service["balance_type"], service["granted_base"]) == ("V-BAL", 6000)
    product = {"code": "P1", "name": "Voice pack", "service_provider": PROVIDER, "services": ["V"]}
    _ok(api.post("/products", json=product), 201)
    offer = {"code": "O1", "name": "Talk more", "priority": 5, "service_provider": PROVIDER,
             "products": ["P1"]}  # fmt: skip
    offer = _ok(api.post("/offers", json=offer), 201)
    assert offer["products"] == ["P1"]
    subscriber = new_subscriber(services, admin)
    subscription = _ok(
        api.post("/subscriptions", json={"offer": "O1", "entity_id": subscriber}), 201
    )
    assert subscription["state"] == "ACTIVE"
    run = _ok(api.post("/grants/run"))
    assert run["granted"] == 1
    wallet = wallet_of(services, admin, subscriber)
    [grant] = _ok(api.get(f"/wallets/{wallet}/grants"))  # type: ignore[misc]
    assert (grant["granted"], grant["period_index"]) == (4000, 0)
    listed = _ok(api.get(f"/subscribers/{subscriber}/subscriptions"))
    assert [s["id"] for s in listed] == [subscription["id"]]  # type: ignore[index]
    ended = _ok(api.post(f"/subscriptions/{subscription['id']}/cancel"))
    assert ended["state"] == "CANCELLED"
    problem = api.post(f"/subscriptions/{subscription['id']}/cancel")
    assert problem.status_code == 409
    assert problem.json()["type"].endswith("not-allowed-in-state")


def test_invalid_service_is_a_problem_naming_the_field(api: httpx.Client) -> None:
    response = api.post("/offer-services", json=recurrent("V", charging_classes=["NOPE"]))
    assert response.status_code in (400, 422), response.text
    body = response.json()
    assert body["type"].endswith("unknown-reference")
    assert "charging_classes[0]" in str(body)
    assert api.get("/offer-services").json() == []


def test_reader_may_list_but_not_create(api: httpx.Client) -> None:
    reader = httpx.Client(base_url=str(api.base_url), auth=READER, timeout=10)
    with reader:
        assert reader.get("/offers").status_code == 200
        response = reader.post("/offer-services", json=recurrent("V"))
        assert response.status_code == 403
        assert reader.post("/grants/run").status_code == 403
