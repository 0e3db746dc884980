"""Profile group configuration of the service provider (seed 003 "Profile Group Fields"):
the groups, and in each group its typed fields with their display order. Subscribers' values
for the fields are edited on the subscriber's Profile option."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.profiles import (
    DISPLAY_NAME_LENGTH_MAX,
    GROUP_NAME_LENGTH_MAX,
    LIMITED_TYPES,
    ORDER_MAX,
    PERMISSION_NAME_LENGTH_MAX,
    TAG_NAME_LENGTH_MAX,
    ProfileField,
    ProfileGroup,
    ProfileTagType,
)
from ocs.service.profiles import FieldInput

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_profiles import TAG_HELP

router = APIRouter()

GROUP_FIELDS = ("name", "permission_name")
FIELD_FIELDS = (
    "display_name",
    "tag_name",
    "tag_type",
    "group_order",
    "sub_order",
    "permission_name",
    "limit",
)
TAG_TYPES: tuple[Option, ...] = tuple(
    (t.value, f"{t.value}: {TAG_HELP.get(t, 'shapes of the zone named after the tag.')}")
    for t in ProfileTagType
)
EMPTY = FormState()
AUTO = "auto_permission"


def _limits() -> str:
    return "; ".join(f"{t.value}: 1-{high} {what}" for t, (what, high) in LIMITED_TYPES.items())


def _order(form: Form, name: str) -> int:
    value = f.integer(form, name)
    if value is None:
        raise DomainError(ProblemKind.MISSING_FIELD, f"{name.replace('_', ' ')} is required", name)
    return value


def _permission(form: Form) -> str | None:
    """None lets the service make the standard name (Auto populate ticked)."""
    return None if AUTO in form else form.get("permission_name", "")


def _group(page: Page, group_id: int) -> ProfileGroup:
    group = page.services.features.profiles.get_group(page.operator, group_id)
    if group.service_provider != page.provider:
        raise not_found("profile group", group_id)
    return group


def _field(page: Page, group: ProfileGroup, field_id: int) -> ProfileField:
    fields = page.services.features.profiles.list_fields(page.operator, group.id)
    found = next((x for x in fields if x.id == field_id), None)
    if found is None:
        raise not_found("profile field", field_id)
    return found


# -- groups ----------------------------------------------------------------------------------


def _groups_page(page: Page, form: FormState, status_code: int = 200) -> Response:
    provider = page.require_provider()
    service = page.services.features.profiles
    groups = service.list_groups(page.operator, provider)
    counts = {g.id: len(service.list_fields(page.operator, g.id)) for g in groups}
    return page.render(
        "profile_groups/list.html",
        status_code=status_code,
        title="Profile groups",
        section="profile-groups",
        provider=provider,
        groups=groups,
        counts=counts,
        form=form,
        name_max=GROUP_NAME_LENGTH_MAX,
        permission_max=PERMISSION_NAME_LENGTH_MAX,
    )


@router.get("/profile-groups")
def groups(page: Page = Depends(operator_page)) -> Response:
    return _groups_page(page, FormState({AUTO: "on"}))


@router.post("/profile-groups")
def group_create(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    service = page.services.features.profiles
    try:
        group = service.create_group(
            page.acting(form), page.require_provider(), form.get("name", ""), _permission(form)
        )
    except DomainError as exc:
        state = page.refused(exc, form, GROUP_FIELDS)
        return _groups_page(page, state, state.status)
    return page.redirect(f"/profile-groups/{group.id}", notice="created")


def render_group(
    page: Page, group_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    group = _group(page, group_id)
    fields = page.services.features.profiles.list_fields(page.operator, group_id)
    states = {"rename": EMPTY, "field": FormState({AUTO: "on"}), "remove": EMPTY, **(forms or {})}
    return page.render(
        "profile_groups/detail.html",
        status_code=status,
        title=f"Profile group {group.name}",
        section="profile-groups",
        group=group,
        fields=fields,
        forms=states,
        tag_types=TAG_TYPES,
        limits=_limits(),
        order_max=ORDER_MAX,
        name_max=GROUP_NAME_LENGTH_MAX,
        display_max=DISPLAY_NAME_LENGTH_MAX,
        tag_max=TAG_NAME_LENGTH_MAX,
    )


@router.get("/profile-groups/{group_id}")
def group_detail(group_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_group(page, group_id)


@router.post("/profile-groups/{group_id}")
def group_rename(
    group_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _group(page, group_id)
    service = page.services.features.profiles
    try:
        service.rename_group(page.acting(form), group_id, form.get("name", ""))
    except DomainError as exc:
        state = page.refused(exc, form, ("name",))
        return render_group(page, group_id, {"rename": state}, state.status)
    return page.redirect(f"/profile-groups/{group_id}", notice="saved")


@router.post("/profile-groups/{group_id}/delete")
def group_delete(
    group_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _group(page, group_id)
    try:
        page.services.features.profiles.delete_group(page.acting(form), group_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_group(page, group_id, {"remove": state}, state.status)
    return page.redirect("/profile-groups", notice="deleted")


# -- fields ----------------------------------------------------------------------------------


@router.post("/profile-groups/{group_id}/fields")
def field_add(
    group_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _group(page, group_id)
    try:
        inp = FieldInput(
            display_name=form.get("display_name", ""),
            tag_name=form.get("tag_name", ""),
            tag_type=form.get("tag_type", ""),
            group_order=_order(form, "group_order"),
            sub_order=_order(form, "sub_order"),
            permission_name=_permission(form),
            limit=f.integer(form, "limit"),
        )
        page.services.features.profiles.add_field(page.acting(form), group_id, inp)
    except DomainError as exc:
        state = page.refused(exc, form, FIELD_FIELDS)
        return render_group(page, group_id, {"field": state}, state.status)
    return page.redirect(f"/profile-groups/{group_id}", notice="created")


def _field_page(
    page: Page, group_id: int, field_id: int, form: FormState, status_code: int = 200
) -> Response:
    group = _group(page, group_id)
    field = _field(page, group, field_id)
    return page.render(
        "profile_groups/field.html",
        status_code=status_code,
        title=f"Profile field {field.display_name}",
        section="profile-groups",
        group=group,
        field=field,
        form=form,
        order_max=ORDER_MAX,
        display_max=DISPLAY_NAME_LENGTH_MAX,
    )


@router.get("/profile-groups/{group_id}/fields/{field_id}")
def field_detail(group_id: int, field_id: int, page: Page = Depends(operator_page)) -> Response:
    return _field_page(page, group_id, field_id, FormState())


@router.post("/profile-groups/{group_id}/fields/{field_id}")
def field_save(
    group_id: int,
    field_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    _field(page, _group(page, group_id), field_id)
    service = page.services.features.profiles
    try:
        service.update_field(
            page.acting(form),
            field_id,
            form.get("display_name", ""),
            _order(form, "group_order"),
            _order(form, "sub_order"),
        )
    except DomainError as exc:
        state = page.refused(exc, form, ("display_name", "group_order", "sub_order"))
        return _field_page(page, group_id, field_id, state, state.status)
    return page.redirect(f"/profile-groups/{group_id}", notice="saved")


@router.post("/profile-groups/{group_id}/fields/{field_id}/delete")
def field_delete(
    group_id: int,
    field_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    _field(page, _group(page, group_id), field_id)
    try:
        page.services.features.profiles.delete_field(page.acting(form), field_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_group(page, group_id, {"remove": state}, state.status)
    return page.redirect(f"/profile-groups/{group_id}", notice="deleted")
