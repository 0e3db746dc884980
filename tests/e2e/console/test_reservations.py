"""The subscriber's Reservations option: a reservation made by the charging engine is seen,
refreshed in place and committed from the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.support import (
    Server,
    open_subscriber,
    reserve_data,
    screenshot,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e

SUBSCRIBER = "31612345003"


@pytest.mark.usefixtures("auditing")
def test_refresh_shows_a_new_reservation_then_commit_it(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    open_subscriber(page, server, SUBSCRIBER)
    page.get_by_role("link", name="Reservations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reservations of {SUBSCRIBER}")

    reserve_data(server, SUBSCRIBER, "console-e2e-commit")
    expect(page.get_by_test_id("reservations-live")).not_to_contain_text("console-e2e-commit")
    page.get_by_test_id("refresh").click()
    row = page.get_by_test_id("reservations").locator("tr", has_text="console-e2e-commit")
    expect(row.get_by_test_id("state")).to_have_text("OPEN")
    expect(row).to_contain_text("DATA-MB 10000000")
    reserved = page.get_by_test_id("reservation-balances").locator(
        "tr[data-balance-type='DATA-MB']"
    )
    expect(reserved.get_by_test_id("reserved")).to_have_text("10000000")
    screenshot(page, "13-reservations")

    row.get_by_role("button", name="Commit").click()
    submit_with_reason(page, "Session stuck after network outage")
    expect(page.locator(".notice")).to_have_text("Reservation committed.")
    row = page.get_by_test_id("reservations").locator("tr", has_text="console-e2e-commit")
    expect(row.get_by_test_id("state")).to_have_text("COMMITTED")
    expect(row).to_contain_text("by operator")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(reserved.get_by_test_id("reserved")).to_have_text("0")
