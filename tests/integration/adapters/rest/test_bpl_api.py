"""Subscriber search, BPL tasks and the promotions view over the REST API on a real socket
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.core.casm import SEARCH_ROWS_MAX
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.http_server import serve_in_thread
from tests.support.wallets import PRODUCT, assert_balances_explained, load_wallet_catalog

ADMIN = ("root", "root-password-1")
READER = ("reader", "reader-password-1")
PROBLEM = "application/problem+json"


@pytest.fixture
def api(services: Services, admin: Actor) -> Iterator[httpx.Client]:
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *READER, "read_only")
    load_wallet_catalog(services, admin)
    services.wallet_settings.set_activation_credit(admin, PRODUCT, "VOICE", 300, 3600)
    with (
        serve_in_thread(create_app(services)) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=ADMIN, timeout=10) as client,
    ):
        yield client
    assert_balances_explained(services)


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _problem(response: httpx.Response, status: int, kind: str, field: str | None) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["type"], body.get("field")) == (f"urn:ocs:problem:{kind}", field)
    return str(body["detail"])


def _subscriber(api: httpx.Client, cli: str, account: int | None = None) -> tuple[int, int]:
    if account is None:
        customer = _ok(
            api.post("/customers", json={"name": f"C {cli}", "service_provider": PROVIDER}), 201
        )
        account = int(
            _ok(
                api.post(
                    "/accounts", json={"customer_id": customer["id"], "account_type": "PAYER"}
                ),
                201,
            )["id"]
        )
    body = {"subscriber_id": cli, "account_id": account, "wallet": {"product_type": PRODUCT}}
    subscriber = int(_ok(api.post("/subscribers", json=body), 201)["subscriber"]["id"])
    return subscriber, account  # fmt: skip


def test_search_rows_per_wallet_truncation_and_multi_field_refusal(api: httpx.Client) -> None:
    first, account = _subscriber(api, "4400000")
    _ok(api.post(f"/subscribers/{first}/wallets",
                 json={"wallet_type": "SECONDARY", "product_type": PRODUCT}), 201)  # fmt: skip
    for i in range(1, SEARCH_ROWS_MAX):
        _subscriber(api, f"44{i:05d}", account)
    search = {"service_provider": PROVIDER}
    found = _ok(api.get("/subscribers/search", params={**search, "subscriber_id": "4400000",
                                                        "match": "exact"}))  # fmt: skip
    assert [r["wallet_type"] for r in found["rows"]] == ["PRIMARY", "SECONDARY"]
    assert found["truncated"] is False
    assert found["rows"][0]["subscriber"]["subscriber_id"] == "4400000"
    # 100 subscribers with 101 wallets: the 101st row is cut and flagged.
    many = _ok(api.get("/subscribers/search", params={**search, "customer": "c 4400000"}))
    assert (len(many["rows"]), many["truncated"], many["rows_max"]) == (100, True, 100)
    both = {**search, "subscriber_id": "44", "card_number": "4"}
    detail = _problem(api.get("/subscribers/search", params=both), 422, "invalid-value",
                      "subscriber_id")  # fmt: skip
    assert "one field only" in detail
    _problem(api.get("/subscribers/search", params=search), 422, "missing-field", "q")
    # The older list search keeps working.
    assert len(_ok(api.get("/subscribers", params={**search, "q": "440000"}))) == 10
    assert len(_ok(api.get("/subscribers", params={**search, "q": "4400000", "exact": True}))) == 1


def test_bpl_task_definition_execution_and_refusals(api: httpx.Client) -> None:
    subscriber, _ = _subscriber(api, "4500000")
    task_body = {
        "name": "Goodwill",
        "service_provider": PROVIDER,
        "parameters": [
            {"name": "amount", "type": "MONEY", "mandatory": True},
            {"name": "note", "type": "STRING", "default": "thanks"},
        ],
        "actions": [
            {"kind": "GRANT_BUCKET",
             "inputs": {"balance_type": "CASH", "amount": {"parameter": "amount"},
                        "validity_s": 86400}},
            {"kind": "NOTIFY", "inputs": {"message": {"parameter": "note"}}},
        ],
    }  # fmt: skip
    task = _ok(api.post("/bpl-tasks", json=task_body), 201)
    assert task["actions"][0]["inputs"]["amount"] == {"parameter": "amount", "value": None}
    assert [t["name"] for t in _ok(api.get("/bpl-tasks"))] == ["Goodwill"]
    _problem(api.post("/bpl-tasks", json=task_body), 409, "duplicate", "name")

    url = f"/subscribers/{subscriber}/bpl-tasks/{task['id']}"
    _problem(api.post(f"{url}/execute", json={"values": {}}), 422, "missing-field",
             "parameters.amount")  # fmt: skip
    _problem(api.post(f"{url}/execute", json={"values": {"amount": "lots"}}), 422,
             "invalid-value", "parameters.amount")  # fmt: skip
    run = _ok(api.post(f"{url}/execute",
                       json={"values": {"amount": 250}, "mode": "SAVE_AND_EXECUTE"}))  # fmt: skip
    assert run["mode"] == "SAVE_AND_EXECUTE"
    assert [e["kind"] for e in run["effects"]] == ["GRANT_BUCKET", "NOTIFY"]
    form = _ok(api.get(url))
    assert form["values"] == {"amount": 250, "note": "thanks"}
    wallet = run["effects"][0]["wallet_id"]
    [cash] = [b for b in _ok(api.get(f"/wallets/{wallet}"))["balances"]
              if b["balance_type"] == "CASH"]  # fmt: skip
    assert cash["total_value"] == 250
    assert len(_ok(api.get(f"/subscribers/{subscriber}/bpl-runs"))) == 1
    with httpx.Client(base_url=str(api.base_url), auth=READER, timeout=10) as reader:
        _problem(reader.post(f"{url}/execute", json={"values": {"amount": 1}}), 403,
                 "forbidden", None)  # fmt: skip
    assert api.delete(f"/bpl-tasks/{task['id']}").status_code == 204
    _problem(api.get(f"/bpl-tasks/{task['id']}"), 404, "not-found", None)


def test_promotions_before_and_after_activation(api: httpx.Client) -> None:
    subscriber, _ = _subscriber(api, "4600000")
    view = _ok(api.get(f"/subscribers/{subscriber}/promotions"))
    [wallet] = view["wallets"]
    [promotion] = wallet["promotions"]
    assert (promotion["status"], promotion["applied_at"]) == ("PENDING", None)
    assert promotion["limited_liability"]["global_status"] == "NOT_APPLICABLE"
    _ok(api.post(f"/wallets/{wallet['wallet_id']}/activate"))
    [after] = _ok(api.get(f"/subscribers/{subscriber}/promotions"))["wallets"][0]["promotions"]
    assert after["status"] == "APPLIED"
    [voice] = after["trackers"]
    assert (voice["credited"], voice["remaining"], voice["traceable"]) == (300, 300, True)
    _problem(api.get("/subscribers/9999/promotions"), 404, "not-found", None)
