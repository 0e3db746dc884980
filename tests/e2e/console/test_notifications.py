"""Notifications in the console: the outbox filtered to a FAILED delivery with its chart, the
delivery's page and the operator's retry, and a template refused beside its field then saved
and edited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from ocs.core.errors import DomainError
from ocs.core.notifications import (
    Delivery,
    DeliveryState,
    NotificationChannel,
    NotificationEvent,
    NotificationKind,
)
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.notifications import DeliveryFilter, enqueue_notification
from tests.e2e.console.feature_support import add_subscriber, server_services
from tests.e2e.console.support import (
    Server,
    field_error,
    latest_audit,
    screenshot,
    scripts_ready,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e

ATTEMPTS = 8
LAST_ERROR = "SMTP 550 mailbox unavailable"


def failed_delivery(server: Server, msisdn: str) -> int:
    """A FAILED e-mail delivery of a THRESHOLD event, as the worker leaves one after its last
    attempt (the event is marked expanded so the worker adds no deliveries of its own)."""
    subscriber_id = add_subscriber(server, msisdn)
    with server_services(server) as services, services.store.transaction() as uow:
        now = services.clock.now()
        key = f"console-test:{msisdn}"
        params: dict[str, str | int] = {"balance": "DATA", "threshold_percent": 80}
        event = NotificationEvent(NotificationKind.THRESHOLD, subscriber_id, now, key, params)
        enqueue_notification(uow, event)
        [stored] = [e for e in uow.notifications.claim_unexpanded(1000) if e.event.dedup_key == key]
        uow.notifications.mark_expanded(stored.id, now)
        delivery = Delivery(
            id=0, event_id=stored.id, kind=NotificationKind.THRESHOLD, subscriber_id=subscriber_id,
            channel=NotificationChannel.EMAIL, recipient=f"{msisdn}@example.com", webhook_id=None,
            subject="Usage alert", body="You have used 80% of DATA.", state=DeliveryState.FAILED,
            attempts=ATTEMPTS, created_at=now - timedelta(hours=2), next_attempt_at=now,
            lease_expires_at=None, last_error=LAST_ERROR, sent_at=None,
        )  # fmt: skip
        uow.notifications.insert_deliveries([delivery])
    with server_services(server) as services:
        query = DeliveryFilter(subscriber_id=subscriber_id)
        [row] = services.notifications.list_deliveries(SYSTEM_ACTOR, query)
    return row.id


@pytest.mark.usefixtures("auditing")
def test_outbox_filter_delivery_page_and_retry(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    delivery_id = failed_delivery(server, "31699000701")
    page.goto(server.console("/notifications"))
    filters = page.get_by_test_id("outbox-filter")
    filters.get_by_label("State").select_option("FAILED")
    filters.get_by_label("Channel").select_option("EMAIL")
    filters.get_by_label("Kind").select_option("THRESHOLD")
    filters.get_by_role("button", name="Search").click()
    row = page.get_by_test_id("deliveries").locator(f"tr[data-delivery='{delivery_id}']")
    expect(row.get_by_test_id("state")).to_have_text("FAILED")
    expect(page.get_by_test_id("deliveries").locator("[data-testid=state]")).to_have_text(
        ["FAILED"] * page.get_by_test_id("deliveries").locator("tbody tr").count()
    )
    failed_bar = page.get_by_test_id("state-chart").locator("g[data-state='FAILED']")
    assert int(failed_bar.get_by_test_id("count-FAILED").text_content() or "0") >= 1
    assert int(failed_bar.locator("rect").get_attribute("width") or "0") > 0
    screenshot(page, "46-notifications")

    row.get_by_role("link", name=str(delivery_id), exact=True).click()
    scripts_ready(page)
    expect(page.get_by_test_id("attempts")).to_have_text(str(ATTEMPTS))
    expect(page.get_by_test_id("last-error")).to_have_text(LAST_ERROR)
    expect(page.get_by_test_id("next-attempt")).to_contain_text("none")
    screenshot(page, "47-notification-delivery")
    page.get_by_test_id("retry-form").get_by_role("button", name="Retry").click()
    submit_with_reason(page, "Mailbox fixed by the customer")
    expect(page.locator(".notice")).to_have_text(
        "Delivery queued again: the worker sends it on its next pass."
    )
    with server_services(server) as services:
        retried = services.notifications.get_delivery(SYSTEM_ACTOR, delivery_id)
    # The worker of the server may already have tried it again; either way the budget is new.
    assert (retried.state, retried.attempts) != (DeliveryState.FAILED, ATTEMPTS)
    audit = latest_audit(server, "notifications")
    assert (audit["action"], audit["entity_key"], audit["change_reason"]) == (
        "retry-delivery", str(delivery_id), "Mailbox fixed by the customer"
    )  # fmt: skip


def test_template_refused_beside_its_field_then_saved_and_edited(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    page.goto(server.console("/notifications/templates"))
    page.get_by_test_id("new").click()
    form = page.get_by_test_id("template-form")
    form.get_by_label("Kind").select_option("EXHAUSTED")
    form.get_by_label("Channel").select_option("SMS")
    form.get_by_label("Language").fill("pt-br")
    form.get_by_label("Body").fill("Acabou ${balance} (${threshold_percent}%)")
    form.get_by_role("button", name="Save").click()
    assert "threshold_percent" in field_error(page, "body")
    with server_services(server) as services, pytest.raises(DomainError):
        services.notifications.get_template(SYSTEM_ACTOR, "EXHAUSTED", "SMS", "pt-br")

    form = page.get_by_test_id("template-form")
    form.get_by_label("Body").fill("Acabou o saldo de ${balance}.")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    form = page.get_by_test_id("template-form")
    form.get_by_label("Body").fill("O saldo de ${balance} acabou.")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_test_id("params")).to_contain_text("${balance}")
    screenshot(page, "48-notification-template")
    with server_services(server) as services:
        saved = services.notifications.get_template(SYSTEM_ACTOR, "EXHAUSTED", "SMS", "pt-br")
    assert (saved.body, saved.subject) == ("O saldo de ${balance} acabou.", None)
    page.goto(server.console("/notifications/templates"))
    expect(
        page.get_by_test_id("templates").locator("tr[data-template='EXHAUSTED/SMS/pt-br']")
    ).to_contain_text("O saldo")
