"""Closed user groups from the menu: a new group with members, then its tariff plan, members
and virtual members edited on its page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.cug import VirtualMember, VirtualMemberKind
from ocs.service.actor import SYSTEM_ACTOR
from tests.e2e.console.feature_support import add_subscriber, server_services
from tests.e2e.console.support import Server, field_error, screenshot, scripts_ready

pytestmark = pytest.mark.e2e


def test_create_a_group_then_edit_members_and_virtual_members(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    add_subscriber(server, "31699000201")
    add_subscriber(server, "31699000202")
    page.goto(server.console("/"))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Closed user groups"
    ).click()
    page.get_by_role("link", name="New closed user group").click()
    scripts_ready(page)
    form = page.get_by_test_id("cug-new")
    form.get_by_label("Name").fill("Office 2")
    form.get_by_label("Tariff plan").select_option("STANDARD")
    form.get_by_label("Members (MSISDNs)").fill("31699000201\n31699000299")
    form.get_by_role("button", name="Save").click()
    assert (
        field_error(page, "members") == "members: no subscriber of 'DEMO' has MSISDN '31699000299'"
    )
    page.get_by_label("Members (MSISDNs)").fill("31699000201")
    page.get_by_test_id("cug-new").get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Office 2")
    scripts_ready(page)

    member = page.get_by_test_id("member-add")
    member.get_by_label("MSISDN").fill("31699000202")
    member.get_by_role("button", name="Add").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    virtual = page.get_by_test_id("virtual-add")
    virtual.get_by_label("Kind").select_option("RANGE")
    virtual.get_by_label("Number, first number or prefix").fill("31201000")
    virtual.get_by_label("Last number (range)").fill("31201099")
    virtual.get_by_role("button", name="Add").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_test_id("members").locator("tr[data-msisdn]")).to_have_count(2)
    expect(page.get_by_test_id("virtual-members")).to_contain_text("31201099")
    screenshot(page, "20-closed-user-group")

    page.goto(server.console("/cugs?msisdn=31699000202"))
    expect(page.get_by_test_id("cugs")).to_contain_text("Office 2")
    with server_services(server) as services:
        found = services.features.cugs.search(SYSTEM_ACTOR, "DEMO", "Office 2")
    assert len(found) == 1
    group = found[0]
    assert (group.tariff_plan, group.members) == ("STANDARD", ("31699000201", "31699000202"))
    assert group.virtual_members == (
        VirtualMember(VirtualMemberKind.RANGE, "31201000", last_number="31201099"),
    )
