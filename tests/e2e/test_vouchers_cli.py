"""The `ocs voucher` and `ocs transfer` commands, run as a user would against a database."""

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
from tests.support.catalog import PROVIDER
from tests.support.clock import FakeClock
from tests.support.wallets import assert_balances_explained, load_wallet_catalog, new_subscriber

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
        [sys.executable, "-m", "ocs", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _json(env: dict[str, str], *args: str) -> Any:
    done = _ocs(env, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_vouchers_and_transfers_from_the_command_line(
    env: dict[str, str], services: Services
) -> None:
    created = _json(env, "voucher", "type-create", "TOP", "Top-up", "--provider", PROVIDER,
                    "--balance", "CASH=500", "--balance", "VOICE=600:VALIDITY:30")  # fmt: skip
    assert [b["expiry"] for b in created["balances"]] == ["NONE", "VALIDITY"]
    batch = _json(env, "voucher", "batch-create", "TOP", "2", "--expires", "2030-01-01T00:00:00")
    first, second = batch["vouchers"]
    assert _json(env, "voucher", "batch-activate", str(batch["batch"]["id"]))["batch"]["state"] == (
        "ACTIVE"
    )
    shown = _json(env, "voucher", "show", first["number"])
    assert (shown["state"], "secret" in shown) == ("AVAILABLE", False)

    recharged = _json(env, "voucher", "recharge", first["number"], "--subscriber", "1",
                      "--secret", first["secret"])  # fmt: skip
    assert recharged["voucher"]["state"] == "REDEEMED"
    assert recharged["applied"]["edr"]["type"] == "RECHARGE"
    refused = _ocs(env, "voucher", "recharge", first["number"], "--subscriber", "1",
                   "--secret", first["secret"])  # fmt: skip
    assert refused.returncode == 2
    assert "error: conflict [voucher_number]" in refused.stderr
    assert first["secret"] not in refused.stderr + refused.stdout
    assert _json(env, "voucher", "blacklist", "1")["consecutive_failures"] == 1

    _json(env, "transfer", "definition-create", "GIFT", "Gift", "--provider", PROVIDER,
          "--charge-balance-type", "CASH", "--charge-amount", "200", "--voucher-type", "TOP",
          "--type", "PEER_TO_PEER")  # fmt: skip
    with services.store.transaction() as uow:
        recipient = uow.casm.get_subscriber(2)
        assert recipient is not None
    done = _json(env, "transfer", "perform", "1", "GIFT", "--recipient", recipient.subscriber_id)
    assert done["purchaser_edr"]["balances"][0]["new_value"] == 300
    assert done["recipient"]["edr"]["subscriber_id"] == 2
    poor = _ocs(env, "transfer", "perform", "2", "GIFT", "--recipient", "nobody")
    assert "error: not-found [recipient_msisdn]" in poor.stderr
    cleared = _json(env, "voucher", "blacklist-clear", "1", "--reason", "called in")
    assert cleared["consecutive_failures"] == 0
    assert _json(env, "voucher", "show", second["number"])["state"] == "AVAILABLE"
    assert_balances_explained(services)
