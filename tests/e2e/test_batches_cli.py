"""The `ocs batch` commands, run as a user would against a database."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocs.adapters.passwords import Argon2Hasher
from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.service.actor import Actor
from ocs.storage import tables as t
from tests.support.clock import FakeClock
from tests.support.wallets import PRODUCT, load_wallet_catalog, new_account

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
    url = f"sqlite:///{tmp_path / 'ocs.db'}"
    return {**os.environ, "OCS_DATABASE_URL": url, "OCS_DATA_DIR": str(tmp_path)}


def _ocs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocs", "batch", *args], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def _json(env: dict[str, str], *args: str) -> Any:
    done = _ocs(env, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_batches_from_the_command_line(
    env: dict[str, str], services: Services, admin: Actor, tmp_path: Path
) -> None:
    account = new_account(services, admin)
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("# new cards\n480000001-480000040\n\n480000100  # one more\n")
    result = tmp_path / "result.txt"
    done = _ocs(
        env, "create", str(numbers), "--account", str(account), "--size", "41",
        "--product-type", PRODUCT, "--result-file", str(result), "--pins", "--pin-length", "5",
        "--card-first", "7700000", "--card-last", "7700999",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    batch = json.loads(done.stdout)
    assert (batch["state"], batch["created_count"], batch["size"]) == ("INACTIVE", 41, 41)
    assert (batch["card_first"], batch["card_last"]) == ("7700000", "7700040")
    # The progress bar (rich) on standard error: the batch, a full bar and the count.
    assert f"batch {batch['id']}" in done.stderr
    assert "41/41" in done.stderr
    assert "100%" in done.stderr
    assert "━" in done.stderr

    # The result file: readable by its owner only, one line per subscriber with the PIN.
    assert stat.S_IMODE(result.stat().st_mode) == 0o600
    lines = result.read_text().splitlines()
    assert lines[0] == "# subscriber_id card_number wallet_reference pin"
    rows = [line.split() for line in lines[1:]]
    assert len(rows) == 41
    assert rows[0][:2] == ["480000001", "7700000"]
    assert rows[-1][:2] == ["480000100", "7700040"]
    with services.engine.connect() as conn:
        hashes = dict(
            conn.execute(
                t.subscribers.select().with_only_columns(
                    t.subscribers.c.subscriber_id, t.subscribers.c.pin_hash
                )
            ).all()
        )
    hasher = Argon2Hasher()
    assert all(hasher.verify(hashes[r[0]], r[3]) for r in rows[:5])
    pins = {r[3] for r in rows}
    assert not any(pin in done.stdout for pin in pins if len(pin) == 5)

    # The same file again: the result file exists, and then the numbers are in use.
    again = _ocs(
        env, "create", str(numbers), "--account", str(account), "--size", "41",
        "--product-type", PRODUCT, "--result-file", str(result),
    )  # fmt: skip
    assert again.returncode == 2
    assert "result_filename" in again.stderr
    again = _ocs(
        env, "create", str(numbers), "--account", str(account), "--size", "41",
        "--product-type", PRODUCT, "--result-file", str(tmp_path / "second.txt"),
    )  # fmt: skip
    assert again.returncode == 2
    assert "duplicate [subscriber_list]: line 4: 480000100 is already in use" in again.stderr
    assert not (tmp_path / "second.txt").exists()

    bad = tmp_path / "bad.txt"
    bad.write_text("490000001-490000005\n490000003\n")
    failed = _ocs(
        env, "create", str(bad), "--account", str(account), "--size", "6",
        "--product-type", PRODUCT, "--result-file", str(tmp_path / "third.txt"),
    )  # fmt: skip
    assert failed.returncode == 2
    assert "line 2: 490000003 overlaps 490000001-490000005 (line 1)" in failed.stderr

    assert [b["id"] for b in _json(env, "search", "4800001")] == [batch["id"]]
    assert _json(env, "search", "49") == []
    assert [b["id"] for b in _json(env, "list", "--state", "INACTIVE")] == [batch["id"]]
    shown = _json(env, "show", str(batch["id"]), "--subscribers", "2")
    assert shown["ranges"] == ["480000001-480000040", "480000100"]
    assert [s["subscriber_id"] for s in shown["subscribers"]] == ["480000001", "480000002"]
    assert shown["subscribers"][0]["wallet_reference"] == rows[0][2]

    active = _json(env, "activate", str(batch["id"]), "--state-reason", "NEW")
    assert active["state"] == "ACTIVE"
    assert active["created_at"] == batch["created_at"]
    refused = _ocs(env, "delete", str(batch["id"]), "--with-subscribers")
    assert refused.returncode == 2
    assert "in-use" in refused.stderr
    assert _json(env, "delete", str(batch["id"])) == {
        "batch": batch["id"],
        "subscribers_deleted": 0,
    }
    assert _json(env, "list") == []
