"""Charging domains over REST and the CLI: listing, where a wallet lives, moving one by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocs.adapters.rest.app import create_app
from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.charging import load_charging_catalog, provision_subscriber
from tests.support.http_server import serve_in_thread

ADMIN = ("root", "root-password-1")
READER = ("reader", "reader-password-1")


@pytest.fixture
def api(domain_services: Services, admin: Actor) -> Iterator[tuple[httpx.Client, int]]:
    domain_services.operators.create(admin, *ADMIN, "admin")
    domain_services.operators.create(admin, *READER, "read_only")
    load_charging_catalog(domain_services, admin)
    wallet_id = provision_subscriber(domain_services, admin, "31600000001")
    domain_services.wallets.top_up(admin, wallet_id, "CASH", 500)
    with (
        serve_in_thread(create_app(domain_services)) as base,
        httpx.Client(base_url=f"{base}/api/v1", auth=ADMIN, timeout=30) as client,
    ):
        yield client, wallet_id


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_domains_are_listed_and_a_wallet_moves_by_hand(api: tuple[httpx.Client, int]) -> None:
    client, wallet_id = api
    listed = _ok(client.get("/domains"))
    assert [d["domain"] for d in listed] == ["default", "east", "west"]
    assert listed[0]["wallets_by_state"] == {"PRE_USE": 1}

    moved = _ok(client.post(f"/wallets/{wallet_id}/move",
                            json={"source": "default", "target": "west"}))  # fmt: skip
    assert (moved["outcome"], moved["target"]) == ("MOVED", "west")
    assert _ok(client.get(f"/wallets/{wallet_id}/domain"))["domain"] == "west"
    assert _ok(client.get("/domains"))[2]["subscribers_by_product_type"] == {"PRE": 1}

    wrong = client.post(f"/wallets/{wallet_id}/move", json={"source": "east", "target": "west"})
    assert wrong.status_code == 409
    assert "NOT_IN_SOURCE" in wrong.json()["detail"]
    unknown = client.post(f"/wallets/{wallet_id}/move", json={"source": "west", "target": "x"})
    assert (unknown.status_code, unknown.json()["field"]) == (422, "target")
    assert client.get("/wallets/999999/domain").status_code == 404
    reader = client.post(f"/wallets/{wallet_id}/move", auth=READER,
                         json={"source": "west", "target": "east"})  # fmt: skip
    assert reader.status_code == 403
    assert _ok(client.get(f"/wallets/{wallet_id}/domain"))["domain"] == "west"


def test_the_cli_lists_domains_and_moves_a_wallet(
    api: tuple[httpx.Client, int],
    database_url: str,
    extra_domain_urls: tuple[tuple[str, str], ...],
    tmp_path: Path,
) -> None:
    _, wallet_id = api
    domains = ",".join(f"{name}={url}" for name, url in extra_domain_urls)
    env = {**os.environ, "OCS_DATABASE_URL": database_url, "OCS_DATA_DIR": str(tmp_path),
           "OCS_CHARGING_DOMAINS": domains}  # fmt: skip

    def ocs(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ocs", "domain", *args], env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    moved = ocs("move", str(wallet_id), "--from", "default", "--to", "east")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(ocs("where", str(wallet_id)).stdout)["domain"] == "east"
    listed = json.loads(ocs("list").stdout)
    assert [d["domain"] for d in listed] == ["default", "east", "west"]
    assert listed[1]["wallets_by_state"] == {"PRE_USE": 1}
    refused = ocs("move", str(wallet_id), "--from", "default", "--to", "east")
    assert refused.returncode == 2
    assert "NOT_IN_SOURCE" in refused.stderr
