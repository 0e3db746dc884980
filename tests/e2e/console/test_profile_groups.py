"""Profile group configuration from the menu: a new group, a field added with a refusal shown
beside its field, the field edited, then the field and the group deleted."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.profiles import ProfileTagType
from ocs.service.actor import SYSTEM_ACTOR
from tests.e2e.console.feature_support import DEMO_PROVIDER, SETUP, confirm, server_services
from tests.e2e.console.support import Server, field_error, log_in, screenshot, scripts_ready

pytestmark = pytest.mark.e2e

VIEWER = ("viewer-groups", "viewer-password-groups")


def test_create_a_group_with_fields_then_delete_it(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile groups").click()
    scripts_ready(page)
    new = page.get_by_test_id("group-new")
    new.locator("#f-name").fill("Loyalty!")
    new.get_by_role("button", name="Create group").click()
    assert field_error(page, "name").startswith("name must be 1-50 letters, digits")
    page.get_by_test_id("group-new").locator("#f-name").fill("Loyalty C1")
    page.get_by_test_id("group-new").get_by_role("button", name="Create group").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Loyalty C1")
    scripts_ready(page)

    field = page.get_by_test_id("field-new")
    field.get_by_label("Display name").fill("Tier code")
    field.get_by_label("Tag name").fill("C1 tier")
    field.get_by_label("Tag type").select_option("LNSTRING")
    field.get_by_label("Group order").fill("1")
    field.get_by_role("button", name="Add field").click()
    assert field_error(page, "limit") == "a LNSTRING field needs a limit (digits)"
    with server_services(server) as services:
        group = next(
            g
            for g in services.features.profiles.list_groups(SYSTEM_ACTOR, DEMO_PROVIDER)
            if g.name == "Loyalty C1"
        )
        assert services.features.profiles.list_fields(SYSTEM_ACTOR, group.id) == []
    assert group.permission_name == "DEMO-Loyalty C1"

    page.get_by_test_id("field-new").get_by_label("Limit").fill("4")
    page.get_by_test_id("field-new").get_by_role("button", name="Add field").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    row = page.get_by_test_id("fields").locator("tr[data-tag='C1 tier']")
    expect(row).to_contain_text("LNSTRING")
    row.get_by_role("link", name="Edit").click()
    scripts_ready(page)
    edit = page.get_by_test_id("field-edit")
    edit.get_by_label("Display name").fill("Tier")
    edit.get_by_label("Sub order").fill("3")
    edit.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_test_id("fields")).to_contain_text("Tier")
    screenshot(page, "33-profile-group")

    with server_services(server) as services:
        fields = services.features.profiles.list_fields(SYSTEM_ACTOR, group.id)
    assert [(f.display_name, f.tag_name, f.tag_type, f.limit, f.group_order, f.sub_order)
            for f in fields] == [("Tier", "C1 tier", ProfileTagType.LNSTRING, 4, 1, 3)]  # fmt: skip
    assert fields[0].permission_name == "DEMO-Loyalty C1-Tier code"

    # The demo provider's profile is shared by other tests: delete the field, then the group.
    scripts_ready(page)
    page.get_by_test_id("fields").locator("tr[data-tag='C1 tier']").get_by_role(
        "button", name="Delete"
    ).click()
    confirm(page)
    expect(page.locator(".notice")).to_have_text("Deleted.")
    scripts_ready(page)
    page.get_by_test_id("delete").click()
    confirm(page)
    expect(page.locator(".notice")).to_have_text("Deleted.")
    with server_services(server) as services:
        names = [g.name for g in services.features.profiles.list_groups(SYSTEM_ACTOR, "DEMO")]
    assert "Loyalty C1" not in names


def test_read_only_operator_sees_groups_without_buttons(tab: Page, server: Server) -> None:
    with server_services(server) as services:
        group = services.features.profiles.create_group(SETUP, DEMO_PROVIDER, "Viewer group")
    server.cli("operator", "add", VIEWER[0], "--role", "read_only", "--password", VIEWER[1])
    log_in(tab, server, *VIEWER)
    tab.goto(server.console("/profile-groups"))
    expect(tab.get_by_test_id("profile-groups")).to_contain_text("Viewer group")
    expect(tab.get_by_test_id("group-new")).to_have_count(0)
    tab.goto(server.console(f"/profile-groups/{group.id}"))
    expect(tab.get_by_test_id("delete")).to_have_count(0)
    expect(tab.get_by_test_id("field-new")).to_have_count(0)
    expect(tab.get_by_role("button")).to_have_count(1)  # only Sign out
    with server_services(server) as services:
        services.features.profiles.delete_group(SETUP, group.id)
