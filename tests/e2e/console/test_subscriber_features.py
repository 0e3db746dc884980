"""Subscriber options for calls: call barring, number translation, Friends and Family,
closed user group membership and comments, each changed through the console."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.call_barring import BarringListType
from ocs.core.friends import FriendsService
from ocs.core.number_translation import ShortCode
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.cugs import CugInput
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


@pytest.mark.usefixtures("auditing")
def test_call_barring_list_with_change_reasons(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    sub = add_subscriber(server, "31699000101")
    open_option(page, server, "31699000101", "Call barring", "Call barring")
    add = page.get_by_test_id("barring-add")
    add.get_by_label("New number").fill("3190x")
    add.get_by_role("button", name="Add").click()
    submit_with_reason(page, "Customer asked to bar premium numbers")
    assert field_error(page, "new_number") == "numbers: '3190x' may hold only the digits 0-9"
    scripts_ready(page)
    add.get_by_label("New number").fill("3190")
    add.get_by_role("button", name="Add").click()
    submit_with_reason(page, "Customer asked to bar premium numbers")
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_test_id("barring-numbers")).to_contain_text("3190")
    scripts_ready(page)
    settings = page.get_by_test_id("barring-form")
    settings.get_by_label("List type").select_option("ALLOWED")
    settings.get_by_role("button", name="Save").click()
    submit_with_reason(page, "Only the listed numbers from now on")
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_label("List type")).to_have_value("ALLOWED")
    screenshot(page, "16-call-barring")
    with server_services(server) as services:
        barring = services.features.subscribers.get_call_barring(SYSTEM_ACTOR, sub)
    assert (barring.list_type, barring.ignore, barring.numbers) == (
        BarringListType.ALLOWED,
        False,
        ("3190",),
    )
    entry = latest_audit(server, "call-barring")
    assert entry["operator"] == ADMIN[0]
    assert entry["change_reason"] == "Only the listed numbers from now on"


def test_number_translation_short_codes(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    sub = add_subscriber(server, "31699000102")
    open_option(page, server, "31699000102", "Number translation", "Number translation")
    add = page.get_by_test_id("short-code-add")
    for code, number in (("*100#", "31612345002"), ("*100#", "31612345003")):
        add.get_by_label("In").fill(code)
        add.get_by_label("Out").fill(number)
        add.get_by_role("button", name="Add").click()
    expect(page.locator(".notice")).to_have_count(0)
    assert field_error(page, "short_code") == "short code '*100#' is listed twice"
    add.get_by_label("In").fill("12")
    add.get_by_label("Out").fill("31201234567")
    add.get_by_role("button", name="Add").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    rows = page.get_by_test_id("short-codes")
    expect(rows.locator("tr[data-short-code]")).to_have_count(2)
    screenshot(page, "17-number-translation")
    rows.locator("tr[data-short-code='12']").get_by_role("button", name="Delete").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    with server_services(server) as services:
        codes = services.features.subscribers.get_subscriber_short_codes(SYSTEM_ACTOR, sub)
    assert codes == [ShortCode("*100#", "31612345002")]


def test_friends_and_family_numbers_and_settings(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    sub = add_subscriber(server, "31699000103")
    open_option(page, server, "31699000103", "Friends and family", "Friends and family")
    add = page.get_by_test_id("ff-add")
    add.get_by_label("New number").fill("31612345001")
    add.get_by_role("button", name="Add").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    settings = page.get_by_test_id("friends-form")
    settings.get_by_label("Active service").select_option("FRIENDS_AND_FAMILY")
    settings.locator("#f-ff_change_count").fill("3")
    settings.locator("#f-ff_changed_at").fill("2099-01-01T10:00")
    settings.get_by_role("button", name="Save").click()
    assert field_error(page, "ff_changed_at") == "ff_changed_at cannot be in the future"
    page.locator("#f-ff_changed_at").fill("2024-03-01T10:00")
    page.get_by_test_id("friends-form").get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_test_id("ff-numbers")).to_contain_text("31612345001")
    screenshot(page, "18-friends-and-family")
    with server_services(server) as services:
        friends = services.features.subscribers.get_friends(SYSTEM_ACTOR, sub)
    assert friends.active_service is FriendsService.FRIENDS_AND_FAMILY
    assert (friends.ff_change_count, friends.ff_numbers) == (3, ("31612345001",))
    assert friends.ff_changed_at is not None
    assert friends.ff_changed_at.year == 2024


def test_subscriber_joins_and_leaves_a_closed_user_group(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    sub = add_subscriber(server, "31699000104")
    with server_services(server) as services:
        group = services.features.cugs.create(
            SETUP,
            CugInput("STANDARD", name="Family 104", service_provider=DEMO_PROVIDER),
        )
    open_option(page, server, "31699000104", "Closed user groups", "Closed user groups")
    add = page.get_by_test_id("cug-add")
    add.get_by_label("Available closed user groups").select_option(str(group.id))
    add.get_by_role("button", name="Add").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    membership = page.get_by_test_id("subscriber-cugs")
    expect(membership).to_contain_text("Family 104")
    with server_services(server) as services:
        groups = services.features.cugs.groups_of_subscriber(SYSTEM_ACTOR, sub)
        assert [g.id for g in groups] == [group.id]
        assert services.features.cugs.get(SYSTEM_ACTOR, group.id).members == ("31699000104",)
    scripts_ready(page)
    membership.locator(f"tr[data-cug='{group.id}']").get_by_role("button", name="Delete").click()
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_test_id("subscriber-cugs")).to_have_count(0)
    assert latest_audit(server, "subscriber-cugs")["detail"] == {"closed_user_groups": []}


def test_comments_add_and_list(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    sub = add_subscriber(server, "31699000105")
    open_option(page, server, "31699000105", "Comments", "Comments")
    add = page.get_by_test_id("comment-add")
    text = add.get_by_label("Comment text")
    expect(text).to_have_attribute("maxlength", "50")
    # The browser stops at 50 characters; a longer text sent anyway is refused beside it.
    text.evaluate("(el) => el.removeAttribute('maxlength')")
    text.fill("x" * 51)
    add.get_by_role("button", name="Add").click()
    assert field_error(page, "text") == "a comment is at most 50 characters, got 51"
    page.get_by_test_id("comment-add").get_by_label("Comment text").fill("Called about roaming")
    page.get_by_test_id("comment-add").get_by_role("button", name="Add").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    table = page.get_by_test_id("comments")
    expect(table).to_contain_text("Called about roaming")
    expect(table).to_contain_text(ADMIN[0])
    screenshot(page, "19-comments")
    with server_services(server) as services:
        comments = services.features.comments.list_comments(SYSTEM_ACTOR, sub)
    assert [(c.author, c.text) for c in comments] == [(ADMIN[0], "Called about roaming")]
