"""The offer catalogue and the subscriber's Subscriptions option in the console: a recurrent
service, a product and an offer made and edited through the screens, a subscription with the
grants it made, and refusals shown beside their field with nothing changed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.errors import DomainError
from ocs.core.offers import PeriodUnit, ServiceKind, SubscriptionState
from ocs.service.actor import SYSTEM_ACTOR
from tests.e2e.console.feature_support import (
    add_subscriber,
    confirm,
    open_option,
    server_services,
)
from tests.e2e.console.support import (
    Server,
    field_error,
    screenshot,
    scripts_ready,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e

MSISDN = "31688000301"


def test_catalogue_service_product_and_offer(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/catalogue/services"))
    page.get_by_test_id("new").click()
    scripts_ready(page)
    form = page.get_by_test_id("service-form")
    form.get_by_label("Code").fill("C2-DATA")
    form.get_by_label("Kind").select_option("RECURRENT_COST_CONTROL_BALANCE")
    form.get_by_label("Unit of measure").select_option("MEGABYTE")
    form.locator("#f-name").fill("Monthly data")
    form.get_by_label("Amount granted").fill("500")
    form.get_by_label("Notification thresholds (%)").fill("50, 80")
    form.get_by_label("Period", exact=True).select_option("MONTH")
    form.get_by_role("button", name="Save").click()
    assert field_error(page, "charging_classes") == "charging_classes needs at least 1 entry"
    with server_services(server) as services:
        codes = [s.code for s in services.offers.list_services(SYSTEM_ACTOR)]
    assert "C2-DATA" not in codes

    form = page.get_by_test_id("service-form")
    form.get_by_label("DATA - Data").check()
    form.get_by_label("Reject when 100% reached").check()
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    form = page.get_by_test_id("service-form")
    form.locator("#f-name").fill("Monthly data bundle")
    form.get_by_label("Rollover periods").fill("2")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    screenshot(page, "43-offer-service")
    with server_services(server) as services:
        service = services.offers.get_service(SYSTEM_ACTOR, "C2-DATA")
    assert (service.kind, service.name, service.granted_base) == (
        ServiceKind.RECURRENT_COST_CONTROL_BALANCE, "Monthly data bundle", 500 * 10**6
    )  # fmt: skip
    assert (service.thresholds_pct, service.charging_classes, service.reject_at_full) == (
        (50, 80), ("DATA",), True
    )  # fmt: skip
    assert service.recurrence is not None
    assert (service.recurrence.period_unit, service.recurrence.rollover_periods) == (
        PeriodUnit.MONTH, 2
    )  # fmt: skip

    page.get_by_role("link", name="Products").click()
    page.get_by_test_id("new").click()
    form = page.get_by_test_id("product-form")
    form.get_by_label("Code").fill("C2-PROD")
    form.locator("#f-name").fill("Data product")
    form.get_by_label("C2-DATA - Monthly data bundle").check()
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Created.")

    page.get_by_role("link", name="Offers", exact=True).last.click()
    page.get_by_test_id("new").click()
    form = page.get_by_test_id("offer-form")
    form.get_by_label("Code").fill("C2-OFFER")
    form.locator("#f-name").fill("Data offer")
    form.get_by_label("Priority").fill("10")
    form.get_by_label("C2-PROD - Data product").check()
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    page.get_by_role("link", name="Offers", exact=True).last.click()
    expect(page.get_by_test_id("offers").locator("tr[data-code='C2-OFFER']")).to_contain_text(
        "C2-PROD"
    )
    screenshot(page, "44-offers")
    with server_services(server) as services:
        offer = services.offers.get_offer(SYSTEM_ACTOR, "C2-OFFER")
    assert (offer.products, offer.priority) == (("C2-PROD",), 10)

    # A product made only to be deleted.
    page.goto(server.console("/catalogue/products/new"))
    form = page.get_by_test_id("product-form")
    form.get_by_label("Code").fill("C2-TMP")
    form.locator("#f-name").fill("Short-lived")
    form.get_by_label("C2-DATA - Monthly data bundle").check()
    form.get_by_role("button", name="Save").click()
    scripts_ready(page)
    page.get_by_test_id("delete").click()
    confirm(page)
    expect(page.locator(".notice")).to_have_text("Deleted.")
    with server_services(server) as services, pytest.raises(DomainError):
        services.offers.get_product(SYSTEM_ACTOR, "C2-TMP")


@pytest.mark.usefixtures("auditing")
def test_subscribe_see_the_grants_then_end_the_subscription(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    subscriber_id = add_subscriber(server, MSISDN)
    with server_services(server) as services:
        actor = SYSTEM_ACTOR.with_reason("browser test set-up")
        services.offers.create_service(
            actor,
            {"code": "C2-MIN", "name": "Free minutes", "service_provider": "DEMO",
             "kind": "BALANCE", "unit": "MINUTE", "granted": 60, "validity": 30,
             "validity_unit": "DAY", "charging_classes": ["VOICE"]},
        )  # fmt: skip
        services.offers.create_product(
            actor, {"code": "C2-MIN-P", "name": "Minutes", "service_provider": "DEMO",
                    "services": ["C2-MIN"]},
        )  # fmt: skip
        services.offers.create_offer(
            actor, {"code": "C2-MIN-O", "name": "Minutes offer", "service_provider": "DEMO",
                    "products": ["C2-MIN-P"]},
        )  # fmt: skip
    open_option(page, server, MSISDN, "Subscriptions", "Subscriptions")
    form = page.get_by_test_id("subscribe-form")
    form.get_by_label("Offer").select_option("C2-MIN-O")
    form.get_by_role("button", name="Subscribe").click()
    submit_with_reason(page, "Customer bought the minutes offer")
    expect(page.locator(".notice")).to_have_text("Created.")
    with server_services(server) as services:
        [subscription] = services.offers.subscriptions_of_subscriber(SYSTEM_ACTOR, subscriber_id)
        assert services.grants.run_due().granted >= 1
    assert (subscription.offer, subscription.state) == ("C2-MIN-O", SubscriptionState.ACTIVE)

    page.reload()
    scripts_ready(page)
    row = page.locator(f"tr[data-subscription='{subscription.id}']")
    expect(row.get_by_test_id("state")).to_have_text("ACTIVE")
    grants = page.get_by_test_id(f"grants-{subscription.id}")
    expect(grants.get_by_test_id("granted")).to_have_text("3600")
    expect(grants).to_contain_text("C2-MIN-BAL")
    screenshot(page, "45-subscriptions")

    row.locator("summary", has_text="End").click()
    end = page.get_by_test_id(f"end-{subscription.id}")
    end.get_by_label("End at (UTC)").fill("2001-01-01T00:00:00")
    end.get_by_role("button", name="End subscription").click()
    submit_with_reason(page, "Customer asked to stop")
    assert field_error(page, "end_at") == "end_at must not be in the past"
    with server_services(server) as services:
        unchanged = services.offers.get_subscription(SYSTEM_ACTOR, subscription.id)
    assert (unchanged.state, unchanged.end_at) == (SubscriptionState.ACTIVE, None)

    end = page.get_by_test_id(f"end-{subscription.id}")
    end.get_by_label("End at (UTC)").fill("")
    end.get_by_role("button", name="End subscription").click()
    submit_with_reason(page, "Customer asked to stop")
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    row = page.locator(f"tr[data-subscription='{subscription.id}']")
    expect(row.get_by_test_id("state")).to_have_text("ENDED")
    expect(row.locator("summary")).to_have_count(0)
    with server_services(server) as services:
        ended = services.offers.get_subscription(SYSTEM_ACTOR, subscription.id)
    assert ended.state is SubscriptionState.ENDED
