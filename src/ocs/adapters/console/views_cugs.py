"""Closed user groups of the service provider: search by name or member, new group, and a
group's page with its tariff plan, members (by MSISDN) and virtual members."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.casm import SEARCH_ROWS_MAX
from ocs.core.configuration import ConfigKind
from ocs.core.cug import ClosedUserGroup, VirtualMemberKind
from ocs.core.errors import DomainError, not_found
from ocs.service.cugs import CugInput, VirtualMemberInput

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_customers import config_options

router = APIRouter()

NEW_FIELDS = ("name", "tariff_plan", "members")
VIRTUAL_FIELDS = ("kind", "number", "last_number", "length")
VIRTUAL_KINDS: tuple[Option, ...] = (
    (VirtualMemberKind.SINGLE.value, "Single number"),
    (VirtualMemberKind.RANGE.value, "Range: first and last number"),
    (VirtualMemberKind.PATTERN.value, "Pattern: prefix and number length"),
)
LINES = re.compile(r"[\s,]+")
EMPTY = FormState()


@router.get("/cugs")
def cug_search(name: str = "", msisdn: str = "", page: Page = Depends(operator_page)) -> Response:
    provider = page.require_provider()
    groups = page.services.features.cugs.search(page.operator, provider, name, msisdn or None)
    return page.render(
        "cugs/list.html",
        title="Closed user groups",
        section="cugs",
        name=name,
        msisdn=msisdn,
        groups=groups,
        rows_max=SEARCH_ROWS_MAX,
    )


def _new_page(page: Page, form: FormState, status_code: int = 200) -> Response:
    return page.render(
        "cugs/new.html",
        status_code=status_code,
        title="New closed user group",
        section="cugs",
        form=form,
        tariff_plans=config_options(page, ConfigKind.TARIFF_PLAN),
    )


@router.get("/cugs/new")
def cug_new(page: Page = Depends(operator_page)) -> Response:
    return _new_page(page, FormState())


@router.post("/cugs/new")
def cug_create(page: Page = Depends(operator_page), form: Form = Depends(posted_form)) -> Response:
    members = tuple(m for m in LINES.split(form.get("members", "")) if m)
    inp = CugInput(
        tariff_plan=form.get("tariff_plan", ""),
        members=members,
        name=form.get("name", ""),
        service_provider=page.require_provider(),
    )
    try:
        group = page.services.features.cugs.create(page.acting(form), inp)
    except DomainError as exc:
        state = page.refused(exc, form, NEW_FIELDS)
        return _new_page(page, state, state.status)
    return page.redirect(f"/cugs/{group.id}", notice="created")


def _group(page: Page, cug_id: int) -> ClosedUserGroup:
    group = page.services.features.cugs.get(page.operator, cug_id)
    if group.service_provider != page.provider:
        raise not_found("closed user group", cug_id)
    return group


def render_group(
    page: Page, cug_id: int, forms: Mapping[str, FormState] | None = None, status_code: int = 200
) -> Response:
    group = _group(page, cug_id)
    states = {"details": EMPTY, "member": EMPTY, "virtual": EMPTY, "remove": EMPTY, **(forms or {})}
    return page.render(
        "cugs/detail.html",
        status_code=status_code,
        title=f"Closed user group {group.name}",
        section="cugs",
        group=group,
        forms=states,
        tariff_plans=config_options(page, ConfigKind.TARIFF_PLAN),
        virtual_kinds=VIRTUAL_KINDS,
    )


@router.get("/cugs/{cug_id}")
def cug_detail(cug_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_group(page, cug_id)


def _as_input(group: ClosedUserGroup) -> CugInput:
    virtual = tuple(
        VirtualMemberInput(v.kind.value, v.number, v.last_number, v.length)
        for v in group.virtual_members
    )
    return CugInput(group.tariff_plan, group.members, virtual)


def _update(
    page: Page,
    cug_id: int,
    form: Form,
    which: str,
    fields: tuple[str, ...],
    change: Callable[[CugInput], CugInput],
    aliases: Mapping[str, str] | None = None,
) -> Response:
    """Apply `change` to the group as it is now and save the whole group."""
    try:
        inp = change(_as_input(_group(page, cug_id)))
        page.services.features.cugs.update(page.acting(form), cug_id, inp)
    except DomainError as exc:
        state = page.refused(exc, form, fields, aliases)
        return render_group(page, cug_id, {which: state}, state.status)
    return page.redirect(f"/cugs/{cug_id}", notice="saved")


@router.post("/cugs/{cug_id}")
def cug_save(
    cug_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    plan = form.get("tariff_plan", "")
    return _update(
        page, cug_id, form, "details", ("tariff_plan",), lambda i: replace(i, tariff_plan=plan)
    )


@router.post("/cugs/{cug_id}/members")
def member_add(
    cug_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    msisdn = form.get("msisdn", "").strip()
    return _update(
        page,
        cug_id,
        form,
        "member",
        ("msisdn",),
        lambda i: replace(i, members=(*i.members, msisdn)),
        {"members": "msisdn"},
    )


@router.post("/cugs/{cug_id}/members/delete")
def member_delete(
    cug_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    gone = form.get("msisdn")
    return _update(
        page,
        cug_id,
        form,
        "remove",
        (),
        lambda i: replace(i, members=tuple(m for m in i.members if m != gone)),
    )


def _virtual_input(form: Form) -> VirtualMemberInput:
    """Only the parts the chosen kind takes: the service refuses the others."""
    kind = form.get("kind", "")
    return VirtualMemberInput(
        kind=kind,
        number=form.get("number", "").strip(),
        last_number=f.text(form, "last_number") if kind == VirtualMemberKind.RANGE else None,
        length=f.integer(form, "length") if kind == VirtualMemberKind.PATTERN else None,
    )


@router.post("/cugs/{cug_id}/virtual-members")
def virtual_add(
    cug_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    def change(i: CugInput) -> CugInput:
        return replace(i, virtual_members=(*i.virtual_members, _virtual_input(form)))

    return _update(
        page, cug_id, form, "virtual", VIRTUAL_FIELDS, change, {"virtual_members": "number"}
    )


@router.post("/cugs/{cug_id}/virtual-members/delete")
def virtual_delete(
    cug_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    index = f.integer(form, "index")

    def change(i: CugInput) -> CugInput:
        kept = tuple(v for n, v in enumerate(i.virtual_members) if n != index)
        return replace(i, virtual_members=kept)

    return _update(page, cug_id, form, "remove", (), change)


@router.post("/cugs/{cug_id}/delete")
def cug_delete(
    cug_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _group(page, cug_id)
    try:
        page.services.features.cugs.delete(page.acting(form), cug_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_group(page, cug_id, {"remove": state}, state.status)
    return page.redirect("/cugs", notice="deleted")
