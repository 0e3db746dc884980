"""The wallet REST API and its TMF654 names over a real socket, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.adapters.rest.routes_wallets import TMF_PREFIX
from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.http_server import serve_in_thread
from tests.support.wallets import PRODUCT, assert_balances_explained, load_wallet_catalog

ADMIN = ("root", "root-password-1")
READER = ("reader", "reader-password-1")
PROBLEM = "application/problem+json"


@pytest.fixture
def server(services: Services, admin: Actor) -> Iterator[str]:
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *READER, "read_only")
    load_wallet_catalog(services, admin)
    with serve_in_thread(create_app(services)) as base:
        yield base
    assert_balances_explained(services)


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server}/api/v1", auth=ADMIN, timeout=10) as client:
        yield client


@pytest.fixture
def tmf(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server}{TMF_PREFIX}", auth=ADMIN, timeout=10) as client:
        yield client


def _ok(response: httpx.Response, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def _problem(response: httpx.Response, status: int, kind: str, field: str | None) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["type"], body.get("field")) == (f"urn:ocs:problem:{kind}", field)
    return str(body["detail"])


def _subscriber(api: httpx.Client, cli: str, **wallet: object) -> int:
    customer = _ok(api.post("/customers", json={"name": f"C {cli}", "service_provider": PROVIDER}),
                   201)  # fmt: skip
    account = _ok(api.post("/accounts", json={"customer_id": customer["id"],
                                              "account_type": "PAYER"}), 201)  # fmt: skip
    body = {"subscriber_id": cli, "account_id": account["id"],
            "wallet": {"product_type": PRODUCT, **wallet}}  # fmt: skip
    return int(_ok(api.post("/subscribers", json=body), 201)["subscriber"]["id"])


def test_subscriber_with_wallet_top_up_charge_and_reversal(api: httpx.Client) -> None:
    subscriber = _subscriber(api, "31611")
    [view] = _ok(api.get(f"/subscribers/{subscriber}/wallets"))
    wallet = view["wallet"]
    assert (wallet["state"], wallet["reference"]) == ("PRE_USE", f"W{wallet['id']:010d}")
    wallet_id = wallet["id"]
    credit = _ok(api.post(f"/wallets/{wallet_id}/top-ups", json={
        "balance_type": "CASH", "amount": 1000, "tags": {"CHANNEL": "web"},
    }), 201)  # fmt: skip
    assert (credit["outcome"], credit["edr"]["type"], credit["edr"]["tags"]) == (
        "ACCEPTED", "RECHARGE", [["CHANNEL", "web"]],
    )  # fmt: skip
    charge = _ok(api.post("/charges", json={
        "subscriber_id": subscriber, "amounts": {"CASH": 300}, "called_number": "3169",
    }), 201)  # fmt: skip
    assert charge["outcome"] == "CHARGED"
    refused = api.post("/charges", json={"subscriber_id": subscriber, "amounts": {"CASH": 701}})
    _problem(refused, 409, "insufficient-balance", "amounts")
    edr_id = charge["edr"]["id"]
    reversal = _ok(api.post(f"/edrs/{edr_id}/reversal"), 201)
    assert (reversal["type"], reversal["reverses_edr_id"]) == ("REVERSAL", edr_id)
    again = api.post(f"/edrs/{edr_id}/reversal")
    _problem(again, 409, "conflict", "edr_id")
    not_a_charge = api.post(f"/edrs/{credit['edr']['id']}/reversal")
    _problem(not_a_charge, 422, "invalid-value", "edr_id")
    page = _ok(api.get("/edrs", params={"subscriber_id": subscriber, "sort": "COST"}))
    assert [item["cost"] for item in page["items"]][:2] == [300, 0]
    assert page["total"] == 5
    checks = _ok(api.get(f"/wallets/{wallet_id}/reconciliation"))
    assert checks == [{"balance_type": "CASH", "held_value": 1000, "edr_value": 1000}]


def test_bad_input_is_a_problem_naming_the_field(api: httpx.Client) -> None:
    subscriber = _subscriber(api, "31612")
    wallet_id = _ok(api.get(f"/subscribers/{subscriber}/wallets"))[0]["wallet"]["id"]
    cases = [
        (api.post(f"/wallets/{wallet_id}/top-ups", json={"balance_type": "SMS", "amount": 101}),
         409, "maximum-balance-exceeded", "amount"),
        (api.post(f"/wallets/{wallet_id}/adjustments", json={"balance_type": "CASH",
                                                             "amount": 10001}),
         422, "outside-adjustment-limits", "amount"),
        (api.post(f"/wallets/{wallet_id}/buckets", json={
            "balance_type": "DATA", "value": 5, "start_at": "2030-01-02T00:00:00Z",
            "expires_at": "2030-01-01T00:00:00Z"}), 422, "invalid-value", "start_at"),
        (api.post(f"/wallets/{wallet_id}/top-ups", json={"balance_type": "CASH", "amount": "5"}),
         422, "invalid-value", "amount"),
        (api.post("/wallet-merges", json={"source_subscriber_id": subscriber,
                                          "target_subscriber_id": subscriber}),
         422, "invalid-value", "source_wallet_type"),
        (api.post(f"/wallets/{wallet_id}/state", json={"state": "SUSPENDED"}), 409,
         "invalid-state-transition", "state"),
        (api.get("/edrs", params={"subscriber_id": subscriber, "sort": "SIZE"}), 422,
         "invalid-value", "sort"),
        (api.post("/subscribers", json={"subscriber_id": "31613", "account_id": 1,
                                        "wallet": {"product_type": "NOPE"}}),
         422, "unknown-reference", "wallet.product_type"),
    ]  # fmt: skip
    for response, status, kind, field in cases:
        _problem(response, status, kind, field)
    view = _ok(api.get(f"/wallets/{wallet_id}"))
    assert [(b["balance_type"], b["total_value"]) for b in view["balances"]] == [("CASH", 0)]


def test_auditing_reason_header_and_read_only_operators(api: httpx.Client) -> None:
    subscriber = _subscriber(api, "31614")
    wallet_id = _ok(api.get(f"/subscribers/{subscriber}/wallets"))[0]["wallet"]["id"]
    _ok(api.put("/settings/edr-auditing", json={"enabled": True}))
    body = {"balance_type": "CASH", "amount": 100}
    _problem(api.post(f"/wallets/{wallet_id}/top-ups", json=body), 428,
             "change-reason-required", "change_reason")  # fmt: skip
    credit = _ok(api.post(f"/wallets/{wallet_id}/top-ups", json=body,
                          headers={"X-Change-Reason": "goodwill"}), 201)  # fmt: skip
    assert (credit["edr"]["operator"], credit["edr"]["change_reason"]) == ("root", "goodwill")
    reader = api.post(f"/wallets/{wallet_id}/top-ups", json=body, auth=READER,
                      headers={"X-Change-Reason": "x"})  # fmt: skip
    _problem(reader, 403, "forbidden", None)
    assert _ok(api.get(f"/wallets/{wallet_id}", auth=READER))["wallet"]["id"] == wallet_id


def test_wallet_settings_endpoints(api: httpx.Client) -> None:
    rate = _ok(api.put("/exchange-rates/EUR/USD", json={"rate": "1.0850"}))
    assert rate == {"from_currency": "EUR", "to_currency": "USD", "rate": "1.085"}
    _problem(api.put("/exchange-rates/EUR/USD", json={"rate": "x"}), 422, "invalid-value", "rate")
    assert len(_ok(api.get("/exchange-rates"))) == 1
    assert api.delete("/exchange-rates/EUR/USD").status_code == 204
    limits = _ok(api.put(f"/product-types/{PRODUCT}/adjustment-limits/BONUS",
                         json={"minimum": -10, "maximum": 10}))  # fmt: skip
    assert limits == {"product_type": PRODUCT, "balance_type": "BONUS", "operator": None,
                      "limits": {"minimum": -10, "maximum": 10}}  # fmt: skip
    credit = _ok(api.put(f"/product-types/{PRODUCT}/activation-credits/VOICE",
                         json={"amount": 600, "validity_s": 86400}))  # fmt: skip
    assert credit["amount"] == 600
    cell = _ok(api.put(f"/product-types/{PRODUCT}/permissions/SUSPENDED/CHARGE",
                       json={"allowed": True}))  # fmt: skip
    assert (cell["allowed"], cell["overridden"]) == (True, True)
    matrix = _ok(api.get(f"/product-types/{PRODUCT}/permissions"))
    assert len(matrix) == 24
    rule = _ok(api.put("/edr-masking-rules/called_number",
                       json={"keep_prefix": 3, "keep_suffix": 2}))  # fmt: skip
    assert rule == {"field": "called_number", "keep_prefix": 3, "keep_suffix": 2}
    assert api.delete("/edr-masking-rules/called_number").status_code == 204
    _problem(api.delete("/edr-masking-rules/called_number"), 404, "not-found", None)


def test_tmf654_buckets_topup_adjust_and_history(api: httpx.Client, tmf: httpx.Client) -> None:
    subscriber = _subscriber(api, "31615", reference="ALICE-1")
    topup = _ok(tmf.post("/topupBalance", json={
        "amount": {"amount": 1200, "units": "DATA"}, "partyAccount": {"id": "ALICE-1"},
        "reason": "welcome",
    }), 201)  # fmt: skip
    assert (topup["@type"], topup["status"], topup["droppedAmount"]) == (
        "TopupBalance", "completed", {"amount": 200, "units": "DATA"},
    )  # fmt: skip
    assert topup["reason"] == "welcome"
    refused = tmf.post("/adjustBalance", json={
        "amount": {"amount": -100, "units": "DATA"}, "partyAccount": {"id": "ALICE-1"},
    })  # fmt: skip
    _problem(refused, 422, "outside-adjustment-limits", "amount")  # DATA's minimum is 0
    adjust = _ok(tmf.post("/adjustBalance", json={
        "amount": {"amount": 60, "units": "VOICE"}, "partyAccount": {"id": "ALICE-1"},
    }), 201)  # fmt: skip
    assert (adjust["@type"], adjust["droppedAmount"]["amount"]) == ("AdjustBalance", 0)
    _problem(tmf.post("/topupBalance", json={
        "amount": {"amount": 5, "units": "DATA"}, "partyAccount": {"id": "NOPE"},
    }), 404, "not-found", None)  # fmt: skip
    buckets = _ok(tmf.get("/bucket", params={"partyAccount.id": "ALICE-1"}))
    assert [(b["name"], b["remainedAmount"], b["status"]) for b in buckets] == [
        ("DATA", {"amount": 1000, "units": "OCTETS"}, "active"),
        ("VOICE", {"amount": 60, "units": "SECONDS"}, "active"),
    ]
    first = buckets[0]["id"]
    assert _ok(tmf.get(f"/bucket/{first}"))["name"] == "DATA"
    _problem(tmf.get("/bucket/999999"), 404, "not-found", None)
    by_subscriber = _ok(tmf.get("/bucket", params={"relatedParty.id": subscriber}))
    assert [b["id"] for b in by_subscriber] == [b["id"] for b in buckets]
    _problem(tmf.get("/bucket"), 422, "invalid-value", "partyAccount.id")
    history = _ok(tmf.get("/balanceActionHistory", params={"partyAccount.id": "ALICE-1"}))
    assert [(h["actionType"], h["amount"]) for h in history] == [
        ("ADJUSTMENT", [{"amount": 60, "units": "VOICE"}]),
        ("RECHARGE", [{"amount": 1000, "units": "DATA"}]),
        ("WALLET_CREATED", []),
    ]
