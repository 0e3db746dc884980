"""Customer, account and subscriber journeys: profiles, search, resources and states."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.support import Server, field_error, screenshot, scripts_ready

pytestmark = pytest.mark.e2e


def _new_customer(page: Page, server: Server, name: str) -> None:
    page.goto(server.console("/customers"))
    page.get_by_test_id("new-customer").click()
    page.select_option("#f-profile", "RES-CUST")
    page.fill("#f-name", name)
    page.fill("#f-reference", "CRM-" + name.split()[0].upper())
    page.click("button:has-text('Create')")


def test_customer_then_account_then_subscriber_from_profiles(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    _new_customer(page, server, "Dora Journey")
    expect(page.locator(".notice")).to_have_text("Created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dora Journey")
    expect(page.locator("#f-segment")).to_have_value("RES")  # from the customer profile

    page.get_by_test_id("new-account").click()
    page.select_option("#f-profile", "RES-ACC")
    page.click("button:has-text('Create')")
    expect(page).to_have_url(re.compile(r"/console/accounts/\d+\?notice=created$"))
    expect(page.locator("#f-currency")).to_have_value("EUR")
    expect(page.locator("#f-billing_cycle")).to_have_value("MONTHLY1")

    page.get_by_test_id("new-subscriber").click()
    page.select_option("#f-profile", "RES-SUB")
    page.fill("#f-subscriber_id", "31655500001")
    page.fill("[name='resource.MSISDN']", "31655500001")
    page.fill("[name='resource.IMSI']", "204085550000001")
    page.click("button:has-text('Create subscriber')")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Subscriber 31655500001")
    resources = page.get_by_test_id("resources")
    expect(resources).to_contain_text("MSISDN")
    expect(resources).to_contain_text("204085550000001")
    expect(page.locator(".crumbs")).to_contain_text("Dora Journey")
    screenshot(page, "06-subscriber-details")

    page.locator(".crumbs a", has_text="Dora Journey").click()
    accounts = page.get_by_test_id("accounts")
    expect(accounts).to_contain_text("PAYER")
    expect(accounts).to_contain_text("31655500001")
    screenshot(page, "04-customer")


def test_one_form_creates_customer_account_and_subscriber(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/subscribers/new"))
    page.select_option("#f-profile", "RES-SUB")
    page.fill("#f-subscriber_id", "31655500002")
    page.fill("#f-customer_name", "Erin Onego")
    page.fill("[name='resource.MSISDN']", "31655500002")
    screenshot(page, "05-new-subscriber")
    page.click("button:has-text('Create subscriber')")
    expect(page.locator(".notice")).to_have_text("Created.")
    page.locator(".crumbs a", has_text="Erin Onego").click()
    expect(page.get_by_test_id("accounts")).to_contain_text("31655500002")


def test_new_subscriber_error_is_shown_next_to_its_field_and_nothing_is_saved(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    page.goto(server.console("/subscribers/new"))
    page.select_option("#f-profile", "RES-SUB")
    page.fill("#f-subscriber_id", "31655500003")
    page.fill("#f-customer_name", "Frank Failing")
    page.fill("[name='resource.MSISDN']", "31612345001")  # the demo's Alice has it
    page.click("button:has-text('Create subscriber')")
    assert "already belongs to a subscriber" in field_error(page, "resource.MSISDN")
    expect(page.locator("#f-customer_name")).to_have_value("Frank Failing")  # kept for a retry
    page.goto(server.console("/customers?name=frank"))
    expect(page.locator(".empty")).to_contain_text("No customer name starts with")


def test_unknown_account_number_is_shown_next_to_the_account(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    page.goto(server.console("/subscribers/new"))
    page.fill("#f-subscriber_id", "31655500004")
    page.fill("#f-account_id", "987654")
    page.click("button:has-text('Create subscriber')")
    assert field_error(page, "account_id") == "account 987654 does not exist"
    expect(page.locator("#f-account_id")).to_have_value("987654")


def test_find_subscriber_by_prefix_exact_resource_and_customer(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    page.goto(server.console("/subscribers"))
    page.fill("#q-text", "3161234500")
    page.click("button:has-text('Search')")
    results = page.get_by_test_id("subscriber-results")
    expect(results.locator("tbody tr")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"q=3161234500"))  # htmx pushed the search address
    screenshot(page, "03-subscriber-search")

    page.select_option("select[name='match']", "exact")
    page.click("button:has-text('Search')")
    expect(page.locator("#results .empty")).to_contain_text("Nothing matches")

    page.select_option("#q-by", "resource")
    page.fill("#q-text", "204080000000002")
    page.click("button:has-text('Search')")
    expect(page.get_by_test_id("subscriber-results")).to_contain_text("31612345002")

    page.select_option("#q-by", "customer")
    page.fill("#q-text", "carol")
    page.click("button:has-text('Search')")
    page.get_by_test_id("customer-results").get_by_role("link", name="Carol Business").click()
    expect(page.get_by_test_id("accounts")).to_contain_text("31612345003")


def test_customer_search_by_name_prefix_ignores_case(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/customers"))
    page.fill("#q-name", "BOB")
    page.click("button:has-text('Search')")
    rows = page.get_by_test_id("customer-results").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Bob Example")


def test_duplicate_customer_name_is_shown_next_to_the_name(admin_tab: Page, server: Server) -> None:
    _new_customer(admin_tab, server, "alice EXAMPLE!")
    assert "already has this name" in field_error(admin_tab, "name")
    expect(admin_tab.locator("#f-name")).to_have_value("alice EXAMPLE!")


def test_resource_add_and_remove(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/subscribers?by=subscriber_id&q=31612345002&match=exact"))
    page.get_by_role("link", name="31612345002").click()
    form = page.get_by_test_id("resource-form")
    form.locator("#f-resource_type").select_option("SIP")
    form.locator("#f-value").fill("sip:bob@example.org")
    form.get_by_role("button", name="Add resource").click()
    resources = page.get_by_test_id("resources")
    expect(resources).to_contain_text("sip:bob@example.org")
    row = resources.locator("tr", has_text="sip:bob@example.org")
    scripts_ready(page)
    row.get_by_role("button", name="Remove").click()
    page.locator("#reason-ok").click()  # the confirmation dialog
    expect(page.locator(".notice")).to_have_text("Deleted.")
    expect(resources).not_to_contain_text("sip:bob@example.org")


def test_pending_state_change_is_confirmed(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/subscribers?by=subscriber_id&q=31612345003&match=exact"))
    page.get_by_role("link", name="31612345003").click()
    panel = page.get_by_test_id("state-panel")
    panel.locator("#f-state").select_option("SUSPENDED")
    panel.locator("#f-state_reason").select_option("TECHNICAL")
    panel.locator("#f-valid_from").fill("2099-01-01T09:30")
    panel.get_by_role("button", name="Change state").click()
    changes = page.get_by_test_id("state-changes")
    expect(changes).to_contain_text("PENDING")
    expect(page.locator("h1 .badge")).to_have_text("ACTIVE")  # not yet
    scripts_ready(page)
    changes.get_by_test_id("confirm-change").click()
    page.locator("#reason-ok").click()
    expect(page.locator(".notice")).to_have_text("Pending state change applied.")
    expect(page.locator("h1 .badge")).to_have_text("SUSPENDED")
    expect(changes).to_contain_text("APPLIED")


def test_state_reason_of_another_state_is_refused_next_to_the_reason(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    page.goto(server.console("/customers?name=bob"))
    page.get_by_role("link", name="Bob Example").click()
    panel = page.get_by_test_id("state-panel")
    panel.locator("#f-state").select_option("SUSPENDED")
    panel.locator("#f-state_reason").select_option("CHURN")
    panel.get_by_role("button", name="Change state").click()
    assert "is for state DEACTIVATED" in field_error(page, "state_reason")
    expect(page.locator("h1 .badge")).to_have_text("ACTIVE")
