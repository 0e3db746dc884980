"""Credit cards in the console: a card added on the subscriber's Credit cards option (a Luhn
refusal first), then searched, frozen, and given a second subscriber on the card's page. The
full number and the CVC never come back in any page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.credit_cards import CardState, RegistrationState
from ocs.core.errors import DomainError
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.credit_cards import CardInput
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

RULE = "C1STD"
NUMBER = "5555555555554444"  # passes the Luhn check
BAD_NUMBER = "5555555555554443"  # fails it
CVC = "8462"
VIEWER = ("viewer-cards", "viewer-password-cards")
REASON = "Card handed in at the shop"


@pytest.fixture
def masking_rule(server: Server) -> str:
    with server_services(server) as services:
        try:
            services.credit_cards.get_rule(SYSTEM_ACTOR, RULE)
        except DomainError:
            services.credit_cards.create_rule(SETUP, RULE, "First six, last four", 6, 4, "*")
    return RULE


def _no_secrets(page: Page) -> None:
    html = page.content()
    assert NUMBER not in html
    assert BAD_NUMBER not in html
    assert CVC not in html


def _fill_card(page: Page, number: str) -> None:
    form = page.get_by_test_id("card-new")
    form.get_by_label("Full card number").fill(number)
    form.get_by_label("Masking rule").select_option(RULE)
    form.get_by_label("Expiry month").select_option("7")
    form.get_by_label("Expiry year").fill("2031")
    form.get_by_label("Name on card").fill("Ann Smith")
    form.get_by_label("CVC").fill(CVC)


@pytest.mark.usefixtures("auditing", "masking_rule")
def test_add_a_card_to_a_subscriber_then_manage_it(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    sub = add_subscriber(server, "31699074101")
    other = add_subscriber(server, "31699074102")
    open_option(page, server, "31699074101", "Credit cards", "Credit cards")
    _fill_card(page, BAD_NUMBER)
    page.get_by_test_id("card-new").get_by_label("Frozen").uncheck()
    page.get_by_test_id("card-new").get_by_role("button", name="Save").click()
    submit_with_reason(page, REASON)
    assert field_error(page, "number").startswith("the card number fails the Luhn checksum")
    expect(page.get_by_label("Full card number")).to_have_value("")
    expect(page.get_by_label("CVC")).to_have_value("")
    expect(page.get_by_label("Name on card")).to_have_value("Ann Smith")
    _no_secrets(page)
    with server_services(server) as services:
        assert services.credit_cards.cards_of_subscriber(SYSTEM_ACTOR, sub) == []

    scripts_ready(page)
    _fill_card(page, NUMBER)
    page.get_by_test_id("card-new").get_by_label("Frozen").uncheck()
    page.get_by_test_id("card-new").get_by_role("button", name="Save").click()
    submit_with_reason(page, REASON)
    expect(page.locator(".notice")).to_have_text("Created.")
    row = page.get_by_test_id("subscriber-cards").locator("tr").nth(1)
    expect(row).to_contain_text("555555******4444")
    expect(row.get_by_test_id("registration-state")).to_have_text("NEW")
    _no_secrets(page)
    scripts_ready(page)
    row.get_by_role("button", name="Confirm").click()
    submit_with_reason(page, REASON)
    expect(
        page.get_by_test_id("subscriber-cards").get_by_test_id("registration-state")
    ).to_have_text("PRIMARY")
    screenshot(page, "34-subscriber-credit-cards")

    # Search by the full number (posted, never in the address), then open the card.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credit cards").click()
    search = page.get_by_test_id("card-search")
    search.get_by_label("Full card number").fill(NUMBER)
    search.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("cards")).to_contain_text("31699074101")
    assert NUMBER not in page.url
    _no_secrets(page)
    screenshot(page, "35-credit-card-search")
    page.get_by_test_id("cards").get_by_role("link", name="555555******4444").click()
    scripts_ready(page)

    register = page.get_by_test_id("register-form")
    register.get_by_label("Subscriber ID").fill("31699074199")
    register.get_by_role("button", name="Register").click()
    submit_with_reason(page, REASON)
    assert field_error(page, "subscriber") == "no subscriber has the ID '31699074199'"
    scripts_ready(page)
    page.get_by_test_id("register-form").get_by_label("Subscriber ID").fill("31699074102")
    page.get_by_test_id("register-form").get_by_role("button", name="Register").click()
    submit_with_reason(page, REASON)
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    pending = page.get_by_test_id("registrations").locator("tr[data-subscriber='31699074102']")
    expect(pending.get_by_test_id("registration-state")).to_have_text("PENDING")
    scripts_ready(page)
    pending.get_by_role("button", name="Confirm").click()
    submit_with_reason(page, REASON)
    expect(pending.get_by_test_id("registration-state")).to_have_text("SECONDARY")
    scripts_ready(page)
    page.get_by_test_id("state-form").get_by_role("button", name="Freeze").click()
    submit_with_reason(page, REASON)
    expect(page.get_by_test_id("card-state")).to_contain_text("FROZEN")
    scripts_ready(page)
    edit = page.get_by_test_id("card-edit")
    edit.get_by_label("Expiry year").fill("2032")
    edit.get_by_label("CVC").fill(CVC)
    edit.get_by_role("button", name="Save").click()
    submit_with_reason(page, REASON)
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_label("Expiry year")).to_have_value("2032")
    _no_secrets(page)
    screenshot(page, "36-credit-card")

    with server_services(server) as services:
        [view] = services.credit_cards.cards_of_subscriber(SYSTEM_ACTOR, sub)
    card = view.card
    assert (card.display_number, card.state, card.expiry_month, card.expiry_year) == (
        "555555******4444",
        CardState.FROZEN,
        7,
        2032,
    )
    assert card.name_on_card == "Ann Smith"
    assert {(r.subscriber_id, r.state) for r in view.registrations} == {
        (sub, RegistrationState.PRIMARY),
        (other, RegistrationState.SECONDARY),
    }
    entry = latest_audit(server, "credit-card")
    assert (entry["operator"], entry["change_reason"]) == (ADMIN[0], REASON)
    assert NUMBER not in str(entry)
    assert CVC not in str(entry)


@pytest.mark.usefixtures("masking_rule")
def test_read_only_operator_sees_cards_without_buttons(tab: Page, server: Server) -> None:
    sub = add_subscriber(server, "31699074103")
    with server_services(server) as services:
        created = services.credit_cards.create(
            SETUP,
            CardInput(DEMO_PROVIDER, RULE, 1, 2033, "4000056655665556", "123", subscriber_id=sub),
        )
    server.cli("operator", "add", VIEWER[0], "--role", "read_only", "--password", VIEWER[1])
    log_in(tab, server, *VIEWER)
    tab.goto(server.console("/credit-cards"))
    expect(tab.get_by_test_id("new-card")).to_have_count(0)
    tab.goto(server.console(f"/credit-cards/{created.card.card.id}"))
    expect(tab.get_by_test_id("registrations")).to_contain_text("31699074103")
    for test_id in ("delete", "state-form", "register-form"):
        expect(tab.get_by_test_id(test_id)).to_have_count(0)
    expect(tab.get_by_label("Expiry year")).to_be_disabled()
    tab.goto(server.console(f"/subscribers/{sub}/credit-cards"))
    expect(tab.get_by_test_id("subscriber-cards")).to_contain_text("400005******5556")
    expect(tab.get_by_test_id("card-new")).to_have_count(0)
    expect(tab.get_by_test_id("subscriber-cards").get_by_role("button")).to_have_count(0)
    tab.goto(server.console("/credit-card-rules"))
    expect(tab.get_by_test_id("rules")).to_contain_text(RULE)
    expect(tab.get_by_test_id("rule-new")).to_have_count(0)
    expect(tab.get_by_test_id("rules").get_by_role("button")).to_have_count(0)


@pytest.mark.usefixtures("auditing", "masking_rule")
def test_masking_rules_are_made_refused_and_deleted(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/credit-cards"))
    page.get_by_test_id("masking-rules").click()
    expect(page.get_by_test_id("rules")).to_contain_text(RULE)
    scripts_ready(page)
    form = page.get_by_test_id("rule-new")
    form.get_by_label("Code").fill("C2LONG")
    form.get_by_label("Name").fill("Last four only")
    form.get_by_label("Digits shown at the start").fill("0")
    form.get_by_label("Digits shown at the end").fill("4")
    form.get_by_label("Padding character").fill("#")
    form.get_by_role("button", name="Create").click()
    submit_with_reason(page, REASON)
    expect(page.locator(".notice")).to_have_text("Created.")
    row = page.get_by_test_id("rules").locator("tr[data-code='C2LONG']")
    expect(row).to_contain_text("############1111")
    with server_services(server) as services:
        assert services.credit_cards.get_rule(SYSTEM_ACTOR, "C2LONG").padding == "#"
    screenshot(page, "37-masking-rules")

    scripts_ready(page)
    again = page.get_by_test_id("rule-new")
    again.get_by_label("Code").fill("C2LONG")
    again.get_by_label("Name").fill("Twice")
    again.get_by_role("button", name="Create").click()
    submit_with_reason(page, REASON)
    assert field_error(page, "code") == "masking rule 'C2LONG' already exists"
    with server_services(server) as services:
        assert services.credit_cards.get_rule(SYSTEM_ACTOR, "C2LONG").name == "Last four only"

    scripts_ready(page)
    row = page.get_by_test_id("rules").locator("tr[data-code='C2LONG']")
    row.get_by_role("button", name="Delete").click()
    submit_with_reason(page, REASON)
    expect(page.locator(".notice")).to_have_text("Deleted.")
    expect(page.get_by_test_id("rules").locator("tr[data-code='C2LONG']")).to_have_count(0)
    assert latest_audit(server, "card-masking-rule")["change_reason"] == REASON
