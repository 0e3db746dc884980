"""Helpers for the console browser tests: the server handle, login, screenshots, dialogs."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

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
