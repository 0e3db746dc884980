"""Subscriber batches over REST: a background creation job polled to completion, the result
file taken once, search, activation and deletion; on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ocs.adapters.passwords import Argon2Hasher
from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.casm import SubscriberInput
from ocs.storage import tables as t
from tests.support.catalog import PROVIDER
from tests.support.http_server import serve_in_thread
from tests.support.wallets import PRODUCT, load_wallet_catalog

ADMIN = ("root", "root-password-1")
OTHER = ("other", "other-password-1")
PROBLEM = "application/problem+json"
POLL_S = 0.05
POLLS_MAX = 600


@pytest.fixture
def server(services: Services, admin: Actor) -> Iterator[str]:
    services.operators.create(admin, *ADMIN, "admin")
    services.operators.create(admin, *OTHER, "admin")
    load_wallet_catalog(services, admin)
    services.batches.chunk_subscribers = 4  # several chunks, so progress moves
    with serve_in_thread(create_app(services)) as base:
        yield base


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server}/api/v1", auth=ADMIN, timeout=30) as client:
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


def _account(api: httpx.Client) -> int:
    customer = _ok(api.post("/customers", json={"name": "Cards", "service_provider": PROVIDER}),
                   201)  # fmt: skip
    body = {"customer_id": customer["id"], "account_type": "PAYER"}
    return int(_ok(api.post("/accounts", json=body), 201)["id"])


def _wait(api: httpx.Client, location: str) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    seen: list[tuple[int, int]] = []
    for _ in range(POLLS_MAX):
        job = _ok(api.get(location))
        seen.append((job["done"], job["total"]))
        if job["state"] != "RUNNING":
            return job, seen
        time.sleep(POLL_S)
    raise AssertionError(f"the job did not finish: {seen[-5:]}")


def test_create_poll_result_search_activate_delete(
    api: httpx.Client, server: str, services: Services
) -> None:
    account = _account(api)
    body = {
        "account_id": account,
        "batch_size": 10,
        "product_type": PRODUCT,
        "result_filename": "cards-2026.txt",
        "list_filename": "cards.txt",
        "subscriber_list": "# spring cards\n70000000001-70000000008\n70000000020\n70000000022\n",
        "add_pins": True,
        "pin_length": 4,
    }
    response = api.post("/subscriber-batches", json=body)
    created = _ok(response, 202)
    location = response.headers["location"]
    assert location.endswith(f"/subscriber-batches/jobs/{created['job']['id']}")
    assert created["batch"]["state"] == "CREATING"
    assert created["job"]["total"] == 10
    batch_id = created["batch"]["id"]

    job, seen = _wait(api, location.removeprefix("/api/v1"))
    assert job["state"] == "SUCCEEDED", job
    assert (job["done"], job["total"], job["errors"]) == (10, 10, [])
    assert job["result_available"] is True
    assert seen == sorted(seen)  # progress never goes back

    # The result file: once, to the operator who created the batch.
    with httpx.Client(base_url=f"{server}/api/v1", auth=OTHER, timeout=30) as other:
        _problem(other.get(f"/subscriber-batches/jobs/{job['id']}/result"), 403, "forbidden",
                 None)  # fmt: skip
    result = api.get(f"/subscriber-batches/jobs/{job['id']}/result")
    assert result.status_code == 200, result.text
    assert result.headers["cache-control"] == "no-store"
    lines = result.text.splitlines()
    assert lines[0] == "# subscriber_id card_number wallet_reference pin"
    rows = [line.split(" ") for line in lines[1:]]
    assert [r[0] for r in rows][-3:] == ["70000000008", "70000000020", "70000000022"]
    assert len(rows) == 10
    assert all(len(r[3]) == 4 and r[3].isdigit() for r in rows)
    _problem(api.get(f"/subscriber-batches/jobs/{job['id']}/result"), 404, "not-found", None)
    assert not _ok(api.get(location.removeprefix("/api/v1")))["result_available"]

    # PINs verify against the stored hashes; the API never shows them.
    hasher = Argon2Hasher()
    members = _ok(api.get(f"/subscriber-batches/{batch_id}/subscribers"))
    assert [m["subscriber_id"] for m in members] == [r[0] for r in rows]
    assert [m["wallet_reference"] for m in members] == [r[2] for r in rows]
    with services.engine.connect() as conn:
        stored = dict(conn.execute(t.subscribers.select().with_only_columns(
            t.subscribers.c.subscriber_id, t.subscribers.c.pin_hash)).all())  # fmt: skip
    assert all(hasher.verify(stored[r[0]], r[3]) for r in rows)
    shown = api.get(f"/subscriber-batches/{batch_id}").text + str(members)
    assert not any(f'"{r[3]}"' in shown for r in rows)

    view = _ok(api.get(f"/subscriber-batches/{batch_id}"))
    assert view["ranges"] == ["70000000001-70000000008", "70000000020", "70000000022"]
    assert (view["members"], view["batch"]["state"]) == (10, "INACTIVE")
    assert view["batch"]["result_filename"] == "cards-2026.txt"

    found = _ok(api.get("/subscriber-batches", params={"subscriber_prefix": "7000000002",
                                                       "state": "INACTIVE"}))  # fmt: skip
    assert [b["id"] for b in found] == [batch_id]
    assert _ok(api.get("/subscriber-batches", params={"subscriber_prefix": "71"})) == []

    _problem(api.patch(f"/subscriber-batches/{batch_id}", json={"state": "ACTIVE"}), 422,
             "missing-field", "state_reason")  # fmt: skip
    active = _ok(api.patch(f"/subscriber-batches/{batch_id}",
                           json={"state": "ACTIVE", "state_reason": "NEW"}))  # fmt: skip
    assert active["state"] == "ACTIVE"
    assert active["created_at"] == view["batch"]["created_at"]
    members = _ok(api.get(f"/subscriber-batches/{batch_id}/subscribers", params={"limit": 3}))
    assert [m["state"] for m in members] == ["ACTIVE"] * 3

    _problem(api.delete(f"/subscriber-batches/{batch_id}", params={"with_subscribers": True}),
             409, "in-use", "with_subscribers")  # fmt: skip
    assert _ok(api.delete(f"/subscriber-batches/{batch_id}")) == {"subscribers_deleted": 0}
    _problem(api.get(f"/subscriber-batches/{batch_id}"), 404, "not-found", None)


def test_refusals_come_before_the_job(api: httpx.Client, services: Services) -> None:
    account = _account(api)
    body = {
        "account_id": account,
        "batch_size": 3,
        "product_type": PRODUCT,
        "result_filename": "r.txt",
        "subscriber_list": "71000000001-71000000002\n71000000002\n",
    }
    detail = _problem(api.post("/subscriber-batches", json=body), 422, "invalid-value",
                      "subscriber_list")  # fmt: skip
    assert detail.startswith("line 2:")
    body["subscriber_list"] = "71000000001-71000000003"
    body["pin_length"] = 8
    _problem(api.post("/subscriber-batches", json=body), 422, "invalid-value", "pin_length")
    assert _ok(api.get("/subscriber-batches")) == []
    _problem(api.get("/subscriber-batches/jobs/99"), 404, "not-found", None)


def test_a_failed_job_reports_its_error(api: httpx.Client, services: Services) -> None:
    account = _account(api)
    services.batches.chunk_subscribers = 2
    body = {
        "account_id": account,
        "batch_size": 6,
        "product_type": PRODUCT,
        "result_filename": "r.txt",
        "subscriber_list": "72000000001-72000000006",
    }
    # A number of the third chunk is taken between the checks and its chunk.
    original = services.batches.store.transaction
    calls = {"n": 0}

    def transaction() -> Any:
        calls["n"] += 1
        if calls["n"] == 4:  # prepare, chunk 1, chunk 2, then chunk 3
            services.casm.create_subscriber(
                Actor("t", frozenset(Privilege)), SubscriberInput("72000000005", account_id=account)
            )
        return original()

    services.batches.store = _Store(transaction)  # type: ignore[assignment]
    response = api.post("/subscriber-batches", json=body)
    created = _ok(response, 202)
    job, _ = _wait(api, response.headers["location"].removeprefix("/api/v1"))
    assert job["state"] == "FAILED"
    assert job["done"] == 4
    assert len(job["errors"]) == 1
    assert "stopped after 4 of 6" in job["errors"][0]
    batch = _ok(api.get(f"/subscriber-batches/{created['batch']['id']}"))["batch"]
    assert (batch["state"], batch["created_count"]) == ("FAILED", 4)
    # The subscribers written so far are in the result.
    result = api.get(f"/subscriber-batches/jobs/{job['id']}/result").text.splitlines()
    assert len(result) == 1 + 4


class _Store:
    """The real store, with a hook that runs before each transaction the batch service opens."""

    def __init__(self, transaction: Any) -> None:
        self.transaction = transaction
