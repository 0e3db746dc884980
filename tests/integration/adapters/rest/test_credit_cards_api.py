"""Credit cards over the REST API on a real socket: the whole life of a card, refusals as
problem+json, and a sweep proving that neither the full number nor the CVC is kept anywhere:
not in any text column of any table, not in any log line, not in any response."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.http_server import serve_in_thread
from tests.support.wallets import load_wallet_catalog, new_subscriber

ADMIN = ("root", "root-password-1")
READER = ("reader", "reader-password-1")
NUMBER = "4539578763621486"  # passes the Luhn check
OTHER_NUMBER = "6011000990139424"
CVC = "8406"


@pytest.fixture
def world(services: Services, admin: Actor) -> tuple[Services, list[int]]:
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *READER, "read_only")
    load_wallet_catalog(services, admin)
    return services, [new_subscriber(services, admin) for _ in range(2)]


@pytest.fixture
def api(world: tuple[Services, list[int]]) -> Iterator[httpx.Client]:
    with (
        serve_in_thread(create_app(world[0])) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=ADMIN, timeout=30) as client,
    ):
        yield client


def _card_body(number: str = NUMBER, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "service_provider": PROVIDER,
        "number": number,
        "cvc": CVC,
        "masking_rule": "STD",
        "expiry_month": 11,
        "expiry_year": 2029,
        "name_on_card": "Ann Smith",
    }
    return {**body, **changes}


def _cvc_in(text: str) -> bool:
    """The CVC standing alone (hex tokens and hashes may hold its digits by chance)."""
    return re.search(rf"(?<![0-9A-Za-z]){CVC}(?![0-9A-Za-z])", text) is not None


def test_no_card_number_or_cvc_is_kept_logged_or_returned(
    world: tuple[Services, list[int]],
    api: httpx.Client,
    admin: Actor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    services, (ann, bob) = world
    # Everything, SQL statements with their parameters included.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    responses: list[httpx.Response] = []

    def call(method: str, url: str, status: int, **kwargs: object) -> httpx.Response:
        response = api.request(method, url, **kwargs)  # type: ignore[arg-type]
        responses.append(response)
        assert response.status_code == status, response.text
        return response

    rule = {"code": "STD", "name": "First six, last four", "prefix_length": 6,
            "suffix_length": 4, "padding": "*"}  # fmt: skip
    call("POST", "/credit-card-masking-rules", 201, json=rule)
    created = call("POST", "/credit-cards", 201, json=_card_body(subscriber_id=ann)).json()
    card = created["card"]["card"]
    assert created["warnings"] == []
    assert (card["display_number"], card["state"]) == ("453957******1486", "FROZEN")
    assert len(card["token"]) == 64
    assert created["card"]["registrations"][0]["state"] == "NEW"
    card_id = card["id"]

    luhn = call("POST", "/credit-cards", 422, json=_card_body("4539578763621487"))
    assert (luhn.json()["type"], luhn.json()["field"]) == (
        "urn:ocs:problem:invalid-value", "number",
    )  # fmt: skip
    accepted = call(
        "POST", "/credit-cards", 201,
        json=_card_body("4539578763621487", accept_luhn_failure=True),
    ).json()  # fmt: skip
    assert accepted["warnings"] == ["the card number fails the Luhn checksum"]
    duplicate = call("POST", "/credit-cards", 409, json=_card_body())
    assert duplicate.json()["field"] == "number"
    call("POST", "/credit-cards", 422, json=_card_body(OTHER_NUMBER, cvc="84"))
    call("POST", "/credit-cards", 422, json={**_card_body(), "number": int(OTHER_NUMBER)})
    call("POST", "/credit-cards", 422, json=_card_body(OTHER_NUMBER + "0000"))

    by_number = call("POST", "/credit-cards/search", 200, json={"number": NUMBER}).json()
    assert [v["card"]["id"] for v in by_number["items"]] == [card_id]
    assert by_number["truncated"] is False
    by_display = call("POST", "/credit-cards/search", 200, json={"display_number": "453957"})
    assert len(by_display.json()["items"]) == 2
    msisdn = services.casm.get_subscriber(admin, ann).subscriber.subscriber_id
    by_cli = call("POST", "/credit-cards/search", 200, json={"calling_card_id": msisdn}).json()
    assert [v["card"]["id"] for v in by_cli["items"]] == [card_id]

    call("POST", f"/credit-cards/{card_id}/registrations", 201, json={"subscriber_id": bob})
    call("POST", f"/credit-cards/{card_id}/registrations/{ann}/confirm", 200)
    confirmed = call("POST", f"/credit-cards/{card_id}/registrations/{bob}/confirm", 200).json()
    assert {r["subscriber_id"]: r["state"] for r in confirmed["registrations"]} == {
        ann: "PRIMARY", bob: "SECONDARY",
    }  # fmt: skip
    call("PATCH", f"/credit-cards/{card_id}", 200, json={"cvc": CVC, "expiry_month": 10})
    call("POST", f"/credit-cards/{card_id}/unfreeze", 200)
    primary = call("POST", f"/credit-cards/{card_id}/registrations/{bob}/primary", 409)
    assert primary.json()["type"] == "urn:ocs:problem:not-allowed-in-state"
    frozen = call("POST", f"/credit-cards/{card_id}/freeze", 200).json()
    assert frozen["card"]["state"] == "FROZEN"
    call("POST", f"/credit-cards/{card_id}/registrations/{bob}/primary", 200)
    call("DELETE", f"/credit-cards/{card_id}/registrations/{bob}", 409)
    wallet = call(
        "POST", f"/credit-cards/{card_id}/registrations/{ann}/freeze-wallet", 200,
        headers={"X-Change-Reason": "card reported stolen"},
    ).json()  # fmt: skip
    assert wallet["wallet"]["state"] == "FROZEN"
    call("DELETE", f"/credit-cards/{card_id}/registrations/{ann}", 200)
    deleted = call("DELETE", f"/credit-cards/{card_id}", 200).json()
    assert (deleted["outcome"], deleted["card"]["card"]["state"]) == ("DELETED", "DELETED")
    call("GET", f"/credit-cards/{card_id}", 200)
    call("GET", f"/subscribers/{bob}/credit-cards", 200)
    call("GET", "/audit", 200, params={"entity": "credit-card"})
    call("GET", "/audit", 200, params={"entity": "wallet"})

    # The sweep: every text value of every table, every log record, every response.
    leaks = []
    inspector_meta = sa.MetaData()
    inspector_meta.reflect(services.engine)
    with services.engine.connect() as conn:
        for table in inspector_meta.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for column, value in row._mapping.items():
                    text = value if isinstance(value, str) else str(value)
                    if NUMBER in text or "4539578763621487" in text or _cvc_in(text):
                        leaks.append(f"{table.name}.{column}")
    assert leaks == []
    assert any("INSERT INTO credit_cards" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert NUMBER not in text
        assert not _cvc_in(text)
    assert len(responses) > 25
    for response in responses:
        assert NUMBER not in response.text
        assert OTHER_NUMBER not in response.text
        assert not _cvc_in(response.text)


def test_refusals_are_problems_naming_the_field(
    world: tuple[Services, list[int]], api: httpx.Client, admin: Actor
) -> None:
    services, (ann, _bob) = world
    rule = {"code": "STD", "name": "Std", "prefix_length": 6, "suffix_length": 4, "padding": "*"}
    assert api.post("/credit-card-masking-rules", json=rule).status_code == 201
    wide = api.post("/credit-card-masking-rules", json={**rule, "code": "W", "prefix_length": 9})
    assert (wide.status_code, wide.json()["field"]) == (422, "prefix_length")
    assert api.get("/credit-card-masking-rules").json()[0]["code"] == "STD"
    active = api.post("/credit-cards", json=_card_body(frozen=False))
    assert (active.status_code, active.json()["field"]) == (422, "frozen")
    expired = api.post("/credit-cards", json=_card_body(expiry_year=2025))
    assert (expired.status_code, expired.json()["field"]) == (422, "expiry_year")
    assert api.get("/credit-cards/999").status_code == 404
    assert api.post("/credit-cards/search", json={}).json()["type"] == (
        "urn:ocs:problem:missing-field"
    )
    assert api.put(
        "/settings/credit-cards", json={"registrations_per_subscriber_max": 1}
    ).json() == {"registrations_per_subscriber_max": 1}
    card = api.post("/credit-cards", json=_card_body(subscriber_id=ann)).json()["card"]["card"]
    other = api.post("/credit-cards", json=_card_body(OTHER_NUMBER)).json()["card"]["card"]
    limit = api.post(f"/credit-cards/{other['id']}/registrations", json={"subscriber_id": ann})
    assert (limit.status_code, limit.json()["field"]) == (409, "subscriber_id")
    reader = api.post(f"/credit-cards/{card['id']}/freeze", auth=READER)  # a read-only operator
    assert reader.status_code == 403
    in_use = api.delete("/credit-card-masking-rules/STD")
    assert in_use.status_code == 409
    assert services.operators.set_edr_auditing(admin, True) is None
    no_reason = api.post(f"/credit-cards/{card['id']}/registrations/{ann}/confirm")
    assert no_reason.status_code == 428
    confirmed = api.post(
        f"/credit-cards/{card['id']}/registrations/{ann}/confirm",
        headers={"X-Change-Reason": "checked ID"},
    )
    assert confirmed.json()["registrations"][0]["state"] == "PRIMARY"
    [entry, *_] = api.get("/audit", params={"entity": "credit-card"}).json()
    assert (entry["action"], entry["change_reason"]) == ("confirm", "checked ID")
