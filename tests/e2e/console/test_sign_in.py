"""Signing in and out, the session cookie and the dashboard."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.support import ADMIN, Server, log_in, reserve_data, screenshot

pytestmark = pytest.mark.e2e

POLL_WAIT_MS = 15_000


def test_wrong_password_is_refused_and_nothing_else_is_reachable(tab: Page, server: Server) -> None:
    tab.goto(server.console("/customers"))
    expect(tab).to_have_url(re.compile(r"/console/login\?next=%2Fconsole%2Fcustomers$"))
    screenshot(tab, "01-sign-in")
    tab.fill("#f-username", "admin")
    tab.fill("#f-password", "not-the-password")
    tab.click("button:has-text('Sign in')")
    expect(tab.locator(".alert")).to_have_text("wrong username or password")
    expect(tab.locator("#f-username")).to_have_value("admin")


def test_sign_in_returns_to_the_requested_screen_with_a_strict_http_only_cookie(
    tab: Page, server: Server
) -> None:
    tab.goto(server.console("/customers"))
    tab.fill("#f-username", ADMIN[0])
    tab.fill("#f-password", ADMIN[1])
    tab.click("button:has-text('Sign in')")
    expect(tab).to_have_url(server.console("/customers"))
    cookies = {c["name"]: c for c in tab.context.cookies()}
    session = cookies["ocs_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["path"] == "/console"
    assert ADMIN[1] not in session["value"]


def test_sign_out_ends_the_session_even_for_a_copied_cookie(tab: Page, server: Server) -> None:
    log_in(tab, server, *ADMIN)
    copied = {c["name"]: c["value"] for c in tab.context.cookies()}
    assert _customers_status(server, copied) == 200
    tab.click("button:has-text('Sign out')")
    expect(tab.locator(".notice")).to_have_text("You have been signed out.")
    assert "ocs_session" not in {c["name"] for c in tab.context.cookies()}
    assert _customers_status(server, copied) == 303  # to the sign-in page


def _customers_status(server: Server, cookies: dict[str, str]) -> int:
    with httpx.Client(cookies=cookies) as client:
        return client.get(server.console("/customers")).status_code


def test_dashboard_counts_follow_changes_made_elsewhere(admin_tab: Page, server: Server) -> None:
    customers = admin_tab.get_by_test_id("count-customers")
    before = int(customers.inner_text())
    assert before >= 3  # the demo's customers
    screenshot(admin_tab, "02-dashboard")
    server.cli("customer", "create", "Polly Polling", "--service-provider", "DEMO")
    expect(customers).to_have_text(str(before + 1), timeout=POLL_WAIT_MS)


def test_dashboard_shows_charging_figures(admin_tab: Page, server: Server) -> None:
    expect(admin_tab.get_by_test_id("requests-per-second")).to_have_text(re.compile(r"^\d+\.\d$"))
    reservations = admin_tab.get_by_test_id("open-reservations")
    before = int(reservations.inner_text())
    reserve_data(server, "31612345002", "console-e2e-dashboard")
    expect(reservations).to_have_text(str(before + 1), timeout=POLL_WAIT_MS)
    expect(admin_tab.get_by_test_id("open-sessions")).not_to_have_text("0")


def test_root_redirects_to_the_console(tab: Page, server: Server) -> None:
    tab.goto(server.url + "/")
    expect(tab).to_have_url(re.compile(r"/console/login"))
    expect(tab.get_by_role("heading", name="Sign in")).to_be_visible()
