"""The operator web console: a sub-application mounted under /console of the REST app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from ocs.adapters.problem_log import ProblemLog, record_problem
from ocs.adapters.rest.problems import STATUS_BY_KIND
from ocs.bootstrap import Services
from ocs.core.errors import DomainError, ProblemKind

from . import (
    views_auth,
    views_batches,
    views_bpl,
    views_config,
    views_credit_cards,
    views_cugs,
    views_customers,
    views_dashboard,
    views_edrs,
    views_masking_rules,
    views_merge,
    views_migrations,
    views_notifications,
    views_offers,
    views_operators,
    views_profile_groups,
    views_profiles,
    views_provider_lists,
    views_reservations,
    views_states,
    views_subscriber_features,
    views_subscribers,
    views_transfers,
    views_vouchers,
    views_wallets,
    views_zones,
)
from .page import CsrfRejectedError, LoginRequiredError, operator_page, public_page
from .session import CookieCodec
from .views_config import CONFIG_GROUPS, field_label, plural_label

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
ERROR_TITLES = {ProblemKind.NOT_FOUND: "Not found", ProblemKind.FORBIDDEN: "Not allowed"}


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _local_input(value: datetime | None) -> str:
    """A UTC datetime as the value of a datetime-local field."""
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M:%S")


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["label"] = field_label
    templates.env.filters["when"] = _when
    templates.env.filters["local_input"] = _local_input
    templates.env.globals["config_groups"] = CONFIG_GROUPS
    templates.env.globals["plural_label"] = plural_label
    return templates


def create_console(services: Services, problem_log: ProblemLog) -> FastAPI:
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console.state.services = services
    console.state.problem_log = problem_log
    console.state.cookies = CookieCodec(services.operators.session_secret())
    console.state.templates = _templates()
    console.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    console.middleware("http")(_security_headers)
    console.add_exception_handler(LoginRequiredError, _login_required)
    console.add_exception_handler(CsrfRejectedError, _csrf_rejected)
    console.add_exception_handler(DomainError, _domain_error)
    console.add_exception_handler(RequestValidationError, _bad_address)
    console.add_exception_handler(HTTPException, _http_error)
    for module in (
        views_auth,
        views_dashboard,
        views_config,
        views_customers,
        views_subscribers,
        views_states,
        views_wallets,
        views_reservations,
        views_edrs,
        views_subscriber_features,
        views_zones,
        views_profiles,
        views_merge,
        views_migrations,
        views_cugs,
        views_bpl,
        views_provider_lists,
        views_profile_groups,
        views_credit_cards,
        views_masking_rules,
        views_operators,
        views_transfers,
        views_vouchers,
        views_batches,
        views_offers,
        views_notifications,
    ):
        console.include_router(module.router)
    return console


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    if not request.url.path.startswith(f"{request.scope.get('root_path', '')}/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _login_required(request: Request, _exc: Exception) -> Response:
    root = request.scope.get("root_path", "")
    target = f"{root}/login?{urlencode({'next': request.url.path})}"
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _error_page(request: Request, status_code: int, title: str, detail: str) -> Response:
    try:
        page = operator_page(request)
    except LoginRequiredError:
        page = public_page(request)
    return page.render("error.html", status_code=status_code, title=title, detail=detail)


def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    detail = "The form had expired or came from another site. Reload the page and try again."
    return _error_page(request, 403, "Form refused", detail)


def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = STATUS_BY_KIND[exc.kind]
    record_problem(request, "console", status, exc.kind, exc.detail, exc.field)
    title = ERROR_TITLES.get(exc.kind, "Refused")
    return _error_page(request, status, title, exc.detail)


def _bad_address(request: Request, _exc: Exception) -> Response:
    return _error_page(request, 404, "Not found", "This address does not name a record.")


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error_page(request, exc.status_code, str(exc.detail), "Check the address.")
