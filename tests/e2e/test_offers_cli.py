"""The `ocs offer`, `ocs subscription` and `ocs grants` commands, run as a user would."""

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
from tests.support.offers import load_classes, recurrent
from tests.support.wallets import load_wallet_catalog, new_subscriber, wallet_of

pytestmark = pytest.mark.e2e


def _ocs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocs", *args], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_offer_subscription_and_grant_from_the_command_line(
    services: Services, admin: Actor, database_url: str, tmp_path: Path
) -> None:
    load_wallet_catalog(services, admin)
    load_classes(services, admin)
    subscriber = new_subscriber(services, admin)
    env = {**os.environ, "OCS_DATABASE_URL": database_url, "OCS_DATA_DIR": str(tmp_path)}
    service_file = tmp_path / "service.json"
    service_file.write_text(json.dumps(recurrent("V", unit="HOUR", granted=2)))
    created = _ocs(env, "offer", "service-create", f"@{service_file}")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["granted"] == 2
    product = {"code": "P", "name": "Pack", "service_provider": PROVIDER, "services": ["V"]}
    assert _ocs(env, "offer", "product-create", json.dumps(product)).returncode == 0
    offer = {"code": "O", "name": "Offer", "service_provider": PROVIDER, "products": ["P"]}
    assert _ocs(env, "offer", "create", json.dumps(offer)).returncode == 0
    subscribed = _ocs(env, "subscription", "create", "O", str(subscriber))
    assert subscribed.returncode == 0, subscribed.stderr
    run = _ocs(env, "grants", "run")
    assert json.loads(run.stdout)["granted"] == 1
    wallet = wallet_of(services, admin, subscriber)
    [grant] = json.loads(_ocs(env, "grants", "list", str(wallet)).stdout)
    assert (grant["granted"], grant["balance_type"]) == (7200, "V-BAL")
    bad = _ocs(env, "offer", "service-create", json.dumps(recurrent("W", thresholds_pct=[90, 10])))
    assert bad.returncode == 2
    assert "error: invalid-value [thresholds_pct[1]]" in bad.stderr
