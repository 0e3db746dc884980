"""Operator administration (administrators only): list, add, change role and service
providers, deactivate or reactivate, and reset a password."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.security import Privilege, Role
from ocs.service.ports import OperatorRecord

from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option

router = APIRouter()

PROVIDER_PREFIX = "sp."
NEW_FIELDS = ("username", "password", "role", "service_providers")
ROLES: tuple[Option, ...] = (
    (Role.READ_ONLY.value, "Read only"),
    (Role.READ_MODIFY.value, "Read / modify"),
    (Role.CREATE_DELETE.value, "Create / delete"),
    (Role.OPERATOR.value, "Operator (create / delete and execute)"),
    (Role.ADMIN.value, "Administrator"),
)
EMPTY = FormState()


def _admin(page: Page) -> Page:
    page.operator.require(Privilege.ADMIN)
    return page


def _providers(form: Form) -> frozenset[str] | None:
    """The ticked service providers; none ticked means every service provider."""
    chosen = frozenset(k[len(PROVIDER_PREFIX) :] for k in form if k.startswith(PROVIDER_PREFIX))
    return chosen or None


def _list_page(page: Page, form: FormState, status_code: int = 200) -> Response:
    return page.render(
        "operators/list.html",
        status_code=status_code,
        title="Operators",
        section="operators",
        operators=page.services.operators.list_operators(page.operator),
        form=form,
        roles=ROLES,
        prefix=PROVIDER_PREFIX,
        chosen=set(),
        role_labels=dict(ROLES),
    )


@router.get("/operators")
def operators(page: Page = Depends(operator_page)) -> Response:
    return _list_page(_admin(page), FormState({"role": Role.READ_ONLY.value}))


@router.post("/operators")
def operator_add(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _admin(page)
    try:
        record = page.services.operators.create(
            page.acting(form),
            form.get("username", "").strip(),
            form.get("password", ""),
            form.get("role", ""),
            _providers(form),
        )
    except DomainError as exc:
        # Never send a password back to the browser.
        values = {k: v for k, v in form.items() if k != "password"}
        state = page.refused(exc, values, NEW_FIELDS)
        return _list_page(page, state, state.status)
    return page.redirect(f"/operators/{record.username}", notice="created")


def _operator(page: Page, username: str) -> OperatorRecord:
    for record in page.services.operators.list_operators(page.operator):
        if record.username == username:
            return record
    raise not_found("operator", username)


def render_operator(
    page: Page, username: str, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    record = _operator(page, username)
    states = {"access": EMPTY, "password": EMPTY, "active": EMPTY, **(forms or {})}
    access = states["access"]
    chosen = (
        {k[len(PROVIDER_PREFIX) :] for k in access.values if k.startswith(PROVIDER_PREFIX)}
        if access.values
        else set(record.service_providers or ())
    )
    return page.render(
        "operators/detail.html",
        status_code=status,
        title=f"Operator {username}",
        section="operators",
        record=record,
        forms=states,
        roles=ROLES,
        prefix=PROVIDER_PREFIX,
        chosen=chosen,
        role_labels=dict(ROLES),
        is_self=username == page.operator.username,
    )


@router.get("/operators/{username}")
def operator_detail(username: str, page: Page = Depends(operator_page)) -> Response:
    return render_operator(_admin(page), username)


@router.post("/operators/{username}")
def operator_update(
    username: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _admin(page)
    try:
        page.services.operators.update(
            page.acting(form), username, form.get("role", ""), _providers(form)
        )
    except DomainError as exc:
        state = page.refused(exc, form, ("role", "service_providers"))
        return render_operator(page, username, {"access": state}, state.status)
    return page.redirect(f"/operators/{username}", notice="saved")


@router.post("/operators/{username}/password")
def operator_password(
    username: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _admin(page)
    try:
        password = form.get("password", "")
        if password != form.get("password_confirmation", ""):
            raise DomainError(
                ProblemKind.INVALID_VALUE,
                "the two passwords differ",
                "password_confirmation",
            )
        page.services.operators.set_password(page.acting(form), username, password)
    except DomainError as exc:
        state = page.refused(exc, {}, ("password", "password_confirmation"))
        return render_operator(page, username, {"password": state}, state.status)
    return page.redirect(f"/operators/{username}", notice="password")


@router.post("/operators/{username}/active")
def operator_active(
    username: str, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    _admin(page)
    active = form.get("active") == "true"
    try:
        page.services.operators.set_active(page.acting(form), username, active)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_operator(page, username, {"active": state}, state.status)
    return page.redirect(f"/operators/{username}", notice="activated" if active else "deactivated")
