"""The subscriber's Zones option: zones made of circles and rectangles, each drawn as a
small SVG map, with forms to add, edit and delete shapes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError
from ocs.core.zones import (
    CIRCLE_FIELDS,
    RECTANGLE_FIELDS,
    SHAPES_PER_ZONE_MAX,
    UDEG_PER_DEG,
    UM_PER_KM,
    ZONES_MAX,
    Circle,
    Rectangle,
    ShapeKind,
    Zone,
    shape_view,
)

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_subscriber_features import render_option

router = APIRouter()

SHAPE_KINDS: tuple[Option, ...] = (
    (ShapeKind.CIRCLE.value, "Circle: centre and radius"),
    (ShapeKind.RECTANGLE.value, "Rectangle: top-left and bottom-right corners"),
)
SHAPE_FIELDS = ("zone", *CIRCLE_FIELDS, *RECTANGLE_FIELDS[1:])
KM_PER_DEGREE = 111.32  # along a meridian; along a parallel it shrinks with cos(latitude)
DRAWING_SIZE = 240  # the drawing's width and height in CSS pixels
MARGIN = 0.08  # of the drawn extent, on every side
EXTENT_MIN_DEG = 0.01  # so that a single point still gets a visible area


@dataclass(frozen=True)
class Drawn:
    """One shape in drawing units (degrees east, degrees south of the equator)."""

    shape_id: int
    kind: str
    x: float
    y: float
    width: float = 0.0  # rectangles
    height: float = 0.0
    rx: float = 0.0  # circles: the radius east-west and north-south
    ry: float = 0.0


@dataclass(frozen=True)
class Drawing:
    view_box: str
    shapes: tuple[Drawn, ...]
    size: int = DRAWING_SIZE


def _drawn(shape_id: int, shape: Circle | Rectangle) -> Drawn:
    if isinstance(shape, Circle):
        lon, lat = shape.longitude_udeg / UDEG_PER_DEG, shape.latitude_udeg / UDEG_PER_DEG
        radius_km = shape.radius_um / UM_PER_KM
        ry = radius_km / KM_PER_DEGREE
        # Keep circles near the poles finite: the east-west degree shrinks towards zero there.
        rx = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
        return Drawn(shape_id, ShapeKind.CIRCLE.value, lon, -lat, rx=rx, ry=ry)
    west, east = shape.west_udeg / UDEG_PER_DEG, shape.east_udeg / UDEG_PER_DEG
    if east < west:
        east += 360  # the rectangle spans the 180th meridian: draw it as one piece
    north, south = shape.north_udeg / UDEG_PER_DEG, shape.south_udeg / UDEG_PER_DEG
    return Drawn(
        shape_id, ShapeKind.RECTANGLE.value, west, -north, width=east - west, height=north - south
    )


def zone_drawing(zone: Zone) -> Drawing:
    """The zone's shapes in a plain longitude / latitude projection, framed so that every
    shape fits with a small margin; north is up."""
    drawn = tuple(_drawn(s.id, s.shape) for s in zone.shapes)
    lefts = [d.x - d.rx if d.kind == ShapeKind.CIRCLE.value else d.x for d in drawn]
    rights = [d.x + d.rx if d.kind == ShapeKind.CIRCLE.value else d.x + d.width for d in drawn]
    tops = [d.y - d.ry if d.kind == ShapeKind.CIRCLE.value else d.y for d in drawn]
    bottoms = [d.y + d.ry if d.kind == ShapeKind.CIRCLE.value else d.y + d.height for d in drawn]
    left, right, top, bottom = min(lefts), max(rights), min(tops), max(bottoms)
    extent = max(right - left, bottom - top, EXTENT_MIN_DEG)
    margin = extent * MARGIN
    # A square frame centred on the shapes keeps circles round.
    cx, cy = (left + right) / 2, (top + bottom) / 2
    side = extent + 2 * margin
    box = f"{cx - side / 2:.6f} {cy - side / 2:.6f} {side:.6f} {side:.6f}"
    return Drawing(box, drawn)


@dataclass(frozen=True)
class ZoneView:
    zone: Zone
    path: str  # the zone's URL part
    drawing: Drawing
    shapes: list[tuple[int, dict[str, str]]]


def _zones_page(
    page: Page, subscriber_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    zones = page.services.features.zones.list_zones(page.operator, subscriber_id)
    views = [
        ZoneView(
            z,
            quote(z.name, safe=""),
            zone_drawing(z),
            [(s.id, shape_view(s.shape)) for s in z.shapes],
        )
        for z in zones
    ]
    return render_option(
        page,
        subscriber_id,
        "zones/zones.html",
        "zones",
        "Zones",
        forms,
        status,
        zones=views,
        kinds=SHAPE_KINDS,
        zone_names=tuple((z.name, z.name) for z in zones),
        zones_max=ZONES_MAX,
        shapes_max=SHAPES_PER_ZONE_MAX,
    )


@router.get("/subscribers/{subscriber_id}/zones")
def zones(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _zones_page(page, subscriber_id)


def shape_payload(form: Form) -> dict[str, object]:
    """The fields of the chosen kind only (the service refuses the other kind's fields);
    an empty field is missing, which the service reports next to it."""
    kind = form.get("kind", "")
    names = RECTANGLE_FIELDS if kind == ShapeKind.RECTANGLE.value else CIRCLE_FIELDS
    return {name: f.text(form, name) for name in names}


def _back(page: Page, subscriber_id: int, notice: str) -> Response:
    return page.redirect(f"/subscribers/{subscriber_id}/zones", notice=notice)


@router.post("/subscribers/{subscriber_id}/zones/shapes")
def shape_add(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    service = page.services.features.zones
    try:
        zone = f.text(form, "new_zone") or form.get("zone", "")
        service.add_shape(page.acting(form), subscriber_id, zone, shape_payload(form))
    except DomainError as exc:
        fields = (*SHAPE_FIELDS, "new_zone")
        # A zone chosen from the list is named by the select, any other by the name field.
        chosen = f.text(form, "zone") and not f.text(form, "new_zone")
        aliases = {"zone": "zone" if chosen else "new_zone"}
        state = page.refused(exc, form, fields, aliases)
        return _zones_page(page, subscriber_id, {"add": state}, state.status)
    return _back(page, subscriber_id, "created")


@router.post("/subscribers/{subscriber_id}/zones/{zone}/shapes/{shape_id}")
def shape_edit(
    subscriber_id: int,
    zone: str,
    shape_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    service = page.services.features.zones
    try:
        service.update_shape(page.acting(form), subscriber_id, zone, shape_id, shape_payload(form))
    except DomainError as exc:
        state = page.refused(exc, form, SHAPE_FIELDS)
        return _zones_page(page, subscriber_id, {f"shape-{shape_id}": state}, state.status)
    return _back(page, subscriber_id, "saved")


@router.post("/subscribers/{subscriber_id}/zones/{zone}/shapes/{shape_id}/delete")
def shape_delete(
    subscriber_id: int,
    zone: str,
    shape_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    try:
        page.services.features.zones.delete_shape(page.acting(form), subscriber_id, zone, shape_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return _zones_page(page, subscriber_id, {"remove": state}, state.status)
    return _back(page, subscriber_id, "deleted")


@router.post("/subscribers/{subscriber_id}/zones/{zone}/delete")
def zone_delete(
    subscriber_id: int,
    zone: str,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    try:
        page.services.features.zones.delete_zone(page.acting(form), subscriber_id, zone)
    except DomainError as exc:
        state = page.refused(exc, form)
        return _zones_page(page, subscriber_id, {"remove": state}, state.status)
    return _back(page, subscriber_id, "deleted")
