"""A read-only operator on the batch, offer and notification screens: everything is shown, no
button or form changes anything."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from playwright.sync_api import Page, expect

from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.batch_ports import ResultLine
from ocs.service.batches import BatchInput
from ocs.service.notifications import TemplateInput
from ocs.service.offers import SubscriptionInput
from tests.e2e.console.feature_support import SETUP, add_subscriber, server_services
from tests.e2e.console.support import Server, log_in
from tests.e2e.console.test_notifications import failed_delivery

pytestmark = pytest.mark.e2e

VIEWER = ("viewer-ops", "viewer-ops-password-1")
MSISDN = "31699000801"


class Discard:
    """A result sink for set-up batches (nobody needs their result file)."""

    def write(self, lines: Sequence[ResultLine]) -> None:
        return None


@pytest.fixture(scope="module")
def viewer(server: Server) -> tuple[str, str]:
    server.cli("operator", "add", VIEWER[0], "--role", "read_only", "--password", VIEWER[1])
    return VIEWER


def test_read_only_operator_sees_no_change_buttons_on_these_screens(
    tab: Page, server: Server, viewer: tuple[str, str]
) -> None:
    subscriber_id = add_subscriber(server, MSISDN)
    delivery_id = failed_delivery(server, "31699000802")
    with server_services(server) as services:
        account_id = services.casm.get_subscriber(SYSTEM_ACTOR, subscriber_id).subscriber.account_id
        batch = services.batches.create(
            SETUP,
            BatchInput(account_id, 2, "PREPAID-S", "ro-result.txt"),
            ["31699100001-31699100002"],
            Discard(),
        )
        services.offers.create_service(
            SETUP,
            {"code": "RO-SVC", "name": "Read-only data", "service_provider": "DEMO",
             "unit": "MEGABYTE", "granted": 10, "charging_classes": ["DATA"]},
        )  # fmt: skip
        services.offers.create_product(
            SETUP, {"code": "RO-PROD", "name": "RO", "service_provider": "DEMO",
                    "services": ["RO-SVC"]},
        )  # fmt: skip
        services.offers.create_offer(
            SETUP, {"code": "RO-OFFER", "name": "RO", "service_provider": "DEMO",
                    "products": ["RO-PROD"]},
        )  # fmt: skip
        services.offers.subscribe(SETUP, SubscriptionInput("RO-OFFER", "subscriber", subscriber_id))
        services.notifications.put_template(
            SETUP, TemplateInput("BPL", "SMS", "nl", "Bericht: ${message}")
        )
    log_in(tab, server, *viewer)

    tab.goto(server.console("/batches"))
    expect(tab.get_by_test_id("batches")).to_contain_text(f"Batch {batch.id}")
    expect(tab.get_by_test_id("new-batch")).to_have_count(0)
    tab.goto(server.console(f"/batches/{batch.id}"))
    expect(tab.get_by_test_id("members")).to_contain_text("31699100001")
    expect(tab.get_by_test_id("batch-edit")).to_have_count(0)
    expect(tab.get_by_test_id("batch-delete")).to_have_count(0)

    tab.goto(server.console("/catalogue/services"))
    expect(tab.get_by_test_id("services")).to_contain_text("RO-SVC")
    expect(tab.get_by_test_id("new")).to_have_count(0)
    tab.goto(server.console("/catalogue/services/RO-SVC"))
    expect(tab.locator("#f-name")).to_be_disabled()
    expect(tab.get_by_role("button")).to_have_count(1)  # Sign out only
    for path, code in (("products", "RO-PROD"), ("offers", "RO-OFFER")):
        tab.goto(server.console(f"/catalogue/{path}"))
        expect(tab.get_by_test_id(path)).to_contain_text(code)
        expect(tab.get_by_test_id("new")).to_have_count(0)
        tab.goto(server.console(f"/catalogue/{path}/{code}"))
        expect(tab.get_by_test_id("delete")).to_have_count(0)
        expect(tab.get_by_role("button", name="Save")).to_have_count(0)

    tab.goto(server.console(f"/subscribers/{subscriber_id}/subscriptions"))
    expect(tab.get_by_test_id("subscriptions")).to_contain_text("RO-OFFER")
    expect(tab.get_by_test_id("subscribe-form")).to_have_count(0)
    expect(tab.get_by_test_id("subscriptions").locator("summary")).to_have_count(0)

    tab.goto(server.console(f"/notifications/deliveries/{delivery_id}"))
    expect(tab.get_by_test_id("delivery-state")).to_have_text("FAILED")
    expect(tab.get_by_test_id("retry-form")).to_have_count(0)
    tab.goto(server.console("/notifications/templates"))
    expect(tab.get_by_test_id("templates")).to_contain_text("Bericht")
    expect(tab.get_by_test_id("new")).to_have_count(0)
    tab.goto(server.console("/notifications/templates/BPL/SMS/nl"))
    expect(tab.get_by_test_id("delete")).to_have_count(0)
    expect(tab.get_by_role("button", name="Save")).to_have_count(0)
