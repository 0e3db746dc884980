"""Merge wallets from the Wallets option: choose the source, review both wallets, confirm."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.wallets import WalletType
from ocs.service.actor import SYSTEM_ACTOR
from tests.e2e.console.feature_support import add_subscriber, confirm, open_option, server_services
from tests.e2e.console.support import Server, field_error, screenshot, scripts_ready

pytestmark = pytest.mark.e2e


def test_merge_a_wallet_after_reviewing_both(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    source = add_subscriber(server, "31699000501", cash_minor=300)
    target = add_subscriber(server, "31699000502", cash_minor=200)
    open_option(page, server, "31699000502", "Wallets", "Wallets")
    page.get_by_test_id("merge-link").click()
    scripts_ready(page)
    form = page.get_by_test_id("merge-form")
    form.get_by_label("Source subscriber ID (MSISDN)").fill("31699000599")
    form.get_by_role("button", name="Review merge").click()
    assert field_error(page, "source_subscriber") == "no subscriber has the ID '31699000599'"
    form = page.get_by_test_id("merge-form")
    form.get_by_label("Source subscriber ID (MSISDN)").fill("31699000501")
    form.get_by_label("Source wallet type").select_option("PRIMARY")
    form.get_by_label("Target wallet type").select_option("PRIMARY")
    form.get_by_label("Wallet expiry policy").select_option("BEST")
    form.get_by_label("Bucket expiry policy").select_option("MOVE")
    form.get_by_role("button", name="Review merge").click()
    scripts_ready(page)
    source_card = page.get_by_test_id("merge-source")
    target_card = page.get_by_test_id("merge-target")
    expect(source_card.locator("tr[data-balance-type='CASH'] .num").first).to_have_text("300")
    expect(target_card.locator("tr[data-balance-type='CASH'] .num").first).to_have_text("200")
    screenshot(page, "23-merge-wallets")
    page.get_by_test_id("merge-confirm").get_by_role("button", name="Merge wallets").click()
    confirm(page)
    expect(page.locator(".notice")).to_have_text("Wallets merged.")
    row = page.get_by_test_id("balances").locator("tr[data-balance-type='CASH']")
    expect(row.get_by_test_id("total")).to_have_text("500")
    with server_services(server) as services:
        wallets = services.wallets
        shared = wallets.subscriber_wallets(SYSTEM_ACTOR, source)
        assert [v.wallet.id for v in shared] == [
            v.wallet.id for v in wallets.subscriber_wallets(SYSTEM_ACTOR, target)
        ]
        holders = {(link.subscriber_id, link.wallet_type) for link in shared[0].links}
    assert holders == {(source, WalletType.PRIMARY), (target, WalletType.PRIMARY)}
