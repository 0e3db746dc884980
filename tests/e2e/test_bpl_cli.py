"""`ocs subscriber search`, `ocs bpl ...` and `ocs subscriber promotions`, run as a user would
against a database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocs.bootstrap import Services
from ocs.service.actor import Actor
from tests.support.catalog import PROVIDER
from tests.support.wallets import PRODUCT, load_wallet_catalog, new_subscriber

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(services: Services, admin: Actor, database_url: str, tmp_path: Path) -> dict[str, str]:
    load_wallet_catalog(services, admin)
    services.wallet_settings.set_activation_credit(admin, PRODUCT, "VOICE", 120, 3600)
    new_subscriber(services, admin)
    return {**os.environ, "OCS_DATABASE_URL": database_url, "OCS_DATA_DIR": str(tmp_path)}


def _ocs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocs", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_search_tasks_and_promotions_from_the_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    found = _ocs(env, "subscriber", "search", "-p", PROVIDER, "--customer", "customer")
    assert found.returncode == 0, found.stderr
    [row] = json.loads(found.stdout)["rows"]
    assert row["wallet_type"] == "PRIMARY"
    subscriber = row["subscriber"]["id"]
    both = _ocs(env, "subscriber", "search", "-p", PROVIDER, "--subscriber-id", "3",
                "--card-number", "3")  # fmt: skip
    assert both.returncode == 2
    assert "one field only" in both.stderr

    before = json.loads(_ocs(env, "subscriber", "promotions", str(subscriber)).stdout)
    assert before["wallets"][0]["promotions"][0]["status"] == "PENDING"

    definition = tmp_path / "task.json"
    definition.write_text(json.dumps({
        "name": "Activate and bonus",
        "service_provider": PROVIDER,
        "parameters": [{"name": "minutes_s", "type": "INTEGER", "mandatory": True}],
        "actions": [
            {"kind": "CHANGE_WALLET_STATE", "inputs": {"state": "ACTIVE"}},
            {"kind": "GRANT_BUCKET",
             "inputs": {"balance_type": "VOICE", "amount": {"parameter": "minutes_s"}}},
        ],
    }))  # fmt: skip
    created = _ocs(env, "bpl", "create", str(definition))
    assert created.returncode == 0, created.stderr
    task = json.loads(created.stdout)["id"]
    missing = _ocs(env, "bpl", "execute", str(subscriber), str(task))
    assert missing.returncode == 2
    assert "missing-field [parameters.minutes_s]" in missing.stderr
    ran = _ocs(env, "bpl", "execute", str(subscriber), str(task), "--value", "minutes_s=60",
               "--save")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert [e["kind"] for e in json.loads(ran.stdout)["effects"]] == [
        "CHANGE_WALLET_STATE", "GRANT_BUCKET"
    ]  # fmt: skip
    [form] = json.loads(_ocs(env, "bpl", "tasks", str(subscriber)).stdout)
    assert form["values"] == {"minutes_s": 60}

    after = json.loads(_ocs(env, "subscriber", "promotions", str(subscriber)).stdout)
    [promotion] = after["wallets"][0]["promotions"]
    assert promotion["status"] == "APPLIED"
    assert promotion["trackers"][0]["credited"] == 120
