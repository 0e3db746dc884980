from __future__ import annotations

from decimal import Decimal

import pytest

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import Privilege
from ocs.core.zones import (
    SHAPES_PER_ZONE_MAX,
    UM_PER_KM,
    ZONES_MAX,
    Circle,
    Rectangle,
    check_room_for_shape,
    check_room_for_zone,
    check_shape_count,
    check_zone_name,
    parse_shape,
    privilege_to_add_shape,
    privilege_to_delete_shape,
    shape_view,
)


def circle(x: object = "4.89", y: object = "52.37", r: object = "1.5") -> dict[str, object]:
    return {"kind": "CIRCLE", "longitude_deg": x, "latitude_deg": y, "radius_km": r}


def rectangle(
    w: object = "4.8", n: object = "52.4", e: object = "4.9", s: object = "52.3"
) -> dict[str, object]:
    return {"kind": "RECTANGLE", "west_deg": w, "north_deg": n, "east_deg": e, "south_deg": s}


def _refused(payload: dict[str, object]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse_shape(payload)
    return caught.value


def test_circles_are_kept_exactly() -> None:
    assert parse_shape(circle("4.89512", "-52.37", "0.0000001")) == Circle(
        4_895_120, -52_370_000, 100
    )
    assert parse_shape(circle(4.5, 52, 10)) == Circle(4_500_000, 52_000_000, 10_000_000_000)
    assert shape_view(Circle(4_895_120, -52_370_000, 100)) == {
        "kind": "CIRCLE",
        "longitude_deg": "4.89512",
        "latitude_deg": "-52.37000",
        "radius_km": "0.0000001",
    }


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("-179.99999", True),
        ("-180", False),
        ("-180.00000", False),
        ("180.00000", True),
        ("180.00001", False),
        ("0", True),
        ("1.123456", False),  # six decimals: more than the manual allows
        ("1.123450", True),  # trailing zero is not a sixth decimal
    ],
)
def test_longitude_bounds(value: str, ok: bool) -> None:
    if ok:
        parse_shape(circle(x=value))
    else:
        assert (_refused(circle(x=value)).field) == "longitude_deg"


@pytest.mark.parametrize(
    ("value", "ok"),
    [("-90", True), ("90.00000", True), ("90.00001", False), ("-90.00001", False)],
)
def test_latitude_bounds(value: str, ok: bool) -> None:
    if ok:
        parse_shape(circle(y=value))
    else:
        assert _refused(circle(y=value)).field == "latitude_deg"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0", True),
        ("0.0000000", True),
        ("99999999.9999999", True),
        ("100000000", False),
        ("-0.0000001", False),
        ("1.00000001", False),  # eight decimals
    ],
)
def test_radius_bounds(value: str, ok: bool) -> None:
    if ok:
        expected_um = int(Decimal(value) * UM_PER_KM)
        assert parse_shape(circle(r=value)) == Circle(4_890_000, 52_370_000, expected_um)
    else:
        assert _refused(circle(r=value)).field == "radius_km"


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity", True, None, [1]])
def test_coordinates_must_be_numbers(bad: object) -> None:
    error = _refused(circle(x=bad))
    assert error.field == "longitude_deg"


def test_rectangles() -> None:
    assert parse_shape(rectangle()) == Rectangle(4_800_000, 52_400_000, 4_900_000, 52_300_000)
    # West east of east is a rectangle across the 180th meridian: allowed.
    assert parse_shape(rectangle(w="179", e="-179")).west_udeg == 179_000_000
    view = shape_view(parse_shape(rectangle()))
    assert view == {
        "kind": "RECTANGLE",
        "west_deg": "4.80000",
        "north_deg": "52.40000",
        "east_deg": "4.90000",
        "south_deg": "52.30000",
    }


def test_a_rectangle_whose_north_is_below_its_south_is_refused() -> None:
    error = _refused(rectangle(n="52.3", s="52.4"))
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "north_deg")
    assert _refused(rectangle(n="52.3", s="52.3")).field == "north_deg"


def test_a_rectangle_needs_different_west_and_east() -> None:
    error = _refused(rectangle(w="4.9", e="4.9"))
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "east_deg")


def test_shape_fields_follow_the_kind() -> None:
    assert _refused({"kind": "TRIANGLE"}).field == "kind"
    extra = _refused({**circle(), "west_deg": "1"})
    assert (extra.kind, extra.field) == (ProblemKind.UNKNOWN_FIELD, "west_deg")
    missing = _refused({"kind": "RECTANGLE", "west_deg": "1", "north_deg": "2", "east_deg": "3"})
    assert (missing.kind, missing.field) == (ProblemKind.MISSING_FIELD, "south_deg")


def test_nine_zones_of_five_shapes() -> None:
    check_room_for_zone(ZONES_MAX - 1)
    with pytest.raises(DomainError) as caught:
        check_room_for_zone(ZONES_MAX)
    assert (caught.value.kind, caught.value.field) == (ProblemKind.CONFLICT, "zone")
    check_room_for_shape(SHAPES_PER_ZONE_MAX - 1)
    with pytest.raises(DomainError) as caught:
        check_room_for_shape(SHAPES_PER_ZONE_MAX)
    assert (caught.value.kind, caught.value.field) == (ProblemKind.CONFLICT, "shapes")
    check_shape_count([1] * SHAPES_PER_ZONE_MAX)
    for count in (0, SHAPES_PER_ZONE_MAX + 1):
        with pytest.raises(DomainError) as caught:
            check_shape_count([1] * count)
        assert caught.value.field == "shapes"


def test_creating_and_removing_zones_needs_create_delete() -> None:
    assert privilege_to_add_shape(zone_exists=True) is Privilege.MODIFY
    assert privilege_to_add_shape(zone_exists=False) is Privilege.CREATE_DELETE
    assert privilege_to_delete_shape(shapes_in_zone=2) is Privilege.MODIFY
    assert privilege_to_delete_shape(shapes_in_zone=1) is Privilege.CREATE_DELETE


def test_zone_names() -> None:
    assert check_zone_name(" Home ") == "Home"
    for bad in ("", " ", "-x", "x" * 51, "a/b"):
        with pytest.raises(DomainError) as caught:
            check_zone_name(bad)
        assert caught.value.field == "zone"
