"""Recharge with a voucher from the Wallets option: a wrong secret is refused next to its field
and changes no balance; once blacklisted the serial number is asked for too; a recharge shows
the credited balances; the blacklist is cleared with the Clear button."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from ocs.core.errors import DomainError
from ocs.core.vouchers import IssuedVoucher, VoucherBalanceInput, VoucherState
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.vouchers import BatchInput, RechargeRequest, VoucherTypeInput
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
    log_in,
    screenshot,
    scripts_ready,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e

SUBSCRIBER = "31699000611"
VOUCHER_CASH = 500
VOUCHER_VOICE_S = 900
REASON = "Customer read the card out on the phone"
VIEWER = ("vr-viewer", "vr-viewer-password-1")


def _voucher(server: Server) -> IssuedVoucher:
    """One voucher of an active batch: 500 CASH and 900 s of VOICE-S for 30 days."""
    with server_services(server) as services:
        services.vouchers.create_type(
            SETUP,
            VoucherTypeInput(
                code="VR-TOPUP5",
                name="Top-up 5 EUR",
                service_provider=DEMO_PROVIDER,
                balances=[
                    VoucherBalanceInput("CASH", VOUCHER_CASH),
                    VoucherBalanceInput("VOICE-S", VOUCHER_VOICE_S, "VALIDITY", 30),
                ],
            ),
        )
        expires_at = services.clock.now() + timedelta(days=365)
        created = services.vouchers.create_batch(SETUP, BatchInput("VR-TOPUP5", 1, expires_at))
        services.vouchers.change_batch_state(SETUP, created.batch.id, "ACTIVE")
        return created.vouchers[0]


def _wrong(secret: str) -> str:
    """The secret with its last digit changed."""
    return secret[:-1] + str((int(secret[-1]) + 1) % 10)


def _fail_again(server: Server, subscriber_id: int, voucher: IssuedVoucher, times: int) -> None:
    """Failed recharges through the service, as a subscriber's own attempts would be."""
    with server_services(server) as services:
        for _ in range(times):
            request = RechargeRequest(voucher.number, _wrong(voucher.secret), subscriber_id)
            with pytest.raises(DomainError):
                services.vouchers.recharge(SETUP, request)


def _totals(server: Server, subscriber_id: int) -> dict[str, int]:
    with server_services(server) as services:
        view = services.wallets.subscriber_wallets(SYSTEM_ACTOR, subscriber_id)[0]
        return {b.balance_type: b.total_value for b in view.balances}


def _new_value(table: Locator, balance_type: str) -> str:
    row = table.locator(f"tr[data-balance-type='{balance_type}']")
    return row.get_by_test_id("new").inner_text()


def _submit(page: Page, voucher: IssuedVoucher, secret: str, serial: str | None = None) -> None:
    form = page.get_by_test_id("voucher-form")
    form.get_by_label("Voucher number").fill(voucher.number)
    form.get_by_label("Secret").fill(secret)
    if serial is not None:
        form.get_by_label("Serial number").fill(serial)
    form.get_by_role("button", name="Recharge").click()
    submit_with_reason(page, REASON)


