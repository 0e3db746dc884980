"""The `ocs features` and `ocs cug` commands, run as a user would against a database."""

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
from tests.support.features import add_subscriber, load_feature_basics

pytestmark = pytest.mark.e2e
PIN = "58203"


@pytest.fixture
def env(services: Services, admin: Actor, database_url: str, tmp_path: Path) -> dict[str, str]:
    load_feature_basics(services, admin)
    add_subscriber(services, admin, "31600000001")
    add_subscriber(services, admin, "31600000002")
    return {**os.environ, "OCS_DATABASE_URL": database_url, "OCS_DATA_DIR": str(tmp_path)}


def _ocs(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocs", *args], env=env, input=stdin, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_features_from_the_command_line(env: dict[str, str]) -> None:
    pin = _ocs(env, "features", "pin", "1", stdin=f"{PIN}\n{PIN}\n")
    assert pin.returncode == 0, pin.stderr
    assert PIN not in pin.stdout + pin.stderr
    assert json.loads(pin.stdout[pin.stdout.index("{") :])["pin_defined"] is True
    details = _ocs(env, "features", "set-details", "1", '{"blacklisted": true}')
    assert json.loads(details.stdout)["pin_defined"] is True
    barring = _ocs(env, "features", "barring", "1", "--number", "0900", "--reason", "fraud")
    assert json.loads(barring.stdout)["numbers"] == ["0900"]
    codes = _ocs(env, "features", "short-codes", "--subscriber", "1", "--code", "*9#=0900123")
    assert json.loads(codes.stdout) == [{"short_code": "*9#", "number": "0900123"}]
    screen = json.loads(_ocs(env, "features", "screen", "1", "*9#").stdout)
    assert (screen["called"], screen["barring"]["outcome"]) == ("0900123", "BARRED")
    full = _ocs(env, "features", "blacklist", PROVIDER, "ff", "--add", "9" * 33)
    assert full.returncode == 2
    assert "error: invalid-value [number]" in full.stderr
    shown = json.loads(_ocs(env, "features", "show", "1").stdout)
    assert shown["details"]["blacklisted"] is True
    assert PIN not in json.dumps(shown)


def test_closed_user_groups_from_the_command_line(env: dict[str, str]) -> None:
    created = _ocs(
        env, "cug", "create", PROVIDER, "Office", "--tariff-plan", "CUG_FREE",
        "--member", "31600000001", "--virtual", "RANGE:3170100-3170199",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    group = json.loads(created.stdout)
    assert group["virtual_members"][0]["last_number"] == "3170199"
    joined = _ocs(env, "cug", "join", "2", str(group["id"]))
    assert [g["name"] for g in json.loads(joined.stdout)] == ["Office"]
    found = json.loads(_ocs(env, "cug", "list", "--msisdn", "31600000002").stdout)
    assert [g["members"] for g in found] == [["31600000001", "31600000002"]]
    screen = json.loads(_ocs(env, "features", "screen", "1", "31600000002").stdout)
    assert screen["cug"]["tariff_plan"] == "CUG_FREE"
    bad = _ocs(env, "cug", "create", PROVIDER, "Bad", "--tariff-plan", "X", "--virtual", "ODD:1")
    assert bad.returncode != 0
