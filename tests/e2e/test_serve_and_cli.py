"""The real `ocs serve --demo` process, driven as a user would: HTTP and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server_process import start_server

pytestmark = pytest.mark.e2e


def _ocs(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocs", *args], env=env, input=stdin, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], str]]:
    server = start_server(database_url, tmp_path, "demo", {}, "--demo")
    env = {**os.environ, "OCS_DATA_DIR": str(tmp_path), "OCS_DATABASE_URL": database_url}
    try:
        yield server.base_url, env, server.log.read_text()
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


def test_demo_server_serves_api_and_cli_shares_its_database(
    served: tuple[str, dict[str, str], str],
) -> None:
    base, env, startup = served
    assert "created operator 'admin' with password 'ocs-demo-admin'" in startup
    assert "loaded the demo configuration" in startup
    assert f"REST API: {base}/api/v1" in startup
    with httpx.Client(base_url=f"{base}/api/v1", auth=("admin", "ocs-demo-admin")) as api:
        _check_demo_data(api, base)
    _check_cli(env)
    with httpx.Client(base_url=f"{base}/api/v1", auth=("viewer", "viewer-pass-1")) as viewer:
        assert "Dave Example" in [c["name"] for c in viewer.get("/customers").json()]
        refused = viewer.post("/customers", json={"name": "Eve", "service_provider": "DEMO"})
        assert refused.status_code == 403


def _check_demo_data(api: httpx.Client, base: str) -> None:
    names = [c["name"] for c in api.get("/customers").json()]
    assert names == ["Alice Example", "Bob Example", "Carol Business"]
    assert api.get("/resources/204080000000002").json()["subscriber"]["subscriber_id"] == (
        "31612345002"
    )
    assert "/api/v1/customers" in httpx.get(f"{base}/openapi.json").json()["paths"]


def _check_cli(env: dict[str, str]) -> None:
    added = _ocs(env, "operator", "add", "viewer", "--role", "read_only",
                 stdin="viewer-pass-1\nviewer-pass-1\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout[added.stdout.index("{"):]) == {
        "username": "viewer", "role": "read_only",
    }  # fmt: skip
    created = _ocs(env, "customer", "create", "Dave Example", "-p", "DEMO", "--profile",
                   "RES-CUST")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["segment"] == "RES"
    duplicate = _ocs(env, "customer", "create", "dave-example", "-p", "DEMO")
    assert duplicate.returncode == 2
    assert "error: duplicate [name]" in duplicate.stderr


def test_serve_on_an_existing_database_keeps_data(served: tuple[str, dict[str, str], str]) -> None:
    _base, env, _startup = served
    again = _ocs(env, "migrate")
    assert again.returncode == 0, again.stderr
    assert "database at newest schema" in again.stdout
    listed = _ocs(env, "config", "list", "currencies")
    assert [c["code"] for c in json.loads(listed.stdout)] == ["EUR", "USD"]
