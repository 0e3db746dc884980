"""`ocs notification ...` run as a user would, with the channels configured through OCS_*
settings: a real SMTP server and a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocs.bootstrap import Services
from ocs.core.notifications import NotificationEvent, NotificationKind
from ocs.service.actor import Actor
from ocs.service.notifications import enqueue_notification
from tests.support.clock import FakeClock
from tests.support.notify_servers import http_sink, smtp_sink
from tests.support.wallets import load_wallet_catalog, new_subscriber

pytestmark = pytest.mark.e2e


def _ocs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocs", "notification", *args], env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_notifications_from_the_command_line(
    services: Services, admin: Actor, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    load_wallet_catalog(services, admin)
    subscriber = new_subscriber(services, admin)
    with smtp_sink() as smtp, http_sink() as hooks:
        env = {
            **os.environ,
            "OCS_DATABASE_URL": database_url,
            "OCS_DATA_DIR": str(tmp_path),
            "OCS_SMTP_HOST": "127.0.0.1",
            "OCS_SMTP_PORT": str(smtp.port),
            "OCS_SMTP_FROM": "care@example.com",
        }
        bad = _ocs(env, "template-put", "EXHAUSTED", "EMAIL", "en", "--subject", "x",
                   "--body", "${balanse} is gone")  # fmt: skip
        assert bad.returncode == 2
        assert "error: invalid-value [body]" in bad.stderr
        put = _ocs(env, "template-put", "EXHAUSTED", "EMAIL", "en", "--subject",
                   "${balance} used up", "--body", "Your ${granted} ${unit} are used.")  # fmt: skip
        assert put.returncode == 0, put.stderr
        contact = _ocs(env, "contact-set", str(subscriber), "--email", "ana@example.com")
        assert json.loads(contact.stdout)["email"] == "ana@example.com"
        hook = _ocs(env, "webhook-add", "crm", hooks.url, "--secret", "cli-secret-0123456789",
                    "--kind", "EXHAUSTED")  # fmt: skip
        assert hook.returncode == 0, hook.stderr
        assert "cli-secret" not in hook.stdout

        event = NotificationEvent(
            NotificationKind.EXHAUSTED, subscriber, clock.now(), "grant:1:exhausted",
            {"balance": "DATA", "granted": 500, "unit": "MB"},
        )  # fmt: skip
        with services.store.transaction() as uow:
            enqueue_notification(uow, event)

        ran = _ocs(env, "run-once")
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout) == {"expanded": 1, "sent": 2, "retrying": 0, "failed": 0}
        assert [m.message["Subject"] for m in smtp.inbox] == ["DATA used up"]
        assert smtp.inbox[0].message["From"] == "care@example.com"
        assert len(hooks.requests) == 1

        listed = json.loads(_ocs(env, "deliveries", "--subscriber", str(subscriber)).stdout)
        states = {d["channel"]: (d["state"], d["last_error"]) for d in listed}
        assert states == {
            "EMAIL": ("SENT", None),
            "SMS": ("SKIPPED", "the subscriber has no MSISDN"),
            "WEBHOOK": ("SENT", None),
        }
        one = json.loads(_ocs(env, "delivery", str(listed[0]["id"])).stdout)
        assert one["id"] == listed[0]["id"]
        refused = _ocs(env, "retry", str(listed[0]["id"]))
        assert refused.returncode == 2
        assert "not-allowed-in-state" in refused.stderr
