"""Browser tests of the operator console: a real `ocs serve --demo` process on a free port with
a temporary SQLite database, driven by Playwright through Debian's Chromium (never a browser
that Playwright downloads itself)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from tests.e2e.console.support import ADMIN, Server, log_in
from tests.support.postgres import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 820}
SERVER_START_S = 60
ACTION_TIMEOUT_MS = 15_000


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"ocs serve did not start:\n{log.read_text()}")
        time.sleep(0.2)


@contextmanager
def demo_server(data_dir: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """`ocs serve --demo` on free ports with its SQLite database in data_dir, until the end."""
    port = free_port()
    env = {
        **os.environ,
        "OCS_DATA_DIR": str(data_dir),
        "OCS_DATABASE_URL": f"sqlite:///{data_dir / 'ocs.db'}",
        "OCS_HTTP_PORT": str(port),
        "OCS_DIAMETER_PORT": str(free_port()),
        "OCS_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    log = data_dir / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ocs", "serve", "--demo"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url, log)
        yield Server(url, env)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("console-server")) as started:
        yield started


# Package scope: while Playwright's sync API is open it keeps an event loop running in this
# thread, which would break asyncio.run() in the tests of other packages.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does)")
    # launch() starts Chromium with a fresh, temporary user-data-dir of its own.
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) with one page."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def admin_tab(tab: Page, server: Server) -> Page:
    log_in(tab, server, *ADMIN)
    return tab


@pytest.fixture
def auditing(server: Server) -> Iterator[None]:
    """EDR auditing on for one test: every change asks for a change reason."""
    server.cli("settings", "edr-auditing", "true")
    yield
    server.cli("settings", "edr-auditing", "false", "--reason", "console auditing test done")
