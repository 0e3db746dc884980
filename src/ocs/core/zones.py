"""Subscriber zones: named areas made of circles and rectangles, e.g. a cheaper home zone.

Coordinates are exact integers: degrees in micro-degrees (the manual allows 5 decimals) and
the radius in micrometres (the manual allows 7 decimals of a kilometre).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.security import Privilege

ZONES_MAX = 9
SHAPES_PER_ZONE_MAX = 5
ZONE_NAME_LENGTH_MAX = 50
ZONE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")

UDEG_PER_DEG = 1_000_000
UM_PER_KM = 1_000_000_000
DEGREE_DECIMALS = 5
KM_DECIMALS = 7
LONGITUDE_MIN_UDEG = -179_999_990
LONGITUDE_MAX_UDEG = 180_000_000
LATITUDE_MIN_UDEG = -90_000_000
LATITUDE_MAX_UDEG = 90_000_000
RADIUS_MAX_UM = 99_999_999_999_999_900


class ShapeKind(StrEnum):
    CIRCLE = "CIRCLE"
    RECTANGLE = "RECTANGLE"


@dataclass(frozen=True)
class Circle:
    longitude_udeg: int
    latitude_udeg: int
    radius_um: int


@dataclass(frozen=True)
class Rectangle:
    """Top-left (west, north) and bottom-right (east, south) corners. West may exceed east:
    such a rectangle spans the 180th meridian."""

    west_udeg: int
    north_udeg: int
    east_udeg: int
    south_udeg: int


Shape = Circle | Rectangle


@dataclass(frozen=True)
class ZoneShape:
    id: int
    shape: Shape


@dataclass(frozen=True)
class Zone:
    id: int
    name: str
    shapes: tuple[ZoneShape, ...]


def check_zone_name(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > ZONE_NAME_LENGTH_MAX or not ZONE_NAME_PATTERN.match(text):
        raise invalid(
            "zone",
            f"zone name must be 1-{ZONE_NAME_LENGTH_MAX} letters, digits, spaces or _.- "
            "starting with a letter or digit",
        )
    return text


def _fixed(value: object, field: str, decimals: int, scale: int) -> int:
    """A decimal number given as text or a JSON number, in units of 1/scale, refusing more
    decimals than the manual allows (never rounding)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(field, f"{field} must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(field, f"{field} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise invalid(field, f"{field} must be a finite number")
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -decimals:
        raise invalid(field, f"{field} allows at most {decimals} decimals, got {value!r}")
    return int(number * scale)


def _bounded(value: int, low: int, high: int, field: str, text: str) -> int:
    if not low <= value <= high:
        raise invalid(field, f"{field} must be between {text}")
    return value


def parse_longitude(value: object, field: str) -> int:
    udeg = _fixed(value, field, DEGREE_DECIMALS, UDEG_PER_DEG)
    return _bounded(
        udeg, LONGITUDE_MIN_UDEG, LONGITUDE_MAX_UDEG, field, "-179.99999 (W) and 180.00000 (E)"
    )


def parse_latitude(value: object, field: str) -> int:
    udeg = _fixed(value, field, DEGREE_DECIMALS, UDEG_PER_DEG)
    return _bounded(udeg, LATITUDE_MIN_UDEG, LATITUDE_MAX_UDEG, field, "-90.00000 and 90.00000")


def parse_radius(value: object, field: str) -> int:
    um = _fixed(value, field, KM_DECIMALS, UM_PER_KM)
    return _bounded(um, 0, RADIUS_MAX_UM, field, "0 and 99999999.9999999 km")


CIRCLE_FIELDS = ("kind", "longitude_deg", "latitude_deg", "radius_km")
RECTANGLE_FIELDS = ("kind", "west_deg", "north_deg", "east_deg", "south_deg")


def parse_shape(payload: Mapping[str, object]) -> Shape:
    """A shape from its API form: degrees and kilometres as decimal text or numbers."""
    try:
        kind = ShapeKind(str(payload.get("kind")))
    except ValueError:
        raise invalid("kind", "kind must be CIRCLE or RECTANGLE") from None
    allowed = CIRCLE_FIELDS if kind is ShapeKind.CIRCLE else RECTANGLE_FIELDS
    for name in payload:
        if name not in allowed:
            raise DomainError(
                ProblemKind.UNKNOWN_FIELD, f"a {kind.value} has no field {name!r}", name
            )
    for name in allowed:
        if payload.get(name) is None:
            raise DomainError(ProblemKind.MISSING_FIELD, f"{name} is required", name)
    if kind is ShapeKind.CIRCLE:
        return Circle(
            parse_longitude(payload["longitude_deg"], "longitude_deg"),
            parse_latitude(payload["latitude_deg"], "latitude_deg"),
            parse_radius(payload["radius_km"], "radius_km"),
        )
    return check_rectangle(
        Rectangle(
            parse_longitude(payload["west_deg"], "west_deg"),
            parse_latitude(payload["north_deg"], "north_deg"),
            parse_longitude(payload["east_deg"], "east_deg"),
            parse_latitude(payload["south_deg"], "south_deg"),
        )
    )


def check_rectangle(rectangle: Rectangle) -> Rectangle:
    if rectangle.west_udeg == rectangle.east_udeg:
        raise invalid("east_deg", "east_deg must differ from west_deg")
    if rectangle.north_udeg <= rectangle.south_udeg:
        raise invalid("north_deg", "north_deg must be higher than south_deg")
    return rectangle


def shape_view(shape: Shape) -> dict[str, str]:
    """The API form of a shape (exact decimal text)."""
    if isinstance(shape, Circle):
        return {
            "kind": ShapeKind.CIRCLE.value,
            "longitude_deg": _text(shape.longitude_udeg, UDEG_PER_DEG, DEGREE_DECIMALS),
            "latitude_deg": _text(shape.latitude_udeg, UDEG_PER_DEG, DEGREE_DECIMALS),
            "radius_km": _text(shape.radius_um, UM_PER_KM, KM_DECIMALS),
        }
    return {
        "kind": ShapeKind.RECTANGLE.value,
        "west_deg": _text(shape.west_udeg, UDEG_PER_DEG, DEGREE_DECIMALS),
        "north_deg": _text(shape.north_udeg, UDEG_PER_DEG, DEGREE_DECIMALS),
        "east_deg": _text(shape.east_udeg, UDEG_PER_DEG, DEGREE_DECIMALS),
        "south_deg": _text(shape.south_udeg, UDEG_PER_DEG, DEGREE_DECIMALS),
    }


def _text(value: int, scale: int, decimals: int) -> str:
    return f"{Decimal(value) / scale:.{decimals}f}"


def check_shape_count(shapes: Sequence[object]) -> None:
    if not shapes:
        raise DomainError(ProblemKind.MISSING_FIELD, "a zone needs at least one shape", "shapes")
    if len(shapes) > SHAPES_PER_ZONE_MAX:
        raise invalid("shapes", f"a zone holds at most {SHAPES_PER_ZONE_MAX} shapes")


def privilege_to_add_shape(zone_exists: bool) -> Privilege:
    """Adding the first shape creates the zone, which needs create/delete."""
    return Privilege.MODIFY if zone_exists else Privilege.CREATE_DELETE


def privilege_to_delete_shape(shapes_in_zone: int) -> Privilege:
    """Deleting the last shape deletes the zone too, which needs create/delete."""
    return Privilege.MODIFY if shapes_in_zone > 1 else Privilege.CREATE_DELETE


def check_room_for_zone(zone_count: int) -> None:
    if zone_count >= ZONES_MAX:
        raise DomainError(
            ProblemKind.CONFLICT,
            f"the subscriber already has {ZONES_MAX} zones, the most allowed",
            "zone",
        )


def check_room_for_shape(shape_count: int) -> None:
    if shape_count >= SHAPES_PER_ZONE_MAX:
        raise DomainError(
            ProblemKind.CONFLICT,
            f"the zone already has {SHAPES_PER_ZONE_MAX} shapes, the most allowed",
            "shapes",
        )
