"""The voucher and credit transfer REST API over a real socket, on SQLite and PostgreSQL, and
the check that no voucher secret and no PIN appears in the database, the logs or any response
but the one that creates the batch."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.http_server import serve_in_thread
from tests.support.vouchers import load_voucher_catalog
from tests.support.wallets import PRODUCT, assert_balances_explained

ADMIN = ("root", "root-password-1")
READER = ("reader", "reader-password-1")
PROBLEM = "application/problem+json"
PIN = "80417263"


@pytest.fixture
def server(services: Services, admin: Actor) -> Iterator[str]:
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *READER, "read_only")
    load_voucher_catalog(services, admin)
    with serve_in_thread(create_app(services)) as base:
        yield base
    assert_balances_explained(services)


class Recorder(httpx.Client):
    """A client that keeps every response body, so that a test can search them all."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bodies: list[str] = []

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
        response = super().request(*args, **kwargs)
        self.bodies.append(response.text)
        return response


@pytest.fixture
def api(server: str) -> Iterator[Recorder]:
    with Recorder(base_url=f"{server}/api/v1", auth=ADMIN, timeout=30) as client:
        yield client


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _problem(response: httpx.Response, status: int, kind: str, field: str | None) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["type"], body.get("field")) == (f"urn:ocs:problem:{kind}", field)
    return str(body["detail"])


def _subscriber(api: httpx.Client, cli: str) -> int:
    customer = _ok(api.post("/customers", json={"name": f"C {cli}", "service_provider": PROVIDER}),
                   201)  # fmt: skip
    account = _ok(api.post("/accounts", json={"customer_id": customer["id"],
                                              "account_type": "PAYER"}), 201)  # fmt: skip
    body = {"subscriber_id": cli, "account_id": account["id"],
            "wallet": {"product_type": PRODUCT}}  # fmt: skip
    return int(_ok(api.post("/subscribers", json=body), 201)["subscriber"]["id"])


def _batch(api: Recorder, voucher_type: str, size: int) -> tuple[int, list[dict[str, str]]]:
    created = _ok(api.post("/voucher-batches", json={
        "voucher_type": voucher_type, "size": size, "expires_at": "2030-01-01T00:00:00Z",
    }), 201)  # fmt: skip
    api.bodies.pop()  # the one response that is meant to carry the secrets
    batch_id = created["batch"]["id"]
    _ok(api.post(f"/voucher-batches/{batch_id}/state", json={"state": "ACTIVE"}))
    return batch_id, created["vouchers"]


def test_voucher_types_batches_and_lookup(api: Recorder, server: str) -> None:
    body = {
        "code": "GOLD", "name": "Gold", "service_provider": PROVIDER,
        "balances": [{"balance_type": "CASH", "value": 1000},
                     {"balance_type": "VOICE", "value": 60, "expiry": "VALIDITY",
                      "validity_days": 7}],
        "wallet_expiry_extension_days": 30,
    }  # fmt: skip
    created = _ok(api.post("/voucher-types", json=body), 201)
    assert [b["balance_type"] for b in created["balances"]] == ["CASH", "VOICE"]
    bad = {**body, "code": "BAD", "balances": [{"balance_type": "CASH", "value": -1}]}
    _problem(api.post("/voucher-types", json=bad), 422, "invalid-value", "balances[0].value")
    unknown = {**body, "code": "BAD", "balances": [{"balance_type": "NOPE", "value": 1}]}
    _problem(api.post("/voucher-types", json=unknown), 422, "unknown-reference",
             "balances[0].balance_type")  # fmt: skip
    updated = _ok(api.put("/voucher-types/GOLD", json={**body, "name": "Golden"}))
    assert updated["name"] == "Golden"
    assert [t["code"] for t in _ok(api.get("/voucher-types"))] == ["GOLD", "TOPUP"]

    batch_id, vouchers = _batch(api, "GOLD", 2)
    assert {"number", "serial_number", "secret"} == set(vouchers[0])
    view = _ok(api.get(f"/voucher-batches/{batch_id}"))
    assert (view["batch"]["state"], view["counts"]["AVAILABLE"]) == ("ACTIVE", 2)
    _problem(api.post(f"/voucher-batches/{batch_id}/state", json={"state": "CREATED"}), 409,
             "invalid-state-transition", "state")  # fmt: skip
    voucher = _ok(api.get(f"/vouchers/{vouchers[0]['number']}"))
    assert "secret" not in voucher
    assert "secret_hash" not in voucher
    frozen = _ok(api.post(f"/vouchers/{vouchers[1]['number']}/state", json={"state": "FROZEN"}))
    assert frozen["state"] == "FROZEN"
    _problem(api.delete("/voucher-types/GOLD"), 409, "in-use", "code")
    assert [b["batch"]["id"] for b in _ok(api.get("/voucher-batches?voucher_type=GOLD"))] == [
        batch_id
    ]
    with httpx.Client(base_url=f"{server}/api/v1", auth=READER, timeout=30) as reader:
        _problem(reader.post(f"/voucher-batches/{batch_id}/state", json={"state": "FROZEN"}),
                 403, "forbidden", None)  # fmt: skip
        assert reader.get(f"/vouchers/{vouchers[0]['number']}").status_code == 200


