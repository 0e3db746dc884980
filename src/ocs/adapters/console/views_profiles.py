"""The subscriber's Profile option: the service provider's profile groups with the
subscriber's value for each field, edited by the field's tag type. ZONE fields are zones
named after their tag, edited on the Zones option."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError, not_found
from ocs.core.profiles import ProfileField, ProfileTagType
from ocs.service.profiles import ProfileEntry

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_subscriber_features import render_option
from .views_wallets import visible_subscriber

router = APIRouter()

PREFIX_TYPES = (ProfileTagType.PREFIX, ProfileTagType.OPREFIX, ProfileTagType.LOPREFIX)
INTEGER_TYPES = (ProfileTagType.BYTE, ProfileTagType.INTEGER)
LIST_SEPARATORS = re.compile(r"[\s,]+")
TAG_HELP = {
    ProfileTagType.BYTE: "A single signed digit (-9 to 9).",
    ProfileTagType.INTEGER: "A signed whole number.",
    ProfileTagType.DATE: "A date.",
    ProfileTagType.LNSTRING: "Digits 0-9 only, limited length.",
    ProfileTagType.NSTRING: "Digits 0-9 only.",
    ProfileTagType.STRING: "Printable ASCII text.",
    ProfileTagType.PREFIX: "Digit prefixes separated by commas or spaces (kept sorted).",
    ProfileTagType.OPREFIX: "Digit prefixes separated by commas or spaces, in order.",
    ProfileTagType.LOPREFIX: "Digit prefixes separated by commas or spaces, in order, limited.",
}


@dataclass(frozen=True)
class EntryRow:
    field: ProfileField
    value: object
    text: str  # the value as its form field shows it
    widget: str
    help: str


@dataclass(frozen=True)
class GroupRows:
    name: str
    rows: list[EntryRow]


def value_text(field: ProfileField, value: object) -> str:
    """A stored value as the text its form field holds."""
    if value is None:
        return ""
    if field.tag_type is ProfileTagType.BOOLEAN:
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_value(field: ProfileField, form: Form) -> object:
    """The form's text as the JSON-like value the service checks for the field's tag type."""
    kind = field.tag_type
    if kind is ProfileTagType.BOOLEAN:
        chosen = form.get("value", "")
        return {"true": True, "false": False}.get(chosen, chosen)
    if kind in INTEGER_TYPES:
        return f.integer(form, "value")
    text = form.get("value", "").strip()
    if kind in PREFIX_TYPES:
        return [part for part in LIST_SEPARATORS.split(text) if part]
    return text


def _widget(kind: ProfileTagType) -> str:
    if kind is ProfileTagType.BOOLEAN:
        return "select"
    if kind in INTEGER_TYPES:
        return "number"
    return "date" if kind is ProfileTagType.DATE else "text"


def _groups(page: Page, subscriber_id: int, entries: list[ProfileEntry]) -> list[GroupRows]:
    provider = visible_subscriber(page, subscriber_id).service_provider
    names = {
        g.id: g.name for g in page.services.features.profiles.list_groups(page.operator, provider)
    }
    grouped: dict[int, GroupRows] = {}
    for entry in entries:
        field = entry.field
        group = grouped.setdefault(field.group_id, GroupRows(names.get(field.group_id, ""), []))
        group.rows.append(
            EntryRow(
                field,
                entry.value,
                value_text(field, entry.value),
                _widget(field.tag_type),
                TAG_HELP.get(field.tag_type, ""),
            )
        )
    return list(grouped.values())


def _profile_page(
    page: Page, subscriber_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    entries = page.services.features.profiles.subscriber_profile(page.operator, subscriber_id)
    return render_option(
        page,
        subscriber_id,
        "profiles/profile.html",
        "profile",
        "Profile",
        forms,
        status,
        groups=_groups(page, subscriber_id, entries),
        booleans=(("true", "True"), ("false", "False")),
    )


@router.get("/subscribers/{subscriber_id}/profile")
def profile(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _profile_page(page, subscriber_id)


def _field(page: Page, subscriber_id: int, field_id: int) -> ProfileField:
    entries = page.services.features.profiles.subscriber_profile(page.operator, subscriber_id)
    for entry in entries:
        if entry.field.id == field_id:
            return entry.field
    raise not_found("profile field", field_id)


@router.post("/subscribers/{subscriber_id}/profile/{field_id}")
def value_save(
    subscriber_id: int,
    field_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    field = _field(page, subscriber_id, field_id)
    service = page.services.features.profiles
    try:
        service.set_value(page.acting(form), subscriber_id, field_id, parse_value(field, form))
    except DomainError as exc:
        state = page.refused(exc, form, ("value",), {field.tag_name: "value"})
        return _profile_page(page, subscriber_id, {f"field-{field_id}": state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/profile", notice="saved")


@router.post("/subscribers/{subscriber_id}/profile/{field_id}/clear")
def value_clear(
    subscriber_id: int,
    field_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    try:
        page.services.features.profiles.clear_value(page.acting(form), subscriber_id, field_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return _profile_page(page, subscriber_id, {f"field-{field_id}": state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/profile", notice="deleted")
