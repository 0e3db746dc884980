"""Operator administration: add, change role and providers, reset password, deactivate."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from ocs.service.actor import SYSTEM_ACTOR
from tests.e2e.console.feature_support import SETUP, confirm, server_services
from tests.e2e.console.support import Server, field_error, log_in, screenshot, scripts_ready

pytestmark = pytest.mark.e2e


def _token(server: Server, username: str, password: str) -> int:
    response = httpx.post(
        f"{server.url}/api/v1/auth/token", json={"username": username, "password": password}
    )
    return response.status_code


def test_admin_manages_an_operator(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Operators").click()
    scripts_ready(page)
    form = page.get_by_test_id("operator-add")
    form.get_by_label("Username").fill("Nina")
    form.get_by_label("Password").fill("nina-password-1")
    form.get_by_role("button", name="Add operator").click()
    assert field_error(page, "username").startswith("username must be 2-32 lower-case letters")
    expect(page.get_by_label("Password")).to_have_value("")  # never echoed back
    form = page.get_by_test_id("operator-add")
    form.get_by_label("Username").fill("nina")
    form.get_by_label("Password").fill("nina-password-1")
    form.get_by_label("Role").select_option("read_only")
    form.get_by_label("Demo Telecom (DEMO)").check()
    form.get_by_role("button", name="Add operator").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("nina")
    scripts_ready(page)

    access = page.get_by_test_id("operator-access")
    access.get_by_label("Role").select_option("operator")
    access.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    password = page.get_by_test_id("operator-password")
    password.locator("#f-password").fill("nina-password-2")
    password.get_by_label("Confirm new password").fill("nina-password-2")
    password.get_by_role("button", name="Reset password").click()
    expect(page.locator(".notice")).to_have_text("Password reset.")
    assert _token(server, "nina", "nina-password-1") == 401
    assert _token(server, "nina", "nina-password-2") == 200
    screenshot(page, "24-operator")
    scripts_ready(page)

    page.get_by_test_id("operator-deactivate").get_by_role("button", name="Deactivate").click()
    confirm(page)
    expect(page.locator(".notice")).to_have_text("Operator deactivated.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("DEACTIVATED")
    assert _token(server, "nina", "nina-password-2") == 401
    with server_services(server) as services:
        nina = next(
            o for o in services.operators.list_operators(SYSTEM_ACTOR) if o.username == "nina"
        )
    assert (nina.role, nina.service_providers, nina.active) == (
        "operator",
        frozenset({"DEMO"}),
        False,
    )


def test_operators_screen_is_for_administrators_only(tab: Page, server: Server) -> None:
    with server_services(server) as services:
        services.operators.create(SETUP, "otto", "otto-password-1", "operator")
    log_in(tab, server, "otto", "otto-password-1")
    expect(
        tab.get_by_role("navigation", name="Main").get_by_role("link", name="Operators")
    ).to_have_count(0)
    tab.goto(server.console("/operators"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Not allowed")
