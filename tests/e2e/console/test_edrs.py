"""The subscriber's EDRs option: search, sort by column, details, reverse a charge, and the
usage chart drawn from the CHARGE EDRs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ocs.bootstrap import build_services
from ocs.config import Settings
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.wallets import ChargeRequest
from tests.e2e.console.support import (
    Server,
    field_error,
    open_subscriber,
    screenshot,
    scripts_ready,
)

pytestmark = pytest.mark.e2e

SUBSCRIBER = "31612345002"
CALLED = "31201234567"


def _charge(server: Server) -> int:
    """A direct debit of 150 cents for a 2-minute VOICE call, as the network would send it;
    the id of its CHARGE EDR."""
    services = build_services(Settings.from_env(server.env))
    subscriber = services.casm.find_subscriber_by_resource(SYSTEM_ACTOR, SUBSCRIBER).subscriber
    request = ChargeRequest(
        subscriber_id=subscriber.id,
        amounts={"CASH": 150},
        called_number=CALLED,
        duration_s=120,
        tags={"charging_class": "VOICE"},
    )
    result = services.wallets.charge(request)
    assert result.edr is not None
    return result.edr.id


def test_view_an_edr_and_reverse_the_charge(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    edr_id = _charge(server)
    open_subscriber(page, server, SUBSCRIBER)
    page.get_by_role("link", name="EDRs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"EDRs of {SUBSCRIBER}")
    expect(page.get_by_test_id("usage-VOICE").locator(".uplot canvas")).to_have_count(1)

    filters = page.get_by_test_id("edr-filters")
    filters.get_by_label("Categories").select_option("CHARGE")
    filters.get_by_label("Called number").fill(CALLED)
    filters.get_by_role("button", name="Search").click()
    rows = page.get_by_test_id("edrs").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-edr", str(edr_id))
    expect(rows.first).to_contain_text("150")
    page.get_by_test_id("sort-COST").click()
    expect(page).to_have_url(re.compile(r"sort=COST"))
    expect(page.get_by_test_id("sort-COST")).to_contain_text("↓")
    expect(page.get_by_label("Called number")).to_have_value(CALLED)
    expect(page.get_by_test_id("usage-VOICE").locator(".uplot canvas")).to_have_count(1)
    screenshot(page, "14-edrs")

    page.get_by_role("link", name=str(edr_id), exact=True).click()
    scripts_ready(page)
    expect(page.get_by_test_id("edr-type")).to_have_text("CHARGE")
    cash = page.get_by_test_id("edr-balances").locator("tr[data-balance-type='CASH']")
    expect(cash.get_by_test_id("delta")).to_have_text("-150")
    screenshot(page, "15-edr-details")
    page.get_by_test_id("reverse-form").get_by_role("button", name="Reverse charge").click()
    page.locator("#reason-ok").click()
    expect(page.locator(".notice")).to_have_text("Charge reversed: this is the REVERSAL EDR.")
    expect(page.get_by_test_id("edr-type")).to_have_text("REVERSAL")
    cash = page.get_by_test_id("edr-balances").locator("tr[data-balance-type='CASH']")
    expect(cash.get_by_test_id("delta")).to_have_text("150")
    expect(page.get_by_test_id("reverse-form")).to_have_count(0)

    page.get_by_test_id("reverses").click()
    scripts_ready(page)
    page.get_by_test_id("reverse-form").get_by_role("button", name="Reverse charge").click()
    page.locator("#reason-ok").click()
    expect(page.locator(".alert")).to_contain_text(f"EDR {edr_id} was already reversed")


def test_refused_search_is_shown_next_to_its_filter(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    open_subscriber(page, server, SUBSCRIBER)
    page.get_by_role("link", name="EDRs").click()
    filters = page.get_by_test_id("edr-filters")
    filters.get_by_label("From (UTC)").fill("2026-02-01T00:00")
    filters.get_by_label("Before (UTC)").fill("2026-01-01T00:00")
    filters.get_by_role("button", name="Search").click()
    assert field_error(page, "end") == "end must be after start"
    expect(page.get_by_test_id("edrs")).to_have_count(0)
