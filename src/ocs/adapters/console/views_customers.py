"""Customers (search by name prefix, new, edit, delete) and their accounts."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.casm import SEARCH_ROWS_MAX, CasmLevel
from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, not_found
from ocs.core.security import Privilege
from ocs.service.casm import AccountInput, CustomerInput

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .state_panel import state_panel
from .views_config import Option, option_label

router = APIRouter()

CUSTOMER_FIELDS = ("profile", "name", "description", "reference", "segment")
ACCOUNT_FIELDS = (
    "profile",
    "name",
    "account_type",
    "payment_responsible",
    "parent_account_id",
    "billing_cycle",
    "currency",
    "segment",
)
PAYMENT_RESPONSIBLE_OPTIONS: tuple[Option, ...] = (("yes", "Yes"), ("no", "No"))


def config_options(page: Page, kind: ConfigKind) -> tuple[Option, ...]:
    records = page.services.configuration.list_records(page.operator, kind)
    return tuple((str(r["code"]), option_label(r)) for r in records)


# -- customers -------------------------------------------------------------------------------


@router.get("/customers")
def customer_search(name: str = "", page: Page = Depends(operator_page)) -> Response:
    provider = page.require_provider()
    customers = page.services.casm.search_customers(page.operator, name, provider)
    return page.render(
        "customers/results.html" if page.htmx else "customers/list.html",
        title="Customers",
        section="customers",
        name=name,
        customers=customers,
        rows_max=SEARCH_ROWS_MAX,
    )


def _customer_form_page(page: Page, form: FormState, status_code: int = 200) -> Response:
    return page.render(
        "customers/new.html",
        status_code=status_code,
        title="New customer",
        section="customers",
        form=form,
        profiles=config_options(page, ConfigKind.CUSTOMER_PROFILE),
        segments=config_options(page, ConfigKind.CUSTOMER_SEGMENT),
    )


@router.get("/customers/new")
def customer_new(page: Page = Depends(operator_page)) -> Response:
    return _customer_form_page(page, FormState())


@router.post("/customers/new")
def customer_create(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    inp = CustomerInput(
        name=form.get("name", ""),
        service_provider=page.require_provider(),
        description=f.text(form, "description"),
        reference=f.text(form, "reference"),
        segment=f.text(form, "segment"),
        profile=f.text(form, "profile"),
    )
    try:
        customer = page.services.casm.create_customer(page.acting(form), inp)
    except DomainError as exc:
        state = page.refused(exc, form, CUSTOMER_FIELDS)
        return _customer_form_page(page, state, state.status)
    return page.redirect(f"/customers/{customer.id}", notice="created")


def render_customer(
    page: Page,
    customer_id: int,
    forms: Mapping[str, FormState] | None = None,
    status_code: int = 200,
) -> Response:
    forms = forms or {}
    casm = page.services.casm
    customer = casm.get_customer(page.operator, customer_id)
    if customer.service_provider != page.provider:
        raise not_found("customer", customer_id)
    accounts = casm.list_accounts(page.operator, customer_id)
    subscribers = {a.id: casm.list_subscribers(page.operator, a.id) for a in accounts}
    details = forms.get("details") or FormState(
        {
            "name": customer.name,
            "description": customer.description or "",
            "reference": customer.reference or "",
            "segment": customer.segment or "",
        }
    )
    return page.render(
        "customers/detail.html",
        status_code=status_code,
        title=customer.name,
        section="customers",
        customer=customer,
        accounts=accounts,
        subscribers=subscribers,
        form=details,
        general=forms.get("page", FormState()).general,
        segments=config_options(page, ConfigKind.CUSTOMER_SEGMENT),
        panel=state_panel(
            page,
            CasmLevel.CUSTOMER,
            customer.id,
            customer.state,
            customer.state_reason,
            forms.get("state"),
        ),
    )


@router.get("/customers/{customer_id}")
def customer_detail(customer_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_customer(page, customer_id)


@router.post("/customers/{customer_id}")
def customer_update(
    customer_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        page.services.casm.update_customer(
            page.acting(form),
            customer_id,
            name=form.get("name", ""),
            description=form.get("description", ""),
            reference=form.get("reference", ""),
            segment=f.text(form, "segment"),
        )
    except DomainError as exc:
        state = page.refused(exc, form, CUSTOMER_FIELDS)
        return render_customer(page, customer_id, {"details": state}, state.status)
    return page.redirect(f"/customers/{customer_id}", notice="saved")


@router.post("/customers/{customer_id}/delete")
def customer_delete(
    customer_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        page.services.casm.delete_customer(page.acting(form), customer_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_customer(page, customer_id, {"page": state}, state.status)
    return page.redirect("/customers", notice="deleted")


# -- accounts --------------------------------------------------------------------------------


def _account_form_page(
    page: Page, customer_id: int, form: FormState, status_code: int = 200
) -> Response:
    customer = page.services.casm.get_customer(page.operator, customer_id)
    accounts = page.services.casm.list_accounts(page.operator, customer_id)
    return page.render(
        "accounts/new.html",
        status_code=status_code,
        title="New account",
        section="customers",
        customer=customer,
        form=form,
        profiles=config_options(page, ConfigKind.ACCOUNT_PROFILE),
        account_types=config_options(page, ConfigKind.ACCOUNT_TYPE),
        billing_cycles=config_options(page, ConfigKind.BILLING_CYCLE),
        currencies=config_options(page, ConfigKind.CURRENCY),
        segments=config_options(page, ConfigKind.ACCOUNT_SEGMENT),
        parents=tuple((str(a.id), f"{a.id} - {a.name}") for a in accounts),
        payment_options=PAYMENT_RESPONSIBLE_OPTIONS,
    )


@router.get("/customers/{customer_id}/accounts/new")
def account_new(customer_id: int, page: Page = Depends(operator_page)) -> Response:
    return _account_form_page(page, customer_id, FormState())


def _yes_no(form: Form, name: str) -> bool | None:
    value = f.text(form, name)
    return None if value is None else value == "yes"


@router.post("/customers/{customer_id}/accounts/new")
def account_create(
    customer_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        inp = AccountInput(
            customer_id=customer_id,
            name=f.text(form, "name"),
            account_type=f.text(form, "account_type"),
            payment_responsible=_yes_no(form, "payment_responsible"),
            parent_account_id=f.integer(form, "parent_account_id"),
            billing_cycle=f.text(form, "billing_cycle"),
            currency=f.text(form, "currency"),
            segment=f.text(form, "segment"),
            profile=f.text(form, "profile"),
        )
        account = page.services.casm.create_account(page.acting(form), inp)
    except DomainError as exc:
        state = page.refused(exc, form, ACCOUNT_FIELDS)
        return _account_form_page(page, customer_id, state, state.status)
    return page.redirect(f"/accounts/{account.id}", notice="created")


def render_account(
    page: Page,
    account_id: int,
    forms: Mapping[str, FormState] | None = None,
    status_code: int = 200,
) -> Response:
    forms = forms or {}
    casm = page.services.casm
    account = casm.get_account(page.operator, account_id)
    customer = casm.get_customer(page.operator, account.customer_id)
    if customer.service_provider != page.provider:
        raise not_found("account", account_id)
    details = forms.get("details") or FormState(
        {
            "name": account.name,
            "billing_cycle": account.billing_cycle or "",
            "currency": account.currency or "",
            "segment": account.segment or "",
        }
    )
    return page.render(
        "accounts/detail.html",
        status_code=status_code,
        title=f"Account {account.id}",
        section="customers",
        account=account,
        customer=customer,
        subscribers=casm.list_subscribers(page.operator, account_id),
        form=details,
        general=forms.get("page", FormState()).general,
        billing_cycles=config_options(page, ConfigKind.BILLING_CYCLE),
        currencies=config_options(page, ConfigKind.CURRENCY),
        segments=config_options(page, ConfigKind.ACCOUNT_SEGMENT),
        can_add_subscriber=page.can(Privilege.CREATE_DELETE),
        panel=state_panel(
            page,
            CasmLevel.ACCOUNT,
            account.id,
            account.state,
            account.state_reason,
            forms.get("state"),
        ),
    )


@router.get("/accounts/{account_id}")
def account_detail(account_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_account(page, account_id)


@router.post("/accounts/{account_id}")
def account_update(
    account_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        page.services.casm.update_account(
            page.acting(form),
            account_id,
            name=f.text(form, "name"),
            billing_cycle=f.text(form, "billing_cycle"),
            currency=f.text(form, "currency"),
            segment=f.text(form, "segment"),
        )
    except DomainError as exc:
        state = page.refused(exc, form, ACCOUNT_FIELDS)
        return render_account(page, account_id, {"details": state}, state.status)
    return page.redirect(f"/accounts/{account_id}", notice="saved")


@router.post("/accounts/{account_id}/delete")
def account_delete(
    account_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    account = page.services.casm.get_account(page.operator, account_id)
    try:
        page.services.casm.delete_account(page.acting(form), account_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_account(page, account_id, {"page": state}, state.status)
    return page.redirect(f"/customers/{account.customer_id}", notice="deleted")