@pytest.mark.usefixtures("auditing")
def test_recharge_with_a_voucher_and_clear_the_blacklist(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    subscriber = add_subscriber(server, SUBSCRIBER, cash_minor=100)
    voucher = _voucher(server)
    open_option(page, server, SUBSCRIBER, "Wallets", "Wallets")
    page.get_by_test_id("voucher-link").click()
    scripts_ready(page)
    expect(page.get_by_test_id("blacklist-state")).to_have_text("Not blacklisted")
    expect(page.get_by_test_id("voucher-form").locator("input[name='secret']")).to_have_attribute(
        "type", "password"
    )
    expect(page.get_by_test_id("voucher-form").get_by_label("Serial number")).to_have_count(0)

    # A wrong secret: refused next to the secret, counted, no balance changed.
    _submit(page, voucher, _wrong(voucher.secret))
    assert field_error(page, "secret") == "no voucher matches this voucher number and secret"
    assert _wrong(voucher.secret) not in page.content()
    expect(page.get_by_test_id("voucher-form").get_by_label("Secret")).to_have_value("")
    expect(page.get_by_test_id("voucher-form").get_by_label("Voucher number")).to_have_value(
        voucher.number
    )
    expect(page.get_by_test_id("blacklist-failures")).to_have_text("1")
    assert _totals(server, subscriber) == {"CASH": 100}
    with server_services(server) as services:
        assert services.vouchers.get_voucher(SYSTEM_ACTOR, voucher.number).state is (
            VoucherState.AVAILABLE
        )

    # Two more failures blacklist the subscriber: the serial number is required now.
    _fail_again(server, subscriber, voucher, 2)
    # A fresh GET: reloading the refused POST's page would submit that form again.
    page.goto(server.console(f"/subscribers/{subscriber}/voucher-recharge"))
    scripts_ready(page)
    expect(page.get_by_test_id("blacklist-state")).to_have_text("Blacklisted")
    serial_field = page.get_by_test_id("voucher-form").get_by_label("Serial number")
    expect(serial_field).to_have_attribute("required", "")
    _submit(page, voucher, voucher.secret, _wrong(voucher.serial_number))
    serial_error = page.locator(".field-error[data-field='serial_number']")
    expect(serial_error).to_have_text("the serial number does not belong to this voucher")
    assert voucher.secret not in page.content()
    assert _totals(server, subscriber) == {"CASH": 100}
    page.get_by_test_id("voucher-form").get_by_label("Voucher number").fill(voucher.number)
    screenshot(page, "28-voucher-recharge")

    _submit(page, voucher, voucher.secret, voucher.serial_number)
    expect(page.get_by_test_id("recharge-done")).to_have_text(
        f"Voucher {voucher.number} recharged."
    )
    balances = page.get_by_test_id("recharge-balances")
    assert _new_value(balances, "CASH") == str(100 + VOUCHER_CASH)
    assert _new_value(balances, "VOICE-S") == str(VOUCHER_VOICE_S)
    assert voucher.secret not in page.content()
    screenshot(page, "29-voucher-recharge-result")
    assert _totals(server, subscriber) == {"CASH": 100 + VOUCHER_CASH, "VOICE-S": VOUCHER_VOICE_S}
    with server_services(server) as services:
        redeemed = services.vouchers.get_voucher(SYSTEM_ACTOR, voucher.number)
    assert (redeemed.state, redeemed.redeemed_by) == (VoucherState.REDEEMED, subscriber)
    entry = latest_audit(server, "wallet")
    assert (entry["action"], entry["operator"]) == ("voucher-recharge", ADMIN[0])
    assert entry["change_reason"] == REASON

    # The recharge reset the failure count; the blacklist flag stays until an operator clears it.
    page.get_by_role("link", name="Another voucher").click()
    scripts_ready(page)
    expect(page.get_by_test_id("blacklist-failures")).to_have_text("0")
    expect(page.get_by_test_id("blacklist-state")).to_have_text("Blacklisted")
    page.get_by_test_id("blacklist-clear").get_by_role("button", name="Clear").click()
    submit_with_reason(page, "Card reader fault, customer verified")
    expect(page.get_by_test_id("blacklist-state")).to_have_text("Not blacklisted")
    expect(page.get_by_test_id("voucher-form").get_by_label("Serial number")).to_have_count(0)
    with server_services(server) as services:
        assert not services.vouchers.blacklist(SYSTEM_ACTOR, subscriber).blacklisted
    entry = latest_audit(server, "voucher-blacklist")
    assert (entry["action"], entry["change_reason"]) == (
        "clear",
        "Card reader fault, customer verified",
    )


def test_read_only_operator_sees_the_blacklist_but_cannot_clear_it(
    tab: Page, server: Server
) -> None:
    subscriber = add_subscriber(server, "31699000612")
    unknown = IssuedVoucher("99999999000001", "000000000001", "12345678901234567890")
    _fail_again(server, subscriber, unknown, 3)
    server.cli("operator", "add", VIEWER[0], "--role", "read_only", "--password", VIEWER[1])
    log_in(tab, server, *VIEWER)
    open_option(tab, server, "31699000612", "Wallets", "Wallets")
    tab.get_by_test_id("voucher-link").click()
    expect(tab.get_by_test_id("blacklist-state")).to_have_text("Blacklisted")
    expect(tab.get_by_test_id("blacklist-failures")).to_have_text("3")
    expect(tab.get_by_test_id("blacklist-clear")).to_have_count(0)
    expect(tab.get_by_test_id("voucher-form")).to_have_count(0)
    token = tab.locator("input[name='csrf_token']").first.get_attribute("value")
    assert token
    response = tab.request.post(
        server.console(f"/subscribers/{subscriber}/voucher-blacklist/clear"),
        form={"csrf_token": token},
    )
    assert response.status == 403
    with server_services(server) as services:
        assert services.vouchers.blacklist(SYSTEM_ACTOR, subscriber).blacklisted
