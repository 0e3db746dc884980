"""Helpers for the console browser tests: the server handle, login, screenshots, dialogs."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Page

from ocs.bootstrap import build_services
from ocs.config import Settings
from ocs.core.charging import (
    ChargingRequest,
    IdentityType,
    RequestType,
    ServiceRequest,
    UnitAmounts,
)
from tests.support.charging import DATA_RG, MB

ADMIN = ("admin", "ocs-demo-admin")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]

    def console(self, path: str = "/") -> str:
        return f"{self.url}/console{path}"

    def cli(self, *args: str) -> str:
        """Run the `ocs` command line against the server's database; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "ocs", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"ocs {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        return done.stdout


def log_in(page: Page, server: Server, username: str, password: str) -> None:
    page.goto(server.console("/"))
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(server.console("/"))


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save the page as docs/screenshots/<name>.png (linked from the README); a dialog is
    shot as the browser window shows it, not as the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 0
    return path


def submit_with_reason(page: Page, reason: str) -> None:
    """Answer the change-reason dialog that an audited change form opens."""
    dialog = page.locator("#reason-dialog")
    dialog.locator("#reason-text").fill(reason)
    dialog.locator("#reason-ok").click()


def field_error(page: Page, field: str) -> str:
    return page.locator(f".field-error[data-field='{field}']").inner_text()


def latest_audit(server: Server, entity: str) -> dict[str, object]:
    """The newest audit trail entry about one kind of entity, read through the REST API."""
    response = httpx.get(
        f"{server.url}/api/v1/audit", params={"entity": entity, "limit": 1}, auth=ADMIN
    )
    response.raise_for_status()
    entries: list[dict[str, object]] = response.json()
    return entries[0]


def open_subscriber(page: Page, server: Server, cli: str) -> None:
    """Find a subscriber by its exact ID and open its screen."""
    page.goto(server.console(f"/subscribers?by=subscriber_id&q={cli}&match=exact"))
    page.get_by_role("link", name=cli).click()
    scripts_ready(page)


def reserve_data(server: Server, msisdn: str, session_id: str) -> None:
    """An initial Gy-style request for 10 MB of data, decided by the charging engine on the
    server's database (the demo catalogue rates rating group 10 from the free data): leaves
    one open reservation."""
    services = build_services(Settings.from_env(server.env))
    data = ServiceRequest(DATA_RG, requested=UnitAmounts(total_octets=10 * MB))
    identity = (IdentityType.E164, msisdn)
    request = ChargingRequest(
        session_id, 0, RequestType.INITIAL, (identity,), services.clock.now(), (data,)
    )
    with services.store.transaction() as uow:
        services.charging.process(uow, request)


def scripts_ready(page: Page) -> None:
    """Wait for the page's deferred scripts (console.js asks for confirmations and change
    reasons): a form clicked before they run would submit without its dialog."""
    page.wait_for_load_state("load")