def test_recharge_blacklist_and_transfers_never_expose_secrets_or_pins(
    api: Recorder, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    subscriber = _subscriber(api, "31655500001")
    friend = _subscriber(api, "31655500002")
    _, vouchers = _batch(api, "TOPUP", 3)
    secrets_shown = {v["secret"] for v in vouchers}
    first, second, third = vouchers

    recharge = {"subscriber_id": subscriber, "voucher_number": first["number"],
                "secret": first["secret"]}  # fmt: skip
    result = _ok(api.post("/voucher-recharges", json=recharge), 201)
    assert result["voucher"]["state"] == "REDEEMED"
    assert result["applied"]["edr"]["type"] == "RECHARGE"
    assert dict(result["applied"]["edr"]["tags"])["VOUCHER"] == first["number"]
    _problem(api.post("/voucher-recharges", json=recharge), 409, "conflict", "voucher_number")
    wrong = {**recharge, "voucher_number": second["number"], "secret": "1" * 20}
    _problem(api.post("/voucher-recharges", json=wrong), 422, "invalid-value", "secret")
    _problem(api.post("/voucher-recharges", json=wrong), 422, "invalid-value", "secret")
    blacklist = _ok(api.get(f"/subscribers/{subscriber}/voucher-blacklist"))
    assert (blacklist["blacklisted"], blacklist["consecutive_failures"]) == (True, 3)
    by_msisdn = {"msisdn": "31655500001", "voucher_number": second["number"],
                 "secret": second["secret"]}  # fmt: skip
    _problem(api.post("/voucher-recharges", json=by_msisdn), 422, "missing-field",
             "serial_number")  # fmt: skip
    with_serial = {**by_msisdn, "serial_number": second["serial_number"]}
    assert _ok(api.post("/voucher-recharges", json=with_serial), 201)["voucher"]["redeemed_by"] == (
        subscriber
    )
    cleared = _ok(api.delete(f"/subscribers/{subscriber}/voucher-blacklist"))
    assert (cleared["blacklisted"], cleared["consecutive_failures"]) == (False, 0)

    details = {"pin_defined": True, "pin": PIN, "pin_confirmation": PIN}
    _ok(api.put(f"/subscribers/{subscriber}/details", json=details))
    definition = {
        "code": "P2P", "name": "Share credit", "transfer_type": "PEER_TO_PEER",
        "service_provider": PROVIDER, "charge_balance_type": "CASH", "charge_amount": 600,
        "voucher_type": "TOPUP", "pin_required": True,
    }  # fmt: skip
    _ok(api.post("/credit-transfer-definitions", json=definition), 201)
    assert _ok(api.get("/credit-transfer-definitions/P2P"))["pin_required"] is True
    transfer = {"purchaser_id": subscriber, "definition": "P2P",
                "recipient_msisdn": "31655500002", "pin": PIN}  # fmt: skip
    _problem(api.post("/credit-transfers", json={**transfer, "pin": "00000000"}), 422,
             "invalid-value", "pin")  # fmt: skip
    done = _ok(api.post("/credit-transfers", json=transfer), 201)
    assert (done["purchaser_edr"]["type"], done["recipient"]["edr"]["subscriber_id"]) == (
        "CREDIT_TRANSFER", friend,
    )  # fmt: skip
    _problem(api.post("/credit-transfers", json=transfer), 409, "insufficient-balance",
             "definition")  # fmt: skip
    _ok(api.post("/voucher-recharges", json={"subscriber_id": friend,
                                             "voucher_number": third["number"],
                                             "secret": third["secret"]}), 201)  # fmt: skip
    for who in (subscriber, friend):
        _ok(api.get(f"/edrs?subscriber_id={who}"))
        _ok(api.get(f"/subscribers/{who}/wallets"))
        _ok(api.get(f"/subscribers/{who}/details"))
    for voucher in vouchers:
        _ok(api.get(f"/vouchers/{voucher['number']}"))
    _ok(api.get("/voucher-batches"))
    _ok(api.get("/audit"))
    _ok(api.get("/voucher-types"))

    hidden = secrets_shown | {PIN}
    for body in api.bodies:
        assert not [s for s in hidden if s in body], body
    assert not [s for s in hidden if s in caplog.text]
    assert not [s for s in hidden if s in _database_text(services)]


def _database_text(services: Services) -> str:
    """Every text value of every column of every table, as one string."""
    parts: list[str] = []
    metadata = sa.MetaData()
    metadata.reflect(services.engine)
    with services.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                parts.extend(str(value) for value in row if value is not None)
    return "\n".join(parts)
