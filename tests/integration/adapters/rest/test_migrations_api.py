"""Wallet migrations over REST on two charging domains: create, the field rules as problems,
run, report and remaining-subscribers downloads, the buttons, Check Accounts and delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.http_server import serve_in_thread
from tests.support.wallets import load_wallet_catalog, new_subscriber, wallet_of

ADMIN = ("root", "root-password-1")
PROBLEM = "application/problem+json"


@pytest.fixture
def setup(domain_services: Services, admin: Actor) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    domain_services.operators.create(admin, *ADMIN, "admin")
    load_wallet_catalog(domain_services, admin)
    subs = []
    for _ in range(3):
        sid = new_subscriber(domain_services, admin)
        number = domain_services.casm.get_subscriber(admin, sid).subscriber.subscriber_id
        subs.append((number, wallet_of(domain_services, admin, sid)))
    with serve_in_thread(create_app(domain_services)) as base:
        yield base, subs


@pytest.fixture
def api(setup: tuple[str, list[tuple[str, int]]]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{setup[0]}/api/v1", auth=ADMIN, timeout=30) as client:
        yield client


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _problem(response: httpx.Response, status: int, kind: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["type"], body.get("field")) == (f"urn:ocs:problem:{kind}", field)


def test_a_migration_over_rest(
    api: httpx.Client,
    setup: tuple[str, list[tuple[str, int]]],
    domain_services: Services,
) -> None:
    subs = setup[1]
    body = {
        "service_provider": PROVIDER,
        "source_domain": "default",
        "target_domain": "west",
        "selection": "input_file",
        "input_filename": "subs.txt",
        "input_numbers": "\n".join(n for n, _ in subs) + "\n99999999\n",
        "wallet_states": ["PRE_USE", "ACTIVE"],
        "throttle_per_s": 100,
    }
    _problem(api.post("/migrations", json={**body, "throttle_per_s": 10000}),
             422, "invalid-value", "throttle_per_s")  # fmt: skip
    _problem(api.post("/migrations", json={**body, "wallet_states": []}),
             422, "invalid-value", "wallet_states")  # fmt: skip
    created = _ok(api.post("/migrations", json=body), 201)
    assert created["state"] == "P"
    assert created["input_lines"] == 4
    assert created["actions"] == ["cancel", "delete", "priority", "save"]
    mid = created["id"]
    _problem(api.patch(f"/migrations/{mid}", json={"range_start": "1"}),
             422, "immutable-field", "range_start")  # fmt: skip
    _problem(api.post(f"/migrations/{mid}/pause"), 409, "not-allowed-in-state", "state")
    _problem(api.get(f"/migrations/{mid}/report"), 404, "not-found", "report")
    assert _ok(api.patch(f"/migrations/{mid}", json={"max_wallets": 2}))["max_wallets"] == 2

    first = domain_services.migration_runner.run_next()
    assert first is not None

    shown = _ok(api.get(f"/migrations/{mid}"))
    assert shown["state"] == "I"
    assert shown["row_colour"] == "yellow"
    assert "report" in shown["actions"]
    report = api.get(f"/migrations/{mid}/report")
    assert "Migrations Completed: 2/3 (66%)" in report.text
    assert "attachment" in report.headers["content-disposition"]
    _ok(api.post(f"/migrations/{mid}/restart"))
    domain_services.migration_runner.run_next()
    assert _ok(api.get(f"/migrations/{mid}"))["state"] == "M"
    assert [domain_services.domains.domain_of(w) for _, w in subs] == ["west"] * 3
    assert api.get(f"/migrations/{mid}/remaining-subscribers").text == ""
    listed = _ok(api.get("/migrations", params={"group": "complete"}))
    assert [m["id"] for m in listed] == [mid]
    assert _ok(api.get("/migrations", params={"group": "running"})) == []

    summary = _ok(api.get("/migrations/check-accounts", params={"source": "default",
                                                                "target": "west"}))  # fmt: skip
    assert sum(summary["target"]["wallets_by_state"].values()) == 3
    _problem(api.get("/migrations/check-accounts", params={"source": "x", "target": "west"}),
             422, "invalid-value", "source_domain")  # fmt: skip
    assert api.delete(f"/migrations/{mid}").status_code == 204
    _problem(api.get(f"/migrations/{mid}"), 404, "not-found", None)
