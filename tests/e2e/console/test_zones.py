"""The subscriber's Zones option: shapes added and refused through the form, drawn as SVG."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.zones import Circle, Rectangle
from ocs.service.actor import SYSTEM_ACTOR
from tests.e2e.console.feature_support import add_subscriber, confirm, open_option, server_services
from tests.e2e.console.support import Server, field_error, screenshot, scripts_ready

pytestmark = pytest.mark.e2e


def test_zone_shapes_are_saved_and_drawn(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    sub = add_subscriber(server, "31699000301")
    open_option(page, server, "31699000301", "Zones", "Zones")
    expect(page.get_by_test_id("no-zones")).to_be_visible()
    form = page.get_by_test_id("shape-add")
    form.get_by_label("Zone name").fill("Home")
    form.get_by_label("Shape").select_option("CIRCLE")
    form.get_by_label("Centre X (longitude, deg)").fill("4.89")
    form.get_by_label("Centre Y (latitude, deg)").fill("52.37")
    form.get_by_label("Radius R (km)").fill("1.5")
    form.get_by_role("button", name="Save shape").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    scripts_ready(page)

    form = page.get_by_test_id("shape-add")
    form.get_by_label("Add to zone").select_option("Home")
    form.get_by_label("Shape").select_option("RECTANGLE")
    form.get_by_label("Top-left X (west, deg)").fill("4.85")
    form.get_by_label("Top-left Y (north, deg)").fill("52.30")
    form.get_by_label("Bottom-right X (east, deg)").fill("4.95")
    form.get_by_label("Bottom-right Y (south, deg)").fill("52.35")
    form.get_by_role("button", name="Save shape").click()
    assert field_error(page, "north_deg") == "north_deg must be higher than south_deg"
    page.get_by_test_id("shape-add").get_by_label("Top-left Y (north, deg)").fill("52.40")
    page.get_by_test_id("shape-add").get_by_role("button", name="Save shape").click()
    expect(page.locator(".notice")).to_have_text("Created.")

    drawing = page.get_by_test_id("zone-map-Home")
    expect(drawing.locator("ellipse")).to_have_count(1)
    expect(drawing.locator("rect")).to_have_count(1)
    box = drawing.locator("rect").bounding_box()
    assert box is not None
    assert box["width"] > 10
    assert box["height"] > 10
    expect(page.get_by_test_id("shapes-Home")).to_contain_text("radius 1.5000000 km")
    screenshot(page, "21-zones")

    with server_services(server) as services:
        zones = services.features.zones.list_zones(SYSTEM_ACTOR, sub)
    assert [z.name for z in zones] == ["Home"]
    shapes = [s.shape for s in zones[0].shapes]
    assert Circle(4_890_000, 52_370_000, 1_500_000_000) in shapes
    assert Rectangle(4_850_000, 52_400_000, 4_950_000, 52_350_000) in shapes

    scripts_ready(page)
    circle = next(s.id for s in zones[0].shapes if isinstance(s.shape, Circle))
    page.get_by_test_id(f"shape-delete-{circle}").click()
    confirm(page)
    expect(page.locator(".notice")).to_have_text("Deleted.")
    expect(page.get_by_test_id("zone-map-Home").locator("ellipse")).to_have_count(0)
