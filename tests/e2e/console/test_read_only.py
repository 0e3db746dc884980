"""A read-only operator sees no New, Edit or Delete buttons, and the server refuses anyway."""

from __future__ import annotations

import html

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.support import Server, log_in, reserve_data, screenshot

pytestmark = pytest.mark.e2e

VIEWER = ("viewer", "viewer-password-1")


@pytest.fixture(scope="module")
def viewer(server: Server) -> tuple[str, str]:
    server.cli("operator", "add", VIEWER[0], "--role", "read_only", "--password", VIEWER[1])
    return VIEWER


def test_read_only_operator_sees_no_change_buttons(
    tab: Page, server: Server, viewer: tuple[str, str]
) -> None:
    log_in(tab, server, *viewer)
    expect(tab.get_by_test_id("operator")).to_have_text("viewer")
    tab.goto(server.console("/customers"))
    expect(tab.get_by_test_id("customer-results")).to_contain_text("Alice Example")
    expect(tab.get_by_test_id("new-customer")).to_have_count(0)

    tab.get_by_role("link", name="Alice Example").click()
    expect(tab.get_by_test_id("delete")).to_have_count(0)
    expect(tab.get_by_test_id("new-account")).to_have_count(0)
    expect(tab.get_by_test_id("state-form")).to_have_count(0)
    expect(tab.locator("#f-name")).to_be_disabled()
    expect(tab.get_by_role("button", name="Save")).to_have_count(0)

    tab.goto(server.console("/config/account-types"))
    expect(tab.get_by_test_id("records")).to_contain_text("PAYER")
    expect(tab.get_by_test_id("new")).to_have_count(0)
    tab.get_by_role("link", name="PAYER").click()
    expect(tab.locator("#f-name")).to_be_disabled()
    expect(tab.get_by_test_id("delete")).to_have_count(0)
    expect(tab.get_by_role("button", name="Save")).to_have_count(0)

    tab.goto(server.console("/subscribers?by=subscriber_id&q=31612345003&match=exact"))
    tab.get_by_role("link", name="31612345003").click()
    expect(tab.get_by_test_id("resource-form")).to_have_count(0)
    expect(tab.get_by_role("button", name="Remove")).to_have_count(0)
    screenshot(tab, "11-read-only-subscriber")

    tab.get_by_role("link", name="Wallets").click()
    expect(tab.get_by_test_id("balances")).to_contain_text("CASH")
    for form in ("bucket-form", "top-up-form", "adjust-form"):
        expect(tab.get_by_test_id(form)).to_have_count(0)
    expect(tab.get_by_role("button", name="Delete")).to_have_count(0)


def test_read_only_operator_sees_reservations_without_commit_buttons(
    tab: Page, server: Server, viewer: tuple[str, str]
) -> None:
    reserve_data(server, "31612345002", "console-e2e-read-only")
    log_in(tab, server, *viewer)
    tab.goto(server.console("/subscribers?by=subscriber_id&q=31612345002&match=exact"))
    tab.get_by_role("link", name="31612345002").click()
    tab.get_by_role("link", name="Reservations").click()
    row = tab.get_by_test_id("reservations").locator("tr", has_text="console-e2e-read-only")
    expect(row.get_by_test_id("state")).to_have_text("OPEN")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(tab.get_by_test_id("refresh")).to_be_visible()


def test_server_refuses_a_read_only_operators_post(
    tab: Page, server: Server, viewer: tuple[str, str]
) -> None:
    log_in(tab, server, *viewer)
    tab.goto(server.console("/config/account-types/PAYER"))
    token = tab.locator("input[name='csrf_token']").first.get_attribute("value")
    assert token
    response = tab.request.post(
        server.console("/config/account-types/new"),
        form={"csrf_token": token, "code": "SNEAKY", "name": "Sneaky"},
    )
    assert response.status == 403
    assert "lacks the 'create_delete' privilege" in html.unescape(response.text())
    tab.goto(server.console("/config/account-types"))
    expect(tab.get_by_test_id("records")).not_to_contain_text("SNEAKY")
