"""The REST API over a real socket: authentication, problem+json, privileges, auditing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER, load_basics
from tests.support.http_server import serve_in_thread

ADMIN = ("root", "root-password-1")
READER = ("reader", "reader-password-1")
PROBLEM = "application/problem+json"


@pytest.fixture
def api(services: Services, admin: Actor) -> Iterator[httpx.Client]:
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *READER, "read_only")
    load_basics(services, admin)
    with (
        serve_in_thread(create_app(services)) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=ADMIN, timeout=10) as client,
    ):
        yield client


def test_requests_need_authentication(api: httpx.Client) -> None:
    response = api.get("/customers", auth=None)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:ocs:problem:unauthenticated"
    wrong = api.get("/customers", auth=(ADMIN[0], "wrong-password"))
    assert (wrong.status_code, wrong.json()["detail"]) == (401, "wrong username or password")
    bogus = api.get("/customers", auth=None, headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401


def test_bearer_token_from_credentials(api: httpx.Client) -> None:
    token = api.post("/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}, auth=None)
    assert token.status_code == 200
    body = token.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 43200)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert api.get("/config/currencies", auth=None, headers=headers).json()[0]["code"] == "EUR"


def test_configuration_crud_and_errors(api: httpx.Client) -> None:
    created = api.post("/config/account-segments", json={"code": "VIP", "name": "VIP"})
    assert created.status_code == 201
    assert created.json() == {"code": "VIP", "name": "VIP", "description": None}
    dup = api.post("/config/account-segments", json={"code": "VIP", "name": "Again"})
    assert dup.status_code == 409
    assert dup.json() == {
        "type": "urn:ocs:problem:duplicate",
        "title": "duplicate",
        "status": 409,
        "detail": "Account segment with code 'VIP' already exists",
        "field": "code",
    }
    immutable = api.patch("/config/account-segments/VIP", json={"code": "VIP2"})
    assert (immutable.status_code, immutable.json()["field"]) == (422, "code")
    assert immutable.json()["type"] == "urn:ocs:problem:immutable-field"
    typed = api.post("/config/currencies", json={"code": "USD", "name": "Dollar", "scale": "2"})
    assert (typed.status_code, typed.json()["field"]) == (422, "scale")
    unknown = api.post("/config/account-segments", json={"code": "X", "name": "x", "foo": 1})
    assert (unknown.json()["type"], unknown.json()["field"]) == (
        "urn:ocs:problem:unknown-field", "foo",
    )  # fmt: skip
    second_primary = api.post(
        "/config/resource-types", json={"code": "SIP", "name": "SIP", "primary": True}
    )
    assert (second_primary.status_code, second_primary.json()["field"]) == (409, "primary")
    assert api.get("/config/account-segments/VIP").json()["name"] == "VIP"
    assert api.delete("/config/account-segments/VIP").status_code == 204
    assert api.get("/config/account-segments/VIP").status_code == 404


def test_customer_account_subscriber_journey(api: httpx.Client) -> None:
    customer = api.post("/customers", json={"name": "Acme", "service_provider": PROVIDER})
    assert customer.status_code == 201
    customer_id = customer.json()["id"]
    account = api.post("/accounts", json={"customer_id": customer_id, "account_type": "PAYER"})
    assert account.status_code == 201
    subscriber = api.post(
        "/subscribers",
        json={
            "subscriber_id": "31655",
            "account_id": account.json()["id"],
            "resources": [{"resource_type": "MSISDN", "value": "31655"}],
        },
    )
    assert subscriber.status_code == 201
    found = api.get("/resources/31655")
    assert found.json()["subscriber"]["subscriber_id"] == "31655"
    assert [c["name"] for c in api.get("/customers", params={"name": "ac"}).json()] == ["Acme"]
    state = api.post(
        f"/subscribers/{found.json()['subscriber']['id']}/state",
        json={"state": "SUSPENDED", "state_reason": "DEBT"},
    )
    assert (state.status_code, state.json()["status"]) == (200, "APPLIED")
    wrong = api.post(
        f"/customers/{customer_id}/state", json={"state": "SUSPENDED", "state_reason": "NEW"}
    )
    assert (wrong.status_code, wrong.json()["type"]) == (
        422, "urn:ocs:problem:state-reason-mismatch",
    )  # fmt: skip


def test_read_only_operator_is_forbidden_to_write(api: httpx.Client) -> None:
    assert api.get("/config/currencies", auth=READER).status_code == 200
    response = api.post("/customers", auth=READER, json={"name": "X", "service_provider": PROVIDER})
    assert response.status_code == 403
    assert response.json()["detail"] == "operator 'reader' lacks the 'create_delete' privilege"
    assert api.get("/customers").json() == []


def test_change_reason_header_when_auditing_is_on(api: httpx.Client) -> None:
    assert api.put("/settings/edr-auditing", json={"enabled": True}).status_code == 200
    body = {"name": "Audited", "service_provider": PROVIDER}
    refused = api.post("/customers", json=body)
    assert refused.status_code == 428
    assert refused.json()["field"] == "change_reason"
    assert api.get("/customers").json() == []
    accepted = api.post("/customers", json=body, headers={"X-Change-Reason": "ticket 7"})
    assert accepted.status_code == 201
    audit = api.get("/audit", params={"entity": "customer"}).json()
    assert (audit[0]["operator"], audit[0]["change_reason"]) == ("root", "ticket 7")


def test_openapi_documents_the_api(api: httpx.Client) -> None:
    base = f"http://{api.base_url.host}:{api.base_url.port}"
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/api/v1/config/account-types" in spec["paths"]
    assert "/api/v1/subscribers" in spec["paths"]
    assert httpx.get(f"{base}/docs").status_code == 200
