"""Credit transfer from the subscriber screen: choose a definition and the recipient, review
what will be charged and credited, give the purchaser's PIN, perform; a wrong PIN is refused
next to its field and changes nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from ocs.core.vouchers import VoucherBalanceInput
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.credit_transfers import TransferDefinitionInput
from ocs.service.subscriber_features import DetailsInput
from ocs.service.vouchers import VoucherTypeInput
from tests.e2e.console.feature_support import (
    DEMO_PROVIDER,
    SETUP,
    add_subscriber,
    open_option,
    server_services,
)
from tests.e2e.console.support import (
    ADMIN,
    Server,
    field_error,
    latest_audit,
    screenshot,
    scripts_ready,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e

PURCHASER = "31699000601"
RECIPIENT = "31699000602"
PIN = "24681357"
WRONG_PIN = "97531864"
PRICE = 300
MINUTES_S = 600


def _catalogue(server: Server, purchaser: int) -> None:
    """A voucher type of free minutes, two transfer definitions that apply it (one needs the
    purchaser's PIN), and the purchaser's PIN."""
    with server_services(server) as services:
        services.vouchers.create_type(
            SETUP,
            VoucherTypeInput(
                code="CT-MIN10",
                name="Ten free minutes",
                service_provider=DEMO_PROVIDER,
                balances=[VoucherBalanceInput("VOICE-S", MINUTES_S)],
            ),
        )
        for code, name, kind, pin in (
            ("CT-GIFT", "Gift ten minutes", "PEER_TO_PEER", True),
            ("CT-BUNDLE", "Minutes bundle", "SERVICE_BUNDLE", False),
        ):
            services.credit_transfers.create_definition(
                SETUP,
                TransferDefinitionInput(
                    code=code,
                    name=name,
                    transfer_type=kind,
                    service_provider=DEMO_PROVIDER,
                    charge_balance_type="CASH",
                    charge_amount=PRICE,
                    voucher_type="CT-MIN10",
                    pin_required=pin,
                ),
            )
        details = DetailsInput(pin_defined=True, pin=PIN, pin_confirmation=PIN)
        services.features.subscribers.update_details(SETUP, purchaser, details)


def _totals(server: Server, subscriber_id: int) -> dict[str, int]:
    with server_services(server) as services:
        view = services.wallets.subscriber_wallets(SYSTEM_ACTOR, subscriber_id)[0]
        return {b.balance_type: b.total_value for b in view.balances}


def _line(table: Locator, balance_type: str, column: str) -> Locator:
    return table.locator(f"tr[data-balance-type='{balance_type}']").get_by_test_id(column)


def _perform(page: Page, pin: str, reason: str) -> None:
    form = page.get_by_test_id("transfer-confirm")
    form.get_by_label(f"PIN of {PURCHASER}").fill(pin)
    form.get_by_role("button", name="Perform transfer").click()
    submit_with_reason(page, reason)


@pytest.mark.usefixtures("auditing")
def test_transfer_after_review_with_the_pin(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    purchaser = add_subscriber(server, PURCHASER, cash_minor=1000)
    recipient = add_subscriber(server, RECIPIENT)
    _catalogue(server, purchaser)
    open_option(page, server, PURCHASER, "Credit transfer", "Credit transfer")
    definitions = page.get_by_test_id("definitions")
    expect(definitions.locator("tr[data-definition='CT-GIFT']")).to_contain_text("600 VOICE-S")
    form = page.get_by_test_id("transfer-form")
    form.get_by_label("Transfer definition").select_option("CT-GIFT")
    form.get_by_label("Recipient MSISDN").fill("31699000699")
    form.get_by_role("button", name="Review transfer").click()
    assert field_error(page, "recipient_msisdn") == "no subscriber has MSISDN '31699000699'"
    screenshot(page, "25-credit-transfer")
    form = page.get_by_test_id("transfer-form")
    form.get_by_label("Recipient MSISDN").fill(RECIPIENT)
    form.get_by_role("button", name="Review transfer").click()
    scripts_ready(page)

    # The review: the price, the credit and both wallets as they are now.
    expect(page.get_by_test_id("charged")).to_have_text(f"{PRICE} CASH")
    expect(page.get_by_test_id("credited")).to_contain_text(f"{MINUTES_S} VOICE-S")
    purchaser_card = page.get_by_test_id("transfer-purchaser")
    expect(purchaser_card.locator("td[data-balance-type='CASH']")).to_have_text("1000")
    recipient_card = page.get_by_test_id("transfer-recipient")
    expect(recipient_card.locator("td[data-balance-type='VOICE-S']")).to_have_text("0")
    expect(page.get_by_test_id("transfer-confirm").locator("input[name='pin']")).to_have_attribute(
        "type", "password"
    )

    # A wrong PIN: refused next to the PIN field (it counts towards blocking the PIN),
    # nothing charged or credited.
    _perform(page, WRONG_PIN, "Gift requested by phone")
    assert field_error(page, "pin") == "the PIN is not correct; 2 attempt(s) left"
    assert WRONG_PIN not in page.content()
    assert _totals(server, purchaser)["CASH"] == 1000
    assert _totals(server, recipient).get("VOICE-S", 0) == 0
    page.get_by_test_id("transfer-confirm").get_by_label(f"PIN of {PURCHASER}").fill(PIN)
    screenshot(page, "26-credit-transfer-confirm")

    _perform(page, PIN, "Gift requested by phone")
    expect(page.get_by_test_id("transfer-done")).to_have_text("Credit transfer CT-GIFT performed.")
    paid = page.get_by_test_id("purchaser-balances")
    expect(_line(paid, "CASH", "old")).to_have_text("1000")
    expect(_line(paid, "CASH", "delta")).to_have_text(f"-{PRICE}")
    expect(_line(paid, "CASH", "new")).to_have_text(str(1000 - PRICE))
    credited = page.get_by_test_id("recipient-balances")
    expect(_line(credited, "VOICE-S", "new")).to_have_text(str(MINUTES_S))
    expect(page.get_by_test_id("result-recipient")).to_contain_text(f"Credited: {RECIPIENT}")
    assert PIN not in page.content()
    screenshot(page, "27-credit-transfer-result")

    assert _totals(server, purchaser)["CASH"] == 1000 - PRICE
    assert _totals(server, recipient)["VOICE-S"] == MINUTES_S
    entry = latest_audit(server, "wallet")
    assert entry["action"] == "credit-transfer"
    assert entry["operator"] == ADMIN[0]
    assert entry["change_reason"] == "Gift requested by phone"

    # Reloading the result shows it again without transferring twice.
    page.reload()
    expect(_line(page.get_by_test_id("purchaser-balances"), "CASH", "new")).to_have_text("700")
    assert _totals(server, purchaser)["CASH"] == 1000 - PRICE
