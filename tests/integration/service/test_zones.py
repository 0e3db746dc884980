"""Subscriber zones with their shape, count and privilege rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ocs.bootstrap import Services
from ocs.core.errors import ProblemKind
from ocs.core.security import Role
from ocs.core.zones import SHAPES_PER_ZONE_MAX, ZONES_MAX, Circle, Rectangle
from ocs.service.actor import Actor
from tests.support.features import (
    OTHER_SP_OPERATOR,
    add_subscriber,
    load_feature_basics,
    operator,
    refused,
)

CIRCLE = {"kind": "CIRCLE", "longitude_deg": "4.89512", "latitude_deg": "52.37", "radius_km": "2"}
RECTANGLE = {
    "kind": "RECTANGLE",
    "west_deg": "4.8",
    "north_deg": "52.4",
    "east_deg": "4.9",
    "south_deg": "52.3",
}
MODIFIER = operator("modifier", Role.READ_MODIFY)


@pytest.fixture
def sub(services: Services, admin: Actor) -> int:
    load_feature_basics(services, admin)
    return add_subscriber(services, admin, "31600000001")


def test_shapes_make_zones(services: Services, admin: Actor, sub: int) -> None:
    zones = services.features.zones
    home = zones.add_shape(admin, sub, "Home", CIRCLE)
    home = zones.add_shape(admin, sub, "Home", RECTANGLE)
    assert home.name == "Home"
    assert [s.shape for s in home.shapes] == [
        Circle(4_895_120, 52_370_000, 2_000_000_000),
        Rectangle(4_800_000, 52_400_000, 4_900_000, 52_300_000),
    ]
    zones.add_shape(admin, sub, "Work", CIRCLE)
    assert [z.name for z in zones.list_zones(admin, sub)] == ["Home", "Work"]
    moved = zones.update_shape(
        admin, sub, "Home", home.shapes[0].id, {**CIRCLE, "radius_km": "0.5"}
    )
    assert moved.shapes[0].shape == Circle(4_895_120, 52_370_000, 500_000_000)


def test_a_10th_zone_is_refused(services: Services, admin: Actor, sub: int) -> None:
    zones = services.features.zones
    for i in range(ZONES_MAX):
        zones.add_shape(admin, sub, f"Zone {i}", CIRCLE)
    error = refused(zones.add_shape, admin, sub, "Zone 9", CIRCLE)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "zone")
    assert len(zones.list_zones(admin, sub)) == ZONES_MAX
    # An existing zone still takes shapes.
    assert len(zones.add_shape(admin, sub, "Zone 0", RECTANGLE).shapes) == 2


def test_a_6th_shape_is_refused(services: Services, admin: Actor, sub: int) -> None:
    zones = services.features.zones
    for _ in range(SHAPES_PER_ZONE_MAX):
        zones.add_shape(admin, sub, "Home", CIRCLE)
    error = refused(zones.add_shape, admin, sub, "Home", RECTANGLE)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "shapes")
    assert len(zones.list_zones(admin, sub)[0].shapes) == SHAPES_PER_ZONE_MAX


def test_a_rectangle_whose_north_is_below_its_south_is_refused(
    services: Services, admin: Actor, sub: int
) -> None:
    zones = services.features.zones
    upside_down = {**RECTANGLE, "north_deg": "52.3", "south_deg": "52.4"}
    error = refused(zones.add_shape, admin, sub, "Home", upside_down)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "north_deg")
    assert zones.list_zones(admin, sub) == []
    home = zones.add_shape(admin, sub, "Home", RECTANGLE)
    error = refused(zones.update_shape, admin, sub, "Home", home.shapes[0].id, upside_down)
    assert error.field == "north_deg"
    assert zones.list_zones(admin, sub) == [home]


def test_read_modify_edits_shapes_but_never_creates_or_removes_a_zone(
    services: Services, admin: Actor, sub: int
) -> None:
    zones = services.features.zones
    create = refused(zones.add_shape, MODIFIER, sub, "Home", CIRCLE)
    assert create.kind is ProblemKind.FORBIDDEN
    assert zones.list_zones(admin, sub) == []
    home = zones.add_shape(admin, sub, "Home", CIRCLE)
    home = zones.add_shape(MODIFIER, sub, "Home", RECTANGLE)
    first, second = (s.id for s in home.shapes)
    remaining = zones.delete_shape(MODIFIER, sub, "Home", first)
    assert remaining is not None
    assert [s.id for s in remaining.shapes] == [second]
    last = refused(zones.delete_shape, MODIFIER, sub, "Home", second)
    assert last.kind is ProblemKind.FORBIDDEN
    assert refused(zones.delete_zone, MODIFIER, sub, "Home").kind is ProblemKind.FORBIDDEN
    assert zones.list_zones(admin, sub) == [remaining]


def test_create_delete_removes_the_zone_with_its_last_shape(
    services: Services, admin: Actor, sub: int
) -> None:
    zones = services.features.zones
    manager = operator("manager", Role.CREATE_DELETE)
    home = zones.add_shape(manager, sub, "Home", CIRCLE)
    assert zones.delete_shape(manager, sub, "Home", home.shapes[0].id) is None
    assert zones.list_zones(admin, sub) == []
    zones.add_shape(manager, sub, "Work", CIRCLE)
    zones.delete_zone(manager, sub, "Work")
    assert zones.list_zones(admin, sub) == []


def test_unknown_zones_shapes_and_subscribers(services: Services, admin: Actor, sub: int) -> None:
    zones = services.features.zones
    home = zones.add_shape(admin, sub, "Home", CIRCLE)
    zones.add_shape(admin, sub, "Work", CIRCLE)
    work_shape = zones.list_zones(admin, sub)[1].shapes[0].id
    # A shape is addressed through its own zone only.
    assert refused(zones.delete_shape, admin, sub, "Home", work_shape).kind is (
        ProblemKind.NOT_FOUND
    )
    assert refused(zones.update_shape, admin, sub, "Gym", 1, CIRCLE).kind is ProblemKind.NOT_FOUND
    assert refused(zones.list_zones, OTHER_SP_OPERATOR, sub).kind is ProblemKind.NOT_FOUND
    assert refused(zones.add_shape, admin, sub, "Bad/Name", CIRCLE).field == "zone"
    assert zones.list_zones(admin, sub)[0] == home
