"""Pure parts of the subscriber feature screens: the zone drawing and profile value text."""

from __future__ import annotations

import pytest

from ocs.adapters.console.views_profiles import parse_value, value_text
from ocs.adapters.console.views_zones import zone_drawing
from ocs.core.profiles import ProfileField, ProfileTagType
from ocs.core.zones import Circle, Rectangle, Zone, ZoneShape


def _box(view_box: str) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in view_box.split())
    return x, y, w, h


def test_drawing_frames_every_shape_north_up() -> None:
    zone = Zone(
        1,
        "Home",
        (
            ZoneShape(1, Rectangle(4_000_000, 53_000_000, 5_000_000, 52_000_000)),
            ZoneShape(2, Circle(6_000_000, 52_500_000, 11_132_000_000)),  # 0.1 deg north-south
        ),
    )
    drawing = zone_drawing(zone)
    x, y, w, h = _box(drawing.view_box)
    assert w == h  # square, so circles stay round
    rect, circle = drawing.shapes
    assert (rect.x, rect.y, rect.width, rect.height) == (4.0, -53.0, 1.0, 1.0)
    assert circle.ry == pytest.approx(0.1)
    assert circle.rx > circle.ry  # a degree of longitude is shorter than one of latitude
    assert x < rect.x
    assert x + w > circle.x + circle.rx
    assert y < rect.y
    assert y + h > rect.y + rect.height


def test_rectangle_over_the_180th_meridian_is_drawn_in_one_piece() -> None:
    zone = Zone(1, "Pacific", (ZoneShape(1, Rectangle(179_000_000, 1_000_000, -179_000_000, 0)),))
    (shape,) = zone_drawing(zone).shapes
    assert (shape.x, shape.width) == (179.0, 2.0)


def _field(kind: ProfileTagType) -> ProfileField:
    return ProfileField(1, 1, "SP", "Field", "TAG", kind, 1, 1, "SP-perm", None)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (ProfileTagType.BOOLEAN, "true", True),
        (ProfileTagType.INTEGER, "-42", -42),
        (ProfileTagType.OPREFIX, "31, 32 33", ["31", "32", "33"]),
        (ProfileTagType.STRING, " hello ", "hello"),
    ],
)
def test_profile_text_round_trip(kind: ProfileTagType, text: str, value: object) -> None:
    field = _field(kind)
    assert parse_value(field, {"value": text}) == value
    assert parse_value(field, {"value": value_text(field, value)}) == value
