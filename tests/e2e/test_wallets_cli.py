"""The `ocs wallet` commands, run as a user would against a database."""

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
from tests.support.wallets import (
    PRODUCT,
    assert_balances_explained,
    load_wallet_catalog,
    new_subscriber,
)

pytestmark = pytest.mark.e2e


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


def _ocs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocs", "wallet", *args], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def _json(env: dict[str, str], *args: str) -> Any:
    done = _ocs(env, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_wallets_from_the_command_line(env: dict[str, str], services: Services) -> None:
    [view] = _json(env, "list", "1")
    assert (view["wallet"]["id"], view["wallet"]["state"]) == (1, "PRE_USE")
    credit = _json(env, "top-up", "1", "CASH", "1000", "--tag", "CHANNEL=cli", "--reason", "r")
    assert (credit["outcome"], credit["edr"]["change_reason"]) == ("ACCEPTED", "r")
    charge = _json(env, "charge", "1", "CASH=300", "--called-number", "3169")
    assert charge["outcome"] == "CHARGED"
    reversal = _json(env, "reverse", str(charge["edr"]["id"]))
    assert (reversal["type"], reversal["balances"][0]["delta_value"]) == ("REVERSAL", 300)
    adjusted = _json(env, "adjust", "1", "CASH", "--amount=-100")
    assert adjusted["edr"]["balances"][0]["new_value"] == 900
    bucket = _json(env, "add-bucket", "1", "DATA", "500", "--expires", "2030-01-01T00:00:00")
    assert bucket["accepted"] == 500
    refused = _ocs(env, "top-up", "1", "SMS", "101")
    assert refused.returncode == 2
    assert "error: maximum-balance-exceeded [amount]" in refused.stderr
    merged = _json(env, "merge", "2", "1")
    assert sorted(link["subscriber_id"] for link in merged["links"]) == [1, 2]
    page = _json(env, "edrs", "--subscriber", "1", "--sort", "COST", "--page-size", "2")
    assert ([item["cost"] for item in page["items"]], page["next_offset"]) == ([300, 100], 2)
    assert all(check["held_value"] == check["edr_value"] for check in _json(env, "reconcile", "1"))

    assert _json(env, "exchange-rate", "EUR", "USD", "1.085")["rate_nano"] == 1_085_000_000
    shown = _json(env, "show", "1", "--display-currency", "USD")
    cash = next(b for b in shown["balances"] if b["balance_type"] == "CASH")
    assert (cash["available_value"], cash["display_value"]) == (900, 977)
    limits = _json(env, "adjustment-limits", PRODUCT, "BONUS", "--minimum=-5", "--maximum=5")
    assert limits["limits"] == {"minimum": -5, "maximum": 5}
    assert _json(env, "permission", PRODUCT, "SUSPENDED", "CHARGE", "true")["allowed"] is True
    assert _json(env, "masking-rule", "called_number", "--keep-prefix", "3")["keep_prefix"] == 3
    assert _json(env, "expire") == {"expiry_edrs": 0}
    assert_balances_explained(services)
