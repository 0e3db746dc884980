"""The subscriber's Wallets option: buckets, top-up, adjustment, balance history chart."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.support import (
    ADMIN,
    Server,
    field_error,
    latest_audit,
    open_subscriber,
    screenshot,
    scripts_ready,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e

SUBSCRIBER = "31612345003"


def _open_wallets(page: Page, server: Server) -> None:
    open_subscriber(page, server, SUBSCRIBER)
    page.get_by_role("navigation", name="Subscriber options").get_by_role(
        "link", name="Wallets"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Wallets of {SUBSCRIBER}")
    scripts_ready(page)


def _total(page: Page, balance_type: str) -> int:
    row = page.get_by_test_id("balances").locator(f"tr[data-balance-type='{balance_type}']")
    return int(row.get_by_test_id("total").inner_text())


def test_add_bucket_changes_the_balance_and_the_chart_is_drawn(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    _open_wallets(page, server)
    expect(page.get_by_test_id("wallet-details")).to_contain_text("PREPAID-S")
    before = _total(page, "CASH")
    form = page.get_by_test_id("bucket-form")
    form.get_by_label("Balance type").select_option("CASH")
    form.get_by_label("Value").fill("750")
    form.get_by_label("Expiry (UTC)").fill("2031-01-01T00:00")
    form.get_by_role("button", name="Add bucket").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    assert _total(page, "CASH") == before + 750
    buckets = page.get_by_test_id("buckets-CASH")
    expect(buckets).to_contain_text("2031-01-01 00:00 UTC")
    chart = page.get_by_test_id("chart-CASH")
    expect(chart.locator(".uplot canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-DATA-MB").locator(".uplot")).to_have_count(1)
    screenshot(page, "12-wallets")


def test_edit_then_delete_a_bucket(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    _open_wallets(page, server)
    form = page.get_by_test_id("bucket-form")
    form.get_by_label("Balance type").select_option("CASH")
    form.get_by_label("Value").fill("40")
    form.get_by_role("button", name="Add bucket").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    bucket = page.get_by_test_id("buckets-CASH").locator("tr[data-bucket]", has_text="40").last
    bucket_id = bucket.get_attribute("data-bucket")
    before = _total(page, "CASH")

    bucket.get_by_text("Edit").click()
    edit = page.get_by_test_id(f"bucket-edit-{bucket_id}")
    edit.get_by_label("Value").fill("65")
    edit.get_by_role("button", name="Save bucket").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    assert _total(page, "CASH") == before + 25
    scripts_ready(page)

    page.get_by_test_id(f"bucket-delete-{bucket_id}").click()
    page.locator("#reason-ok").click()
    expect(page.locator(".notice")).to_have_text("Deleted.")
    assert _total(page, "CASH") == before - 40
    expect(page.locator(f"tr[data-bucket='{bucket_id}']")).to_have_count(0)


def test_refused_top_up_is_shown_next_to_the_amount(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    _open_wallets(page, server)
    before = _total(page, "CASH")
    form = page.get_by_test_id("top-up-form")
    form.get_by_label("Balance type").select_option("CASH")
    form.get_by_label("Amount").fill("-5")
    form.get_by_role("button", name="Top up").click()
    assert field_error(page, "amount") == "a top-up amount must be positive"
    assert _total(page, "CASH") == before


@pytest.mark.usefixtures("auditing")
def test_adjustment_with_a_change_reason(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    server.cli(
        "wallet",
        "adjustment-limits",
        "PREPAID-S",
        "CASH",
        "--minimum=-10000",
        "--maximum=10000",
        "--reason",
        "console wallet test",
    )
    _open_wallets(page, server)
    before = _total(page, "CASH")
    form = page.get_by_test_id("adjust-form")
    form.get_by_label("Balance type").select_option("CASH")
    form.get_by_label("Amount").fill("-120")
    form.get_by_role("button", name="Adjustment").click()
    submit_with_reason(page, "Goodwill reversal, ticket 4711")
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    assert _total(page, "CASH") == before - 120
    entry = latest_audit(server, "wallet")
    assert entry["operator"] == ADMIN[0]
    assert entry["action"] == "adjust"
    assert entry["change_reason"] == "Goodwill reversal, ticket 4711"
