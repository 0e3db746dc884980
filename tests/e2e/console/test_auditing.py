"""EDR auditing: every change form asks for a change reason, recorded with the operator."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.support import (
    ADMIN,
    Server,
    latest_audit,
    open_subscriber,
    screenshot,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e


@pytest.mark.usefixtures("auditing")
def test_state_change_asks_for_a_reason_recorded_with_the_operator(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    open_subscriber(page, server, "31612345001")
    expect(page.locator(".topbar")).to_contain_text("EDR auditing on")
    panel = page.get_by_test_id("state-panel")
    panel.locator("#f-state").select_option("SUSPENDED")
    panel.locator("#f-state_reason").select_option("DEBT")
    panel.get_by_role("button", name="Change state").click()
    dialog = page.locator("#reason-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#reason-text")).to_have_attribute("maxlength", "200")
    dialog.locator("#reason-text").fill("Invoice 2026-11 unpaid")
    screenshot(page, "10-change-reason", full_page=False)
    dialog.locator("#reason-ok").click()
    expect(page.locator(".notice")).to_have_text("State change recorded.")
    expect(page.locator("h1 .badge")).to_have_text("SUSPENDED")
    entry = latest_audit(server, "subscriber")
    assert entry["operator"] == ADMIN[0]
    assert entry["change_reason"] == "Invoice 2026-11 unpaid"
    assert entry["action"] == "state"


@pytest.mark.usefixtures("auditing")
def test_cancelled_reason_dialog_changes_nothing(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    open_subscriber(page, server, "31612345002")
    page.fill("#f-language", "nl")
    page.get_by_test_id("details-form").get_by_role("button", name="Save").click()
    page.locator("#reason-dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator("#reason-dialog")).to_be_hidden()
    page.reload()
    expect(page.locator("#f-language")).to_have_value("en")
    page.fill("#f-language", "nl")
    page.get_by_test_id("details-form").get_by_role("button", name="Save").click()
    submit_with_reason(page, "Customer moved to the Netherlands")
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.locator("#f-language")).to_have_value("nl")


@pytest.mark.usefixtures("auditing")
def test_server_refuses_a_change_without_reason(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    open_subscriber(page, server, "31612345002")
    token = page.locator("input[name='csrf_token']").first.get_attribute("value")
    assert token
    action = page.get_by_test_id("details-form").get_attribute("action")
    assert action
    response = page.request.post(
        server.url + action,
        form={"csrf_token": token, "subscriber_id": "31612345002", "language": "de"},
    )
    assert response.status == 428  # precondition required: the change reason
    assert "needs a change reason" in response.text()
    page.reload()
    expect(page.locator("#f-language")).not_to_have_value("de")
