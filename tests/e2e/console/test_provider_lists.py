"""The service provider's F&F black list, F&D black list and F&D prefix map, changed from the
F&F and F&D lists screen with change reasons; refusals shown beside their fields."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.friends import BlacklistKind, PrefixMapEntry
from ocs.service.actor import SYSTEM_ACTOR
from tests.e2e.console.feature_support import DEMO_PROVIDER, SETUP, server_services
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

VIEWER = ("viewer-lists", "viewer-password-lists")
REASON = "Fraud team request 17"


@pytest.mark.usefixtures("auditing")
def test_black_lists_and_prefix_map(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/"))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="F&F and F&D lists"
    ).click()
    scripts_ready(page)
    ff = page.get_by_test_id("ff-blacklist-add")
    ff.get_by_label("New number").fill("3190x")
    ff.get_by_role("button", name="Add").click()
    submit_with_reason(page, REASON)
    assert field_error(page, "number") == "number: '3190x' may hold only the digits 0-9"
    with server_services(server) as services:
        lists = services.features.provider_lists
        assert "3190" not in lists.get_blacklist(SYSTEM_ACTOR, BlacklistKind.FF_NUMBERS, "DEMO")

    scripts_ready(page)
    for kind, number in (("ff-blacklist", "31909876"), ("fd-blacklist", "4490")):
        form = page.get_by_test_id(f"{kind}-add")
        form.get_by_label("New number").fill(number)
        form.get_by_role("button", name="Add").click()
        submit_with_reason(page, REASON)
        expect(page.locator(".notice")).to_have_text("Changes saved.")
        expect(page.get_by_test_id(kind)).to_contain_text(number)
        scripts_ready(page)

    mapping = page.get_by_test_id("mapping-form")
    mapping.get_by_label("Prefix").fill("4930")
    mapping.get_by_label("Announcement set").fill("Regions")
    mapping.get_by_label("Announcement entry").fill("Berlin")
    mapping.get_by_role("button", name="Save").click()
    submit_with_reason(page, REASON)
    expect(page.get_by_test_id("fd-prefix-map")).to_contain_text("Berlin")
    scripts_ready(page)
    row = page.get_by_test_id("fd-prefix-map").locator("tr[data-prefix='4930']")
    row.get_by_role("link", name="Edit").click()
    scripts_ready(page)
    page.get_by_test_id("mapping-form").get_by_label("Announcement entry").fill("Berlin Mitte")
    page.get_by_test_id("mapping-form").get_by_role("button", name="Save").click()
    submit_with_reason(page, REASON)
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_test_id("fd-prefix-map")).to_contain_text("Berlin Mitte")
    screenshot(page, "32-ff-fd-lists")

    with server_services(server) as services:
        lists = services.features.provider_lists
        ff_list = lists.get_blacklist(SYSTEM_ACTOR, BlacklistKind.FF_NUMBERS, DEMO_PROVIDER)
        fd_list = lists.get_blacklist(SYSTEM_ACTOR, BlacklistKind.FD_PREFIXES, DEMO_PROVIDER)
        prefix_map = lists.get_prefix_map(SYSTEM_ACTOR, DEMO_PROVIDER)
    assert "31909876" in ff_list
    assert "4490" in fd_list
    assert PrefixMapEntry("4930", "Regions", "Berlin Mitte") in prefix_map
    entry = latest_audit(server, "fd-prefix-map")
    assert (entry["operator"], entry["change_reason"]) == (ADMIN[0], REASON)

    # Remove them again through the screen (shared demo provider).
    scripts_ready(page)
    page.get_by_test_id("ff-blacklist").locator("tr[data-number='31909876']").get_by_role(
        "button", name="Delete"
    ).click()
    submit_with_reason(page, REASON)
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    scripts_ready(page)
    page.get_by_test_id("fd-prefix-map").locator("tr[data-prefix='4930']").get_by_role(
        "button", name="Delete"
    ).click()
    submit_with_reason(page, REASON)
    expect(page.locator(".notice")).to_have_text("Deleted.")
    with server_services(server) as services:
        lists = services.features.provider_lists
        ff_list = lists.get_blacklist(SYSTEM_ACTOR, BlacklistKind.FF_NUMBERS, DEMO_PROVIDER)
        prefixes = [e.prefix for e in lists.get_prefix_map(SYSTEM_ACTOR, DEMO_PROVIDER)]
    assert "31909876" not in ff_list
    assert "4930" not in prefixes


def test_read_only_operator_sees_the_lists_without_buttons(tab: Page, server: Server) -> None:
    with server_services(server) as services:
        services.features.provider_lists.add_to_blacklist(
            SETUP, BlacklistKind.FD_PREFIXES, DEMO_PROVIDER, "4477"
        )
    server.cli("operator", "add", VIEWER[0], "--role", "read_only", "--password", VIEWER[1])
    log_in(tab, server, *VIEWER)
    tab.goto(server.console("/lists"))
    expect(tab.get_by_test_id("fd-blacklist")).to_contain_text("4477")
    for form in ("ff-blacklist-add", "fd-blacklist-add", "mapping-form"):
        expect(tab.get_by_test_id(form)).to_have_count(0)
    expect(tab.get_by_role("button", name="Delete")).to_have_count(0)
