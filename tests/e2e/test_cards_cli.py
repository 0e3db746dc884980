"""The `ocs card` commands, run as a user would against a database. The card number and the
CVC go in on standard input, never as arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.service.actor import Actor
from tests.support.clock import FakeClock
from tests.support.wallets import load_wallet_catalog, new_subscriber

pytestmark = pytest.mark.e2e

NUMBER = "5105105105105100"
CVC = "3917"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """SQLite only: each command is a process start, and the service layer under the CLI is
    already tested on both backends."""
    built = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'ocs.db'}"), FakeClock())
    yield built
    built.engine.dispose()


@pytest.fixture
def env(services: Services, admin: Actor, tmp_path: Path) -> dict[str, str]:
    load_wallet_catalog(services, admin)
    new_subscriber(services, admin)
    new_subscriber(services, admin)
    url = f"sqlite:///{tmp_path / 'ocs.db'}"
    return {**os.environ, "OCS_DATABASE_URL": url, "OCS_DATA_DIR": str(tmp_path)}


def _ocs(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocs", "card", *args], env=env, capture_output=True, text=True,
        input=stdin, timeout=120,
    )  # fmt: skip


def _json(env: dict[str, str], *args: str, stdin: str = "") -> Any:
    done = _ocs(env, *args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert NUMBER not in done.stdout + done.stderr
    return json.loads(done.stdout)


def test_cards_from_the_command_line(env: dict[str, str]) -> None:
    rule = _json(env, "rule-add", "STD", "First six, last four", "--prefix", "6", "--suffix", "4")
    assert (rule["prefix_length"], rule["padding"]) == (6, "*")
    secrets = f"{NUMBER}\n{CVC}\n"
    created = _json(env, "create", "SP1", "STD", "8", "2031", "--subscriber", "1",
                    "--active", "--name", "Ann Smith", stdin=secrets)  # fmt: skip
    card = created["card"]["card"]
    assert (card["display_number"], card["state"]) == ("510510******5100", "ACTIVE")
    duplicate = _ocs(env, "create", "SP1", "STD", "8", "2031", stdin=secrets)
    assert duplicate.returncode == 2
    assert "error: duplicate [number]" in duplicate.stderr
    luhn = _ocs(env, "create", "SP1", "STD", "8", "2031", stdin="5105105105105101\n123\n")
    assert "error: invalid-value [number]" in luhn.stderr
    found = _json(env, "search", "--by-number", stdin=f"{NUMBER}\n")
    assert [item["card"]["id"] for item in found["items"]] == [card["id"]]
    assert _json(env, "search", "--display", "510510")["truncated"] is False
    card_id = str(card["id"])
    assert _json(env, "register", card_id, "2", "--reason", "r")["registrations"][1]["state"] == (
        "PENDING"
    )
    confirmed = _json(env, "confirm", card_id, "1")
    assert confirmed["registrations"][0]["state"] == "PRIMARY"
    refused = _ocs(env, "deregister", card_id, "1")
    assert "error: not-allowed-in-state [subscriber_id]" in refused.stderr
    wallet = _json(env, "freeze-wallet", card_id, "1", "--reason", "stolen")
    assert wallet["wallet"]["state"] == "FROZEN"
    assert _json(env, "freeze", card_id)["card"]["state"] == "FROZEN"
    assert _json(env, "primary", card_id, "2")["registrations"][1]["state"] == "PRIMARY"
    assert _json(env, "settings", "--registrations-max", "5") == {
        "registrations_per_subscriber_max": 5
    }
    deleted = _json(env, "delete", card_id)
    assert (deleted["outcome"], deleted["card"]["card"]["state"]) == ("DELETED", "DELETED")
    assert [c["card"]["state"] for c in _json(env, "list", "1")] == ["DELETED"]
