"""Integration configuration screens: one generic set of screens for every kind."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.configuration import ConfigKind
from tests.e2e.console.support import Server, field_error, screenshot, scripts_ready

pytestmark = pytest.mark.e2e


def test_every_kind_has_a_list_screen_linked_from_the_index(
    admin_tab: Page, server: Server
) -> None:
    admin_tab.goto(server.console("/config"))
    screenshot(admin_tab, "07-configuration")
    for kind in ConfigKind:
        link = admin_tab.locator(f"main a.kind[href$='/config/{kind.value}']")
        expect(link).to_have_count(1)
    admin_tab.locator("main a.kind[href$='/config/state-reasons']").click()
    expect(admin_tab.get_by_test_id("records")).to_contain_text("DEBT")


def test_create_edit_and_delete_with_code_read_only_on_edit(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    page.goto(server.console("/config/balance-types"))
    page.get_by_test_id("new").click()
    page.fill("#f-code", "SMS-BUNDLE")
    page.fill("#f-name", "SMS bundle")
    page.select_option("#f-unit", "EVENTS")
    page.fill("#f-maximum_balance", "500")
    page.click("button:has-text('Create')")
    expect(page.locator(".notice")).to_have_text("Created.")
    expect(page.locator("#f-code")).to_have_attribute("readonly", "")
    expect(page.locator("#f-maximum_balance_policy")).to_have_value("LIMIT")  # service default

    page.fill("#f-name", "SMS bundle (monthly)")
    page.click("button:has-text('Save')")
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    page.goto(server.console("/config/balance-types"))
    expect(page.get_by_test_id("records")).to_contain_text("SMS bundle (monthly)")

    page.get_by_role("link", name="SMS-BUNDLE").click()
    scripts_ready(page)
    page.get_by_test_id("delete").click()
    expect(page.locator("#reason-message")).to_have_text("Delete balance type SMS-BUNDLE?")
    page.locator("#reason-ok").click()
    expect(page.locator(".notice")).to_have_text("Deleted.")
    expect(page.get_by_test_id("records")).not_to_contain_text("SMS-BUNDLE")


def test_duplicate_code_is_shown_next_to_the_code_and_nothing_is_saved(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    page.goto(server.console("/config/account-types/new"))
    page.fill("#f-code", "PAYER")
    page.fill("#f-name", "Second payer")
    page.click("button:has-text('Create')")
    assert field_error(page, "code") == "Account type with code 'PAYER' already exists"
    expect(page.locator("#f-name")).to_have_value("Second payer")
    screenshot(page, "08-error-next-to-field")
    page.goto(server.console("/config/account-types/PAYER"))
    expect(page.locator("#f-name")).to_have_value("Payer")

    page.goto(server.console("/"))
    problems = page.get_by_test_id("problems")
    expect(problems.locator("tbody tr").first).to_contain_text("duplicate")
    expect(problems.locator("tbody tr").first).to_contain_text("/console/config/account-types/new")


def test_reference_fields_are_select_boxes_of_existing_codes(
    admin_tab: Page, server: Server
) -> None:
    admin_tab.goto(server.console("/config/account-profiles/RES-ACC"))
    screenshot(admin_tab, "09-configuration-form")
    options = admin_tab.locator("#f-account_type option")
    expect(options).to_have_text(["PAYER - Payer", "TECH - Technical"])
    reasons = admin_tab.locator("#f-account_state_reason option")
    expect(reasons.filter(has_text="DEBT - Debt collection (SUSPENDED)")).to_have_count(1)


def test_in_use_entity_cannot_be_deleted(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/config/customer-segments/RES"))
    page.get_by_test_id("delete").click()
    page.locator("#reason-ok").click()
    expect(page.locator(".alert")).to_contain_text("is still used by")
    page.goto(server.console("/config/customer-segments"))
    expect(page.get_by_test_id("records")).to_contain_text("RES")
