"""The per-request view context: the operator, the service provider, CSRF, rendering."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ocs.adapters.problem_log import record_problem
from ocs.adapters.rest.problems import STATUS_BY_KIND
from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind, Record
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import Privilege
from ocs.service.actor import Actor

from .forms import FormState
from .session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    CSRF_VALIDITY_S,
    SESSION_COOKIE,
    CookieCodec,
    SessionData,
    set_cookie,
    tokens_match,
)

Form = Mapping[str, str]

NOTICES = {
    "created": "Created.",
    "saved": "Changes saved.",
    "deleted": "Deleted.",
    "state": "State change recorded.",
    "confirmed": "Pending state change applied.",
    "cancelled": "Pending state change cancelled.",
    "logged-out": "You have been signed out.",
    "commit": "Reservation committed.",
    "revoke": "Reservation revoked.",
    "delete": "Reservation deleted.",
    "reversed": "Charge reversed: this is the REVERSAL EDR.",
    "merged": "Wallets merged.",
    "password": "Password reset.",
    "deactivated": "Operator deactivated.",
    "activated": "Operator reactivated.",
    "retry": "Delivery queued again: the worker sends it on its next pass.",
}


class LoginRequiredError(Exception):
    """No valid session: the console answers with the login page."""


class CsrfRejectedError(Exception):
    """A POST without the CSRF token of this browser: refused."""


@dataclass
class Page:
    request: Request
    services: Services
    csrf: str
    fresh_csrf_cookie: str | None = None
    session: SessionData | None = None
    actor: Actor | None = None
    providers: list[Record] = field(default_factory=list)
    auditing: bool = False

    @property
    def root(self) -> str:
        return str(self.request.scope.get("root_path", ""))

    @property
    def htmx(self) -> bool:
        """The request comes from htmx, which wants only the part of the page it swaps."""
        return self.request.headers.get("HX-Request") == "true"

    @property
    def operator(self) -> Actor:
        if self.actor is None:
            raise LoginRequiredError
        return self.actor

    @property
    def provider(self) -> str | None:
        """The service provider the operator works in: the chosen one, else the first."""
        codes = [str(p["code"]) for p in self.providers]
        chosen = self.session.provider if self.session else None
        if chosen in codes:
            return chosen
        return codes[0] if codes else None

    def require_provider(self) -> str:
        provider = self.provider
        if provider is None:
            raise DomainError(
                ProblemKind.NOT_FOUND,
                "no service provider exists yet: create one under Configuration first",
            )
        return provider

    def can(self, privilege: Privilege) -> bool:
        privileges = self.actor.privileges if self.actor else frozenset()
        return privilege in privileges or Privilege.ADMIN in privileges

    def can_create(self, kind: ConfigKind | None = None) -> bool:
        needed = Privilege.ADMIN if kind is ConfigKind.SERVICE_PROVIDER else Privilege.CREATE_DELETE
        return self.can(needed)

    def refused(
        self,
        exc: DomainError,
        values: Form,
        fields: Collection[str] = (),
        aliases: Mapping[str, str] | None = None,
    ) -> FormState:
        """Note the refusal on the dashboard; the form shows it next to its field."""
        status = STATUS_BY_KIND[exc.kind]
        record_problem(self.request, "console", status, exc.kind, exc.detail, exc.field)
        return FormState.failed(exc, status, values, fields, aliases)

    def acting(self, form: Form) -> Actor:
        """The operator, carrying the change reason entered in the dialog."""
        return self.operator.with_reason(form.get("change_reason") or None)

    def render(self, template: str, status_code: int = 200, **context: Any) -> Response:
        templates: Jinja2Templates = self.request.app.state.templates
        notice = NOTICES.get(self.request.query_params.get("notice", ""))
        response = templates.TemplateResponse(
            self.request,
            template,
            {"page": self, "root": self.root, "notice": notice, **context},
            status_code=status_code,
        )
        return self.finish(response)

    def redirect(self, path: str, notice: str | None = None, **query: object) -> Response:
        params = {k: str(v) for k, v in query.items() if v is not None}
        if notice:
            params["notice"] = notice
        target = f"{self.root}{path}" + (f"?{urlencode(params)}" if params else "")
        return self.finish(RedirectResponse(target, status_code=303))

    def finish(self, response: Response) -> Response:
        if self.fresh_csrf_cookie:
            set_cookie(self.request, response, CSRF_COOKIE, self.fresh_csrf_cookie, CSRF_VALIDITY_S)
        return response


def _codec(request: Request) -> CookieCodec:
    codec: CookieCodec = request.app.state.cookies
    return codec


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def public_page(request: Request) -> Page:
    """A page that needs no login (the login form): only the CSRF token."""
    codec = _codec(request)
    token = codec.load_csrf(request.cookies.get(CSRF_COOKIE))
    if token is not None:
        return Page(request, _services(request), token)
    token, cookie = codec.new_csrf()
    return Page(request, _services(request), token, fresh_csrf_cookie=cookie)


def operator_page(request: Request) -> Page:
    """A page for a logged-in operator; anyone else is sent to the login form."""
    page = public_page(request)
    session = _codec(request).load_session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginRequiredError
    services = page.services
    try:
        actor = services.operators.actor_for_token(session.token)
    except DomainError:
        raise LoginRequiredError from None
    page.session = session
    page.actor = actor
    page.providers = services.configuration.list_records(actor, ConfigKind.SERVICE_PROVIDER)
    page.auditing = services.operators.edr_auditing(actor)
    return page


async def posted_form(request: Request) -> Form:
    """The submitted form fields, once the CSRF token matches this browser's cookie."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    expected = _codec(request).load_csrf(request.cookies.get(CSRF_COOKIE))
    sent = values.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not tokens_match(sent, expected):
        raise CsrfRejectedError
    return values
