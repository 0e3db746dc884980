"""Subscriber search, the new-subscriber form (profiles) and the subscriber screen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.casm import SEARCH_ROWS_MAX, Account, CasmLevel, Customer, Subscriber
from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .state_panel import state_panel
from .views_config import Option
from .views_customers import config_options

router = APIRouter()

SEARCH_BY: tuple[Option, ...] = (
    ("subscriber_id", "Subscriber ID"),
    ("card_number", "Card number"),
    ("resource", "Resource (MSISDN, IMSI, ...)"),
    ("customer", "Customer name"),
)
MATCHES: tuple[Option, ...] = (("prefix", "Prefix match"), ("exact", "Exact match"))
SUBSCRIBER_FIELDS = (
    "profile",
    "subscriber_id",
    "card_number",
    "language",
    "segment",
    "account_id",
    "customer_name",
)
DETAIL_FIELDS = ("subscriber_id", "card_number", "language", "segment")
RESOURCE_FIELD_PREFIX = "resource."
# Errors about the superior customer created by the profile chain belong to its name field.
NEW_SUBSCRIBER_ALIASES = {"name": "customer_name", "service_provider": "customer_name"}


@dataclass
class SearchResult:
    subscribers: list[Subscriber] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    message: str | None = None


def _search(page: Page, by: str, text: str, exact: bool) -> SearchResult:
    provider = page.require_provider()
    casm = page.services.casm
    if by == "customer":
        return SearchResult(customers=casm.search_customers(page.operator, text, provider))
    if by != "resource":
        return SearchResult(casm.search_subscribers(page.operator, provider, by, text, exact))
    try:
        view = casm.find_subscriber_by_resource(page.operator, text.strip())
    except DomainError as exc:
        if exc.kind is ProblemKind.NOT_FOUND:
            return SearchResult(message=f"No subscriber has the resource {text.strip()!r}.")
        return SearchResult(message=exc.detail)
    if view.subscriber.service_provider != provider:
        return SearchResult(message=f"The resource {text.strip()!r} belongs to another provider.")
    return SearchResult([view.subscriber])


@router.get("/subscribers")
def subscriber_search(
    q: str = "",
    by: str = "subscriber_id",
    match: str = "prefix",
    page: Page = Depends(operator_page),
) -> Response:
    searched = "q" in page.request.query_params
    result = SearchResult()
    if searched and (q.strip() or by != "resource"):
        try:
            result = _search(page, by, q, match == "exact")
        except DomainError as exc:
            result = SearchResult(message=page.refused(exc, {}).general[0])
    return page.render(
        "subscribers/results.html" if page.htmx else "subscribers/search.html",
        title="Subscribers",
        section="subscribers",
        q=q,
        by=by,
        match=match,
        searched=searched,
        result=result,
        search_by=SEARCH_BY,
        matches=MATCHES,
        rows_max=SEARCH_ROWS_MAX,
    )


# -- new subscriber --------------------------------------------------------------------------


def _chosen_account(page: Page, value: str) -> Account | None:
    """The existing account the form names, if it names one the operator can see."""
    if not value.isdigit():
        return None
    try:
        return page.services.casm.get_account(page.operator, int(value))
    except DomainError:
        return None


def _new_page(page: Page, form: FormState, status_code: int = 200) -> Response:
    account = _chosen_account(page, form.value("account_id"))
    resource_types = page.services.configuration.list_records(
        page.operator, ConfigKind.RESOURCE_TYPE
    )
    return page.render(
        "subscribers/new.html",
        status_code=status_code,
        title="New subscriber",
        section="subscribers",
        form=form,
        account=account,
        profiles=config_options(page, ConfigKind.SUBSCRIBER_PROFILE),
        segments=config_options(page, ConfigKind.SUBSCRIBER_SEGMENT),
        resource_types=resource_types,
        resource_prefix=RESOURCE_FIELD_PREFIX,
    )


@router.get("/subscribers/new")
def subscriber_new(account_id: int | None = None, page: Page = Depends(operator_page)) -> Response:
    values = {"language": "en"}
    if account_id is not None:
        values["account_id"] = str(account_id)
    return _new_page(page, FormState(values))


def _resources(form: Form) -> tuple[tuple[str, ...], tuple[ResourceInput, ...]]:
    """The resource values entered, one field per resource type, and their field names."""
    names = tuple(k for k in form if k.startswith(RESOURCE_FIELD_PREFIX) and form[k].strip())
    inputs = tuple(ResourceInput(k[len(RESOURCE_FIELD_PREFIX) :], form[k]) for k in names)
    return names, inputs


def _subscriber_input(
    page: Page, form: Form, resources: tuple[ResourceInput, ...]
) -> SubscriberInput:
    account_id = f.integer(form, "account_id")
    account = None
    if account_id is None:
        customer = CustomerInput(
            name=form.get("customer_name", ""), service_provider=page.require_provider()
        )
        account = AccountInput(customer=customer)
    return SubscriberInput(
        subscriber_id=form.get("subscriber_id", ""),
        account_id=account_id,
        card_number=f.text(form, "card_number"),
        language=f.text(form, "language"),
        segment=f.text(form, "segment"),
        profile=f.text(form, "profile"),
        resources=resources,
        account=account,
    )


@router.post("/subscribers/new")
def subscriber_create(
    page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    names, resources = _resources(form)
    aliases = {
        **NEW_SUBSCRIBER_ALIASES,
        **{f"resources[{i}].value": n for i, n in enumerate(names)},
        **{f"resources[{i}].resource_type": n for i, n in enumerate(names)},
    }
    try:
        inp = _subscriber_input(page, form, resources)
        view = page.services.casm.create_subscriber(page.acting(form), inp)
    except DomainError as exc:
        state = page.refused(exc, form, (*SUBSCRIBER_FIELDS, *names), aliases)
        return _new_page(page, state, state.status)
    return page.redirect(f"/subscribers/{view.subscriber.id}", notice="created")


# -- subscriber screen -----------------------------------------------------------------------


def render_subscriber(
    page: Page,
    subscriber_id: int,
    forms: Mapping[str, FormState] | None = None,
    status_code: int = 200,
) -> Response:
    forms = forms or {}
    casm = page.services.casm
    view = casm.get_subscriber(page.operator, subscriber_id)
    subscriber = view.subscriber
    if subscriber.service_provider != page.provider:
        raise not_found("subscriber", subscriber_id)
    account = casm.get_account(page.operator, subscriber.account_id)
    details = forms.get("details") or FormState(
        {
            "subscriber_id": subscriber.subscriber_id,
            "card_number": subscriber.card_number,
            "language": subscriber.language,
            "segment": subscriber.segment or "",
        }
    )
    return page.render(
        "subscribers/detail.html",
        status_code=status_code,
        title=f"Subscriber {subscriber.subscriber_id}",
        section="subscribers",
        subscriber=subscriber,
        resources=view.resources,
        account=account,
        customer=casm.get_customer(page.operator, account.customer_id),
        form=details,
        resource_form=forms.get("resource", FormState()),
        general=forms.get("page", FormState()).general,
        segments=config_options(page, ConfigKind.SUBSCRIBER_SEGMENT),
        resource_types=config_options(page, ConfigKind.RESOURCE_TYPE),
        panel=state_panel(
            page,
            CasmLevel.SUBSCRIBER,
            subscriber.id,
            subscriber.state,
            subscriber.state_reason,
            forms.get("state"),
        ),
    )


@router.get("/subscribers/{subscriber_id}")
def subscriber_detail(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return render_subscriber(page, subscriber_id)


@router.post("/subscribers/{subscriber_id}")
def subscriber_update(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        page.services.casm.update_subscriber(
            page.acting(form),
            subscriber_id,
            subscriber_cli=f.text(form, "subscriber_id"),
            card_number=f.text(form, "card_number"),
            language=f.text(form, "language"),
            segment=f.text(form, "segment"),
        )
    except DomainError as exc:
        state = page.refused(exc, form, DETAIL_FIELDS)
        return render_subscriber(page, subscriber_id, {"details": state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}", notice="saved")


@router.post("/subscribers/{subscriber_id}/delete")
def subscriber_delete(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        page.services.casm.delete_subscriber(page.acting(form), subscriber_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_subscriber(page, subscriber_id, {"page": state}, state.status)
    return page.redirect("/subscribers", notice="deleted")


@router.post("/subscribers/{subscriber_id}/resources")
def resource_add(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    inp = ResourceInput(form.get("resource_type", ""), form.get("value", ""))
    try:
        page.services.casm.add_resource(page.acting(form), subscriber_id, inp)
    except DomainError as exc:
        state = page.refused(exc, form, ("resource_type", "value"))
        return render_subscriber(page, subscriber_id, {"resource": state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}", notice="created")


@router.post("/subscribers/{subscriber_id}/resources/{resource_id}/delete")
def resource_delete(
    subscriber_id: int,
    resource_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    try:
        page.services.casm.delete_resource(page.acting(form), subscriber_id, resource_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return render_subscriber(page, subscriber_id, {"resource": state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}", notice="deleted")
