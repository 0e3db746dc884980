"""The subscriber's Profile option: values of the provider's profile fields by tag type."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.profiles import FieldInput
from tests.e2e.console.feature_support import (
    DEMO_PROVIDER,
    SETUP,
    add_subscriber,
    open_option,
    server_services,
)
from tests.e2e.console.support import Server, field_error, screenshot

pytestmark = pytest.mark.e2e


def test_profile_values_are_edited_by_tag_type(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    sub = add_subscriber(server, "31699000401")
    with server_services(server) as services:
        profiles = services.features.profiles
        group = profiles.create_group(SETUP, DEMO_PROVIDER, "Loyalty")
        level = profiles.add_field(
            SETUP, group.id, FieldInput("Level", "LOYALTY_LEVEL", "BYTE", 1, 1)
        )
        prefixes = profiles.add_field(
            SETUP, group.id, FieldInput("Cheap prefixes", "CHEAP_PREFIXES", "OPREFIX", 1, 2)
        )
    open_option(page, server, "31699000401", "Profile", "Profile")
    expect(page.get_by_test_id("profile-group-Loyalty")).to_be_visible()
    level_form = page.get_by_test_id("profile-LOYALTY_LEVEL")
    level_form.get_by_label("Level").fill("12")
    level_form.get_by_role("button", name="Save").click()
    assert field_error(page, "value") == "LOYALTY_LEVEL must be an integer from -9 to 9"
    page.get_by_test_id("profile-LOYALTY_LEVEL").get_by_label("Level").fill("7")
    page.get_by_test_id("profile-LOYALTY_LEVEL").get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    prefix_form = page.get_by_test_id("profile-CHEAP_PREFIXES")
    prefix_form.get_by_label("Cheap prefixes").fill("3120, 3110 316")
    prefix_form.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(
        page.get_by_test_id("profile-CHEAP_PREFIXES").get_by_label("Cheap prefixes")
    ).to_have_value("3120, 3110, 316")
    screenshot(page, "22-profile")
    with server_services(server) as services:
        values = {
            e.field.id: e.value
            for e in services.features.profiles.subscriber_profile(SYSTEM_ACTOR, sub)
        }
    assert values[level.id] == 7
    assert values[prefixes.id] == ["3120", "3110", "316"]
